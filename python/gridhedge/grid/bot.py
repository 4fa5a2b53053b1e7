"""GridHedgeBot: the seed's bot. Each rebalance it reads the market and the book, asks the Rust
policy which orders should exist, lets the risk manager and analyzer report, and has the order
manager send only the difference. PAPER and RECOMMENDATION run offline on a replay clock."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loguru import logger

from gridhedge._core import Decision, Market, PolicyEngine, parse_client_order_id
from gridhedge.chaos import crash_point
from gridhedge.common.interfaces import (
    Broker,
    DataProvider,
    GridCalculator,
    OrderManager,
    PositionFetcher,
    RiskAnalyzer,
    RiskManager,
    RiskReport,
    StateManager,
    SyncResult,
)
from gridhedge.common.types import (
    HedgeRecommendation,
    MarketState,
    Order,
    OrderStatus,
    Position,
    Priority,
    TradingMode,
)
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.errors import GridHedgeError
from gridhedge.execution.order_manager import GridOrderManager, PlannedOrder
from gridhedge.execution.position_fetcher import BrokerPositionFetcher
from gridhedge.grid.calculator import planned_from_levels
from gridhedge.grid.config import ConfigSource, GridHedgeConfig
from gridhedge.grid.policy import policy_config
from gridhedge.logs import configure_logging
from gridhedge.risk.analyzers.basic import BasicFuturesHedgeAnalyzer
from gridhedge.risk.manager import LayeredRiskManager
from gridhedge.state.manager import MemoryStateManager

FILLS_OVERLAP_MS = 5 * 60 * 1000
"""Each fill fetch re-reads this much before the last complete answer (duplicates are free)."""


@dataclass(frozen=True)
class ExecutionReport:
    """What one ``execute`` saw, decided and did."""

    timestamp_ms: int
    price: Decimal
    position: Position
    equity: Decimal
    decision: Decision
    risk: RiskReport
    recommendation: HedgeRecommendation
    sync: SyncResult

    def summary(self) -> dict[str, Any]:
        """A JSON-ready digest (used by RECOMMENDATION's plan file)."""
        return {
            "timestamp_ms": self.timestamp_ms,
            "price": str(self.price),
            "spot_amount": str(self.position.spot_amount),
            "futures_amount": str(self.position.futures_amount),
            "equity": str(self.equity),
            "metrics": self.decision.metrics,
            "reasons": [{"code": c, "message": m} for c, m in self.decision.reasons],
            "halted": self.decision.halted,
            "commentary": self.recommendation.commentary,
        }


@dataclass
class RunStats:
    """Per-execute series a run keeps for its summary."""

    timestamps: list[int] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    hedge_ratio: list[float] = field(default_factory=list)
    var: list[float] = field(default_factory=list)
    var_breaches: int = 0


class GridHedgeBot:
    """A grid-hedge bot for one symbol with injectable components (see the seed)."""

    def __init__(
        self,
        broker: Broker,
        data_provider: DataProvider,
        symbol: str,
        grid_calculator: GridCalculator | None = None,
        config: ConfigSource = None,
        *,
        risk_manager: RiskManager | None = None,
        risk_analyzer: RiskAnalyzer | None = None,
        order_manager: OrderManager | None = None,
        state_manager: StateManager | None = None,
        position_fetcher: PositionFetcher | None = None,
        bot_id: str | None = None,
    ) -> None:
        self.config = GridHedgeConfig.load(config)
        configure_logging(self.config.logging)
        self.broker = broker
        self.data_provider = data_provider
        self.symbol = symbol
        self.grid_calculator = grid_calculator
        self.bot_id = bot_id or self.config.state.bot_id or default_bot_id(symbol)
        self.risk_manager = risk_manager or LayeredRiskManager(self.config)
        self.risk_analyzer = risk_analyzer or _default_analyzer(self.config)
        self.state = state_manager or _default_state(self.config, self.bot_id, broker)
        self.position_fetcher = position_fetcher or BrokerPositionFetcher(broker)
        self._order_manager = order_manager
        self._policy = policy_config(self.config)
        self._review: tuple[Decimal, Decimal, Decimal] | None = None
        self._band_scale = Decimal(1)
        self._var_cap: float | None = None
        self._policy_state: dict[str, Any] = {"center_ticks": 0, "ref_short_lots": 0}
        self._halted = False
        self._hwm = Decimal(0)
        self._market: Market | None = None
        self._engine: PolicyEngine | None = None
        self._running = False
        self.last_report: ExecutionReport | None = None
        self._fills_since: int | None = None
        self._owned: dict[str, bool] = {}
        """Client order id -> whether it is this bot's (see ``owns``; each id parsed once)."""
        self._funding_since: int | None = None
        self.stats = RunStats()

    @classmethod
    async def create(
        cls, broker: Broker, symbol: str, config: ConfigSource = None, **components: Any
    ) -> GridHedgeBot:
        """A started bot whose data provider is the broker's own (the seed's entry point)."""
        bot = cls(
            broker=broker,
            data_provider=broker.data_provider,
            symbol=symbol,
            config=config,
            **components,
        )
        await bot.start()
        return bot

    @property
    def market(self) -> Market:
        if self._market is None:
            raise GridHedgeError(
                "the bot is not started: call `await bot.start()` (or use GridHedgeBot.create)",
                field="bot",
                value="not started",
                rule="must be started before it trades",
            )
        return self._market

    @property
    def order_manager(self) -> OrderManager:
        if self._order_manager is None:
            self._order_manager = GridOrderManager(
                self.broker,
                self.state,
                bot_id=self.bot_id,
                symbol=self.symbol,
                max_active_orders=self.config.execution.max_active_orders,
            )
        return self._order_manager

    @property
    def engine(self) -> PolicyEngine:
        """The policy with its incremental market statistics (built by ``start``)."""
        if self._engine is None:
            _ = self.market  # raises the 'not started' error
            self._engine = PolicyEngine(self._policy, self.market, self.config.data.history_bars)
        return self._engine

    async def start(self) -> None:
        """Load the market rules and the saved state; log the start."""
        self._market = await self.broker.load_market(self.symbol)
        check_account = getattr(self.broker, "check_account", None)
        if check_account is not None:  # an exchange account (REAL, or read for advice)
            await check_account(self.symbol)
        self._engine = PolicyEngine(self._policy, self._market, self.config.data.history_bars)
        saved = self.state.load()
        self._policy_state.update(saved.get("policy", {}))
        self._halted = bool(saved.get("halted", False))
        self._hwm = Decimal(str(saved.get("high_water_mark", "0")))
        await self.reconcile()  # (keeps one live order per key: see _one_per_key)
        _ = self.order_manager
        logger.info(
            "Initialized GridHedgeBot for {} with {} levels ({} mode)",
            self.symbol,
            self.config.grid.num_levels,
            self.broker.trading_mode.value,
        )

    def owns(self, client_order_id: str) -> bool:
        """Whether ``client_order_id`` is one of this bot's (its bot id and symbol): every
        cancel and every adoption is limited to these; a manual order or another bot's is
        never touched."""
        owned = self._owned.get(client_order_id)
        if owned is None:
            owned = parse_client_order_id(self.bot_id, self.symbol, client_order_id) is not None
            if len(self._owned) >= 4096:  # parsed again if seen again: only a cache
                self._owned.clear()
            self._owned[client_order_id] = owned
        return owned

    async def sync_fills(self) -> int:
        """Record this bot's fills since the checkpoint (each once, keyed by exchange, symbol
        and trade id; each order's filled amount and status follow), then move the checkpoint
        to where the exchange's answer is complete, empty windows included. Returns the
        number of new fills."""
        since = self._fills_since
        fills = await self.broker.fetch_fills(self.symbol, since)
        new = 0
        for f in fills:
            if not self.owns(f.client_order_id):
                continue  # a manual trade or another bot's: not ours to record
            if self.state.record_fill(f):
                crash_point("fill_recorded")
                new += 1
        synced = getattr(self.broker, "fills_synced_ms", {}).get(self.symbol)
        candidates = [since or 0, *(f.timestamp_ms for f in fills)]
        if synced is not None:
            # re-read a margin before the exchange's 'complete up to' time: trades are
            # recorded once by their key, so the overlap costs nothing and loses nothing
            candidates.append(int(synced) - FILLS_OVERLAP_MS)
        self._fills_since = max(candidates) or None
        await self._sync_funding()
        return new

    async def _sync_funding(self) -> None:
        """Record the funding payments since the funding checkpoint (brokers that report
        them: REAL through the exchange's income history, PAPER from its account)."""
        fetch = getattr(self.broker, "fetch_funding_payments", None)
        if fetch is None:
            return
        since = self._funding_since
        for t, amount in await fetch(self.symbol, since):
            self.state.record_funding(self.symbol, t, amount)
            self._funding_since = max(self._funding_since or 0, t)

    async def _one_per_key(self, open_orders: list[Order]) -> list[Order]:
        """At most one live order per key: a crash between placing a moved stop and
        cancelling the old one leaves two; the newest (highest sequence) stays."""
        newest: dict[str, Order] = {}
        for o in open_orders:
            seq = self._sequence(o)
            if o.key not in newest or seq > self._sequence(newest[o.key]):
                newest[o.key] = o
        for o in open_orders:
            if newest[o.key] is not o:
                await self.broker.cancel_order(o)
                self.state.record_order(o)
                logger.info(
                    "reconcile: cancelled {}, superseded by a newer {}", o.client_order_id, o.key
                )
        return list(newest.values())

    def _sequence(self, order: Order) -> int:
        parsed = parse_client_order_id(self.bot_id, self.symbol, order.client_order_id)
        return parsed[1] if parsed is not None else 0

    async def reconcile(self) -> None:
        """Match the saved orders with the exchange's by client order id: adopt what is open,
        record the fills made while the bot was down (orders follow their fills), settle
        every other saved order by asking the exchange for it (filled, cancelled, or lost
        when the exchange does not know it). Only this bot's orders are adopted. One line."""
        saved_state = self.state.load()
        self._fills_since = int(saved_state.get("fills_checkpoint_ms", 0)) or None
        self._funding_since = int(saved_state.get("funding_checkpoint_ms", 0)) or None
        new_fills = await self.sync_fills()
        saved = self.state.orders(live_only=True)
        listed = await self.broker.fetch_open_orders(self.symbol)
        open_orders = [o for o in listed if self.owns(o.client_order_id)]
        open_orders = await self._one_per_key(open_orders)
        open_by_id = {o.client_order_id: o for o in open_orders}
        lookup = getattr(self.broker, "refresh_order", None)
        adopted = settled = lost = 0
        for o in saved:
            live = open_by_id.get(o.client_order_id)
            if live is not None:  # an intent sent before a crash is open: say so in state
                o.merge(live.filled, live.status)
                o.exchange_order_id = live.exchange_order_id or o.exchange_order_id
                self.state.record_order(o)
                adopted += 1
                continue
            found = await lookup(o) if lookup is not None else None
            if found is not None:
                o.merge(found.filled, found.status)
                if not o.status.is_live:
                    settled += 1
            elif o.filled >= o.amount:
                o.merge(o.filled, OrderStatus.FILLED)
                settled += 1
            else:
                o.merge(o.filled, OrderStatus.LOST)
                lost += o.status is OrderStatus.LOST
                settled += o.status is not OrderStatus.LOST
            self.state.record_order(o)
        saved_ids = {o.client_order_id for o in saved}
        for o in open_orders:
            if o.client_order_id not in saved_ids:
                self.state.record_order(o)  # ours (by its id) but not live in state: adopt it
                adopted += 1
        logger.info(
            "Reconciled {}: {} open order(s) adopted, {} settled, {} lost, "
            "{} fill(s) recorded while down",
            self.symbol,
            adopted,
            settled,
            lost,
            new_fills,
        )

    async def execute(self, current_price: Decimal | float | str) -> ExecutionReport:
        """One rebalance at ``current_price``: decide, report risk, sync orders."""
        market = self.market
        # a Decimal is taken as it is (the same value, digits and exponent as through str)
        price = current_price if type(current_price) is Decimal else Decimal(str(current_price))
        candles = await self.data_provider.get_ohlcv(
            self.symbol, self.config.data.timeframe, self.config.data.history_bars
        )
        funding = await self.data_provider.get_funding_rate(self.symbol)
        position = await self.position_fetcher.get_position(self.symbol)
        equity = await self.broker.fetch_equity(self.symbol)
        self._hwm = max(self._hwm, equity)
        futures_lots = market.amount_to_lots(abs(position.futures_amount))
        if position.futures_amount < 0:
            futures_lots = -futures_lots
        prior_state = {**self._policy_state, "halted": self._halted}

        def decide(policy_state: dict[str, Any]) -> Decision:
            return self.engine.decide(
                price,
                candles.timestamp,
                candles.open,
                candles.high,
                candles.low,
                candles.close,
                candles.volume,
                funding,
                position.spot_amount,
                futures_lots,
                equity,
                self._hwm,
                state=policy_state,
            )

        decision = decide(prior_state)
        state = MarketState(
            symbol=self.symbol,
            price=price,
            timestamp_ms=self.data_provider.timestamp_ms(),
            volatility=decision.metrics["volatility"],
            funding_rate=funding,
            volume=float(candles.volume[-1]) if len(candles.volume) else 0.0,
        )
        risk = self.risk_manager.evaluate(decision, position, state)
        if risk.halted and not decision.halted:
            # an injected risk manager's halt acts like the policy's own: de-risk, grid off
            logger.error("risk manager halted trading: the hedge moves to the safe hedge")
            self.state.record_risk_event(state.timestamp_ms, "halt", "risk manager verdict")
            decision = decide({**prior_state, "halted": True})
        self._policy_state = {k: v for k, v in decision.state.items() if k != "halted"}
        self._halted = decision.halted
        if decision.resumed:
            # a halt's cooldown ran out: the drawdown restarts from the current equity
            self._hwm = equity
            self.state.record_risk_event(state.timestamp_ms, "resume", "halt_cooldown passed")
        await self.sync_fills()
        self.state.record_equity(state.timestamp_ms, equity, self._hwm)
        for code, message in decision.reasons:
            if code in ("halt", "var_warning", "var_shrink", "rebalance", "stop", "stop_fired"):
                self.state.record_risk_event(state.timestamp_ms, code, message)
        if decision.cancel_all:
            sync = await self.order_manager.cancel_all()
        else:
            desired: list[Any] = list(decision.orders)
            if self.grid_calculator is not None and not decision.halted:
                # the cap counts the hedge after a pending rebalance, not only the filled one
                projected = futures_lots - sum(
                    o.amount_lots if o.side == "sell" else -o.amount_lots
                    for o in decision.orders
                    if o.role == "rebalance"
                )
                # custom orders pass the policy's gates: the joint worst-case cap counts the
                # policy's own rebalance and stop orders of the same side, the volume cap
                # and the stop's paused grid side apply
                own = [o for o in desired if o.role != "grid"]
                desired = own + self._gate_custom(
                    self._custom_orders(state, position, projected),
                    own,
                    futures_lots,
                    decision,
                    candles.volume,
                    market.price_to_ticks(price, "sell"),
                )
            sync = await self.order_manager.sync(desired, market)
        recommendation = await self.risk_analyzer.analyze(position, state, decision)
        self._apply_review(recommendation)
        self.state.save(
            {
                "policy": self._policy_state,
                "halted": self._halted,
                "high_water_mark": str(self._hwm),
                "fills_checkpoint_ms": self._fills_since or 0,
                "funding_checkpoint_ms": self._funding_since or 0,
            }
        )
        crash_point("checkpoint_written")
        logger.info("Grid Status - Price: {}, Position: {:.8f}", price, position.futures_amount)
        report = ExecutionReport(
            timestamp_ms=state.timestamp_ms,
            price=price,
            position=position,
            equity=equity,
            decision=decision,
            risk=risk,
            recommendation=recommendation,
            sync=sync,
        )
        self._record(report)
        publish = getattr(self.broker, "publish_plan", None)
        if publish is not None:
            publish(report.summary())
        self.last_report = report
        return report

    def _apply_review(self, rec: HedgeRecommendation) -> None:
        """Apply an LLM review to the next decisions, re-checking that it only tightens risk:
        the hedge ratio toward a full hedge within its band, wider spacing, smaller sizes."""
        critical = [a for a in rec.adjustments if a.priority is Priority.CRITICAL]
        if critical and not self._halted:
            # a CRITICAL adjustment acts: the next decision halts (de-risks) until resumed
            self._halted = True
            logger.error(
                "analyzer CRITICAL adjustment ({}): halting, the hedge moves to the safe hedge",
                "; ".join(f"{a.action}: {a.reason}" for a in critical),
            )
            self.state.record_risk_event(
                self.data_provider.timestamp_ms(), "halt", f"analyzer: {critical[0].reason}"
            )
        review: tuple[Decimal, Decimal, Decimal] | None = None
        if rec.source == "llm":
            hedge, grid, risk = self.config.hedge, self.config.grid, self.config.risk
            full = min(max(Decimal(1), hedge.hedge_ratio_min), hedge.hedge_ratio_max)
            h = rec.target_hedge_ratio
            if abs(h - full) > abs(hedge.hedge_ratio - full):
                h = hedge.hedge_ratio
            spacing = min(
                grid.grid_spacing_pct * Decimal(repr(max(rec.spacing_multiplier, 1.0))),
                Decimal("0.5"),
            )
            size = risk.max_position_size * Decimal(repr(min(max(rec.size_multiplier, 1e-9), 1.0)))
            review = (h, spacing, size)
        if review == self._review:
            return
        self._review = review
        if review is not None:
            h, spacing, size = review
            logger.info(
                "LLM review applied: hedge ratio {}, spacing {}, max position {}", h, spacing, size
            )
        self._rebuild_policy()

    def tighten_band(self, scale: Decimal | float | str) -> bool:
        """Narrow the hedge band around the target hedge ratio to ``scale`` (in (0, 1]) of its
        configured width (a portfolio budget's shrink; 1 restores the configured band, never a
        wider one). Smaller band, smaller grid orders, a smaller worst in-band exposure.
        Returns whether the policy changed."""
        s = Decimal(str(scale))
        if not Decimal(0) < s <= Decimal(1):
            raise GridHedgeError(
                f"band scale: must be > 0 and <= 1 (got {s})",
                field="band_scale",
                value=str(s),
                rule="must be > 0 and <= 1 (only tightens)",
            )
        if s == self._band_scale:
            return False
        self._band_scale = s
        self._rebuild_policy()
        return True

    def limit_var(self, var_limit: float | None) -> bool:
        """Run the policy with ``var_limit`` (quote) as its VaR limit, never above the configured
        one (a portfolio budget, ``gridhedge._core.leg_var_limits``); None restores the
        configured limit. Returns whether the policy changed."""
        cap: float | None = None
        if var_limit is not None:
            v = float(var_limit)
            if not v > 0 or v != v or v == float("inf"):
                raise GridHedgeError(
                    f"var_limit: must be finite and > 0 (got {var_limit})",
                    field="var_limit",
                    value=repr(var_limit),
                    rule="must be finite and > 0",
                )
            configured = float(self.config.risk.var_limit)
            cap = v if v < configured else None
        if cap == self._var_cap:
            return False
        self._var_cap = cap
        self._rebuild_policy()
        return True

    @property
    def var_cap(self) -> float | None:
        """The portfolio budget's VaR limit in force (None: the configured limit)."""
        return self._var_cap

    @property
    def band_scale(self) -> Decimal:
        """The portfolio's band multiplier in force (1: the configured band)."""
        return self._band_scale

    def effective_config(self) -> GridHedgeConfig:
        """The configuration the policy runs with: the configured one, tightened by the LLM
        review, the portfolio's band scale and its VaR budget."""
        cfg = self.config
        if self._review is not None:
            # the review's hedge ratio reaches the policy as review_hedge_ratio: applied after
            # the funding tilt, tighten-only (see _rebuild_policy)
            _h, spacing, size = self._review
            cfg = cfg.model_copy(
                update={
                    "grid": cfg.grid.model_copy(update={"grid_spacing_pct": spacing}),
                    "risk": cfg.risk.model_copy(update={"max_position_size": size}),
                }
            )
        if self._band_scale < 1:
            hedge, k = cfg.hedge, self._band_scale
            lo = hedge.hedge_ratio - k * (hedge.hedge_ratio - hedge.hedge_ratio_min)
            hi = hedge.hedge_ratio + k * (hedge.hedge_ratio_max - hedge.hedge_ratio)
            cfg = cfg.model_copy(
                update={
                    "hedge": hedge.model_copy(update={"hedge_ratio_min": lo, "hedge_ratio_max": hi})
                }
            )
        if self._var_cap is not None:
            cfg = cfg.model_copy(
                update={
                    "risk": cfg.risk.model_copy(update={"var_limit": Decimal(repr(self._var_cap))})
                }
            )
        return cfg

    def _rebuild_policy(self) -> None:
        review = self._review[0] if self._review is not None else None
        self._policy = policy_config(self.effective_config(), review_hedge_ratio=review)
        if self._engine is not None:
            self._engine.set_config(self._policy)

    def _custom_orders(
        self, state: MarketState, position: Position, futures_lots: int
    ) -> list[PlannedOrder]:
        assert self.grid_calculator is not None
        levels = self.grid_calculator.calculate_grid_levels(state, position)
        if levels is None:  # a stub calculator (the seed's example) proposes nothing
            logger.warning("grid calculator returned no levels: no grid orders this rebalance")
            return []
        return planned_from_levels(
            levels,
            self.market,
            state.price,
            short_lots=max(0, -futures_lots),
            max_position_lots=self.market.amount_to_lots(self.config.risk.max_position_size),
            max_active_orders=self.config.execution.max_active_orders,
        )

    def _gate_custom(
        self,
        custom: list[PlannedOrder],
        own: list[Any],
        futures_lots: int,
        decision: Decision,
        volume: Any,
        price_ticks: int,
    ) -> list[PlannedOrder]:
        """A custom calculator's orders through the policy's gates (DESIGN: 'no bypass'): a
        grid side paused after a stop stays empty; each order at most ``max_volume_share`` of
        the mean volume of the last 24 bars; then one worst-case cap per side - the current
        short plus every resting sell (the policy's rebalance and stop first, then the custom
        orders nearest the price) within ``max_position_size``, and likewise the buys."""
        market = self.market
        risk = self.effective_config().risk
        st = decision.state
        paused = {"buy": int(st["pause_buys"]) > 0, "sell": int(st["pause_sells"]) > 0}
        recent = [float(v) for v in list(volume)[-24:]]
        vol_cap = (
            market.amount_to_lots(risk.max_volume_share * Decimal(repr(sum(recent) / len(recent))))
            if recent and sum(recent) > 0
            else None
        )
        cap = market.amount_to_lots(risk.max_position_size)
        short = -futures_lots
        room = {"sell": max(cap - short, 0), "buy": max(cap + short, 0)}
        for o in own:
            room[o.side] = max(room[o.side] - o.amount_lots, 0)
        out: list[PlannedOrder] = []
        for o in sorted(custom, key=lambda o: abs(o.price_ticks - price_ticks)):
            lots = o.amount_lots
            if paused[o.side]:
                continue
            if vol_cap is not None:
                lots = min(lots, vol_cap)
            lots = min(lots, room[o.side])
            if lots <= 0 or not market.meets_minimums(o.price_ticks, lots):
                continue
            room[o.side] -= lots
            out.append(o if lots == o.amount_lots else dataclasses.replace(o, amount_lots=lots))
        if len(out) < len(custom):
            logger.info(
                "custom grid orders gated: {} of {} kept (joint position cap, volume cap, "
                "stop cooldown)",
                len(out),
                len(custom),
            )
        return out

    def resume(self, reason: str) -> None:
        """Lift a drawdown halt (the trader's call, logged and recorded with ``reason``): the
        grid trades again from the next rebalance and the drawdown restarts from the equity
        then (the high-water mark is reset)."""
        if not reason.strip():
            raise GridHedgeError(
                "resume needs a reason (it is logged and recorded)",
                field="reason",
                value=repr(reason),
                rule="must be a non-empty sentence",
            )
        was = self._halted
        self._halted = False
        self._policy_state["halt_age"] = 0
        self._hwm = Decimal(0)  # the next execute restarts it at the equity
        self.state.save(
            {
                "policy": self._policy_state,
                "halted": False,
                "high_water_mark": "0",
            }
        )
        self.state.record_risk_event(
            self.data_provider.timestamp_ms() if self._market is not None else 0,
            "resume",
            reason,
        )
        logger.warning("Resumed {} (was halted: {}): {}", self.symbol, was, reason)

    def _record(self, report: ExecutionReport) -> None:
        s = self.stats
        s.timestamps.append(report.timestamp_ms)
        s.prices.append(float(report.price))
        s.equity.append(float(report.equity))
        s.hedge_ratio.append(report.decision.metrics["hedge_ratio"])
        s.var.append(report.decision.metrics["var"])
        if report.decision.metrics["var"] > float(self.config.risk.var_limit):
            s.var_breaches += 1

    def cadence_bars(self) -> int:
        """Bars between two rebalances of a replay: ``rebalance_interval`` in bars, at least 1."""
        if isinstance(self.data_provider, ReplayDataProvider):
            bar_s = self.data_provider.bar_ms / 1000
            return max(1, round(float(self.config.execution.rebalance_interval) / bar_s))
        return 1

    async def run(self, max_iterations: int | None = None) -> RunStats:
        """Execute every ``rebalance_interval`` until stopped (a replay: until its data ends,
        advancing its clock by the interval in bars between executions)."""
        if self._market is None:
            await self.start()
        self._running = True
        iterations = 0
        replay = self.data_provider if isinstance(self.data_provider, ReplayDataProvider) else None
        while self._running and (max_iterations is None or iterations < max_iterations):
            if iterations > 0:
                # the clock moves first (fills land), then the bot sees the new bar
                if replay is not None:
                    if replay.advance(self.cadence_bars()) == 0:
                        break
                else:
                    await asyncio.sleep(float(self.config.execution.rebalance_interval))
            await self.execute(await self.data_provider.get_current_price(self.symbol))
            iterations += 1
        self._running = False
        return self.stats

    async def stop(self, cancel_orders: bool = True) -> None:
        """Stop the run loop; cancel this bot's open orders unless told not to."""
        self._running = False
        if cancel_orders and self._market is not None:
            await self.order_manager.cancel_all()
        logger.info("Stopped GridHedgeBot for {}", self.symbol)

    def get_status(self) -> dict[str, Any]:
        """The latest figures: price, position, equity, hedge ratio, VaR, drawdown, halt."""
        r = self.last_report
        status: dict[str, Any] = {
            "symbol": self.symbol,
            "bot_id": self.bot_id,
            "trading_mode": self.broker.trading_mode.value,
            "running": self._running,
            "halted": self._halted,
            "high_water_mark": self._hwm,
            "center_ticks": self._policy_state["center_ticks"],
        }
        if r is not None:
            status.update(
                price=r.price,
                spot_amount=r.position.spot_amount,
                futures_amount=r.position.futures_amount,
                equity=r.equity,
                hedge_ratio=r.decision.metrics["hedge_ratio"],
                target_hedge_ratio=r.decision.metrics["target_hedge_ratio"],
                var=r.decision.metrics["var"],
                drawdown=r.decision.metrics["drawdown"],
                open_orders=len(r.decision.orders),
                commentary=r.recommendation.commentary,
            )
        return status


def _default_state(config: GridHedgeConfig, bot_id: str, broker: Broker) -> StateManager:
    path = config.state.state_path
    if path is None and broker.trading_mode is TradingMode.REAL:
        import os
        import pathlib

        base = os.environ.get("XDG_DATA_HOME") or str(pathlib.Path.home() / ".local/share")
        path = pathlib.Path(base) / "gridhedge" / f"{bot_id}.sqlite"
    if path is None:
        return MemoryStateManager()
    from gridhedge.state.sqlite import SQLiteStateManager

    return SQLiteStateManager(path, bot_id, config.config_hash())


def _default_analyzer(config: GridHedgeConfig) -> RiskAnalyzer:
    if config.analyzer.kind == "llm":
        from gridhedge.risk.analyzers.llm import LLMHedgeAnalyzer

        return LLMHedgeAnalyzer.from_config(config)
    return BasicFuturesHedgeAnalyzer(config)


__all__ = ["ExecutionReport", "GridHedgeBot", "RunStats", "TradingMode"]


def default_bot_id(symbol: str) -> str:
    """``<symbol>-grid`` in the characters a bot id (and its state file's name) allows: a ccxt
    symbol's ``/`` and ``:`` become ``-`` (``BTC/USDT:USDT`` -> ``btc-usdt-usdt-grid``;
    ``BTCUSDT`` -> ``btcusdt-grid``, as before)."""
    return re.sub(r"[^a-z0-9_.-]", "-", symbol.lower()) + "-grid"
