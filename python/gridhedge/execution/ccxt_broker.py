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
import re
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
    "NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "FINISHED": OrderStatus.FILLED,
    "TRIGGERED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
}
UNKNOWN_OUTCOME = (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.OperationFailed)
"""Failures after which an order may or may not exist: look it up before resending."""

# Binance USD-M error codes (https://developers.binance.com/docs/derivatives/usds-margined-futures/
# error-code). ccxt maps the futures-only ones to typed exceptions only for Binance's own hosts,
# so the broker classifies by the code in the answer, never by the exception class alone.
RETRYABLE_CODES = frozenset(
    {
        -1000,  # UNKNOWN: an unknown error occurred while processing the request
        -1001,  # DISCONNECTED: internal error; unable to process your request
        -1003,  # TOO_MANY_REQUESTS: request weight over the limit (429, then 418 bans)
        -1006,  # UNEXPECTED_RESP: unexpected response from the message bus
        -1007,  # TIMEOUT: timeout waiting for response from backend server
        -1008,  # SERVER_BUSY: server is currently overloaded
        -1015,  # TOO_MANY_ORDERS: too many new orders (per 10 s / per minute)
        -1021,  # INVALID_TIMESTAMP: outside recvWindow (resync the clock, then retry)
    }
)
AUTH_CODES = frozenset(
    {
        -1002,  # UNAUTHORIZED
        -1022,  # INVALID_SIGNATURE
        -2014,  # BAD_API_KEY_FMT
        -2015,  # REJECTED_MBX_KEY: invalid API key, IP or permissions
        -2017,  # API keys are locked on this account
    }
)
DUPLICATE_CODE = -4116  # DUPLICATED_CLIENT_ORDER_ID
_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')
_WEEK_MS = 7 * 24 * 3600 * 1000
FILLS_WINDOW_MS = _WEEK_MS - 1
"""USD-M ``userTrades``: endTime - startTime may not exceed 7 days (one window a request)."""
FILLS_PAGE = 1000
"""USD-M ``userTrades``: at most 1000 trades an answer."""


def exchange_code(error: BaseException) -> int | None:
    """The exchange's error code in a ccxt exception's text (Binance: ``{"code":-2019,...}``)."""
    m = _CODE.search(str(error))
    return int(m.group(1)) if m else None


def is_auth_failure(error: BaseException) -> bool:
    """Whether ``error`` says the keys are refused (never retried: a human must act)."""
    if isinstance(error, (ccxt.AuthenticationError, ccxt.PermissionDenied)):
        return True
    return exchange_code(error) in AUTH_CODES


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is transient: network, timeout, 5xx, overload, rate limit, clock skew."""
    if is_auth_failure(error):
        return False
    if isinstance(error, (ccxt.NetworkError, ccxt.OperationFailed, ExchangeUnavailableError)):
        return True
    return exchange_code(error) in RETRYABLE_CODES


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
) -> Any:
    """An async ccxt exchange with the keys, the demo/testnet flag, or a local emulator URL."""
    cls = getattr(ccxt, exchange_id, None)
    if cls is None:
        raise ConfigError(
            f"exchange: ccxt has no exchange {exchange_id!r}",
            field="exchange",
            value=repr(exchange_id),
            rule="must be a ccxt exchange id such as 'binanceusdm'",
        )
    options: dict[str, Any] = {"fetchCurrencies": False, "fetchMargins": False}
    if exchange_id == "binance":
        options["fetchMarkets"] = {"types": ["spot"]}
    ex = cls(
        {
            "apiKey": keys.api_key.get_secret_value(),
            "secret": keys.secret.get_secret_value(),
            "enableRateLimit": base_url is None,
            "timeout": timeout_ms,
            "options": options,
        }
    )
    if testnet:
        ex.enable_demo_trading(True)
    if base_url is not None:  # after demo/testnet: those replace urls['api'] wholesale
        from gridhedge.sim.client import point_at

        ex.timeout_on_exit = 0
        point_at(ex, base_url)
    from gridhedge.sim.client import use_linear_errors

    use_linear_errors(ex)
    return ex


def _retry_after(exchange: Any) -> float | None:
    headers = getattr(exchange, "last_response_headers", None) or {}
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _message(error: BaseException) -> str:
    """The exchange's ``msg`` from a ccxt exception's text, else the exception's class name."""
    m = re.search(r'"msg"\s*:\s*"([^"]*)"', str(error))
    return m.group(1) if m else type(error).__name__


