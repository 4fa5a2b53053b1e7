"""REAL trading through ccxt (Binance USD-M perpetuals, spot inventory from Binance spot).

- Markets come from ``load_markets``: the exchange's own filter strings become a core ``Market``
  (exact tick, lot and minimums); every price and amount sent is that market's exact decimal.
- Orders carry the order manager's deterministic client order id. A request whose outcome is
  unknown (timeout, dropped connection, 5xx, overload) is followed by a lookup by client id
  *before* any resend, so an order is never sent twice; a live duplicate is refused by the
  exchange and reported as ``DuplicateOrderError``.
- Transient failures are retried with exponential backoff; 429/418 wait ``Retry-After``.
- Keys come from ``gridhedge.execution.secrets`` and are never logged.
"""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import numpy as np
from loguru import logger

from gridhedge._core import Market
from gridhedge.chaos import crash_point
from gridhedge.common.interfaces import Broker, DataProvider
from gridhedge.common.types import Fill, Order, OrderStatus, Position, Side, TradingMode
from gridhedge.data.candles import Candles
from gridhedge.errors import (
    ConfigError,
    DuplicateOrderError,
    ExchangeAuthError,
    ExchangeUnavailableError,
    OrderError,
    OrderRejectedError,
)
from gridhedge.execution.secrets import ApiKeys
from gridhedge.execution.venues import VENUES, Venue, venue_for

__all__ = [
    "CcxtBroker",
    "CcxtDataProvider",
    "LiveRecommendationBroker",
    "RetryPolicy",
    "call_with_retry",
    "create_ccxt_broker",
    "make_exchange",
]

T = TypeVar("T")

STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}
"""ccxt's unified order status -> the bot's (``open`` with a fill is partially filled)."""
UNKNOWN_OUTCOME = (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.OperationFailed)
"""Failures after which an order may or may not exist: look it up before resending."""


def _venues_of(exchange: Any) -> list[Venue]:
    """The adapter of a ccxt client (every adapter for a client of no known venue)."""
    try:
        return [venue_for(str(getattr(exchange, "id", "")))]
    except ConfigError:
        return [venue_for(v) for v in VENUES]


def exchange_code(error: BaseException, exchange: Any = None) -> str | None:
    """The exchange's error code in a ccxt exception's text (Binance ``"code":-2019``, Bybit
    ``"retCode":110072``, OKX ``"sCode":"51016"``), as a string; None when it has none."""
    for venue in _venues_of(exchange):
        code = venue.code(error)
        if code is not None:
            return code
    return None


def is_auth_failure(error: BaseException, exchange: Any = None) -> bool:
    """Whether ``error`` says the keys are refused (never retried: a human must act)."""
    if isinstance(error, (ccxt.AuthenticationError, ccxt.PermissionDenied)):
        return True
    return any(v.code(error) in v.auth for v in _venues_of(exchange))


def is_retryable(error: BaseException, exchange: Any = None) -> bool:
    """Whether ``error`` is transient: network, timeout, 5xx, overload, rate limit, clock skew."""
    if is_auth_failure(error, exchange):
        return False
    if isinstance(error, (ccxt.NetworkError, ccxt.OperationFailed, ExchangeUnavailableError)):
        return True
    return any(v.code(error) in v.retryable for v in _venues_of(exchange))


