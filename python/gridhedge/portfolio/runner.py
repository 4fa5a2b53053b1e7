"""PortfolioRunner: several GridHedgeBots (one per symbol) under one PortfolioRiskManager.

Built from one config mapping (or a YAML file)::

    portfolio: {var_limit: 2200, max_drawdown: 0.1, confidence: 0.95, horizon_bars: 24,
                method: ewma, lam: 0.97, lookback_bars: 500}
    data: {seed: 7, bars: 1500, history_bars: 500}   # correlated synthetic market
    state: {state_path: portfolio.sqlite}            # one shared SQLite file (REAL: required)
    mode: PAPER                                      # RECOMMENDATION (plans, no orders), REAL
    legs:
      - {symbol: BTCUSDT, spot_amount: "1", start_price: 95236.15}
      - {symbol: ETHUSDT, spot_amount: "30", start_price: 3412.55,
         correlation: 0.8, vol_ratio: 1.3, config: {num_levels: 5}}

PAPER and RECOMMENDATION: each leg runs a PAPER (or plan-only) broker over its own replay of
aligned candles (one clock: every replay advances together, by the first leg's cadence).

REAL: each leg names its ``exchange`` (default ``binanceusdm``); the runner opens ONE ccxt
client per exchange (plus its spot companion; settings under ``exchanges``, see
:mod:`gridhedge.portfolio.connections`), loads its markets once, and every leg on it gets a
``CcxtBroker``/``CcxtDataProvider`` sharing that client. The legs' closes for the covariance
come from the exchange's OHLCV (aligned by timestamp); ``run`` paces by the first leg's
``rebalance_interval`` on the wall clock (``sleep=`` replaces the wait, e.g. to advance an
emulator's clock instead). Each leg's bot reconciles with the exchange on start (by its
deterministic client order ids), so a restarted portfolio adopts its live orders and never
duplicates one. ``aclose()`` releases the state and closes each shared client exactly once.

RECOMMENDATION with ``data: {source: exchange}``: the same connections and exchange data, with
``LiveRecommendationBroker`` legs that read the real account (position, spot inventory,
equity) and place nothing: each rebalance's plan for the account is logged.

Each rebalance the runner gathers the legs' closes, worst in-band exposures and equities, asks
the manager for the portfolio figures, applies each leg's multiplier as a narrower hedge band
(``GridHedgeBot.tighten_band``: only ever tighter than the leg's configured band) and its budget
as the leg's own VaR limit (``GridHedgeBot.limit_var``: never above the configured one), then
lets every bot execute. The portfolio backtester (:mod:`gridhedge.portfolio.backtest`) applies
the same layer the same way, bar for bar. A portfolio halt cancels every leg's orders and stops
trading.

With ``state.state_path`` every leg's bot keeps its state in that one SQLite file (one bot id
per leg, ``<symbol>-grid``), and so does the portfolio (bot id ``portfolio``: its halt, its
equity high-water mark and its risk events, so a restarted runner stays halted and measures
drawdown from the same peak).
"""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loguru import logger

from gridhedge.common.interfaces import DataProvider
from gridhedge.data.candles import Candles
from gridhedge.data.correlated import AssetSpec, correlated_candles
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.errors import ConfigError
from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.ccxt_broker import (
    CcxtBroker,
    CcxtDataProvider,
    LiveRecommendationBroker,
    RetryPolicy,
)
from gridhedge.execution.paper import PaperBroker
from gridhedge.grid.bot import ExecutionReport, GridHedgeBot
from gridhedge.grid.config import GridHedgeConfig, _read_yaml
from gridhedge.portfolio.connections import (
    DEFAULT_EXCHANGE,
    Connection,
    ExchangeSettings,
    check_exchange_id,
    connect,
    parse_exchanges,
)
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
MODES = ("PAPER", "RECOMMENDATION", "REAL")
MAX_KLINES = 1500
"""The most bars one klines request returns (Binance USD-M)."""

