"""The emulator's books: per symbol a core ``FillBook`` and ``SimAccount`` (the fill model of
backtests and PAPER), the order table, trades and income; one USDT futures wallet and the spot
balances; the replay clock, which is the market's own.

Clock: bar ``bar`` is the last closed bar; the market time ``now_ms`` is its close time, and it
is the one clock of every record (order, trade, income, funding). An order placed now rests
from bar ``bar + 1`` on (``FillBook.place(..., bar_index=bar)``); ``advance()`` closes the next
bar, fills the books and books funding at each 8-hour funding time the bar spans.

Orders follow USD-M (see ``gridhedge.sim.server`` for the table of rules and their tests):

- resting limit and stop orders fill by the core fill model, one model for backtests, PAPER
  and the emulator; a reduce-only order never fills past the position (the excess expires);
- market orders and the crossing part of a limit order fill at once as taker against the
  emulated book (the one ``/fapi/v1/depth`` serves: best bid one tick under the last price,
  best ask one tick over it, each level holding ``volume / 50`` of the last bar, at least one lot,
  1000 levels a side); IOC keeps no remainder, FOK fills in full or is refused (-5021), a
  post-only (GTX) order that would cross is refused (-5022);
- validation codes are USD-M's own (-4003, -4014, -1111, -4164, -2019, -2022, -2025, ...).

Ids: order ids are unique across the account; trade ids count per symbol from 1, as on Binance.
Everything persists in a ``SimStore`` when one is given (``commit()`` writes one transaction).
Errors raise ``BinanceError`` carrying the exchange's own codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from gridhedge._core import FillBook, Market, SimAccount
from gridhedge.sim.binance_format import BinanceError, min_notional_error, places
from gridhedge.sim.replay import Bars
from gridhedge.sim.store import SimStore

__all__ = ["DAY_MS", "Income", "SimExchange", "SimOrder", "SimTrade", "SymbolSpec"]

CLIENT_ID = re.compile(r"^[A-Za-z0-9._:/\-]{1,36}$")
ORDER_TYPES = {"LIMIT": "limit", "MARKET": "market", "STOP_MARKET": "stop_market"}
TIME_IN_FORCE = {"GTC", "GTX", "IOC", "FOK"}
MAINT_MARGIN_RATE = Decimal("0.004")
DAY_MS = 86_400_000
BOOK_LEVELS = 1000
"""Levels a side of the emulated book (the deepest ``/fapi/v1/depth`` answers)."""
BOOK_LEVEL_SHARE = 50
"""Each level holds the last bar's volume / this (at least one lot)."""


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One perpetual: ``BTCUSDT`` = base ``BTC`` + quote ``USDT``, its rules and its bars.

    ``price_precision``/``quantity_precision``: the most decimals a price/quantity may carry
    (exchangeInfo ``pricePrecision``/``quantityPrecision``; more is -1111); default: the
    decimals of the tick/lot. ``max_num_orders``/``max_num_algo_orders``: the symbol's
    ``MAX_NUM_ORDERS``/``MAX_NUM_ALGO_ORDERS`` filters (Binance BTCUSDT: 200 and 10)."""

    symbol: str
    base: str
    market: Market
    bars: Bars
    quote: str = "USDT"
    max_price: Decimal = Decimal("10000000")
    max_qty: Decimal = Decimal("10000")
    price_precision: int | None = None
    quantity_precision: int | None = None
    max_num_orders: int = 200
    max_num_algo_orders: int = 10

    @property
    def price_places(self) -> int:
        return (
            places(self.market.tick_size)
            if self.price_precision is None
            else (self.price_precision)
        )

    @property
    def qty_places(self) -> int:
        return (
            places(self.market.lot_size)
            if self.quantity_precision is None
            else (self.quantity_precision)
        )


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
    placed_bar: int = 0
    """The last closed bar when it was placed (it rests from the next one)."""

    @property
    def live(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed_qty if self.executed_qty else Decimal(0)

    def row(self) -> tuple[Any, ...]:
        return (
            self.order_id,
            self.symbol,
            self.client_order_id,
            self.side,
            self.type,
            self.time_in_force,
            str(self.price),
            str(self.stop_price),
            str(self.orig_qty),
            int(self.reduce_only),
            self.time_ms,
            self.update_time_ms,
            self.status,
            str(self.executed_qty),
            str(self.cum_quote),
            int(self.algo),
            self.placed_bar,
        )


@dataclass(frozen=True, slots=True)
class SimTrade:
    trade_id: int
    """Per symbol, from 1 (Binance numbers trades per symbol)."""
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

    def row(self) -> tuple[Any, ...]:
        return (
            self.symbol,
            self.trade_id,
            self.order_id,
            self.side,
            str(self.price),
            str(self.qty),
            str(self.commission),
            str(self.realized_pnl),
            int(self.maker),
            self.time_ms,
            self.bar,
        )


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

    def row(self) -> tuple[Any, ...]:
        return (
            self.tran_id,
            self.symbol,
            self.income_type,
            str(self.income),
            self.time_ms,
            self.trade_id,
            self.rate,
        )


@dataclass(slots=True)
class _Book:
    spec: SymbolSpec
    fills: FillBook
    account: SimAccount
    leverage: int
    orders: dict[int, SimOrder] = field(default_factory=dict)
    by_client_id: dict[str, int] = field(default_factory=dict)
    trades: list[SimTrade] = field(default_factory=list)
    next_trade_id: int = 1


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


def _decimals(value: Decimal) -> int:
    """Significant decimals of a price or quantity (``100.50`` -> 1)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


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
        trades_window_ms: int = 7 * DAY_MS,
        per_symbol_trade_ids: bool = True,
        store: SimStore | None = None,
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
        self.trades_window_ms = trades_window_ms
        """``userTrades`` answers at most this span (Binance: 7 days)."""
        self.per_symbol_trade_ids = per_symbol_trade_ids
        """Binance numbers trades per symbol; False numbers them across the account (a
        knob for clients keyed by trade id alone, which Binance would break)."""
        self._account_trade_id = 1
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
        self._next_tran_id = 1
        self._ledger_seq = 1
        self.income: list[Income] = []
        self.funding_events: list[tuple[str, int, float, Decimal]] = []
        """(symbol, funding time ms, rate, mark) of every funding time passed."""
        self.margin_types: dict[str, str] = {}
        """Margin type per symbol (``POST /fapi/v1/marginType``); margin is computed cross."""
        self.dual_side = False
        """Hedge mode (``POST /fapi/v1/positionSide/dual``, account-wide on USD-M): orders must
        then name LONG or SHORT, which the emulator does not model (it answers -1020)."""
        self.store = store
        self._dirty: set[tuple[str, int]] = set()
        self._new_trades: list[tuple[Any, ...]] = []
        self._new_income: list[tuple[Any, ...]] = []
        self._new_ledger: list[tuple[Any, ...]] = []
        self._meta_dirty = True
        if store is not None and store.check_fingerprint(self.fingerprint):
            self._restore(store)
        else:
            self._record_funding_times(range(0, self.bar + 1), book=False)
            self.commit()

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
            self._meta_dirty = True
            for book in self.books.values():
                trades.extend(self._fill_bar(book))
            self._record_funding_times([self.bar], book=True)
        self.commit()
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
        out: list[SimTrade] = []
        for f in fills:
            order = book.orders[f.order_id]
            if not order.live:
                continue
            lots, fee = f.amount_lots, f.fee
            if order.reduce_only:
                # USD-M: a reduce-only order never opens the other side; the excess expires
                allowed = self._reducible_lots(book, order.side)
                if allowed < lots:
                    fee = fee * allowed / lots if lots else fee
                    lots = allowed
                    book.fills.cancel(order.order_id)
            trade = (
                self._book_fill(book, order, f.price_ticks, lots, fee, maker=f.maker)
                if lots > 0
                else None
            )
            if trade is not None:
                out.append(trade)
            if lots < f.amount_lots:
                order.status = "EXPIRED"
            elif f.done:
                order.status = "FILLED"
            order.update_time_ms = self.now_ms
        return out

    def _reducible_lots(self, book: _Book, side: str) -> int:
        """Lots an order on ``side`` can take off the position without flipping it."""
        pos = book.account.position_lots
        if (side == "BUY" and pos < 0) or (side == "SELL" and pos > 0):
            return abs(pos)
        return 0

    def _book_fill(
        self, book: _Book, order: SimOrder, ticks: int, lots: int, fee: Decimal, *, maker: bool
    ) -> SimTrade:
        """Book one fill of ``order``: account, trade (next id of the symbol), income, ledger."""
        market = book.spec.market
        now = self.now_ms
        before = book.account.realized_pnl
        book.account.apply_fill(order.side.lower(), ticks, lots, fee)
        realized = book.account.realized_pnl - before
        price, qty = ticks * market.tick_size, lots * market.lot_size
        if self.per_symbol_trade_ids:
            trade_id, book.next_trade_id = book.next_trade_id, book.next_trade_id + 1
        else:
            trade_id, self._account_trade_id = self._account_trade_id, self._account_trade_id + 1
        trade = SimTrade(
            trade_id=trade_id,
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            commission=fee,
            realized_pnl=realized,
            maker=maker,
            time_ms=now,
            bar=self.bar,
        )
        book.trades.append(trade)
        self._new_trades.append(trade.row())
        self._ledger("fill", order.symbol, order.side, ticks, lots, fee)
        order.executed_qty += qty
        order.cum_quote += price * qty
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        order.update_time_ms = now
        self._touch(order)
        tid = str(trade.trade_id)
        if realized:
            self._add_income(order.symbol, "REALIZED_PNL", realized, now, tid)
        self._add_income(order.symbol, "COMMISSION", -fee, now, tid)
        return trade

    def _record_funding_times(self, indices: Sequence[int] | range, *, book: bool) -> None:
        for k in indices:
            for symbol, bk in self.books.items():
                bars = bk.spec.bars
                for t, rate in bars.funding_events(k):
                    mark = Decimal(repr(float(bars.close[k])))
                    self.funding_events.append((symbol, t, rate, mark))
                    if book and bk.account.position_lots != 0:
                        received = bk.account.apply_funding(float(bars.close[k]), rate)
                        mark_f = float(bars.close[k])
                        row = (self._ledger_seq, symbol, "funding", "", 0, 0, "0", mark_f, rate)
                        self._new_ledger.append(row)
                        self._ledger_seq += 1
                        self._add_income(symbol, "FUNDING_FEE", received, t, rate=rate)

    def _ledger(
        self, kind: str, symbol: str, side: str, ticks: int, lots: int, fee: Decimal
    ) -> None:
        self._new_ledger.append(
            (self._ledger_seq, symbol, kind, side, ticks, lots, str(fee), 0.0, 0.0)
        )
        self._ledger_seq += 1

    def _add_income(
        self,
        symbol: str,
        kind: str,
        amount: Decimal,
        time_ms: int,
        trade_id: str = "",
        rate: float = 0.0,
    ) -> None:
        item = Income(self._next_tran_id, symbol, kind, amount, time_ms, trade_id, rate)
        self.income.append(item)
        self._new_income.append(item.row())
        self._next_tran_id += 1

    def touch_meta(self) -> None:
        """The clock, counters, leverage or margin types changed: write them at the commit."""
        self._meta_dirty = True

    def _touch(self, order: SimOrder) -> None:
        self._dirty.add((order.symbol, order.order_id))

    # ----------------------------------------------------------------------------- persistence
    @property
    def fingerprint(self) -> str:
        """What a state file must have been written for: symbols, first bar, timeframe."""
        first = int(next(iter(self.books.values())).spec.bars.open_time_ms[0])
        return f"{','.join(sorted(self.books))}|{first}|{self.timeframe_ms}"

    def commit(self) -> None:
        """Write what changed since the last commit to the store (one transaction)."""
        store = self.store
        if store is None:
            self._dirty.clear()
            self._new_trades.clear()
            self._new_income.clear()
            self._new_ledger.clear()
            return
        if not (
            self._meta_dirty
            or self._dirty
            or self._new_trades
            or self._new_income
            or self._new_ledger
        ):
            return
        store.write(
            meta={
                "fingerprint": self.fingerprint,
                "bar": str(self.bar),
                "next_order_id": str(self._next_order_id),
                "next_tran_id": str(self._next_tran_id),
                "ledger_seq": str(self._ledger_seq),
                "account_trade_id": str(self._account_trade_id),
                "margin_types": json.dumps(self.margin_types, sort_keys=True),
                "dual_side": "1" if self.dual_side else "0",
            },
            books=[(s, b.leverage, b.next_trade_id) for s, b in self.books.items()],
            orders=[self.books[s].orders[oid].row() for s, oid in sorted(self._dirty)],
            trades=self._new_trades,
            income=self._new_income,
            ledger=self._new_ledger,
        )
        self._dirty.clear()
        self._new_trades.clear()
        self._new_income.clear()
        self._new_ledger.clear()
        self._meta_dirty = False

    def _restore(self, store: SimStore) -> None:
        meta = store.meta()
        self.bar = min(int(meta["bar"]), self.n_bars - 1)
        self._next_order_id = int(meta["next_order_id"])
        self._next_tran_id = int(meta["next_tran_id"])
        self._ledger_seq = int(meta["ledger_seq"])
        self._account_trade_id = int(meta.get("account_trade_id", "1"))
        self.margin_types = dict(json.loads(meta.get("margin_types", "{}")))
        self.dual_side = meta.get("dual_side", "0") == "1"
        for symbol, leverage, next_trade_id in store.rows(
            "books", "symbol, leverage, next_trade_id", "symbol"
        ):
            if symbol in self.books:
                self.books[symbol].leverage = int(leverage)
                self.books[symbol].next_trade_id = int(next_trade_id)
        for r in store.rows("orders", "*", "order_id"):
            o = SimOrder(
                order_id=int(r[0]),
                symbol=r[1],
                client_order_id=r[2],
                side=r[3],
                type=r[4],
                time_in_force=r[5],
                price=Decimal(r[6]),
                stop_price=Decimal(r[7]),
                orig_qty=Decimal(r[8]),
                reduce_only=bool(r[9]),
                time_ms=int(r[10]),
                update_time_ms=int(r[11]),
                status=r[12],
                executed_qty=Decimal(r[13]),
                cum_quote=Decimal(r[14]),
                algo=bool(r[15]),
                placed_bar=int(r[16]),
            )
            book = self.books[o.symbol]
            book.orders[o.order_id] = o
            book.by_client_id[o.client_order_id] = o.order_id
        for r in store.rows("trades", "*", "symbol, trade_id"):
            self.books[r[0]].trades.append(
                SimTrade(
                    trade_id=int(r[1]),
                    order_id=int(r[2]),
                    symbol=r[0],
                    side=r[3],
                    price=Decimal(r[4]),
                    qty=Decimal(r[5]),
                    commission=Decimal(r[6]),
                    realized_pnl=Decimal(r[7]),
                    maker=bool(r[8]),
                    time_ms=int(r[9]),
                    bar=int(r[10]),
                )
            )
        self.income = [
            Income(int(r[0]), r[1], r[2], Decimal(r[3]), int(r[4]), r[5], float(r[6]))
            for r in store.rows("income", "*", "tran_id")
        ]
        for _, symbol, kind, side, ticks, lots, fee, mark, rate in store.rows("ledger", "*", "seq"):
            account = self.books[symbol].account
            if kind == "fill":
                account.apply_fill(side.lower(), int(ticks), int(lots), Decimal(fee))
            else:
                account.apply_funding(float(mark), float(rate))
        for book in self.books.values():
            market = book.spec.market
            for o in book.orders.values():
                if not o.live:
                    continue
                ref = o.price if o.type == "LIMIT" else o.stop_price
                book.fills.place(
                    o.order_id,
                    o.side.lower(),
                    int(ref / market.tick_size),
                    int((o.orig_qty - o.executed_qty) / market.lot_size),
                    o.placed_bar,
                    ORDER_TYPES[o.type],
                )
        self._record_funding_times(range(0, self.bar + 1), book=False)
        self._meta_dirty = False

    # ----------------------------------------------------------------------------- market
    def book(self, symbol: str | None) -> _Book:
        if symbol is None or symbol == "":
            raise BinanceError.of("bad_param", "(symbol)")
        try:
            return self.books[symbol.upper()]
        except KeyError:
            raise BinanceError.of("bad_symbol") from None

    def last_price(self, symbol: str) -> Decimal:
        """Close of the last closed bar, snapped down to the tick (quote)."""
        book = self.book(symbol)
        close = float(book.spec.bars.close[self.bar])
        return book.spec.market.round_price(close, "buy")

    def bid_ask(self, symbol: str) -> tuple[Decimal, Decimal]:
        """Best bid one tick under the last price, best ask one tick over it (quote): the last
        trade is inside the book, so a limit at the last price neither crosses nor is crossed,
        whichever its side."""
        last = self.last_price(symbol)
        tick = self.book(symbol).spec.market.tick_size
        return max(last - tick, tick), last + tick

    def level_lots(self, symbol: str) -> int:
        """Lots at each level of the emulated book: the last bar's volume / 50, at least 1."""
        book = self.book(symbol)
        m = book.spec.market
        qty = m.round_amount(float(book.spec.bars.volume[self.bar]) / BOOK_LEVEL_SHARE)
        return max(1, int(qty / m.lot_size))

    def funding_rate_now(self, symbol: str) -> float:
        """The latest funding rate published at or before the market time."""
        return self.book(symbol).spec.bars.funding_rate_at(self.now_ms)

    def _walk(
        self, book: _Book, side: str, lots: int, limit_ticks: int | None
    ) -> list[tuple[int, int]]:
        """(price ticks, lots) a taker order on ``side`` gets from the emulated book, best
        level first, up to ``limit_ticks`` (inclusive) and 1000 levels."""
        market = book.spec.market
        bid, ask = self.bid_ask(book.spec.symbol)
        per_level = self.level_lots(book.spec.symbol)
        first = int((ask if side == "BUY" else bid) / market.tick_size)
        step = 1 if side == "BUY" else -1
        out: list[tuple[int, int]] = []
        left = lots
        for i in range(BOOK_LEVELS):
            ticks = first + step * i
            if ticks <= 0 or left <= 0:
                break
            if limit_ticks is not None and (
                ticks > limit_ticks if step > 0 else ticks < limit_ticks
            ):
                break
            take = min(left, per_level)
            out.append((ticks, take))
            left -= take
        return out

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

    def _check_price(self, spec: SymbolSpec, value: Decimal, *, stop: bool) -> None:
        market = spec.market
        if value <= 0:
            raise BinanceError.of("stop_price_low" if stop else "price_low")
        if _decimals(value) > spec.price_places:
            raise BinanceError.of("precision")
        if value > spec.max_price:
            raise BinanceError.of("stop_price_high" if stop else "price_high")
        if value < market.tick_size:
            raise BinanceError.of("price_min")
        if value % market.tick_size != 0:
            raise BinanceError.of("tick")

    def _check_qty(self, spec: SymbolSpec, qty: Decimal) -> None:
        market = spec.market
        if qty <= 0:
            raise BinanceError.of("qty_zero")
        if _decimals(qty) > spec.qty_places:
            raise BinanceError.of("precision")
        if qty % market.lot_size != 0:
            raise BinanceError.of("step")
        if qty < market.min_qty:
            raise BinanceError.of("qty_min")
        if qty > spec.max_qty:
            raise BinanceError.of("qty_max")

    def _check_position_side(self, position_side: str | None) -> None:
        """``positionSide`` against the account's position mode: BOTH (the default) in one-way
        mode, LONG or SHORT in hedge mode, else -4061 (dev.binance.vision, "Order's position
        side does not match user's setting", cases A-C). Hedge-mode legs are not emulated."""
        side = (position_side or "BOTH").upper()
        if side not in ("BOTH", "LONG", "SHORT") or (side == "BOTH") == self.dual_side:
            raise BinanceError.of("position_side")
        if side != "BOTH":
            raise BinanceError.of("unsupported", "(the emulator has no hedge-mode positions)")

    def set_position_mode(self, dual: bool) -> None:
        """POST /fapi/v1/positionSide/dual (account-wide): -4059 if it is already so, -4067
        with an open order, -4068 with a position, on any symbol."""
        if dual == self.dual_side:
            raise BinanceError.of("same_position_mode")
        if self.open_orders(None):
            raise BinanceError.of("mode_open_orders")
        if any(b.account.position_lots != 0 for b in self.books.values()):
            raise BinanceError.of("mode_position")
        self.dual_side = dual
        self.touch_meta()

    def place_order(self, params: Mapping[str, str], *, algo: bool = False) -> SimOrder:
        """POST /fapi/v1/order: validate as USD-M does, then fill at once as taker what
        crosses the book and rest the rest in the core FillBook."""
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
        self._check_position_side(params.get("positionSide"))
        tif = (params.get("timeInForce") or "GTC").upper()
        if otype == "LIMIT" and tif not in TIME_IN_FORCE:
            raise BinanceError.of("bad_tif")
        qty = _decimal("quantity", params.get("quantity"))
        self._check_qty(spec, qty)
        price = Decimal(0)
        stop = Decimal(0)
        if otype == "LIMIT":
            price = _decimal("price", params.get("price"))
            self._check_price(spec, price, stop=False)
        elif otype == "STOP_MARKET":
            stop = _decimal("stopPrice", params.get("stopPrice"))
            self._check_price(spec, stop, stop=True)
        client_id = params.get("newClientOrderId") or f"sim-{self._next_order_id}"
        if not CLIENT_ID.match(client_id):
            raise BinanceError.of("bad_client_id")
        existing = book.by_client_id.get(client_id)
        if existing is not None and book.orders[existing].live:
            raise BinanceError.of("duplicate_client_id")
        reduce_only = _truthy(params.get("reduceOnly"))
        bid, ask = self.bid_ask(spec.symbol)
        book_last = self.last_price(spec.symbol)
        book_price = ask if side == "BUY" else bid
        ref = price if otype == "LIMIT" else stop if otype == "STOP_MARKET" else book_price
        if not reduce_only and ref * qty < market.min_notional:
            raise min_notional_error(market.min_notional)
        if reduce_only and self._reducible_lots(book, side) == 0:
            raise BinanceError.of("reduce_only")
        if otype == "STOP_MARKET" and (
            (side == "BUY" and stop <= book_last) or (side == "SELL" and stop >= book_last)
        ):
            raise BinanceError.of("would_trigger")
        live = [o for o in book.orders.values() if o.live and o.algo == algo]
        if algo and len(live) >= spec.max_num_algo_orders:
            raise BinanceError.of("max_stop_orders")
        if not algo and len(live) >= spec.max_num_orders:
            raise BinanceError.of("max_open_orders")
        if not reduce_only and self._margin_needed(book, side, ref * qty) > (
            self.available_balance()
        ):
            raise BinanceError.of("margin")
        lots = int(qty / market.lot_size)
        takes: list[tuple[int, int]] = []
        if otype == "MARKET":
            want = min(lots, self._reducible_lots(book, side)) if reduce_only else lots
            takes = self._walk(book, side, want, None)
        elif otype == "LIMIT":
            crosses = (side == "BUY" and price >= ask) or (side == "SELL" and price <= bid)
            if crosses and tif == "GTX":
                raise BinanceError.of("post_only")
            if crosses:
                want = min(lots, self._reducible_lots(book, side)) if reduce_only else lots
                takes = self._walk(book, side, want, int(price / market.tick_size))
            if tif == "FOK" and sum(n for _, n in takes) < lots:
                raise BinanceError.of("fok")
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
            placed_bar=self.bar,
        )
        self._next_order_id += 1
        self._meta_dirty = True
        book.orders[order.order_id] = order
        book.by_client_id[client_id] = order.order_id
        self._touch(order)
        for ticks, n in takes:
            fee = ticks * market.tick_size * n * market.lot_size * self.taker_fee
            self._book_fill(book, order, ticks, n, fee, maker=False)
        taken = sum(n for _, n in takes)
        if otype == "MARKET" or (otype == "LIMIT" and tif in ("IOC", "FOK")):
            if taken < lots:
                order.status = "EXPIRED"  # the book ran out, or IOC: no remainder rests
            return order
        if taken == lots:
            return order
        if reduce_only and taken and self._reducible_lots(book, side) == 0:
            order.status = "EXPIRED"  # nothing left to reduce
            return order
        ticks_ref = int(ref / market.tick_size)
        book.fills.place(
            order.order_id, side.lower(), ticks_ref, lots - taken, self.bar, ORDER_TYPES[otype]
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
        self._touch(order)
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
        self._meta_dirty = True
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