def _dec(x: Any) -> Decimal:
    """A ccxt number as an exact decimal: ccxt parses the exchange's decimal strings into
    floats whose shortest repr is that string (at most 15 significant digits), so ``str``
    recovers it."""
    return Decimal(str(x)) if x is not None else Decimal(0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts per call, exponential backoff (seconds) and the longest wait honoured."""

    attempts: int = 6
    backoff_s: float = 0.2
    max_backoff_s: float = 10.0
    lookups: int = 3
    """Lookups by client id after an unknown outcome before the order counts as not sent."""

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before retry ``attempt``: exponential backoff capped at ``max_backoff_s``,
        but never shorter than the exchange's ``Retry-After`` (Binance bans an IP, HTTP 418,
        that retries before it)."""
        base = min(self.max_backoff_s, self.backoff_s * float(2**attempt))
        return float(max(base, retry_after or 0.0))


def make_exchange(
    keys: ApiKeys,
    *,
    exchange_id: str = "binanceusdm",
    base_url: str | None = None,
    testnet: bool = False,
    timeout_ms: int = 10_000,
    spot: bool = False,
) -> Any:
    """An async ccxt client of ``exchange_id`` (``binanceusdm``/``binance``, ``bybit``,
    ``okx``; or a venue name) for its USDT perpetuals, or its spot account when ``spot`` (the
    ccxt id ``binance`` alone also means Binance spot), with the keys, the demo/testnet flag,
    or a local emulator URL."""
    venue = venue_for(exchange_id)
    spot = spot or (exchange_id == venue.spot_id and exchange_id != venue.futures_id)
    class_id = venue.spot_id if spot else venue.futures_id
    cls = getattr(ccxt, class_id, None)
    if cls is None:  # pragma: no cover - every venue's class ships with ccxt
        raise ConfigError(
            f"exchange: ccxt has no exchange {class_id!r}",
            field="exchange",
            value=repr(class_id),
            rule="must be a ccxt exchange id such as 'binanceusdm'",
        )
    options = dict(venue.spot_options if spot else venue.options)
    config: dict[str, Any] = {
        "apiKey": keys.api_key.get_secret_value(),
        "secret": keys.secret.get_secret_value(),
        "enableRateLimit": base_url is None,
        "timeout": timeout_ms,
        "options": options,
    }
    if keys.password is not None:  # OKX's passphrase
        config["password"] = keys.password.get_secret_value()
    ex = cls(config)
    if testnet:
        ex.enable_demo_trading(True)
    if base_url is not None:  # after demo/testnet: those replace urls['api'] wholesale
        from gridhedge.sim.client import point_at

        ex.timeout_on_exit = 0
        point_at(ex, base_url)
    venue.prepare(ex, local=base_url is not None)
    return ex


def _retry_after(exchange: Any) -> float | None:
    headers = getattr(exchange, "last_response_headers", None) or {}
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _key_of(client_order_id: str) -> str:
    """The order manager's key inside its client id: ``gh`` + 8 hash chars + key + ``-seq``."""
    if not client_order_id.startswith("gh") or "-" not in client_order_id:
        return ""
    return client_order_id[10:].rsplit("-", 1)[0]


async def call_with_retry(
    exchange: Any, retry: RetryPolicy, what: str, fn: Callable[[], Awaitable[T]]
) -> T:
    """``fn()`` retried on transient failures with exponential backoff; 429/418 wait at least
    the answer's ``Retry-After``; clock skew (Binance -1021, Bybit 10002, OKX 50102)
    resynchronises ccxt's time difference first. Safe only for idempotent calls (reads,
    cancels). Out of attempts it raises
    ``ExchangeUnavailableError`` (retryable by a supervisor); refused keys raise
    ``ExchangeAuthError``; anything else the exchange answers is raised as it is."""
    last: Exception | None = None
    for attempt in range(retry.attempts):
        try:
            return await fn()
        except (ccxt.DDoSProtection, ccxt.RateLimitExceeded) as e:
            last = e
            wait = retry.delay(attempt, _retry_after(exchange))
        except Exception as e:
            if is_auth_failure(e, exchange):
                raise ExchangeAuthError(
                    f"api_key: the exchange refused the API key on {what} "
                    f"({type(e).__name__}, code {exchange_code(e, exchange)}); check the key "
                    "and secret, their permissions and the IP allow-list",
                    field="api_key",
                    value=None,
                    rule="must be a valid key with trading permission for this IP",
                ) from None
            if not is_retryable(e, exchange):
                raise
            last = e
            wait = retry.delay(attempt, _retry_after(exchange))
            if isinstance(e, ccxt.InvalidNonce) or any(
                v.code(e) in v.clock for v in _venues_of(exchange)
            ):
                await _resync_clock(exchange)
        name = type(last).__name__
        logger.warning("{}: {} (retry {} in {:.2f} s)", what, name, attempt + 1, wait)
        await asyncio.sleep(wait)
    raise ExchangeUnavailableError(
        f"{what}: failed after {retry.attempts} attempts ({type(last).__name__})",
        field="exchange",
        value=type(last).__name__,
        rule="must answer within the retry budget",
    ) from last


async def _resync_clock(exchange: Any) -> None:
    """Clock skew: measure the exchange's clock again (ccxt's ``timeDifference``)."""
    try:
        await exchange.load_time_difference()
        logger.warning(
            "clock resynchronised with the exchange (difference {} ms)",
            exchange.options.get("timeDifference"),
        )
    except Exception as e:  # the next attempt reports the failure
        logger.warning("clock resync failed: {}", type(e).__name__)


async def resolve_symbol(exchange: Any, symbol: str, load: Callable[[], Awaitable[Any]]) -> str:
    """ccxt's unified symbol for ``symbol``: a ccxt symbol (``BTC/USDT:USDT``) as it is; on
    Binance the exchange's own id (``BTCUSDT``) too, resolved to its perpetual. A clear
    ``ConfigError`` for a market the exchange does not list."""
    await load()
    if symbol in exchange.markets:
        return symbol
    venue = _venues_of(exchange)[0]
    if venue.native_symbol_ok:
        rows = [
            m
            for m in exchange.markets_by_id.get(symbol, [])
            if m.get("contract") or len(exchange.markets_by_id.get(symbol, [])) == 1
        ]
        if rows:
            return str(rows[0]["symbol"])
    raise ConfigError(
        f"symbol: {exchange.id} lists no market {symbol!r}",
        field="symbol",
        value=repr(symbol),
        rule="must be a ccxt symbol of the exchange such as 'BTC/USDT:USDT' "
        "(Binance also accepts its id 'BTCUSDT')",
    )


class CcxtDataProvider(DataProvider):
    """Market data from the exchange through ccxt's unified methods; its clock is the
    exchange's (the last ticker's time), so a replaying emulator drives it."""

    def __init__(self, exchange: Any, retry: RetryPolicy | None = None) -> None:
        self.exchange = exchange
        self.retry = retry if retry is not None else RetryPolicy()
        self._time_ms = 0

    async def _get(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retry(self.exchange, self.retry, what, fn)

    async def _symbol(self, symbol: str) -> str:
        return await resolve_symbol(
            self.exchange, symbol, lambda: self._get("load_markets", self.exchange.load_markets)
        )

    async def get_current_price(self, symbol: str) -> Decimal:
        sym = await self._symbol(symbol)
        ticker = await self._get("ticker", lambda: self.exchange.fetch_ticker(sym))
        if ticker.get("timestamp") is not None:  # Binance: the 24 h window's close time
            self._time_ms = int(ticker["timestamp"]) + 1
        return _dec(ticker["last"])

    async def exchange_now_ms(self, symbol: str) -> int:
        """The exchange's clock (ms UTC), never ahead of it: the earlier of its server time
        and the close time of the last ticker read (read now if none was). Both uses are safe
        with a clock that lags: a fill window re-reads a little more, a closed bar is seen a
        little later; a clock ahead would skip trades or take a forming bar for closed."""
        server = int(await self._get("time", self.exchange.fetch_time))
        if not self._time_ms:
            await self.get_current_price(symbol)
        return min(server, self._time_ms) if self._time_ms else server

    async def get_ohlcv(self, symbol: str, timeframe: str = "1h", limit: int = 500) -> Candles:
        """The latest ``limit`` *closed* bars: the bar still forming (open time + timeframe
        after the exchange's clock) is dropped, so the engine never sees a bar that will still
        change (exchanges return the forming bar as the last row). More bars than one answer
        holds (the venue's ``klines_max``: Binance and Bybit 1000, OKX 100) are read in
        pages forward from ``since``."""
        sym = await self._symbol(symbol)
        bar_ms = int(self.exchange.parse_timeframe(timeframe)) * 1000
        most = _venues_of(self.exchange)[0].klines_max
        if limit + 1 <= most:
            rows = await self._get(
                "klines", lambda: self.exchange.fetch_ohlcv(sym, timeframe, limit=limit + 1)
            )
        else:
            rows = await self._paged_ohlcv(symbol, sym, timeframe, limit + 1, bar_ms, most)
        now = await self.exchange_now_ms(symbol)
        closed = [r for r in rows if int(r[0]) + bar_ms <= now][-limit:]
        arr = np.asarray(closed, dtype=np.float64).reshape(-1, 6)
        return Candles(
            arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5]
        )

    async def _paged_ohlcv(
        self, symbol: str, sym: str, timeframe: str, count: int, bar_ms: int, most: int
    ) -> list[list[Any]]:
        """The last ``count`` bars (the forming one included) in pages of ``most``."""
        now = await self.exchange_now_ms(symbol)
        since = (now // bar_ms - count + 1) * bar_ms
        rows: dict[int, list[Any]] = {}
        while since <= now:

            async def page(since: int = since) -> list[list[Any]]:
                got: list[list[Any]] = await self.exchange.fetch_ohlcv(
                    sym, timeframe, since=since, limit=most
                )
                return got

            got = await self._get("klines", page)
            fresh = [r for r in got if int(r[0]) >= since]
            if not fresh:
                break
            rows.update((int(r[0]), r) for r in fresh)
            since = int(fresh[-1][0]) + bar_ms
            if len(got) < most:
                break  # a short answer: it reached the exchange's latest bar
        return [rows[t] for t in sorted(rows)]

    async def get_funding_rate(self, symbol: str) -> float:
        return (await self.funding_now(symbol))[0]

    async def funding_now(self, symbol: str) -> tuple[float, int]:
        """The funding rate published now (fraction per period) and the time (ms UTC) it
        settles at (0 when the exchange does not say)."""
        sym = await self._symbol(symbol)
        rate = await self._get("funding", lambda: self.exchange.fetch_funding_rate(sym))
        return float(rate["fundingRate"] or 0.0), int(rate.get("fundingTimestamp") or 0)

    def timestamp_ms(self) -> int:
        return self._time_ms or super().timestamp_ms()


class CcxtBroker(Broker):
    """A USDT-perpetual account through ccxt's unified API (``exchange``: Binance USD-M,
    Bybit linear or OKX swap), with spot inventory from the same exchange's spot account
    (``spot``) or a fixed ``spot_amount``. What the unified API leaves to the exchange comes
    from its ``venue`` adapter (``gridhedge.execution.venues``).

    Symbols are ccxt's (``BTC/USDT:USDT``); Binance's own ids (``BTCUSDT``) are accepted too.
    Amounts are in the base asset: a venue counting contracts (OKX) is converted with the
    market's ``contractSize``."""

    trading_mode = TradingMode.REAL

    def __init__(
        self,
        exchange: Any,
        *,
        spot: Any | None = None,
        spot_amount: Decimal | str = "0",
        data_provider: DataProvider | None = None,
        retry: RetryPolicy | None = None,
        venue: Venue | None = None,
    ) -> None:
        self.exchange = exchange
        self.venue = venue if venue is not None else venue_for(str(exchange.id))
        self.spot = spot
        self.spot_amount = Decimal(spot_amount)
        self.retry = retry if retry is not None else RetryPolicy()
        self._provider = (
            data_provider if data_provider is not None else CcxtDataProvider(exchange, self.retry)
        )
        self._markets: dict[str, Market] = {}
        self._contract: dict[str, Decimal] = {}
        """Base amount of one contract, per symbol (1 unless the venue counts contracts)."""
        self._orders: dict[str, Order] = {}
        """Orders this broker sent, by client id."""
        self._client_ids: dict[str, str] = {}
        """Exchange order id -> client id."""
        self.sent: list[str] = []
        """Client id of every create request actually sent (resends included)."""
        self.fills_synced_ms: dict[str, int] = {}
        """Per symbol: the exchange time up to which ``fetch_fills`` has read every trade."""

    def __repr__(self) -> str:
        return f"CcxtBroker(exchange={self.exchange.id!r}, markets={sorted(self._markets)})"

    @property
    def data_provider(self) -> DataProvider:
        return self._provider

    # ------------------------------------------------------------------------- plumbing
    async def _call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retry(self.exchange, self.retry, what, fn)

    async def _ccxt_symbol(self, symbol: str) -> str:
        return await resolve_symbol(
            self.exchange, symbol, lambda: self._call("load_markets", self.exchange.load_markets)
        )

    async def load_market(self, symbol: str) -> Market:
        """The market's rules from ccxt's market metadata (``precision`` in tick-size mode,
        ``limits``), as exact decimal strings in the base asset."""
        if symbol not in self._markets:
            ccxt_symbol = await self._ccxt_symbol(symbol)
            m = self.exchange.market(ccxt_symbol)
            size = _dec(m.get("contractSize") or 1)
            tick = Decimal(self.exchange.number_to_string(m["precision"]["price"]))
            lot = Decimal(self.exchange.number_to_string(m["precision"]["amount"])) * size
            min_amount = m["limits"]["amount"].get("min")
            min_cost = (m["limits"].get("cost") or {}).get("min")
            self._contract[symbol] = size
            self._markets[symbol] = Market(
                str(tick),
                str(lot),
                str(_dec(min_amount) * size if min_amount is not None else lot),
                str(_dec(min_cost)),
            )
        return self._markets[symbol]

    def _contracts(self, symbol: str, base_amount: Decimal) -> str:
        """A base amount as the venue's order amount (contracts where it counts them)."""
        return str(base_amount / self._contract.get(symbol, Decimal(1)))

    def _base(self, symbol: str, amount: Any) -> Decimal:
        return _dec(amount) * self._contract.get(symbol, Decimal(1))

    # ------------------------------------------------------------------------- book
    async def check_account(self, symbol: str) -> None:
        """Refuse an account the bot cannot trade safely, before it touches an order: in
        hedge mode (two-sided positions) the exchange refuses every order without a position
        side (Binance -4061, Bybit 10001) and the net position the bot hedges would be split
        over two legs it does not read. A ``ConfigError`` (exit 2) says where to switch."""
        sym = await self._ccxt_symbol(symbol)
        hedged = await self._call(
            "position mode", lambda: self.venue.hedge_mode(self.exchange, sym)
        )
        if hedged:
            raise ConfigError(
                f"{self.venue.name}: the account is in hedge mode (two-sided positions) on "
                f"{sym}; gridhedge trades one net position per symbol: switch it to one-way "
                f"mode ({self.venue.position_mode_setting}) and start again",
                field="position mode",
                value="hedge",
                rule="the futures account must be in one-way (net) position mode",
            )

    async def fetch_position(self, symbol: str) -> Position:
        """The one-way (net) position: hedge-mode legs are not the bot's and are ignored."""
        sym = await self._ccxt_symbol(symbol)
        await self.load_market(symbol)
        rows = await self._call("positions", lambda: self.exchange.fetch_positions([sym]))
        amount, entry = Decimal(0), None
        for p in rows:
            if p.get("symbol") != sym or p.get("hedged") is True:
                continue
            size = self._base(symbol, p.get("contracts"))
            if size != 0:
                amount = -size if p.get("side") == "short" else size
                entry = self.venue.entry_price(p)
        return Position(
            symbol=symbol,
            spot_amount=await self._spot_amount(symbol),
            futures_amount=amount,
            entry_price=entry if amount != 0 else None,
        )

    async def _spot_amount(self, symbol: str) -> Decimal:
        if self.spot is None:
            return self.spot_amount
        base = self.exchange.market(await self._ccxt_symbol(symbol))["base"]
        balance = await call_with_retry(
            self.spot, self.retry, "spot balance", self.spot.fetch_balance
        )
        return self.venue.spot_total(balance, base)

    async def fetch_equity(self, symbol: str) -> Decimal:
        """Futures margin balance (wallet + unrealised PnL) + spot inventory at the last price."""
        balance = await self._call("balance", self.exchange.fetch_balance)
        price = await self._provider.get_current_price(symbol)
        spot = await self._spot_amount(symbol)
        return self.venue.equity(balance) + spot * price

    def _to_order(self, raw: dict[str, Any], *, stop: bool, symbol: str) -> Order:
        """The bot's order from ccxt's unified order (kept current in ``_orders``)."""
        oid = str(raw["id"])
        sent_id = raw.get("clientOrderId")
        cid = self.venue.from_exchange_id(str(sent_id)) if sent_id else f"#{oid}"
        filled = Decimal(0) if stop else self._base(symbol, raw.get("filled"))
        status = STATUS.get(str(raw.get("status")), OrderStatus.OPEN)
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        tracked = self._orders.get(cid)
        if tracked is None:
            price = raw.get("triggerPrice") if stop else raw.get("price")
            tracked = Order(
                client_order_id=cid,
                symbol=symbol,
                side=Side(str(raw["side"]).lower()),
                price=_dec(price),
                amount=self._base(symbol, raw.get("amount")),
                key=_key_of(cid),
                kind="stop_market" if stop else str(raw.get("type") or "limit").lower(),
                created_ms=int(raw.get("timestamp") or 0),
            )
            self._orders[cid] = tracked
        tracked.status = status
        tracked.filled = max(tracked.filled, filled)
        tracked.exchange_order_id = oid
        self._client_ids[oid] = cid
        return tracked

    async def fetch_open_orders(self, symbol: str) -> list[Order]:
        sym = await self._ccxt_symbol(symbol)
        await self.load_market(symbol)
        plain = await self._call("openOrders", lambda: self.exchange.fetch_open_orders(sym))
        query = self.venue.stop_query()
        stops: list[dict[str, Any]] = []
        if query:
            stops = await self._call(
                "openStopOrders",
                lambda: self.exchange.fetch_open_orders(sym, None, None, dict(query)),
            )
        out: dict[str, Order] = {}
        for rows, stop in ((plain, False), (stops, True)):
            for r in rows:
                o = self._to_order(r, stop=stop or _is_stop(r), symbol=symbol)
                out[o.client_order_id] = o
        return list(out.values())

    async def _lookup(self, order: Order, *, stop: bool) -> dict[str, Any] | None:
        """The order by client id, or None if the exchange does not know it."""
        sym = await self._ccxt_symbol(order.symbol)
        sent = self.venue.to_exchange_id(order.client_order_id)

        async def find() -> dict[str, Any] | None:
            return await self.venue.find_order(self.exchange, sym, client_id=sent, stop=stop)

        return await self._call("lookup", find)

    async def _now(self, symbol: str) -> int:
        provider = self._provider
        if isinstance(provider, CcxtDataProvider):
            return await provider.exchange_now_ms(symbol)
        return int(await self._call("time", self.exchange.fetch_time))

    async def refresh_order(self, order: Order) -> Order | None:
        """What the exchange says of ``order`` now (status, filled), by its client id; None
        when the exchange does not know it after ``retry.lookups`` lookups."""
        stop = order.kind == "stop_market"
        for look in range(self.retry.lookups):
            found = await self._lookup(order, stop=stop)
            if found is not None:
                seen = self._to_order(found, stop=stop, symbol=order.symbol)
                return Order(
                    client_order_id=seen.client_order_id,
                    symbol=seen.symbol,
                    side=seen.side,
                    price=seen.price,
                    amount=seen.amount,
                    key=seen.key,
                    kind=seen.kind,
                    status=seen.status,
                    filled=seen.filled,
                    exchange_order_id=seen.exchange_order_id,
                )
            if look + 1 < self.retry.lookups:
                await asyncio.sleep(self.retry.delay(look))
        return None

    # ------------------------------------------------------------------------- orders
    async def place_order(self, order: Order, kind: str = "limit") -> Order:
        """Send ``order`` once through ``create_order``: after an unknown outcome, look it up
        by client id before any resend; a live duplicate raises ``DuplicateOrderError``."""
        market = await self.load_market(order.symbol)
        sym = await self._ccxt_symbol(order.symbol)
        side = order.side.value
        amount = self._contracts(order.symbol, market.round_amount(order.amount))
        params: dict[str, Any] = {"clientOrderId": self.venue.to_exchange_id(order.client_order_id)}
        stop = kind == "stop_market"
        price: str | None = None
        if kind == "limit":
            price = str(market.round_price(order.price, side))
            params.update(self.venue.limit_params())
            ccxt_type = "limit"
        elif kind == "market":
            ccxt_type = "market"
        elif stop:
            # snapped side-aware like every price (as PAPER does), so both books agree
            params.update(self.venue.stop_params(str(market.round_price(order.price, side)), side))
            ccxt_type = "market"
        else:
            raise OrderError(
                f"kind: must be limit, market or stop_market (got {kind!r})",
                field="kind",
                value=repr(kind),
                rule="limit | market | stop_market",
            )

        async def send() -> dict[str, Any]:
            raw: dict[str, Any] = await self.exchange.create_order(
                sym, ccxt_type, side, amount, price, dict(params)
            )
            return raw

        order.kind = kind
        order.status = OrderStatus.PENDING
        self._orders[order.client_order_id] = order
        for attempt in range(self.retry.attempts):
            try:
                self.sent.append(order.client_order_id)
                raw = await send()
                # the exchange has accepted it; the state holds only the intent so far
                crash_point("request_sent")
                return self._to_order(raw, stop=stop, symbol=order.symbol)
            except (ccxt.DDoSProtection, ccxt.RateLimitExceeded):
                # refused before it reached the book (429/418/rate codes): wait, send again
                await asyncio.sleep(self.retry.delay(attempt, _retry_after(self.exchange)))
                continue
            except ccxt.ExchangeError as e:
                code = self.venue.code(e)
                if code in self.venue.duplicate:
                    found = await self._lookup(order, stop=stop)
                    if found is not None and attempt > 0:  # our own earlier send
                        return self._to_order(found, stop=stop, symbol=order.symbol)
                    raise DuplicateOrderError(
                        f"client_order_id: {order.client_order_id!r} is already live",
                        field="client_order_id",
                        value=order.client_order_id,
                        rule="must not duplicate a live order",
                    ) from None
                if is_auth_failure(e, self.exchange):
                    raise ExchangeAuthError(
                        f"api_key: the exchange refused the API key on order "
                        f"{order.client_order_id} (code {code})",
                        field="api_key",
                        value=None,
                        rule="must be a valid key with trading permission for this IP",
                    ) from None
                if code in self.venue.retryable:
                    if code in self.venue.clock:
                        await _resync_clock(self.exchange)
                    await asyncio.sleep(self.retry.delay(attempt, _retry_after(self.exchange)))
                    continue
                order.status = OrderStatus.REJECTED
                text = self.venue.message(e)
                order.error = f"{code}: {text}" if code is not None else text
                raise OrderRejectedError(
                    f"order {order.client_order_id}: rejected by the exchange ({order.error})",
                    code=int(code) if code is not None else None,
                    field="order",
                    value=order.client_order_id,
                    rule="must pass the exchange's margin and filter rules",
                ) from None
            except (*UNKNOWN_OUTCOME, ccxt.NetworkError) as e:
                if isinstance(e, ccxt.InvalidNonce):
                    await _resync_clock(self.exchange)
                logger.warning(
                    "order {}: {} — looking it up before any resend",
                    order.client_order_id,
                    type(e).__name__,
                )
                for look in range(self.retry.lookups):
                    found = await self._lookup(order, stop=stop)
                    if found is not None:
                        return self._to_order(found, stop=stop, symbol=order.symbol)
                    if look + 1 < self.retry.lookups:
                        await asyncio.sleep(self.retry.delay(look))
                await asyncio.sleep(self.retry.delay(attempt))
        order.status = OrderStatus.LOST
        raise ExchangeUnavailableError(
            f"order {order.client_order_id}: not acknowledged after {self.retry.attempts} tries",
            field="order",
            value=order.client_order_id,
            rule="must be acknowledged by the exchange",
        )

    async def cancel_order(self, order: Order) -> None:
        """Cancel by client id; a no-op if the exchange no longer has it live."""
        stop = order.kind == "stop_market"
        sym = await self._ccxt_symbol(order.symbol)
        params = {
            **self.venue.client_id_params(self.venue.to_exchange_id(order.client_order_id)),
            **(self.venue.stop_query() if stop else {}),
        }
        try:
            await self._call("cancel", lambda: self.exchange.cancel_order(None, sym, dict(params)))
            order.status = OrderStatus.CANCELLED
        except ccxt.OrderNotFound:
            found = await self._lookup(order, stop=stop)
            if found is not None:
                self._to_order(found, stop=stop, symbol=order.symbol)

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Every trade of the account on ``symbol`` from ``since_ms`` to the exchange's now
        (``fetch_my_trades``), oldest first; ``fills_synced_ms[symbol]`` is then the exchange
        time the answer is complete up to.

        The span is walked in the venue's windows (``fills_window_ms``: Binance and Bybit
        7 days, OKX 3 days). A full page (``fills_page``) continues by the venue's cursor
        where it has one (Binance ``fromId``, which may not be combined with a time range;
        Bybit ``nextPageCursor``, within the same window); without one the window is split in
        halves until each answer is complete, whichever end of the window the exchange
        answers first. Trades already read are skipped by id. Without ``since_ms`` the last
        window is read."""
        sym = await self._ccxt_symbol(symbol)
        await self.load_market(symbol)
        start, now = await self._history_span(symbol, since_ms)
        window, page_size = self.venue.fills_window_ms, self.venue.fills_page
        only_trades = self.venue.trades_params()
        spans: list[tuple[int, int]] = []
        while start <= now:
            spans.append((start, min(start + window, now)))
            start = spans[-1][1] + 1
        fills: list[Fill] = []
        seen: set[str] = set()
        while spans:
            lo, hi = spans.pop(0)
            since: int | None = lo
            params: dict[str, Any] = {"until": hi, **only_trades}
            while True:
                page = await self._my_trades(sym, since, page_size, params)
                fresh = 0
                for t in page:
                    if not lo <= int(t["timestamp"]) <= hi or str(t["id"]) in seen:
                        continue
                    seen.add(str(t["id"]))
                    fresh += 1
                    fills.append(await self._fill(t, symbol, sym))
                if len(page) < page_size:
                    break
                cursor = self.venue.next_trades_params([t["info"] for t in page])
                if cursor is not None and self.venue.cursor_keeps_window:
                    if not fresh:
                        break  # a cursor that gives nothing new: the window is read
                    since, params = lo, {"until": hi, **only_trades, **cursor}
                elif cursor is not None:
                    if not fresh or int(page[-1]["timestamp"]) > hi:
                        break  # read past the window
                    since, params = None, {**only_trades, **cursor}
                elif hi > lo:
                    mid = (lo + hi) // 2
                    spans[:0] = [(lo, mid), (mid + 1, hi)]
                    break
                else:
                    logger.warning(
                        "{}: more than {} trades within one millisecond; read {}",
                        symbol,
                        page_size,
                        fresh,
                    )
                    break
        self.fills_synced_ms[symbol] = now
        fills.sort(key=lambda f: (f.timestamp_ms, len(f.trade_id), f.trade_id))
        return fills

    async def _my_trades(
        self, sym: str, since: int | None, limit: int, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        async def get_page() -> list[dict[str, Any]]:
            page: list[dict[str, Any]] = await self.exchange.fetch_my_trades(
                sym, since, limit, dict(params)
            )
            return sorted(page, key=lambda t: (int(t["timestamp"]), str(t["id"])))

        return await self._call("myTrades", get_page)

    async def fetch_funding_payments(
        self, symbol: str, since_ms: int | None = None
    ) -> list[tuple[int, Decimal]]:
        """Funding paid or received on ``symbol`` (ms UTC, quote; + received) from
        ``since_ms`` (default: the last window) to now (``fetch_funding_history``), read in
        the venue's windows of at most ``fills_page`` rows."""
        sym = await self._ccxt_symbol(symbol)
        start, now = await self._history_span(symbol, since_ms)
        out: dict[int, Decimal] = {}
        while start <= now:
            end = min(start + self.venue.fills_window_ms, now)

            async def get_page(since: int = start, until: int = end) -> list[dict[str, Any]]:
                page: list[dict[str, Any]] = await self.exchange.fetch_funding_history(
                    sym, since, self.venue.fills_page, {"until": until}
                )
                return page

            page = await self._call("funding history", get_page)
            for row in page:
                t = int(row["timestamp"])
                out[t] = out.get(t, Decimal(0)) + self.venue.funding_amount(row)
            if len(page) >= self.venue.fills_page:
                start = max(int(r["timestamp"]) for r in page) + 1  # the rest of this window
                continue
            start = end + 1
        return sorted(out.items())

    async def _history_span(self, symbol: str, since_ms: int | None) -> tuple[int, int]:
        """(start, now) of a history read: from ``since_ms`` (default: the last window, what
        the exchange answers without a start) to the exchange's now."""
        await self._ccxt_symbol(symbol)
        now = await self._now(symbol)
        window = self.venue.fills_window_ms
        return (max(0, now - window) if since_ms is None else int(since_ms)), now

    async def _client_id_of(self, trade: dict[str, Any], sym: str, symbol: str) -> str:
        """The client id of a trade's order: from the trade where the venue writes it, else
        looked up by order id (a plain order, else a stop that triggered it)."""
        oid = str(trade["order"])
        cid = self._client_ids.get(oid)
        if cid is not None:
            return cid
        if trade.get("clientOrderId"):
            return self.venue.from_exchange_id(str(trade["clientOrderId"]))
        for stop in (False, True):  # a plain order, else the stop that triggered it

            async def find(stop: bool = stop) -> dict[str, Any] | None:
                return await self.venue.find_order(self.exchange, sym, order_id=oid, stop=stop)

            raw = await self._call("order", find)
            if raw is not None:
                return self._to_order(
                    raw, stop=stop or _is_stop(raw), symbol=symbol
                ).client_order_id
        raise OrderError(
            f"trade {trade['id']}: the exchange knows no order {oid} of {symbol}",
            field="order",
            value=oid,
            rule="every trade belongs to an order the exchange can look up",
        )

    async def _fill(self, t: dict[str, Any], symbol: str, sym: str) -> Fill:
        fee = t.get("fee") or {}
        return Fill(
            trade_id=str(t["id"]),
            client_order_id=await self._client_id_of(t, sym, symbol),
            symbol=symbol,
            side=Side(str(t["side"]).lower()),
            price=_dec(t["price"]),
            amount=self._base(symbol, t["amount"]),
            fee=_dec(fee.get("cost")),
            timestamp_ms=int(t["timestamp"]),
            maker=t.get("takerOrMaker") == "maker",
            exchange=str(self.exchange.id),
        )

    async def close(self) -> None:
        await self.exchange.close()
        if self.spot is not None:
            await self.spot.close()


def _is_stop(raw: dict[str, Any]) -> bool:
    """Whether a ccxt unified order is a stop (trigger) order."""
    return raw.get("triggerPrice") is not None and raw.get("price") in (None, 0, 0.0)


class LiveRecommendationBroker(CcxtBroker):
    """RECOMMENDATION for the real account: reads the exchange like ``CcxtBroker`` (market
    rules, prices, klines, position, spot inventory, equity) but sends no order and no cancel
    (the bot sees no open order of its own, and no fill); each plan is logged and written to
    ``plan_path`` like ``RecommendationBroker``'s."""

    trading_mode = TradingMode.RECOMMENDATION

    def __init__(
        self, *args: Any, plan_path: str | pathlib.Path | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plan_path = pathlib.Path(plan_path) if plan_path is not None else None
        self.plan: list[Order] = []

    def __repr__(self) -> str:
        return f"LiveRecommendationBroker(exchange={self.exchange.id!r})"

    async def fetch_open_orders(self, symbol: str) -> list[Order]:
        await self._ccxt_symbol(symbol)
        return []

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        await self._ccxt_symbol(symbol)
        return []

    async def place_order(self, order: Order, kind: str = "limit") -> Order:
        await self.load_market(order.symbol)
        order.kind = kind
        order.status = OrderStatus.INTENT
        self.plan.append(order)
        return order

    async def cancel_order(self, order: Order) -> None:
        return None

    def publish_plan(self, report: dict[str, Any]) -> None:
        """Log the plan and write it (with the report) as JSON to ``plan_path``."""
        from gridhedge.execution.recommendation import publish_plan

        publish_plan(self.plan, self.plan_path, report)
        self.plan = []


def create_ccxt_broker(
    *,
    exchange: str = "binanceusdm",
    api_key: str | None = None,
    api_secret: str | None = None,
    key_file: str | None = None,
    base_url: str | None = None,
    testnet: bool = False,
    spot_exchange: str | None = None,
    spot_amount: Decimal | str = "0",
    timeout_ms: int = 10_000,
    retry: RetryPolicy | None = None,
) -> CcxtBroker:
    """The REAL broker: keys from the arguments, ``key_file`` or the environment; ``testnet``
    selects the exchange's demo trading; ``base_url`` points ccxt at a local emulator;
    ``spot_exchange`` (e.g. ``"binance"``) reads the inventory from spot balances."""
    from gridhedge.execution.secrets import load_api_keys

    keys = load_api_keys(api_key, api_secret, key_file=key_file)
    futures = make_exchange(
        keys, exchange_id=exchange, base_url=base_url, testnet=testnet, timeout_ms=timeout_ms
    )
    spot = (
        make_exchange(
            keys,
            exchange_id=spot_exchange,
            base_url=base_url,
            testnet=testnet,
            timeout_ms=timeout_ms,
            spot=True,
        )
        if spot_exchange
        else None
    )
    logger.info("REAL broker on {} ({})", exchange, "local" if base_url else "exchange")
    return CcxtBroker(futures, spot=spot, spot_amount=spot_amount, retry=retry)