Sleep = Callable[[float], Awaitable[Any]]


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
    """One symbol: its bot, its data provider (a replay offline, else the exchange's) and,
    on exchange data, the exchange it reads and trades on."""

    symbol: str
    bot: GridHedgeBot
    provider: DataProvider
    exchange: str | None = None
    last: ExecutionReport | None = None
    funding_rate: float = 0.0
    """The funding rate seen at the leg's last execution."""

    @property
    def replay(self) -> ReplayDataProvider:
        """The leg's replay (PAPER/RECOMMENDATION only)."""
        if not isinstance(self.provider, ReplayDataProvider):
            raise ConfigError(
                f"legs: {self.symbol} reads the exchange, not a replay",
                field="data.source",
                value="'exchange'",
                rule="a replay exists with data.source 'synthetic' only",
            )
        return self.provider


def _load(config: Mapping[str, Any] | str | pathlib.Path) -> dict[str, Any]:
    if isinstance(config, Mapping):
        return dict(config)
    data = _read_yaml(pathlib.Path(config), "portfolio config")
    if not data:
        raise ConfigError(
            f"portfolio config: {str(config)!r} is empty (must hold portfolio, data, legs)",
            field="portfolio config",
            value=str(config),
            rule="must be a mapping with portfolio, data and legs",
        )
    return data


def _mode(cfg: Mapping[str, Any]) -> str:
    raw = cfg.get("mode", "PAPER")
    mode = str(raw).upper()
    if mode not in MODES:
        raise ConfigError(
            f"mode: must be one of {list(MODES)} (got {raw!r})",
            field="mode",
            value=repr(raw),
            rule=f"must be one of {list(MODES)}",
        )
    return mode


