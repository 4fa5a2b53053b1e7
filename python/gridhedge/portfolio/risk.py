"""PortfolioRiskManager: the portfolio's VaR, budgets, shrink and drawdown halt each rebalance.

Inputs per leg: its recent closes (aligned on shared timestamps), its worst in-band exposure
(quote: ``spot x price x`` the band's widest side, the figure each bot's own policy checks
against ``var_limit``) and its equity. The figures come from the Rust core
(``gridhedge._core.portfolio_risk``, ``var_budgets``, ``shrink_to_limit``,
``portfolio_drawdown``): EWMA (or rolling) covariance of simple returns with shrinkage toward
the diagonal, parametric VaR/CVaR with the Euler split, historical VaR/CVaR of the portfolio
P&L series, per-leg budgets from marginal VaR.

Each leg's budget also becomes its own VaR limit (``leg_var_limits``: the VaR it may have
alone at the exposure its budget allows, never above its configured limit), so a leg highly
correlated with the rest gets a smaller limit. Over ``var_limit`` the legs contributing most
are shrunk first (multipliers in (0, 1] on their worst exposure, applied by the runner as a
narrower hedge band); each shrink is logged with why. A portfolio drawdown beyond
``max_drawdown`` from its own high-water mark halts every leg.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from loguru import logger

from gridhedge._core import (
    leg_var_limits,
    portfolio_drawdown,
    portfolio_risk,
    shrink_to_limit,
    var_budgets,
)
from gridhedge.errors import InvalidInputError

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LegInput:
    """What the manager needs of one leg at a rebalance."""

    symbol: str
    timestamps: npt.NDArray[np.int64]
    closes: F64
    exposure: float
    """Worst in-band net exposure, quote (signed: long positive)."""
    equity: float
    """The leg's equity, quote."""
    var_limit: float | None = None
    """The leg's configured VaR limit (quote; None: no limit of its own)."""


@dataclass(frozen=True)
class LegRisk:
    """One leg's share of the portfolio's risk."""

    symbol: str
    exposure: float
    standalone_var: float
    marginal_var: float
    component_var: float
    budget: float
    allowed_exposure: float
    multiplier: float
    var_limit: float
    """The leg's own VaR limit under its budget (``leg_var_limits``): at most its configured
    limit, lower for a leg whose marginal VaR is high."""
    correlation: float
    """Correlation of this leg's returns with the rest of the portfolio's P&L."""


@dataclass(frozen=True)
class PortfolioReport:
    """The portfolio's figures at one rebalance."""

    var: float
    cvar: float
    historical_var: float
    historical_cvar: float
    var_after: float
    """Parametric VaR once the multipliers apply (== var when nothing shrinks)."""
    var_limit: float
    shrinkage: float
    bars: int
    drawdown: float
    halted: bool
    legs: list[LegRisk] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def over_limit(self) -> bool:
        return self.var > self.var_limit


def align(legs: Sequence[LegInput], lookback: int) -> F64:
    """Simple returns of the legs on their shared timestamps (``T x n``, C-contiguous), the
    latest ``lookback`` bars."""
    common = legs[0].timestamps
    for leg in legs[1:]:
        common = np.intersect1d(common, leg.timestamps, assume_unique=True)
    if len(common) < 2:
        spans = ", ".join(
            f"{leg.symbol} {len(leg.timestamps)} bar(s)"
            + (
                f" {int(leg.timestamps[0])}..{int(leg.timestamps[-1])}"
                if len(leg.timestamps)
                else ""
            )
            for leg in legs
        )
        raise InvalidInputError(
            f"legs: the legs' closes cannot be aligned: {len(common)} shared bar "
            f"timestamp(s) ({spans}); same timeframe and overlapping history needed",
            field="legs",
            value=spans,
            rule="the legs must share at least 2 bar timestamps",
        )
    cols = []
    for leg in legs:
        idx = np.searchsorted(leg.timestamps, common)
        cols.append(np.asarray(leg.closes, dtype=np.float64)[idx])
    prices = np.column_stack(cols)[-(lookback + 1) :]
    returns: F64 = np.ascontiguousarray(prices[1:] / prices[:-1] - 1.0)
    return returns


