"""BasicFuturesHedgeAnalyzer: hedge ratio vs target and band, net exposure, margin use, funding
carry, and prioritised adjustments with a commentary a trader reads."""

from __future__ import annotations

from decimal import Decimal

from gridhedge._core import Decision
from gridhedge.common.interfaces import RiskAnalyzer
from gridhedge.common.types import (
    Adjustment,
    HedgeRecommendation,
    MarketState,
    Position,
    Priority,
)
from gridhedge.grid.config import GridHedgeConfig

FUNDINGS_PER_DAY = 3


class BasicFuturesHedgeAnalyzer(RiskAnalyzer):
    """Deterministic review of a spot + short-perpetual hedge."""

    def __init__(self, config: GridHedgeConfig, leverage: Decimal = Decimal(5)) -> None:
        self.config = config
        self.leverage = leverage
        """Leverage assumed for the margin estimate: margin = |futures notional| / leverage."""

    async def analyze(
        self, position: Position, market: MarketState, decision: Decision
    ) -> HedgeRecommendation:
        price = market.price
        hedge = self.config.hedge
        h = position.hedge_ratio()
        target = Decimal(repr(decision.metrics["target_hedge_ratio"]))
        net = position.net_amount() * price
        futures_notional = abs(position.futures_amount) * price
        equity = position.spot_amount * price
        margin = float(futures_notional / self.leverage / equity) if equity > 0 else 0.0
        carry = -position.futures_amount * price * Decimal(repr(market.funding_rate))
        carry_day = carry * FUNDINGS_PER_DAY
        adjustments: list[Adjustment] = []
        if decision.halted:
            adjustments.append(
                Adjustment("halt", Priority.CRITICAL, "drawdown limit reached: trading halted")
            )
        if position.spot_amount > 0 and not hedge.hedge_ratio_min <= h <= hedge.hedge_ratio_max:
            gap = (target - h) * position.spot_amount
            adjustments.append(
                Adjustment(
                    "rebalance",
                    Priority.HIGH,
                    f"hedge ratio {h:.3f} is outside the band "
                    f"[{hedge.hedge_ratio_min}, {hedge.hedge_ratio_max}]",
                    amount=gap,
                )
            )
        elif position.spot_amount > 0 and abs(h - target) > Decimal("0.05"):
            adjustments.append(
                Adjustment(
                    "drift",
                    Priority.LOW,
                    f"hedge ratio {h:.3f} is {abs(h - target):.3f} from the target {target:.3f}; "
                    "the grid brings it back as price moves",
                )
            )
        if decision.metrics["var_worst"] > float(self.config.risk.var_limit):
            adjustments.append(
                Adjustment(
                    "reduce_var",
                    Priority.HIGH,
                    f"VaR of the worst in-band exposure {decision.metrics['var_worst']:.2f} "
                    f"exceeds the limit {self.config.risk.var_limit}",
                )
            )
        if margin > 0.5:
            adjustments.append(
                Adjustment("margin", Priority.MEDIUM, f"margin use {margin:.0%} of the inventory")
            )
        adjustments.sort(key=lambda a: a.priority, reverse=True)
        commentary = (
            f"Hedge {h:.3f} of the inventory (target {target:.3f}, band "
            f"[{hedge.hedge_ratio_min}, {hedge.hedge_ratio_max}]); net exposure {net:.2f}; "
            f"funding {market.funding_rate:+.4%} per 8h, the hedge "
            f"{'receives' if carry_day >= 0 else 'pays'} {abs(carry_day):.2f} a day."
        )
        if adjustments:
            commentary += " " + " ".join(a.reason + "." for a in adjustments)
        return HedgeRecommendation(
            symbol=position.symbol,
            current_hedge_ratio=h,
            target_hedge_ratio=target,
            net_exposure=net,
            margin_usage=margin,
            funding_carry=carry_day,
            adjustments=tuple(adjustments),
            commentary=commentary,
            source="basic",
        )
