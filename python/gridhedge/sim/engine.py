"""The emulator's books: per symbol a core ``FillBook`` and ``SimAccount`` (the fill model of
backtests and PAPER), the order table, trades and income; one USDT futures wallet and the spot
balances; the replay clock, which is the market's own.

Clock: bar ``bar`` is the last closed bar; the market time ``now_ms`` is its close time. An
order placed now rests from bar ``bar + 1`` on (``FillBook.place(..., bar_index=bar)``);
``advance()`` closes the next bar, fills the books and books funding at each 8-hour funding
time the bar spans. Ids (orders, trades, income) are sequential, so a run is deterministic.
Errors raise ``BinanceError`` carrying the exchange's own codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from gridhedge._core import FillBook, Market, SimAccount
from gridhedge.sim.binance_format import BinanceError, min_notional_error
from gridhedge.sim.replay import Bars

__all__ = ["Income", "SimExchange", "SimOrder", "SimTrade", "SymbolSpec"]

CLIENT_ID = re.compile(r"^[A-Za-z0-9._:/\-]{1,36}$")
ORDER_TYPES = {"LIMIT": "limit", "MARKET": "market", "STOP_MARKET": "stop_market"}
TIME_IN_FORCE = {"GTC", "GTX"}
MAINT_MARGIN_RATE = Decimal("0.004")


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One perpetual: ``BTCUSDT`` = base ``BTC`` + quote ``USDT``, its rules and its bars."""

    symbol: str
    base: str
    market: Market
    bars: Bars
    quote: str = "USDT"
    max_price: Decimal = Decimal("10000000")
    max_qty: Decimal = Decimal("10000")