def _live(mode: str, data: Mapping[str, Any]) -> bool:
    """Whether the legs read the exchange: ``data.source`` (default: ``exchange`` in REAL,
    ``synthetic`` otherwise), checked against the mode."""
    raw = data.get("source", "exchange" if mode == "REAL" else "synthetic")
    if raw not in ("synthetic", "exchange"):
        raise ConfigError(
            f"data.source: must be 'synthetic' or 'exchange' (got {raw!r})",
            field="data.source",
            value=repr(raw),
            rule="must be 'synthetic' or 'exchange'",
        )
    if mode == "REAL" and raw != "exchange":
        raise ConfigError(
            f"data.source: must be 'exchange' in mode REAL (got {raw!r})",
            field="data.source",
            value=repr(raw),
            rule="must be 'exchange' in mode REAL (a REAL portfolio trades what it reads)",
        )
    if mode == "PAPER" and raw != "synthetic":
        raise ConfigError(
            f"data.source: must be 'synthetic' in mode PAPER (got {raw!r}): PAPER fills "
            "against a replay; use RECOMMENDATION for plans on the exchange's live data",
            field="data.source",
            value=repr(raw),
            rule="must be 'synthetic' in mode PAPER",
        )
    return bool(raw == "exchange")


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
    """Drive one GridHedgeBot per leg under one risk budget; see the module docs.

    ``candles`` replaces the synthetic market offline; ``sleep`` replaces the wall-clock wait
    between REAL rebalances (``await sleep(seconds)``); ``retry`` is the REAL brokers' retry
    policy; ``environ`` is where REAL keys are looked up (default ``os.environ``).
    """

    def __init__(
        self,
        config: Mapping[str, Any] | str | pathlib.Path,
        *,
        candles: Mapping[str, Candles] | None = None,
        sleep: Sleep | None = None,
        retry: RetryPolicy | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        cfg = _load(config)
        port = portfolio_settings(cfg)
        legs_cfg = list(cfg["legs"])
        self.mode = _mode(cfg)
        data = dict(cfg.get("data") or {})
        history = history_bars(cfg)
        state_path = (cfg.get("state") or {}).get("state_path")
        exchanges = parse_exchanges(cfg.get("exchanges"))
        self.live = _live(self.mode, data)
        """The legs read the exchange (REAL, or RECOMMENDATION with ``data.source: exchange``)."""
        if self.mode == "REAL" and state_path is None:
            raise ConfigError(
                "state.state_path: required in mode REAL (one SQLite file for every leg and "
                "the portfolio, so a restart reconciles and never duplicates an order)",
                field="state.state_path",
                value=None,
                rule="must be set in mode REAL",
            )
        if self.live and int(port.get("lookback_bars", 500)) + 1 > MAX_KLINES:
            raise ConfigError(
                f"portfolio.lookback_bars: must be at most {MAX_KLINES - 1} on exchange data "
                f"(got {port['lookback_bars']!r}): one klines request holds {MAX_KLINES} bars",
                field="portfolio.lookback_bars",
                value=repr(port["lookback_bars"]),
                rule=f"must be at most {MAX_KLINES - 1} on exchange data",
            )
        leg_exchanges: list[str | None] = []
        for i, leg in enumerate(legs_cfg):
            if self.live:
                ex_id = check_exchange_id(
                    leg.get("exchange", DEFAULT_EXCHANGE), f"legs[{i}].exchange"
                )
                leg_exchanges.append(ex_id)
            else:
                leg_exchanges.append(None)
        # each leg's own bot config; the portfolio aligns closes bar by bar: one timeframe
        bot_cfgs: list[GridHedgeConfig] = []
        for leg in legs_cfg:
            raw_cfg = leg_config(leg, history)
            if state_path is not None:
                raw_cfg.setdefault("state_path", str(state_path))
            bot_cfgs.append(GridHedgeConfig.load(raw_cfg))
        self.timeframe = bot_cfgs[0].data.timeframe
        for i, bc in enumerate(bot_cfgs[1:], start=1):
            if bc.data.timeframe != self.timeframe:
                raise ConfigError(
                    f"legs[{i}].config.timeframe: must equal legs[0]'s timeframe "
                    f"{self.timeframe!r} (got {bc.data.timeframe!r}): the portfolio aligns "
                    "the legs' closes bar by bar",
                    field=f"legs[{i}].config.timeframe",
                    value=repr(bc.data.timeframe),
                    rule=f"must equal legs[0]'s timeframe {self.timeframe!r}",
                )
        self.manager = PortfolioRiskManager(
            float(port.pop("var_limit")),
            float(port.pop("max_drawdown", 0.1)),
            **port,
        )
        self._sleep: Sleep = sleep if sleep is not None else asyncio.sleep
        self.retry = retry if retry is not None else RetryPolicy()
        # on the exchange: one connection per exchange, built before the state opens (a missing
        # key fails here; a ccxt client opens its HTTP session on its first request, so there
        # is nothing to release if a later step of the constructor fails)
        self.connections: dict[str, Connection] = {}
        if self.live:
            for ex_id in dict.fromkeys(e for e in leg_exchanges if e is not None):
                settings = exchanges.get(ex_id) or ExchangeSettings()
                self.connections[ex_id] = connect(ex_id, settings, environ)
        elif candles is None:
            candles = synthetic_legs(cfg)
        self.state: SQLiteStateManager | None = None
        self.legs: list[Leg] = []
        try:
            if state_path is not None:
                self.state = SQLiteStateManager(state_path, "portfolio")
                saved = self.state.load()
                self.manager.restore(bool(saved.get("halted", False)), saved.get("peak_equity"))
            for leg, bot_cfg, on in zip(legs_cfg, bot_cfgs, leg_exchanges, strict=True):
                symbol = str(leg["symbol"])
                provider: DataProvider
                if on is not None:
                    conn = self.connections[on]
                    provider = CcxtDataProvider(conn.client, self.retry)
                    real = self.mode == "REAL"
                    broker: Any = (CcxtBroker if real else LiveRecommendationBroker)(
                        conn.client,
                        spot=conn.spot,
                        spot_amount=str(leg.get("spot_amount", "0")),
                        data_provider=provider,
                        retry=self.retry,
                    )
                else:
                    assert candles is not None
                    if symbol not in candles:
                        raise ConfigError(f"legs: no candles for {symbol!r}")
                    provider = ReplayDataProvider(
                        candles[symbol], symbol, start=min(history, len(candles[symbol]) - 1)
                    )
                    spot = str(leg.get("spot_amount", "1"))
                    if self.mode == "PAPER":
                        # the leg's own fees and participation (as the portfolio backtester's)
                        e = bot_cfg.execution
                        broker = PaperBroker(
                            provider,
                            spot_amount=spot,
                            maker_fee=e.maker_fee,
                            taker_fee=e.taker_fee,
                            participation=e.participation,
                        )
                    else:
                        broker = create_broker(
                            self.mode, symbol=symbol, data_provider=provider, spot_amount=spot
                        )
                bot = GridHedgeBot(broker, provider, symbol, config=bot_cfg)
                self.legs.append(Leg(symbol, bot, provider, on))
        except BaseException:
            self.close()
            raise
        self.last: PortfolioReport | None = None
        self.history = PortfolioHistory()
        self._started = False

    def __repr__(self) -> str:
        return (
            f"PortfolioRunner(mode={self.mode!r}, legs={[leg.symbol for leg in self.legs]}, "
            f"connections={list(self.connections.values())})"
        )

    async def __aenter__(self) -> PortfolioRunner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Load each exchange's markets once (REAL), then start (and reconcile) every leg."""
        for conn in self.connections.values():
            await conn.load_markets(self.retry)
        for leg in self.legs:
            await leg.bot.start()
        self._started = True
        logger.info(
            "Initialized PortfolioRunner with {} leg(s): {} (var_limit {}, {} mode)",
            len(self.legs),
            ", ".join(leg.symbol for leg in self.legs),
            self.manager.var_limit,
            self.mode,
        )

    async def _inputs(self) -> list[LegInput]:
        out = []
        for leg in self.legs:
            bot = leg.bot
            window = await leg.provider.get_ohlcv(
                leg.symbol, self.timeframe, self.manager.lookback_bars + 1
            )
            if len(window.close) == 0:
                raise ConfigError(
                    f"legs: the data source has no {self.timeframe} bars for {leg.symbol}",
                    field="legs",
                    value=repr(leg.symbol),
                    rule="every leg needs bars to measure its risk",
                )
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
            ts = self.legs[0].provider.timestamp_ms()
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
            price = await leg.provider.get_current_price(leg.symbol)
            leg.last = await leg.bot.execute(price)
            leg.funding_rate = await leg.provider.get_funding_rate(leg.symbol)
        return report

    def interval_s(self) -> float:
        """Seconds between two REAL rebalances: the first leg's ``rebalance_interval``."""
        return float(self.legs[0].bot.config.execution.rebalance_interval)

    async def run(self, steps: int) -> PortfolioReport | None:
        """``steps`` rebalances: offline, the replays advance together by the first leg's
        cadence; REAL, ``sleep(rebalance_interval)`` of the first leg between rebalances."""
        cadence = None
        for i in range(steps):
            if i > 0:
                if self.live:
                    await self._sleep(self.interval_s())
                else:
                    cadence = cadence or self.legs[0].bot.cadence_bars()
                    if any(leg.replay.advance(cadence) == 0 for leg in self.legs):
                        break
            report = await self.step()
            if report.halted:
                break
        return self.last

    def close(self) -> None:
        """Release the state files (the portfolio's and every leg's) and their locks. A REAL
        runner's exchange clients need ``await aclose()``."""
        for leg in self.legs:
            close = getattr(leg.bot.state, "close", None)
            if close is not None:
                close()
        if self.state is not None:
            self.state.close()

    async def aclose(self) -> None:
        """``close()``, then close each exchange's shared client(s) exactly once."""
        try:
            self.close()
        finally:
            for conn in self.connections.values():
                await conn.aclose()

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
            if leg.exchange is not None:
                row["exchange"] = leg.exchange
            if rep is not None:
                net = rep.position.spot_amount + rep.position.futures_amount
                row["exposure"] = net * rep.price
                # positive funding: shorts receive; quote per funding interval
                row["funding_carry"] = (
                    -float(rep.position.futures_amount * rep.price) * leg.funding_rate
                )
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
                    correlation=lr.correlation,
                    var_limit=lr.var_limit,
                )
            legs[leg.symbol] = row
        portfolio: dict[str, Any] = {"var_limit": self.manager.var_limit, "mode": self.mode}
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
                bars=r.bars,
                exposure=sum(float(x.get("exposure", 0)) for x in legs.values()),
                funding_carry=sum(float(x.get("funding_carry", 0.0)) for x in legs.values()),
            )
        return {"portfolio": portfolio, "legs": legs, "run": self.history.summary()}