def _key_of(client_order_id: str) -> str:
    """The order manager's key inside its client id: ``gh`` + 8 hash chars + key + ``-seq``."""
    if not client_order_id.startswith("gh") or "-" not in client_order_id:
        return ""
    return client_order_id[10:].rsplit("-", 1)[0]


async def call_with_retry(
    exchange: Any, retry: RetryPolicy, what: str, fn: Callable[[], Awaitable[T]]
) -> T:
    """``fn()`` retried on transient failures with exponential backoff; 429/418 wait at least
    the answer's ``Retry-After``; -1021 (clock skew) resynchronises ccxt's time difference
    first. Safe only for idempotent calls (reads, cancels). Out of attempts it raises
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
            if is_auth_failure(e):
                raise ExchangeAuthError(
                    f"api_key: the exchange refused the API key on {what} "
                    f"({type(e).__name__}, code {exchange_code(e)}); check the key and secret, "
                    "their permissions and the IP allow-list",
                    field="api_key",
                    value=None,
                    rule="must be a valid key with trading permission for this IP",
                ) from None
            if not is_retryable(e):
                raise
            last = e
            wait = retry.delay(attempt, _retry_after(exchange))
            if isinstance(e, ccxt.InvalidNonce) or exchange_code(e) == -1021:
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
    """-1021: measure the exchange's clock again (ccxt's ``timeDifference``)."""
    try:
        await exchange.load_time_difference()
        logger.warning(
            "clock resynchronised with the exchange (difference {} ms)",
            exchange.options.get("timeDifference"),
        )
    except Exception as e:  # the next attempt reports the failure
        logger.warning("clock resync failed: {}", type(e).__name__)


class CcxtDataProvider(DataProvider):
    """Market data from the exchange through ccxt; its clock is the exchange's (the last
    ticker's close time), so a replaying emulator drives it."""

    def __init__(self, exchange: Any, retry: RetryPolicy | None = None) -> None:
        self.exchange = exchange
        self.retry = retry if retry is not None else RetryPolicy()
        self._time_ms = 0

    async def _get(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retry(self.exchange, self.retry, what, fn)

    async def _symbol(self, symbol: str) -> str:
        await self._get("load_markets", self.exchange.load_markets)
        return str(self.exchange.markets_by_id[symbol][0]["symbol"])

    async def get_current_price(self, symbol: str) -> Decimal:
        sym = await self._symbol(symbol)
        ticker = await self._get("ticker", lambda: self.exchange.fetch_ticker(sym))
        self._time_ms = int(ticker["info"].get("closeTime", ticker["timestamp"])) + 1
        return Decimal(str(ticker["info"]["lastPrice"]))

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
        change (Binance returns the forming kline as the last row)."""
        sym = await self._symbol(symbol)
        rows = await self._get(
            "klines", lambda: self.exchange.fetch_ohlcv(sym, timeframe, limit=limit + 1)
        )
        now = await self.exchange_now_ms(symbol)
        bar_ms = int(self.exchange.parse_timeframe(timeframe)) * 1000
        closed = [r for r in rows if int(r[0]) + bar_ms <= now][-limit:]
        arr = np.asarray(closed, dtype=np.float64).reshape(-1, 6)
        return Candles(
            arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5]
        )

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
    """A Binance USD-M account through ccxt (``exchange``), with spot inventory from ``spot``
    (a ccxt ``binance``) or a fixed ``spot_amount``."""

    trading_mode = TradingMode.REAL

    def __init__(
        self,
        exchange: Any,
        *,
        spot: Any | None = None,
        spot_amount: Decimal | str = "0",
        data_provider: DataProvider | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.exchange = exchange
        self.spot = spot
        self.spot_amount = Decimal(spot_amount)
        self.retry = retry if retry is not None else RetryPolicy()
        self._provider = (
            data_provider if data_provider is not None else CcxtDataProvider(exchange, self.retry)
        )
        self._markets: dict[str, Market] = {}
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
        await self._call("load_markets", self.exchange.load_markets)
        try:
            return str(self.exchange.markets_by_id[symbol][0]["symbol"])
        except KeyError:
            raise ConfigError(
                f"symbol: the exchange lists no market {symbol!r}",
                field="symbol",
                value=repr(symbol),
                rule="must be a market id of the exchange (e.g. BTCUSDT)",
            ) from None

    async def load_market(self, symbol: str) -> Market:
        """The market's rules from its exchangeInfo filters, as exact decimal strings."""
        if symbol not in self._markets:
            ccxt_symbol = await self._ccxt_symbol(symbol)
            info = self.exchange.markets[ccxt_symbol]["info"]
            filters = {f["filterType"]: f for f in info.get("filters", [])}
            price, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
            notional = filters.get("MIN_NOTIONAL", {}).get("notional") or filters.get(
                "NOTIONAL", {}
            ).get("minNotional", "0")
            self._markets[symbol] = Market(
                price["tickSize"], lot["stepSize"], lot.get("minQty", "0"), notional
            )
        return self._markets[symbol]

    # ------------------------------------------------------------------------- book
    async def fetch_position(self, symbol: str) -> Position:
        await self._ccxt_symbol(symbol)
        rows = await self._call(
            "positionRisk",
            lambda: self.exchange.fapiPrivateV3GetPositionRisk({"symbol": symbol}),
        )
        row = next((r for r in rows if r.get("positionSide", "BOTH") == "BOTH"), None)
        amount = Decimal(row["positionAmt"]) if row else Decimal(0)
        entry = Decimal(row["entryPrice"]) if row and amount != 0 else None
        return Position(
            symbol=symbol,
            spot_amount=await self._spot_amount(symbol),
            futures_amount=amount,
            entry_price=entry,
        )

    async def _spot_amount(self, symbol: str) -> Decimal:
        if self.spot is None:
            return self.spot_amount
        base = self.exchange.markets_by_id[symbol][0]["base"]
        account = await self._call("spot account", self.spot.privateGetAccount)
        for b in account.get("balances", []):
            if b["asset"] == base:
                return Decimal(b["free"]) + Decimal(b["locked"])
        return Decimal(0)

    async def fetch_equity(self, symbol: str) -> Decimal:
        """Futures margin balance (wallet + unrealised PnL) + spot inventory at the last price."""
        account = await self._call("account", self.exchange.fapiPrivateV3GetAccount)
        price = await self._provider.get_current_price(symbol)
        spot = await self._spot_amount(symbol)
        return Decimal(account["totalMarginBalance"]) + spot * price

    def _to_order(self, raw: dict[str, Any], *, algo: bool) -> Order:
        cid = raw["clientAlgoId"] if algo else raw["clientOrderId"]
        oid = str(raw["algoId"] if algo else raw["orderId"])
        status = STATUS.get(raw["algoStatus"] if algo else raw["status"], OrderStatus.OPEN)
        filled = Decimal(raw.get("executedQty", "0")) if not algo else Decimal(0)
        tracked = self._orders.get(cid)
        if tracked is None:
            kind = "stop_market" if algo else raw["type"].lower()
            price = raw["triggerPrice"] if algo else raw["price"]
            tracked = Order(
                client_order_id=cid,
                symbol=raw["symbol"],
                side=Side(raw["side"].lower()),
                price=Decimal(price),
                amount=Decimal(raw["quantity"] if algo else raw["origQty"]),
                key=_key_of(cid),
                kind=kind,
                created_ms=int(raw.get("time", raw.get("createTime", 0))),
            )
            self._orders[cid] = tracked
        tracked.status = status
        tracked.filled = max(tracked.filled, filled)
        tracked.exchange_order_id = oid
        self._client_ids[oid] = cid
        return tracked

    async def fetch_open_orders(self, symbol: str) -> list[Order]:
        await self._ccxt_symbol(symbol)
        plain = await self._call(
            "openOrders", lambda: self.exchange.fapiPrivateGetOpenOrders({"symbol": symbol})
        )
        algo = await self._call(
            "openAlgoOrders",
            lambda: self.exchange.fapiPrivateGetOpenAlgoOrders({"symbol": symbol}),
        )
        return [
            *(self._to_order(r, algo=False) for r in plain),
            *(self._to_order(r, algo=True) for r in algo),
        ]

    async def _lookup(self, order: Order, *, algo: bool) -> dict[str, Any] | None:
        """The order by client id, or None if the exchange does not know it."""
        if algo:
            params = {"symbol": order.symbol, "clientAlgoId": order.client_order_id}
            get = self.exchange.fapiPrivateGetAlgoOrder
        else:
            params = {"symbol": order.symbol, "origClientOrderId": order.client_order_id}
            get = self.exchange.fapiPrivateGetOrder
        try:
            result: dict[str, Any] = await self._call("lookup", lambda: get(params))
            return result
        except ccxt.OrderNotFound:
            return None

    async def _now(self, symbol: str) -> int:
        provider = self._provider
        if isinstance(provider, CcxtDataProvider):
            return await provider.exchange_now_ms(symbol)
        return int(await self._call("time", self.exchange.fetch_time))

    async def refresh_order(self, order: Order) -> Order | None:
        """What the exchange says of ``order`` now (status, filled), by its client id; None
        when the exchange does not know it after ``retry.lookups`` lookups."""
        algo = order.kind == "stop_market"
        for look in range(self.retry.lookups):
            found = await self._lookup(order, algo=algo)
            if found is not None:
                seen = self._to_order(found, algo=algo)
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
        """Send ``order`` once: after an unknown outcome, look it up by client id before any
        resend; a live duplicate raises ``DuplicateOrderError``."""
        market = await self.load_market(order.symbol)
        side = order.side.value
        amount = market.round_amount(order.amount)
        request: dict[str, Any] = {
            "symbol": order.symbol,
            "side": side.upper(),
            "quantity": str(amount),
        }
        algo = kind == "stop_market"
        if kind == "limit":
            request.update(
                type="LIMIT",
                timeInForce="GTC",
                price=str(market.round_price(order.price, side)),
                newClientOrderId=order.client_order_id,
            )
            send = self.exchange.fapiPrivatePostOrder
        elif kind == "market":
            request.update(type="MARKET", newClientOrderId=order.client_order_id)
            send = self.exchange.fapiPrivatePostOrder
        elif algo:
            # snapped side-aware like every price (as PAPER does), so both books agree
            request.update(
                algoType="CONDITIONAL",
                type="STOP_MARKET",
                triggerPrice=str(market.round_price(order.price, side)),
                clientAlgoId=order.client_order_id,
            )
            send = self.exchange.fapiPrivatePostAlgoOrder
        else:
            raise OrderError(
                f"kind: must be limit, market or stop_market (got {kind!r})",
                field="kind",
                value=repr(kind),
                rule="limit | market | stop_market",
            )
        order.kind = kind
        order.status = OrderStatus.PENDING
        self._orders[order.client_order_id] = order
        for attempt in range(self.retry.attempts):
            try:
                self.sent.append(order.client_order_id)
                raw = await send(request)
                # the exchange has accepted it; the state holds only the intent so far
                crash_point("request_sent")
                return self._to_order(raw, algo=algo)
            except (ccxt.DDoSProtection, ccxt.RateLimitExceeded):
                # refused before it reached the book (429/418/-1015): wait, send again
                await asyncio.sleep(self.retry.delay(attempt, _retry_after(self.exchange)))
                continue
            except ccxt.ExchangeError as e:
                code = exchange_code(e)
                if code == DUPLICATE_CODE:
                    found = await self._lookup(order, algo=algo)
                    if found is not None and attempt > 0:
                        return self._to_order(found, algo=algo)  # our own earlier send
                    raise DuplicateOrderError(
                        f"client_order_id: {order.client_order_id!r} is already live",
                        field="client_order_id",
                        value=order.client_order_id,
                        rule="must not duplicate a live order",
                    ) from None
                if is_auth_failure(e):
                    raise ExchangeAuthError(
                        f"api_key: the exchange refused the API key on order "
                        f"{order.client_order_id} (code {code})",
                        field="api_key",
                        value=None,
                        rule="must be a valid key with trading permission for this IP",
                    ) from None
                if code in RETRYABLE_CODES:
                    if code == -1021:
                        await _resync_clock(self.exchange)
                    await asyncio.sleep(self.retry.delay(attempt, _retry_after(self.exchange)))
                    continue
                order.status = OrderStatus.REJECTED
                order.error = f"{code}: {_message(e)}" if code is not None else _message(e)
                raise OrderRejectedError(
                    f"order {order.client_order_id}: rejected by the exchange ({order.error})",
                    code=code,
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
                    found = await self._lookup(order, algo=algo)
                    if found is not None:
                        return self._to_order(found, algo=algo)
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
        algo = order.kind == "stop_market"
        if algo:
            params = {"symbol": order.symbol, "clientAlgoId": order.client_order_id}
            cancel = self.exchange.fapiPrivateDeleteAlgoOrder
        else:
            params = {"symbol": order.symbol, "origClientOrderId": order.client_order_id}
            cancel = self.exchange.fapiPrivateDeleteOrder
        try:
            await self._call("cancel", lambda: cancel(params))
            order.status = OrderStatus.CANCELLED
        except ccxt.OrderNotFound:
            found = await self._lookup(order, algo=algo)
            if found is not None:
                self._to_order(found, algo=algo)

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Every trade of the account on ``symbol`` from ``since_ms`` to the exchange's now
        (exact strings from ``userTrades``), oldest first; ``fills_synced_ms[symbol]`` is then
        the exchange time the answer is complete up to.

        USD-M ``userTrades`` answers at most 7 days from ``startTime`` (endTime - startTime
        <= 7 days) and 1000 trades a request, and ``fromId`` may not be combined with a time
        range: the span is walked in 7-day windows, and a full page continues by ``fromId``
        until a trade falls after the window. Without ``since_ms`` the last 7 days are read."""
        start, now = await self._history_span(symbol, since_ms)
        fills: list[Fill] = []
        seen: set[str] = set()
        while start <= now:
            end = min(start + FILLS_WINDOW_MS, now)
            query: dict[str, Any] = {
                "symbol": symbol,
                "startTime": start,
                "endTime": end,
                "limit": FILLS_PAGE,
            }
            while True:
                page = await self._user_trades(query)
                for t in page:
                    if int(t["time"]) > end or str(t["id"]) in seen:
                        continue
                    seen.add(str(t["id"]))
                    fills.append(await self._fill(t))
                if len(page) < FILLS_PAGE or int(page[-1]["time"]) > end:
                    break
                query = {"symbol": symbol, "fromId": int(page[-1]["id"]) + 1, "limit": FILLS_PAGE}
            start = end + 1
        self.fills_synced_ms[symbol] = now
        fills.sort(key=lambda f: (f.timestamp_ms, len(f.trade_id), f.trade_id))
        return fills

    async def fetch_funding_payments(
        self, symbol: str, since_ms: int | None = None
    ) -> list[tuple[int, Decimal]]:
        """Funding paid or received on ``symbol`` (ms UTC, quote; + received) from
        ``since_ms`` (default: the last 7 days) to now: USD-M ``/fapi/v1/income`` with
        ``incomeType=FUNDING_FEE``, read in 7-day windows of at most 1000 rows."""
        start, now = await self._history_span(symbol, since_ms)
        out: dict[int, Decimal] = {}
        while start <= now:
            end = min(start + FILLS_WINDOW_MS, now)
            query: dict[str, Any] = {
                "symbol": symbol,
                "incomeType": "FUNDING_FEE",
                "startTime": start,
                "endTime": end,
                "limit": FILLS_PAGE,
            }

            async def get_page(query: dict[str, Any] = query) -> list[dict[str, Any]]:
                page: list[dict[str, Any]] = await self.exchange.fapiPrivateGetIncome(query)
                return page

            page = await self._call("income", get_page)
            for row in page:
                t = int(row["time"])
                out[t] = out.get(t, Decimal(0)) + Decimal(str(row["income"]))
            if len(page) >= FILLS_PAGE:
                start = int(page[-1]["time"]) + 1  # the rest of this window
                continue
            start = end + 1
        return sorted(out.items())

    async def _history_span(self, symbol: str, since_ms: int | None) -> tuple[int, int]:
        """(start, now) of a history read: from ``since_ms`` (default: the last 7 days, what
        USD-M answers without a start) to the exchange's now, walked in 7-day windows."""
        await self._ccxt_symbol(symbol)
        now = await self._now(symbol)
        return (max(0, now - FILLS_WINDOW_MS) if since_ms is None else int(since_ms)), now

    async def _user_trades(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        async def get_page() -> list[dict[str, Any]]:
            page: list[dict[str, Any]] = await self.exchange.fapiPrivateGetUserTrades(query)
            return page

        return await self._call("userTrades", get_page)

    async def _fill(self, t: dict[str, Any]) -> Fill:
        oid = str(t["orderId"])
        cid = self._client_ids.get(oid)
        if cid is None:
            try:
                raw = await self._call(
                    "order",
                    lambda: self.exchange.fapiPrivateGetOrder(
                        {"symbol": t["symbol"], "orderId": oid}
                    ),
                )
                cid = self._to_order(raw, algo=False).client_order_id
            except ccxt.OrderNotFound:
                raw = await self._call(
                    "algoOrder",
                    lambda: self.exchange.fapiPrivateGetAlgoOrder(
                        {"symbol": t["symbol"], "algoId": oid}
                    ),
                )
                cid = self._to_order(raw, algo=True).client_order_id
        return Fill(
            trade_id=str(t["id"]),
            client_order_id=cid,
            symbol=t["symbol"],
            side=Side(t["side"].lower()),
            price=Decimal(t["price"]),
            amount=Decimal(t["qty"]),
            fee=Decimal(t["commission"]),
            timestamp_ms=int(t["time"]),
            maker=bool(t["maker"]),
            exchange=str(self.exchange.id),
        )

    async def close(self) -> None:
        await self.exchange.close()
        if self.spot is not None:
            await self.spot.close()


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
        )
        if spot_exchange
        else None
    )
    logger.info("REAL broker on {} ({})", exchange, "local" if base_url else "exchange")
    return CcxtBroker(futures, spot=spot, spot_amount=spot_amount, retry=retry)
