"""PortfolioRunner: several GridHedgeBots (one per symbol) under one PortfolioRiskManager.

Built from one config mapping (or a YAML file)::

    portfolio: {var_limit: 2200, max_drawdown: 0.1, confidence: 0.95, horizon_bars: 24,
                method: ewma, lam: 0.97, lookback_bars: 500}
    data: {seed: 7, bars: 1500, history_bars: 500}   # correlated synthetic market
    state: {state_path: portfolio.sqlite}            # optional: one shared SQLite file
    mode: PAPER                                      # or RECOMMENDATION (plans, no orders)
    legs:
      - {symbol: BTCUSDT, spot_amount: "1", start_price: 95236.15}
      - {symbol: ETHUSDT, spot_amount: "30", start_price: 3412.55,
         correlation: 0.8, vol_ratio: 1.3, config: {num_levels: 5}}

Each leg runs a PAPER broker over its own replay of aligned candles (one clock: every replay
advances together). Each rebalance the runner gathers the legs' closes, worst in-band
exposures and equities, asks the manager for the portfolio figures, applies each leg's
multiplier as a narrower hedge band (``GridHedgeBot.tighten_band``: only ever tighter than the
leg's configured band) and its budget as the leg's own VaR limit (``GridHedgeBot.limit_var``:
never above the configured one), then lets every bot execute. The portfolio backtester
(:mod:`gridhedge.portfolio.backtest`) applies the same layer the same way, bar for bar. A
portfolio halt cancels every leg's orders and stops trading.

With ``state.state_path`` every leg's bot keeps its state in that one SQLite file (one bot id
per leg, ``<symbol>-grid``), and so does the portfolio (bot id ``portfolio``: its halt, its
equity high-water mark and its risk events, so a restarted runner stays halted and measures
drawdown from the same peak).
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loguru import logger

from gridhedge.common.interfaces import Broker
from gridhedge.data.candles import Candles
from gridhedge.data.correlated import AssetSpec, correlated_candles
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.errors import ConfigError
from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.paper import PaperBroker
from gridhedge.grid.bot import ExecutionReport, GridHedgeBot
from gridhedge.grid.config import GridHedgeConfig
from gridhedge.portfolio.risk import LegInput, PortfolioReport, PortfolioRiskManager
from gridhedge.state.sqlite import SQLiteStateManager

_PORTFOLIO_KEYS = {
    "var_limit",
    "max_drawdown",
    "confidence",
    "horizon_bars",
    "method",
    "lam",
    "window",
    "lookback_bars",
    "weights",
}


@dataclass
class PortfolioHistory:
    """Per-rebalance portfolio series of a run and its summary."""

    var: list[float] = field(default_factory=list)
    var_after: list[float] = field(default_factory=list)
    drawdown: list[float] = field(default_factory=list)
    shrunk: int = 0
    """Rebalances where the budget shrank at least one leg."""

    def add(self, report: PortfolioReport) -> None:
        self.var.append(report.var)
        self.var_after.append(report.var_after)
        self.drawdown.append(report.drawdown)
        self.shrunk += any(leg.multiplier < 1 for leg in report.legs)

    def summary(self) -> dict[str, Any]:
        return {
            "rebalances": len(self.var),
            "rebalances_shrunk": self.shrunk,
            "max_var": max(self.var, default=0.0),
            "max_var_after_shrink": max(self.var_after, default=0.0),
            "worst_drawdown": min(self.drawdown, default=0.0),
        }


@dataclass
class Leg:
    """One symbol: its bot and its replay."""

    symbol: str
    bot: GridHedgeBot
    replay: ReplayDataProvider
    last: ExecutionReport | None = None


def _load(config: Mapping[str, Any] | str | pathlib.Path) -> dict[str, Any]:
    if isinstance(config, Mapping):
        return dict(config)
    import yaml

    data = yaml.safe_load(pathlib.Path(config).read_text())
    if not isinstance(data, dict):
        raise ConfigError(f"{config}: a portfolio config must be a mapping")
    return data


def portfolio_settings(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The ``portfolio`` section, checked (known keys, ``var_limit`` given) and ``legs`` given."""
    port = dict(cfg.get("portfolio") or {})
    unknown = set(port) - _PORTFOLIO_KEYS
    if unknown:
        raise ConfigError(f"portfolio: unknown key(s) {sorted(unknown)}")
    if "var_limit" not in port:
        raise ConfigError("portfolio.var_limit: required (a positive loss in quote)")
    if not list(cfg.get("legs") or []):
        raise ConfigError("legs: the portfolio needs at least one leg")
    return port


def history_bars(cfg: Mapping[str, Any]) -> int:
    """``data.history_bars`` (default 500): the candles each leg's policy sees."""
    return int(dict(cfg.get("data") or {}).get("history_bars", 500))