class PortfolioRiskManager:
    """One risk budget over several legs; see the module docs."""

    def __init__(
        self,
        var_limit: float,
        max_drawdown: float = 0.1,
        *,
        confidence: float = 0.95,
        horizon_bars: int = 24,
        method: Literal["ewma", "rolling"] = "ewma",
        lam: float = 0.97,
        window: int = 500,
        lookback_bars: int = 500,
        weights: Sequence[float] | None = None,
    ) -> None:
        if not var_limit > 0:
            raise InvalidInputError(
                f"var_limit: must be > 0 (got {var_limit})",
                field="var_limit",
                value=repr(var_limit),
                rule="must be > 0",
            )
        if not 0 < max_drawdown < 1:
            raise InvalidInputError(
                f"max_drawdown: must be > 0 and < 1 (got {max_drawdown})",
                field="max_drawdown",
                value=repr(max_drawdown),
                rule="must be > 0 and < 1",
            )
        self.var_limit = float(var_limit)
        self.max_drawdown = float(max_drawdown)
        self.confidence = confidence
        self.horizon_bars = horizon_bars
        self.method = method
        self.lam = lam
        self.window = window
        self.lookback_bars = lookback_bars
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.halted = False
        self._equity: list[list[float]] = []
        self.last: PortfolioReport | None = None

    def evaluate(self, legs: Sequence[LegInput]) -> PortfolioReport:
        """The portfolio's figures and per-leg multipliers for this rebalance (logged)."""
        if not legs:
            raise InvalidInputError(
                "legs: must hold at least one leg",
                field="legs",
                value="[]",
                rule="must hold at least one leg",
            )
        returns = align(legs, self.lookback_bars)
        w = np.array([leg.exposure for leg in legs], dtype=np.float64)
        risk = portfolio_risk(
            returns,
            w,
            method=self.method,
            lam=self.lam,
            window=self.window,
            confidence=self.confidence,
            horizon=self.horizon_bars,
        )
        cov = np.ascontiguousarray(risk.covariance)
        shares, allowed = var_budgets(
            w, cov, self.var_limit, self.weights, self.confidence, self.horizon_bars
        )
        configured = np.array(
            [sys.float_info.max if leg.var_limit is None else leg.var_limit for leg in legs],
            dtype=np.float64,
        )
        limits = leg_var_limits(
            w,
            cov,
            self.var_limit,
            configured,
            self.weights,
            self.confidence,
            self.horizon_bars,
        )
        reasons: list[str] = []
        if risk.var > self.var_limit:
            mult = shrink_to_limit(w, cov, self.var_limit, self.confidence, self.horizon_bars)
        else:
            mult = np.ones(len(legs))
        shrunk = w * mult
        sd = float(np.sqrt(max(float(w @ cov @ w), 0.0)))
        var_after = float(np.sqrt(max(float(shrunk @ cov @ shrunk), 0.0))) * (
            risk.var / sd if sd > 0 else 0.0
        )
        corr = []
        for i in range(len(legs)):
            rest = w.copy()
            rest[i] = 0.0
            num = float(cov[i] @ rest)
            den = np.sqrt(max(cov[i, i], 0.0) * max(float(rest @ cov @ rest), 0.0))
            corr.append(num / den if den > 0 else 0.0)
        leg_risks = [
            LegRisk(
                symbol=leg.symbol,
                exposure=float(w[i]),
                standalone_var=float(risk.standalone[i]),
                marginal_var=float(risk.marginal[i]),
                component_var=float(risk.component[i]),
                budget=float(shares[i]),
                allowed_exposure=float(allowed[i]),
                multiplier=float(mult[i]),
                var_limit=float(limits[i]),
                correlation=corr[i],
            )
            for i, leg in enumerate(legs)
        ]
        if risk.var > self.var_limit:
            for lr in sorted(leg_risks, key=lambda x: -x.component_var):
                if lr.multiplier < 1.0:
                    msg = (
                        f"portfolio VaR {risk.var:.2f} exceeds var_limit {self.var_limit:.2f} "
                        f"(each leg alone: "
                        + ", ".join(f"{x.symbol} {x.standalone_var:.2f}" for x in leg_risks)
                        + f"): shrinking {lr.symbol} to {lr.multiplier:.3f} of its band "
                        f"(component VaR {lr.component_var:.2f} = "
                        f"{lr.component_var / risk.var:.0%} of the portfolio, correlation "
                        f"{lr.correlation:.2f} with the rest); VaR after {var_after:.2f}"
                    )
                    reasons.append(msg)
                    logger.warning("Portfolio risk: {}", msg)
        drawdown = self._drawdown([leg.equity for leg in legs])
        if not self.halted and drawdown < -self.max_drawdown:
            self.halted = True
            msg = (
                f"portfolio drawdown {drawdown:.2%} beyond max_drawdown {self.max_drawdown:.2%}: "
                "halting and cancelling every leg"
            )
            reasons.append(msg)
            logger.error("Portfolio halt: {}", msg)
        report = PortfolioReport(
            var=risk.var,
            cvar=risk.cvar,
            historical_var=risk.historical_var,
            historical_cvar=risk.historical_cvar,
            var_after=var_after if risk.var > self.var_limit else risk.var,
            var_limit=self.var_limit,
            shrinkage=risk.shrinkage,
            bars=int(returns.shape[0]),
            drawdown=drawdown,
            halted=self.halted,
            legs=leg_risks,
            reasons=reasons,
        )
        self.last = report
        return report

    def restore(self, halted: bool, peak_equity: list[float] | None) -> None:
        """Resume from saved state: the halt and the legs' equities at the high-water mark."""
        self.halted = self.halted or halted
        if peak_equity:
            self._equity = [[float(v) for v in peak_equity]]

    def peak_equity(self) -> list[float] | None:
        """The legs' equities at the portfolio's high-water mark (for saving)."""
        if not self._equity:
            return None
        return max(self._equity, key=sum)

    def _drawdown(self, equities: list[float]) -> float:
        if self._equity and len(self._equity[0]) != len(equities):
            self._equity = []
        # only the peak matters for the drawdown: keep it and the new row
        peak = self.peak_equity()
        self._equity = [peak, equities] if peak is not None else [equities]
        if sum(equities) <= 0 or sum(self._equity[0]) <= 0:
            return -1.0 if sum(equities) <= 0 else 0.0
        _, current, _ = portfolio_drawdown(np.array(self._equity, dtype=np.float64))
        return float(current)