@dataclass(slots=True)
class SimOrder:
    order_id: int
    symbol: str
    client_order_id: str
    side: str
    """BUY | SELL"""
    type: str
    """LIMIT | MARKET | STOP_MARKET"""
    time_in_force: str
    price: Decimal
    stop_price: Decimal
    orig_qty: Decimal
    reduce_only: bool
    time_ms: int
    update_time_ms: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    algo: bool = False
    """A conditional order of the algo API (``/fapi/v1/algoOrder``): its id is the algoId."""

    @property
    def live(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed_qty if self.executed_qty else Decimal(0)


@dataclass(frozen=True, slots=True)
class SimTrade:
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    """Quote currency paid (negative for a rebate)."""
    realized_pnl: Decimal
    maker: bool
    time_ms: int
    bar: int

    @property
    def quote_qty(self) -> Decimal:
        return self.price * self.qty


@dataclass(frozen=True, slots=True)
class Income:
    tran_id: int
    symbol: str
    income_type: str
    """FUNDING_FEE | REALIZED_PNL | COMMISSION"""
    income: Decimal
    time_ms: int
    trade_id: str = ""
    rate: float = 0.0


@dataclass(slots=True)
class _Book:
    spec: SymbolSpec
    fills: FillBook
    account: SimAccount
    leverage: int
    orders: dict[int, SimOrder] = field(default_factory=dict)
    by_client_id: dict[str, int] = field(default_factory=dict)
    trades: list[SimTrade] = field(default_factory=list)


def _decimal(name: str, raw: str | None) -> Decimal:
    if raw is None or raw == "":
        raise BinanceError.of("bad_param", f"({name})")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BinanceError.of("bad_param", f"({name}={raw!r})") from None
    if not value.is_finite():
        raise BinanceError.of("bad_param", f"({name}={raw!r})")
    return value


def _truthy(raw: str | None) -> bool:
    return str(raw).lower() == "true"


class SimExchange:
    """Books of a Binance USD-M account on replayed bars (not thread-safe; one event loop)."""

    def __init__(
        self,
        symbols: Sequence[SymbolSpec],
        *,
        start_bar: int = 0,
        wallet_usdt: Decimal | str = "10000",
        spot_balances: Mapping[str, Decimal | str] | None = None,
        participation: float = 0.1,
        maker_fee: str = "0.0002",
        taker_fee: str = "0.0005",
        leverage: int = 20,
        first_order_id: int = 1_000_001,
    ) -> None:
        if not symbols:
            raise BinanceError.of("bad_symbol", "(no symbols configured)")
        tf = {s.bars.timeframe_ms for s in symbols}
        t0 = {int(s.bars.open_time_ms[0]) for s in symbols}
        if len(tf) != 1 or len(t0) != 1:
            raise BinanceError.of("bad_param", "(every symbol needs the same bar times)")
        self.timeframe_ms = tf.pop()
        self.n_bars = min(len(s.bars) for s in symbols)
        if not 0 <= start_bar < self.n_bars:
            raise BinanceError.of("bad_param", f"(start_bar={start_bar})")
        self.bar = start_bar
        self.maker_fee = Decimal(maker_fee)
        self.taker_fee = Decimal(taker_fee)
        self.books: dict[str, _Book] = {
            s.symbol: _Book(
                spec=s,
                fills=FillBook(s.market, participation, maker_fee, taker_fee),
                account=SimAccount(s.market),
                leverage=leverage,
            )
            for s in symbols
        }
        self.initial_wallet = Decimal(wallet_usdt)
        self.spot: dict[str, Decimal] = {
            k.upper(): Decimal(v) for k, v in (spot_balances or {}).items()
        }
        self._next_order_id = first_order_id
        self._next_trade_id = 1
        self._next_tran_id = 1
        self.income: list[Income] = []
        self.funding_events: list[tuple[str, int, float, Decimal]] = []
        """(symbol, funding time ms, rate, mark) of every funding time passed."""
        self._record_funding_times(range(0, start_bar + 1), book=False)

    # ----------------------------------------------------------------------------- clock
    @property
    def now_ms(self) -> int:
        """Market time: the close of the last closed bar (ms since the epoch)."""
        return self.bar_close_ms(self.bar)

    def bar_close_ms(self, index: int) -> int:
        spec = next(iter(self.books.values())).spec
        return int(spec.bars.open_time_ms[index]) + self.timeframe_ms

    @property
    def bars_left(self) -> int:
        return self.n_bars - 1 - self.bar

    def advance(self, bars: int = 1) -> list[SimTrade]:
        """Close the next ``bars`` bars (fewer at the end of the data); returns their trades."""
        trades: list[SimTrade] = []
        for _ in range(max(0, min(bars, self.bars_left))):
            self.bar += 1
            for book in self.books.values():
                trades.extend(self._fill_bar(book))
            self._record_funding_times([self.bar], book=True)
        return trades

    def _fill_bar(self, book: _Book) -> list[SimTrade]:
        b, k = book.spec.bars, self.bar
        fills = book.fills.on_bar(
            k,
            float(b.open[k]),
            float(b.high[k]),
            float(b.low[k]),
            float(b.close[k]),
            float(b.volume[k]),
        )
        now = self.now_ms
        out: list[SimTrade] = []
        for f in fills:
            order = book.orders[f.order_id]
            before = book.account.realized_pnl
            book.account.apply_fill(f.side, f.price_ticks, f.amount_lots, f.fee)
            realized = book.account.realized_pnl - before
            trade = SimTrade(
                trade_id=self._next_trade_id,
                order_id=order.order_id,
                symbol=order.symbol,
                side=order.side,
                price=f.price,
                qty=f.amount,
                commission=f.fee,
                realized_pnl=realized,
                maker=f.maker,
                time_ms=now,
                bar=k,
            )
            self._next_trade_id += 1
            book.trades.append(trade)
            out.append(trade)
            order.executed_qty += f.amount
            order.cum_quote += f.price * f.amount
            order.status = "FILLED" if f.done else "PARTIALLY_FILLED"
            order.update_time_ms = now
            tid = str(trade.trade_id)
            if realized:
                self._add_income(order.symbol, "REALIZED_PNL", realized, now, tid)
            self._add_income(order.symbol, "COMMISSION", -f.fee, now, tid)
        return out

    def _record_funding_times(self, indices: Sequence[int] | range, *, book: bool) -> None:
        for k in indices:
            for symbol, bk in self.books.items():
                bars = bk.spec.bars
                for t, rate in bars.funding_events(k):
                    mark = Decimal(repr(float(bars.close[k])))
                    self.funding_events.append((symbol, t, rate, mark))
                    if book and bk.account.position_lots != 0:
                        received = bk.account.apply_funding(float(bars.close[k]), rate)
                        self._add_income(symbol, "FUNDING_FEE", received, t, rate=rate)

    def _add_income(
        self,
        symbol: str,
        kind: str,
        amount: Decimal,
        time_ms: int,
        trade_id: str = "",
        rate: float = 0.0,
    ) -> None:
        self.income.append(
            Income(self._next_tran_id, symbol, kind, amount, time_ms, trade_id, rate)
        )
        self._next_tran_id += 1

    # ----------------------------------------------------------------------------- market
    def book(self, symbol: str | None) -> _Book:
        if symbol is None or symbol == "":
            raise BinanceError.of("bad_param", "(symbol)")
        try:
            return self.books[symbol.upper()]
        except KeyError:
            raise BinanceError.of("bad_symbol") from None

    def last_price(self, symbol: str) -> Decimal:
        """Close of the last closed bar, snapped to the tick (quote)."""
        book = self.book(symbol)
        close = float(book.spec.bars.close[self.bar])
        return book.spec.market.round_price(close, "buy")

    def funding_rate_now(self, symbol: str) -> float:
        """The latest funding rate published at or before the market time."""
        return self.book(symbol).spec.bars.funding_rate_at(self.now_ms)

    # ----------------------------------------------------------------------------- orders
    def place_algo_order(self, params: Mapping[str, str]) -> SimOrder:
        """POST /fapi/v1/algoOrder (``algoType=CONDITIONAL``, ``type=STOP_MARKET``): a stop
        resting in the same FillBook; its fill is booked under the algo id."""
        if (params.get("algoType") or "").upper() != "CONDITIONAL":
            raise BinanceError.of("bad_param", "(algoType must be CONDITIONAL)")
        if (params.get("type") or "").upper() != "STOP_MARKET":
            raise BinanceError.of("bad_type")
        order_params = {
            k: v for k, v in params.items() if k not in ("triggerPrice", "clientAlgoId")
        }
        order_params["stopPrice"] = params.get("triggerPrice", "")
        if params.get("clientAlgoId"):
            order_params["newClientOrderId"] = params["clientAlgoId"]
        return self.place_order(order_params, algo=True)

    def place_order(self, params: Mapping[str, str], *, algo: bool = False) -> SimOrder:
        """POST /fapi/v1/order: validate as USD-M does, rest the order in the core FillBook."""
        book = self.book(params.get("symbol"))
        spec, market = book.spec, book.spec.market
        side = (params.get("side") or "").upper()
        if side not in ("BUY", "SELL"):
            raise BinanceError.of("bad_side")
        otype = (params.get("type") or "").upper()
        if otype not in ORDER_TYPES:
            raise BinanceError.of("bad_type")
        if _truthy(params.get("closePosition")):
            raise BinanceError.of("bad_param", "(closePosition is not supported; send quantity)")
        qty = _decimal("quantity", params.get("quantity"))
        tif = (params.get("timeInForce") or "GTC").upper()
        price = Decimal(0)
        stop = Decimal(0)
        if otype == "LIMIT":
            if tif not in TIME_IN_FORCE:
                raise BinanceError.of("bad_tif")
            price = _decimal("price", params.get("price"))
        elif otype == "STOP_MARKET":
            stop = _decimal("stopPrice", params.get("stopPrice"))
        client_id = params.get("newClientOrderId") or f"sim-{self._next_order_id}"
        if not CLIENT_ID.match(client_id):
            raise BinanceError.of("bad_client_id")
        existing = book.by_client_id.get(client_id)
        if existing is not None and book.orders[existing].live:
            raise BinanceError.of("duplicate_client_id")
        ref = price if otype == "LIMIT" else stop if otype == "STOP_MARKET" else Decimal(0)
        if otype != "MARKET" and (ref <= 0 or ref > spec.max_price or ref % market.tick_size != 0):
            raise BinanceError.of("price_filter")
        if qty <= 0 or qty % market.lot_size != 0 or qty < market.min_qty or qty > spec.max_qty:
            raise BinanceError.of("lot_size")
        reduce_only = _truthy(params.get("reduceOnly"))
        notional_price = ref if otype != "MARKET" else self.last_price(spec.symbol)
        if not reduce_only and notional_price * qty < market.min_notional:
            raise min_notional_error(market.min_notional)
        position = book.account.position_lots
        signed = 1 if side == "BUY" else -1
        if reduce_only and (position == 0 or (position > 0) == (signed > 0)):
            raise BinanceError.of("reduce_only")
        if not reduce_only and self._margin_needed(book, side, notional_price * qty) > (
            self.available_balance()
        ):
            raise BinanceError.of("margin")
        now = self.now_ms
        order = SimOrder(
            order_id=self._next_order_id,
            symbol=spec.symbol,
            client_order_id=client_id,
            side=side,
            type=otype,
            time_in_force=tif if otype == "LIMIT" else "GTC",
            price=price,
            stop_price=stop,
            orig_qty=qty,
            reduce_only=reduce_only,
            time_ms=now,
            update_time_ms=now,
            algo=algo,
        )
        self._next_order_id += 1
        book.orders[order.order_id] = order
        book.by_client_id[client_id] = order.order_id
        last = self.last_price(spec.symbol)
        crosses = (side == "BUY" and price >= last) or (side == "SELL" and price <= last)
        if otype == "LIMIT" and tif == "GTX" and crosses:
            order.status = "EXPIRED"  # post-only that would take: Binance expires it
            return order
        ticks = 0 if otype == "MARKET" else int(ref / market.tick_size)
        book.fills.place(
            order.order_id,
            side.lower(),
            ticks if ticks else 1,
            int(qty / market.lot_size),
            self.bar,
            ORDER_TYPES[otype],
        )
        return order

    def find_order(
        self,
        symbol: str | None,
        order_id: str | None,
        client_id: str | None,
        *,
        algo: bool = False,
    ) -> SimOrder | None:
        """An order by exchange id or client id (the latest with that client id); plain and
        algo orders are separate views, as on USD-M."""
        book = self.book(symbol) if symbol or not algo else None
        books = [book] if book is not None else list(self.books.values())
        found: SimOrder | None = None
        for b in books:
            if order_id:
                try:
                    found = b.orders.get(int(order_id))
                except ValueError:
                    raise BinanceError.of("bad_param", "(orderId)") from None
            elif client_id:
                oid = b.by_client_id.get(client_id)
                found = None if oid is None else b.orders[oid]
            else:
                raise BinanceError.of("bad_param", "(orderId or origClientOrderId)")
            if found is not None:
                break
        return found if found is not None and found.algo == algo else None

    def cancel_order(
        self,
        symbol: str | None,
        order_id: str | None,
        client_id: str | None,
        *,
        algo: bool = False,
    ) -> SimOrder:
        order = self.find_order(symbol, order_id, client_id, algo=algo)
        if order is None or not order.live:
            raise BinanceError.of("unknown_order")
        self.books[order.symbol].fills.cancel(order.order_id)
        order.status = "CANCELED"
        order.update_time_ms = self.now_ms
        return order

    def cancel_all(self, symbol: str | None, *, algo: bool = False) -> int:
        live = self.open_orders(symbol, algo=algo)
        for o in live:
            self.cancel_order(o.symbol, str(o.order_id), None, algo=algo)
        return len(live)

    def open_orders(self, symbol: str | None = None, *, algo: bool | None = None) -> list[SimOrder]:
        """Live orders (plain, algo, or both when ``algo`` is None), in placement order."""
        books = [self.book(symbol)] if symbol else list(self.books.values())
        return [
            o
            for b in books
            for o in b.orders.values()
            if o.live and (algo is None or o.algo == algo)
        ]

    def set_leverage(self, symbol: str | None, leverage: str | None) -> int:
        book = self.book(symbol)
        lev = int(_decimal("leverage", leverage))
        if not 1 <= lev <= 125:
            raise BinanceError.of("bad_param", "(leverage must be 1..125)")
        book.leverage = lev
        return lev

    # ----------------------------------------------------------------------------- account
    def mark_price(self, symbol: str) -> float:
        return float(self.book(symbol).spec.bars.close[self.bar])

    def unrealized(self, symbol: str) -> Decimal:
        return self.books[symbol].account.unrealized_pnl(self.mark_price(symbol))

    def wallet_balance(self) -> Decimal:
        """USDT wallet: initial + realised PnL - fees + funding, over every symbol (exact)."""
        total = self.initial_wallet
        for b in self.books.values():
            a = b.account
            total += a.realized_pnl - a.fees + a.funding
        return total

    def position_margin(self, symbol: str) -> Decimal:
        book = self.books[symbol]
        notional = abs(book.account.position) * Decimal(repr(self.mark_price(symbol)))
        return notional / book.leverage

    def _side_notional(self, book: _Book) -> dict[str, Decimal]:
        """Notional of the live, position-increasing orders per side (quote)."""
        sides = {"BUY": Decimal(0), "SELL": Decimal(0)}
        last = self.last_price(book.spec.symbol)
        for o in book.orders.values():
            if o.live and not o.reduce_only:
                px = o.price or o.stop_price or last
                sides[o.side] += px * (o.orig_qty - o.executed_qty)
        return sides

    def open_order_margin(self, symbol: str) -> Decimal:
        """Initial margin held by open orders: the larger side's notional / leverage."""
        book = self.books[symbol]
        return max(self._side_notional(book).values()) / book.leverage

    def _margin_needed(self, book: _Book, side: str, notional: Decimal) -> Decimal:
        sides = self._side_notional(book)
        before = max(sides.values())
        sides[side] += notional
        return (max(sides.values()) - before) / book.leverage

    def margin_balance(self) -> Decimal:
        return self.wallet_balance() + sum(
            (self.unrealized(s) for s in self.books), start=Decimal(0)
        )

    def available_balance(self) -> Decimal:
        used = sum(
            (self.position_margin(s) + self.open_order_margin(s) for s in self.books),
            start=Decimal(0),
        )
        return self.margin_balance() - used