def synthetic_legs(cfg: Mapping[str, Any]) -> dict[str, Candles]:
    """The legs' correlated synthetic candles (``data.seed``, ``data.bars``; per leg
    ``start_price``, ``correlation``, ``vol_ratio``, ``price_decimals``), aligned."""
    data = dict(cfg.get("data") or {})
    specs = [
        AssetSpec(
            str(leg["symbol"]),
            float(leg.get("start_price", 100.0)),
            correlation=float(leg.get("correlation", 1.0)),
            vol_ratio=float(leg.get("vol_ratio", 1.0)),
            price_decimals=int(leg.get("price_decimals", 2)),
        )
        for leg in cfg["legs"]
    ]
    return correlated_candles(
        specs, seed=int(data.get("seed", 7)), bars=int(data.get("bars", 1500))
    )


def leg_config(leg: Mapping[str, Any], history: int) -> dict[str, Any]:
    """One leg's bot configuration: ``history_bars`` and its ``config`` overrides."""
    return {"history_bars": history, **dict(leg.get("config") or {})}


class PortfolioRunner:
    """Drive one GridHedgeBot per leg under one risk budget; see the module docs."""

    def __init__(
        self,
        config: Mapping[str, Any] | str | pathlib.Path,
        *,
        candles: Mapping[str, Candles] | None = None,
    ) -> None:
        cfg = _load(config)
        port = portfolio_settings(cfg)
        legs_cfg = list(cfg["legs"])
        history = history_bars(cfg)
        if candles is None:
            candles = synthetic_legs(cfg)
        self.manager = PortfolioRiskManager(
            float(port.pop("var_limit")),
            float(port.pop("max_drawdown", 0.1)),
            **port,
        )
        mode = str(cfg.get("mode", "PAPER")).upper()
        if mode not in ("PAPER", "RECOMMENDATION"):
            raise ConfigError(
                f"mode: the portfolio runs offline in PAPER or RECOMMENDATION (got {mode!r})"
            )
        state_path = (cfg.get("state") or {}).get("state_path")
        self.state: SQLiteStateManager | None = None
        if state_path is not None:
            self.state = SQLiteStateManager(state_path, "portfolio")
            saved = self.state.load()
            self.manager.restore(bool(saved.get("halted", False)), saved.get("peak_equity"))
        self.legs: list[Leg] = []
        for leg in legs_cfg:
            symbol = str(leg["symbol"])
            if symbol not in candles:
                raise ConfigError(f"legs: no candles for {symbol!r}")
            replay = ReplayDataProvider(
                candles[symbol], symbol, start=min(history, len(candles[symbol]) - 1)
            )
            bot_cfg = leg_config(leg, history)
            spot = str(leg.get("spot_amount", "1"))
            broker: Broker
            if mode == "PAPER":
                # the leg's own fees and participation (as the portfolio backtester's)
                e = GridHedgeConfig.load(bot_cfg).execution
                broker = PaperBroker(
                    replay,
                    spot_amount=spot,
                    maker_fee=e.maker_fee,
                    taker_fee=e.taker_fee,
                    participation=e.participation,
                )
            else:
                broker = create_broker(mode, symbol=symbol, data_provider=replay, spot_amount=spot)
            if state_path is not None:
                bot_cfg.setdefault("state_path", str(state_path))
            bot = GridHedgeBot(broker, replay, symbol, config=bot_cfg)
            self.legs.append(Leg(symbol, bot, replay))
        self.last: PortfolioReport | None = None
        self.history = PortfolioHistory()
        self._started = False

    async def start(self) -> None:
        for leg in self.legs:
            await leg.bot.start()
        self._started = True
        logger.info(
            "Initialized PortfolioRunner with {} leg(s): {} (var_limit {})",
            len(self.legs),
            ", ".join(leg.symbol for leg in self.legs),
            self.manager.var_limit,
        )

    async def _inputs(self) -> list[LegInput]:
        out = []
        for leg in self.legs:
            bot = leg.bot
            window = leg.replay.window(self.manager.lookback_bars + 1)
            price = float(window.close[-1])
            position = await bot.position_fetcher.get_position(leg.symbol)
            equity = float(await bot.broker.fetch_equity(leg.symbol))
            hedge = bot.config.hedge  # the configured band: multipliers are relative to it
            side = max(1 - hedge.hedge_ratio_min, hedge.hedge_ratio_max - 1, Decimal(0))
            exposure = float(position.spot_amount * side) * price
            out.append(
                LegInput(
                    leg.symbol,
                    window.timestamp,
                    window.close,
                    exposure,
                    equity,
                    var_limit=float(bot.config.risk.var_limit),
                )
            )
        return out

    async def step(self) -> PortfolioReport:
        """One portfolio rebalance: figures, shrink, then every leg executes."""
        if not self._started:
            await self.start()
        report = self.manager.evaluate(await self._inputs())
        self.last = report
        self.history.add(report)
        if self.state is not None:
            ts = self.legs[0].replay.timestamp_ms()
            for reason in report.reasons:
                code = "portfolio_halt" if "halting" in reason else "portfolio_shrink"
                self.state.record_risk_event(ts, code, reason)
            self.state.save({"halted": report.halted, "peak_equity": self.manager.peak_equity()})
        if report.halted:
            for leg in self.legs:
                await leg.bot.order_manager.cancel_all()
            return report
        for leg, lr in zip(self.legs, report.legs, strict=True):
            scale = Decimal(repr(min(max(lr.multiplier, 1e-6), 1.0))).quantize(Decimal("1e-6"))
            if leg.bot.tighten_band(scale):
                logger.info(
                    "Portfolio budget: {} hedge band at {} of its configured width",
                    leg.symbol,
                    scale,
                )
            if leg.bot.limit_var(lr.var_limit):
                configured = float(leg.bot.config.risk.var_limit)
                logger.info(
                    "Portfolio budget: {} var_limit {:.2f} (configured {:.2f}): budget share "
                    "{:.2f} of the portfolio's {:.2f} at marginal VaR {:.6f} per unit exposure "
                    "(correlation {:.2f} with the rest; allowed exposure {:.2f}, worst in-band "
                    "{:.2f})",
                    leg.symbol,
                    min(lr.var_limit, configured),
                    configured,
                    lr.budget,
                    self.manager.var_limit,
                    lr.marginal_var,
                    lr.correlation,
                    lr.allowed_exposure,
                    abs(lr.exposure),
                )
            price = await leg.replay.get_current_price(leg.symbol)
            leg.last = await leg.bot.execute(price)
        return report

    async def run(self, steps: int) -> PortfolioReport | None:
        """``steps`` rebalances, the replays advancing together by the first leg's cadence."""
        cadence = None
        for i in range(steps):
            if i > 0:
                cadence = cadence or self.legs[0].bot.cadence_bars()
                if any(leg.replay.advance(cadence) == 0 for leg in self.legs):
                    break
            report = await self.step()
            if report.halted:
                break
        return self.last

    def close(self) -> None:
        """Release the state files (the portfolio's and every leg's) and their locks."""
        for leg in self.legs:
            close = getattr(leg.bot.state, "close", None)
            if close is not None:
                close()
        if self.state is not None:
            self.state.close()

    def status(self) -> dict[str, Any]:
        """Per-leg and portfolio figures side by side."""
        r = self.last
        legs: dict[str, Any] = {}
        for i, leg in enumerate(self.legs):
            s = leg.bot.get_status()
            rep = leg.last
            row: dict[str, Any] = {
                "price": s.get("price"),
                "spot_amount": s.get("spot_amount"),
                "futures_amount": s.get("futures_amount"),
                "hedge_ratio": s.get("hedge_ratio"),
                "leg_var": s.get("var"),
                "band_scale": leg.bot.band_scale,
                "halted": s.get("halted"),
            }
            if rep is not None:
                net = rep.position.spot_amount + rep.position.futures_amount
                row["exposure"] = net * rep.price
                funding = leg.replay.funding_rate_at(rep.timestamp_ms)
                # positive funding: shorts receive; quote per funding interval
                row["funding_carry"] = -float(rep.position.futures_amount * rep.price) * funding
            if r is not None:
                lr = r.legs[i]
                row.update(
                    worst_exposure=lr.exposure,
                    standalone_var=lr.standalone_var,
                    var_contribution=lr.component_var,
                    marginal_var=lr.marginal_var,
                    budget=lr.budget,
                    allowed_exposure=lr.allowed_exposure,
                    multiplier=lr.multiplier,
                    var_limit=lr.var_limit,
                    correlation=lr.correlation,
                )
            legs[leg.symbol] = row
        portfolio: dict[str, Any] = {"var_limit": self.manager.var_limit}
        if r is not None:
            portfolio.update(
                var=r.var,
                cvar=r.cvar,
                historical_var=r.historical_var,
                historical_cvar=r.historical_cvar,
                var_after_shrink=r.var_after,
                shrinkage=r.shrinkage,
                drawdown=r.drawdown,
                halted=r.halted,
                exposure=sum(float(x.get("exposure", 0)) for x in legs.values()),
                funding_carry=sum(float(x.get("funding_carry", 0.0)) for x in legs.values()),
            )
        return {"portfolio": portfolio, "legs": legs, "run": self.history.summary()}
