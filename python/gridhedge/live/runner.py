"""The supervised live loop: one rebalance every interval until a signal, through outages.

``LiveRunner`` drives one ``GridHedgeBot`` against an exchange (REAL, RECOMMENDATION, or a dry
run: PAPER on the exchange's live data). What can go wrong and what it does:

- **Retryable** (network, timeout, 5xx, 429/418, -1003/-1015, -1021 clock skew, an exchange
  that did not answer within a call's retry budget): wait with exponential backoff, the delay
  capped (``Backoff.cap_s``) but the outage's length not; the outage's start and end are logged
  once each. When the exchange answers again the bot **reconciles first** (adopts its open
  orders, records the fills made meanwhile, settles the rest), then rebalances: the grid left
  on the exchange stays managed.
- **One order rejected** (margin, filters, reduce-only, post-only ...): handled inside the
  order manager (recorded ``rejected`` with the exchange's code, the other orders stand).
- **Fatal** (a config error, keys refused, a state file that cannot be used): the loop ends
  and the error is raised; nothing else ends it but ``stop()`` (SIGINT/SIGTERM).
- **Anything else** (a bug, an unexpected answer): logged with its traceback once per distinct
  message, then treated as retryable: the bot is safer managing its orders than gone.

On exit the ``on_exit`` policy applies (``keep`` leaves the bot's orders on the exchange,
``cancel`` cancels this bot's orders only), and ``summary()`` gives PnL, fees, funding, fills,
open orders, position and hedge ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from loguru import logger

from gridhedge.errors import ConfigError, ExchangeAuthError, GridHedgeError
from gridhedge.grid.bot import ExecutionReport, GridHedgeBot
from gridhedge.live.feed import LiveFeed

__all__ = ["Backoff", "LiveRunner", "LiveSummary", "OnExit", "is_fatal"]

OnExit = Literal["keep", "cancel"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays (seconds) between attempts while the exchange is unreachable: ``base_s`` doubling
    up to ``cap_s``; there is no limit on how long an outage may last."""

    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, failures: int) -> float:
        return float(min(self.cap_s, self.base_s * 2.0 ** max(0, failures - 1)))


def is_fatal(error: BaseException) -> bool:
    """Errors a human must fix: the loop stops on these and only these."""
    from gridhedge.state.sqlite import StateError

    return isinstance(error, (ConfigError, ExchangeAuthError, StateError))


@dataclass(frozen=True)
class LiveSummary:
    """What a run did, for the exit summary (quote currency unless said)."""

    mode: str
    rebalances: int
    outages: int
    outage_s: float
    pnl: Decimal | None
    fees: Decimal
    funding: Decimal
    fills: int
    open_orders: int
    position: Decimal | None
    spot: Decimal | None
    hedge_ratio: float | None
    on_exit: str

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) rows as a trader reads them."""

        def money(v: Decimal | None) -> str:
            return "-" if v is None else f"{v:,.2f}"

        return [
            ("mode", self.mode),
            ("rebalances", f"{self.rebalances:,}"),
            ("outages", f"{self.outages:,} ({self.outage_s:,.1f} s in all)"),
            ("PnL (equity change)", money(self.pnl)),
            ("fees paid", money(self.fees)),
            ("funding received", money(self.funding)),
            ("fills", f"{self.fills:,}"),
            ("open orders", f"{self.open_orders:,} ({self.on_exit} on exit)"),
            ("futures position", "-" if self.position is None else f"{self.position}"),
            ("spot inventory", "-" if self.spot is None else f"{self.spot}"),
            ("hedge ratio", "-" if self.hedge_ratio is None else f"{self.hedge_ratio:.3f}"),
        ]


Sleep = Callable[[float], Awaitable[None]]


class LiveRunner:
    """Supervises ``bot`` (see the module): ``await runner.run()`` until ``stop()``."""

    def __init__(
        self,
        bot: GridHedgeBot,
        *,
        interval_s: float | None = None,
        on_exit: OnExit = "keep",
        backoff: Backoff | None = None,
        feed: LiveFeed | None = None,
        status: Callable[[str], None] | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if on_exit not in ("keep", "cancel"):
            raise ConfigError(
                f"on_exit: must be keep or cancel (got {on_exit!r})",
                field="on_exit",
                value=repr(on_exit),
                rule="keep | cancel",
            )
        self.bot = bot
        self.interval_s = (
            float(bot.config.execution.rebalance_interval) if interval_s is None else interval_s
        )
        self.on_exit: OnExit = on_exit
        self.backoff = backoff or Backoff()
        self.feed = feed
        self.status = status
        self._sleep = sleep
        self._clock = clock
        self._stop = asyncio.Event()
        self.rebalances = 0
        self.outages = 0
        self.outage_s = 0.0
        self._outage_since: float | None = None
        self._failures = 0
        self._needs_reconcile = False
        self._started = False
        self._logged: set[str] = set()
        self._equity_start: Decimal | None = None
        self.last_report: ExecutionReport | None = None
        self.stop_grace_s = 10.0
        """How long a stop request lets the rebalance in progress finish."""
        self.on_close: Callable[[], Awaitable[None]] | None = None
        """Releases what the runner's builder opened (exchange connections, state file)."""

    async def close(self) -> None:
        """Release the connections and the state file (``on_close``)."""
        if self.on_close is not None:
            await self.on_close()

    # ----------------------------------------------------------------------------- control
    def stop(self) -> None:
        """Ask the loop to end after the step in progress (signal handlers call this)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def in_outage(self) -> bool:
        return self._outage_since is not None

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` or until ``stop()``, whichever comes first."""
        if self._sleep is not None:
            await self._sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=max(0.0, seconds))

    # ----------------------------------------------------------------------------- loop
    async def run(self, max_rebalances: int | None = None) -> LiveSummary:
        """Rebalance every ``interval_s`` until ``stop()`` (or ``max_rebalances``), riding
        out outages; apply ``on_exit`` and return the summary. Raises only fatal errors."""
        try:
            while not self.stopping and (
                max_rebalances is None or self.rebalances < max_rebalances
            ):
                if await self._step_or_stop():
                    if max_rebalances is not None and self.rebalances >= max_rebalances:
                        break
                    await self._wait(self.interval_s)
                else:
                    await self._wait(self.backoff.delay(self._failures))
        finally:
            if self._started:
                await self._exit_policy()
        return await self.summary()

    async def _step_or_stop(self) -> bool:
        """``_step()``, but a stop request does not wait out a whole retry budget: the step
        gets ``stop_grace_s`` to finish, then is cancelled (as a crash would end it: the
        state is consistent at every line, and the next start reconciles)."""
        step = asyncio.ensure_future(self._step())
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({step, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not step.done():
            done, _ = await asyncio.wait({step}, timeout=self.stop_grace_s)
            if not done:
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await step
                logger.warning(
                    "stop: the rebalance in progress was cut short after {:.0f} s",
                    self.stop_grace_s,
                )
                return False
        return step.result()

    async def _step(self) -> bool:
        """One supervised attempt: start or reconcile if due, then one rebalance. Returns
        whether it succeeded (False: an outage or a failure, wait the backoff)."""
        try:
            if not self._started:
                await self.bot.start()
                self._started = True
            elif self._needs_reconcile:
                await self.bot.reconcile()
            self._needs_reconcile = False
            if self.feed is not None:
                await self.feed.refresh()
            price = await self.bot.data_provider.get_current_price(self.bot.symbol)
            report = await self.bot.execute(price)
        except Exception as e:
            if is_fatal(e):
                raise
            self._on_failure(e)
            return False
        self._on_success(report)
        return True

    def _on_failure(self, error: BaseException) -> None:
        from gridhedge.execution.ccxt_broker import is_retryable

        self._failures += 1
        self._needs_reconcile = self._started
        if self._outage_since is None:
            self._outage_since = self._clock()
            self.outages += 1
            if is_retryable(error):
                logger.warning(
                    "exchange outage started: {} ({}); retrying with backoff up to {:.0f} s, "
                    "orders on the exchange stay as they are",
                    type(error).__name__,
                    _short(error),
                    self.backoff.cap_s,
                )
        if not is_retryable(error):
            key = f"{type(error).__name__}: {_short(error)}"
            if key not in self._logged:
                self._logged.add(key)
                if isinstance(error, GridHedgeError):
                    logger.error("rebalance failed: {} (retrying with backoff)", key)
                else:
                    logger.opt(exception=error).error(
                        "rebalance failed unexpectedly: {} (retrying with backoff)", key
                    )

    def _on_success(self, report: ExecutionReport) -> None:
        if self._outage_since is not None:
            lasted = self._clock() - self._outage_since
            self.outage_s += lasted
            logger.info(
                "exchange outage ended after {:.1f} s ({} failed attempt(s)); reconciled, "
                "trading again",
                lasted,
                self._failures,
            )
        self._outage_since = None
        self._failures = 0
        self.rebalances += 1
        self.last_report = report
        if self._equity_start is None:
            self._equity_start = report.equity
        if self.status is not None:
            self.status(self.status_line(report))

    def status_line(self, report: ExecutionReport) -> str:
        """One line per rebalance: time, price, position, hedge ratio, orders, reasons."""
        m = report.decision.metrics
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(report.timestamp_ms / 1000))
        rejected = getattr(self.bot.order_manager, "rejections", {})
        parts = [
            f"{stamp} UTC",
            f"{self.bot.symbol} {report.price}",
            f"futures {report.position.futures_amount}",
            f"hedge {m['hedge_ratio']:.3f} (target {m['target_hedge_ratio']:.3f})",
            f"orders {len(report.decision.orders)} (+{len(report.sync.placed)} "
            f"-{len(report.sync.cancelled)})",
            f"equity {report.equity:,.2f}",
        ]
        if report.decision.halted:
            parts.append("HALTED")
        if rejected:
            parts.append(f"rejected {len(rejected)}")
        return " | ".join(parts)

    async def _exit_policy(self) -> None:
        if self.on_exit == "cancel":
            try:
                done = await self.bot.order_manager.cancel_all()
                logger.info("on exit: cancelled {} order(s) of this bot", len(done.cancelled))
            except Exception as e:
                logger.error(
                    "on exit: could not cancel this bot's orders ({}); they stay on the exchange",
                    _short(e),
                )
        else:
            logger.info("on exit: this bot's orders stay on the exchange (on_exit: keep)")

    async def summary(self) -> LiveSummary:
        """The run's figures (from the last report and the bot's state)."""
        r = self.last_report
        fills = self.bot.state.fills()
        fees = sum((f.fee for f in fills), Decimal(0))
        funding = _funding_total(self.bot.state)
        open_orders = sum(1 for _ in self.bot.state.orders(live_only=True))
        own_open = getattr(self.bot.order_manager, "own_open_orders", None)
        if self._started and own_open is not None:
            try:
                open_orders = len(await own_open())
            except Exception as e:  # the exchange is down: the state's count stands
                logger.warning("summary: open orders from state ({})", _short(e))
        pnl = None if r is None or self._equity_start is None else r.equity - self._equity_start
        return LiveSummary(
            mode=self.bot.broker.trading_mode.value,
            rebalances=self.rebalances,
            outages=self.outages,
            outage_s=self.outage_s,
            pnl=pnl,
            fees=fees,
            funding=funding,
            fills=len(fills),
            open_orders=open_orders,
            position=None if r is None else r.position.futures_amount,
            spot=None if r is None else r.position.spot_amount,
            hedge_ratio=None if r is None else float(r.decision.metrics["hedge_ratio"]),
            on_exit=self.on_exit,
        )


def _funding_total(state: Any) -> Decimal:
    total = getattr(state, "funding_total", None)
    return Decimal(total()) if callable(total) else Decimal(0)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
