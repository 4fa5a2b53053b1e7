# ruff: noqa: E501  (the conformance table in the docstring is one row a line)
"""The emulator's HTTP face: an aiohttp app speaking Binance USD-M futures' REST API (and the
spot endpoints that hold the inventory), so ccxt's unmodified ``binanceusdm``/``binance`` run
against it on 127.0.0.1; with ``dialect="bybit"`` it speaks Bybit v5 over the same engine
instead (``gridhedge.sim.bybit``, its own conformance table).

Every request goes through one dispatcher: fault knobs, then (for signed routes) the API key,
HMAC signature and recvWindow check against the wall clock, then the rate limits, then the
route; the books are committed to the ``--state`` file after each. Admin routes live under
``/_sim`` (advance the replay clock, read the books, set fault knobs); they are neither signed,
limited nor faulted. Unknown paths answer 404 and are recorded in ``SimServer.unhandled``.

How it answers like Binance USD-M (issue 14; tests in ``tests/test_sim_conformance.py``,
sources: developers.binance.com/docs/derivatives/usds-margined-futures and ccxt's
``binance.py``):

| behaviour | Binance USD-M rule | test |
|---|---|---|
| ``userTrades`` span | at most 7 days from startTime (none: last 7 days); longer -1127; ``fromId`` with a time -1128 | ``test_user_trades_answers_at_most_seven_days_from_start_time`` |
| request weight | 2400/min per IP, ``X-MBX-USED-WEIGHT-1M``; over: 429 -1003 + Retry-After; not backing off: 418 ban (2 min, doubling to 3 days) | ``test_request_weight_429_then_418_with_retry_after`` |
| order rate | 300 / 10 s and 1200 / min per account: 429 -1015; ``X-MBX-ORDER-COUNT-10S/1M`` | ``test_order_rate_300_per_10_seconds_is_1015`` |
| open orders per symbol | MAX_NUM_ORDERS filter (200), -2025; MAX_NUM_ALGO_ORDERS (10), -4045 | ``test_open_orders_capped_by_max_num_orders_filter`` |
| reduce-only | never opens the other side: nothing to reduce -2022; larger than the position: filled to it, rest expired | ``test_reduce_only_never_opens_the_other_side`` |
| market order | fills at once against the book, taker (walks levels: impact) | ``test_market_order_fills_at_once_as_taker`` |
| marketable limit | fills at the book's prices as taker; the rest rests as maker | ``test_limit_buy_above_the_ask_fills_at_the_book_price_as_taker`` |
| post-only crossing | -5022 (ccxt OrderNotFillable) | ``test_post_only_that_would_cross_is_5022`` |
| IOC / FOK | accepted; IOC expires the rest, FOK fills in full or -5021 | ``test_ioc_and_fok_are_accepted_and_done_at_once`` |
| price / amount filters | off tick -4014, too many decimals -1111, off step -4023, min/max -4013/-4002/-4004/-4005 | ``test_price_off_tick_is_4014_and_too_many_decimals_1111`` |
| amount <= 0 | -4003 | ``test_amount_zero_or_less_is_4003`` |
| ticker and kline prices | on the tick (volumes on the lot) | ``test_ticker_and_kline_prices_are_on_the_tick`` |
| clocks | one clock: serverTime and every record on the replay clock; signing on wall time | ``test_one_clock_server_time_and_trade_times_agree`` |
| restart | ``--state FILE`` (SQLite) keeps accounts, orders, trades, ids and clock | ``test_state_survives_a_restart``, ``test_cli_restart_on_state_with_secret_from_env`` |
| trade ids | per symbol, from 1 | ``test_trade_ids_count_per_symbol`` |
| ``income`` | neither startTime nor endTime: the recent 7 days | ``test_income_defaults_to_the_recent_seven_days`` |
| ``allOrders`` | ``orderId=X``: the first ``limit`` from X; else the latest of the last 7 days; canceled/expired without fills hidden after 3 days, all after 90 | ``test_all_orders_from_order_id_are_the_first_from_it`` |
| ccxt ``load_markets()`` defaults | sapi capital/config/getall and margin/allPairs answered | ``test_load_markets_with_ccxt_default_options`` |
| leverage, margin mode, position mode, status, public trades | symbolConfig, marginType (-4046/-4047/-4048), positionSide/dual, system/status, aggTrades/trades | ``test_leverage_margin_mode_position_mode_status_and_public_trades`` |
| position mode | ``POST positionSide/dual`` account-wide, -4059 same mode, -4067 open orders, -4068 position; an order's ``positionSide`` must match the mode, -4061 | ``test_position_mode_switch_rules_and_4061`` |
| kline intervals | 1m ... 1w (weeks from Monday), 1M (calendar months); others -1120 | ``test_every_documented_kline_interval`` |
| secret | read from ``GRIDHEDGE_SIM_API_SECRET`` or ``--api-secret-file``, never argv | ``test_cli_restart_on_state_with_secret_from_env`` |

Not emulated: hedge-mode positions (the mode is kept and enforced: an order's ``positionSide``
must match it, -4061; LONG/SHORT legs answer -1020), isolated margin accounting (``marginType`` is recorded only),
liquidation, PERCENT_PRICE, the 6-month limit of ``userTrades``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from aiohttp import web
from loguru import logger

from gridhedge.errors import GridHedgeError
from gridhedge.sim.binance_format import (
    BinanceError,
    JsonDict,
    algo_order_json,
    dec,
    error_body,
    income_json,
    order_json,
    symbol_json,
    trade_json,
)
from gridhedge.sim.bybit import BYBIT_ROUTES, BybitError, bybit_error, envelope, verify_bybit
from gridhedge.sim.engine import DAY_MS, MAINT_MARGIN_RATE, SimExchange, SimOrder
from gridhedge.sim.faults import FaultRule, Faults
from gridhedge.sim.limits import Limits, RateLimiter, Refusal
from gridhedge.sim.replay import FUNDING_INTERVAL_MS
from gridhedge.sim.signing import API_KEY_HEADER, verify

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "SimServer", "create_app"]

DEFAULT_API_KEY = "sim-key"
DEFAULT_API_SECRET = "sim-secret"

Params = dict[str, str]
Handler = Callable[[SimExchange, Params], Any]

INTERVALS_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
MONTH_MS = 28 * DAY_MS
"""``1M`` klines are calendar months (UTC); this only orders it among the intervals."""
WEEK_OFFSET_MS = 4 * DAY_MS
"""Weekly klines open on Mondays (the epoch was a Thursday)."""


Weight = int | Callable[[Params], int]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    signed: bool
    weight: Weight = 1
    """Request weight against the IP's minute (USD-M's published weight of the endpoint)."""
    order: bool = False
    """Counts against the account's order rate (new orders)."""

    def weight_of(self, params: Params) -> int:
        return self.weight(params) if callable(self.weight) else self.weight


def _by_symbol(with_symbol: int, without: int) -> Callable[[Params], int]:
    return lambda p: with_symbol if p.get("symbol") else without


def _kline_weight(p: Params) -> int:
    """USD-M klines: limit [1,100) 1, [100,500) 2, [500,1000] 5, > 1000 10 (default 500)."""
    try:
        n = int(p.get("limit") or 500)
    except ValueError:
        n = 500
    return 1 if n < 100 else 2 if n < 500 else 5 if n <= 1000 else 10


def _depth_weight(p: Params) -> int:
    """USD-M depth: limit 5/10/20/50 2, 100 5, 500 10, 1000 20 (default 500)."""
    try:
        n = int(p.get("limit") or 500)
    except ValueError:
        n = 500
    return 2 if n <= 50 else 5 if n <= 100 else 10 if n <= 500 else 20


def _num(x: float) -> str:
    """A float price or volume as Binance writes it (plain decimal)."""
    return dec(Decimal(repr(float(x))))


def _int(params: Params, name: str, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BinanceError.of("bad_param", f"({name}={raw!r})") from None


def _limit(params: Params, default: int, maximum: int) -> int:
    value = _int(params, "limit", default)
    assert value is not None
    return max(1, min(value, maximum))


def _window(
    items: list[Any], time_of: Callable[[Any], int], params: Params, limit: int
) -> list[Any]:
    start, end = _int(params, "startTime"), _int(params, "endTime")
    picked = [
        x
        for x in items
        if (start is None or time_of(x) >= start) and (end is None or time_of(x) <= end)
    ]
    return picked[:limit] if start is not None else picked[-limit:]


# ----------------------------------------------------------------------------- market data
def _rate_limits(p: Params) -> list[JsonDict]:
    """The limits this emulator enforces (``SimServer.limits``), as exchangeInfo lists them;
    a lifted limit is not listed."""
    weight, per_10s, per_minute = (int(x) for x in p.get("_limits", "2400,300,1200").split(","))
    rows = [
        ("REQUEST_WEIGHT", "MINUTE", 1, weight),
        ("ORDERS", "SECOND", 10, per_10s),
        ("ORDERS", "MINUTE", 1, per_minute),
    ]
    return [
        {"rateLimitType": kind, "interval": unit, "intervalNum": n, "limit": limit}
        for kind, unit, n, limit in rows
        if limit
    ]


def exchange_info(ex: SimExchange, p: Params, *, futures: bool = True) -> JsonDict:
    return {
        "timezone": "UTC",
        "serverTime": int(p["_clock"]),
        "rateLimits": _rate_limits(p),
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "0"}],
        "symbols": [symbol_json(b.spec, futures=futures) for b in ex.books.values()],
    }


def _px(ex: SimExchange, symbol: str, x: float) -> str:
    """A replayed price on the symbol's tick (snapped down, as the last price is)."""
    return dec(ex.book(symbol).spec.market.round_price(float(x), "buy"))


def _qty(ex: SimExchange, symbol: str, x: float) -> str:
    """A replayed volume on the symbol's lot (snapped down)."""
    return dec(ex.book(symbol).spec.market.round_amount(max(0.0, float(x))))


def _ticker_24h(ex: SimExchange, symbol: str, *, spot: bool) -> JsonDict:
    bars = ex.book(symbol).spec.bars
    k = ex.bar
    first = max(0, k - DAY_MS // ex.timeframe_ms + 1)
    sl = slice(first, k + 1)
    open_ = Decimal(_px(ex, symbol, bars.open[first]))
    last = ex.last_price(symbol)
    vol = bars.volume[sl]
    change = (last / open_ - 1) * 100 if open_ else Decimal(0)
    out: JsonDict = {
        "symbol": symbol,
        "priceChange": dec(last - open_),
        "priceChangePercent": f"{change:.3f}",
        "weightedAvgPrice": _px(
            ex,
            symbol,
            float(np.sum(bars.close[sl] * vol) / np.sum(vol)) if np.sum(vol) > 0 else float(last),
        ),
        "lastPrice": dec(last),
        "lastQty": "0",
        "openPrice": dec(open_),
        "highPrice": _px(ex, symbol, float(np.max(bars.high[sl]))),
        "lowPrice": _px(ex, symbol, float(np.min(bars.low[sl]))),
        "volume": _qty(ex, symbol, float(np.sum(vol))),
        "quoteVolume": _num(float(np.sum(bars.close[sl] * vol))),
        "openTime": int(bars.open_time_ms[first]),
        "closeTime": ex.now_ms - 1,
        "firstId": 0,
        "lastId": 0,
        "count": k - first + 1,
    }
    if spot:
        bid, ask = ex.bid_ask(symbol)
        out.update(bidPrice=dec(bid), askPrice=dec(ask), bidQty="1", askQty="1")
    return out


def _symbols(ex: SimExchange, p: Params) -> list[str]:
    sym = p.get("symbol")
    return [ex.book(sym).spec.symbol] if sym else list(ex.books)


def _one_or_all(p: Params, rows: list[JsonDict]) -> JsonDict | list[JsonDict]:
    return rows[0] if p.get("symbol") else rows


def ticker_24h(ex: SimExchange, p: Params) -> Any:
    return _one_or_all(p, [_ticker_24h(ex, s, spot=False) for s in _symbols(ex, p)])


def ticker_24h_spot(ex: SimExchange, p: Params) -> Any:
    return _one_or_all(p, [_ticker_24h(ex, s, spot=True) for s in _symbols(ex, p)])


def ticker_price(ex: SimExchange, p: Params) -> Any:
    rows = [
        {"symbol": s, "price": dec(ex.last_price(s)), "time": ex.now_ms} for s in _symbols(ex, p)
    ]
    return _one_or_all(p, rows)


def book_ticker(ex: SimExchange, p: Params) -> Any:
    rows = []
    for s in _symbols(ex, p):
        bid, ask = ex.bid_ask(s)
        level = dec(ex.level_lots(s) * ex.book(s).spec.market.lot_size)
        rows.append(
            {
                "symbol": s,
                "bidPrice": dec(bid),
                "bidQty": level,
                "askPrice": dec(ask),
                "askQty": level,
                "time": ex.now_ms,
            }
        )
    return _one_or_all(p, rows)


def depth(ex: SimExchange, p: Params) -> JsonDict:
    """The emulated book market orders take from: ``limit`` levels a side one tick apart
    around the last price, each holding the last bar's volume / 50 (at least one lot)."""
    book = ex.book(p.get("symbol"))
    m = book.spec.market
    n = _limit(p, 500, 1000)
    bid, ask = ex.bid_ask(book.spec.symbol)
    qty = ex.level_lots(book.spec.symbol) * m.lot_size
    return {
        "lastUpdateId": ex.bar,
        "E": ex.now_ms,
        "T": ex.now_ms,
        "bids": [
            [dec(bid - i * m.tick_size), dec(qty)] for i in range(n) if bid - i * m.tick_size > 0
        ],
        "asks": [[dec(ask + i * m.tick_size), dec(qty)] for i in range(n)],
    }


def _sub_path(
    o: float, h: float, lo: float, c: float, n: int
) -> list[tuple[float, float, float, float]]:
    """``n`` sub-bars of one bar along the fill model's path (O->H->L->C on a down bar, else
    O->L->H->C), each third of the bar one leg: (open, high, low, close) each."""
    pts = [o, h, lo, c] if c < o else [o, lo, h, c]

    def at(x: float) -> float:  # x in [0, 3]: position along the three legs
        leg = min(int(x), 2)
        return pts[leg] + (pts[leg + 1] - pts[leg]) * (x - leg)

    out = []
    for i in range(n):
        x0, x1 = 3 * i / n, 3 * (i + 1) / n
        inside = [at(x0), at(x1), *(pts[v] for v in (1, 2) if x0 < v < x1)]
        out.append((at(x0), max(inside), min(inside), at(x1)))
    return out


def klines(ex: SimExchange, p: Params) -> list[list[Any]]:
    """Klines of every documented interval: the replay's own bars, coarser intervals
    aggregated from them (the group in progress last), finer ones cut from each bar along the
    fill model's path with its volume shared evenly; prices on the tick, volumes on the lot."""
    symbol = ex.book(p.get("symbol")).spec.symbol
    bars = ex.book(symbol).spec.bars
    monthly = p.get("interval") == "1M"
    iv = MONTH_MS if monthly else INTERVALS_MS.get(p.get("interval", ""))
    if iv is None:
        raise BinanceError.of("bad_interval")
    tf = ex.timeframe_ms
    limit = _limit(p, 500, 1500)
    k = ex.bar + 1
    rows: list[list[Any]] = []

    def row(
        t: int, o: float, h: float, lo: float, c: float, vol: float, qv: float, n: int, close: int
    ) -> None:
        rows.append(
            [
                t,
                _px(ex, symbol, o),
                _px(ex, symbol, h),
                _px(ex, symbol, lo),
                _px(ex, symbol, c),
                _qty(ex, symbol, vol),
                close,
                _num(qv),
                n,
                _qty(ex, symbol, vol / 2),
                _num(qv / 2),
                "0",
            ]
        )

    if iv < tf:
        if tf % iv != 0:
            raise BinanceError.of("bad_interval")
        n = tf // iv
        start, end = _int(p, "startTime"), _int(p, "endTime")
        lo_bar = 0 if start is None else max(0, (start - int(bars.open_time_ms[0])) // tf)
        hi_bar = k if end is None else min(k, (end - int(bars.open_time_ms[0])) // tf + 1)
        if start is None:
            lo_bar = max(lo_bar, hi_bar - (limit + n - 1) // n)
        else:
            hi_bar = min(hi_bar, lo_bar + (limit + n - 1) // n + 1)
        for b in range(lo_bar, hi_bar):
            vol = float(bars.volume[b]) / n
            for i, (o, h, lo, c) in enumerate(
                _sub_path(bars.open[b], bars.high[b], bars.low[b], bars.close[b], n)
            ):
                t = int(bars.open_time_ms[b]) + i * iv
                row(t, o, h, lo, c, vol, vol * c, 1, t + iv - 1)
        return _window(rows, lambda r: int(r[0]), p, limit)
    if iv % tf != 0:
        raise BinanceError.of("bad_interval")
    offset = WEEK_OFFSET_MS if iv == INTERVALS_MS["1w"] else 0
    times = bars.open_time_ms[:k]
    if monthly:  # calendar months, UTC
        keys = times.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    else:
        keys = (times - offset) // iv
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], k] - 1
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        vol = float(np.sum(bars.volume[s : e + 1]))
        qv = float(np.sum(bars.volume[s : e + 1] * bars.close[s : e + 1]))
        if monthly:
            month = np.datetime64(int(keys[s]), "M")
            t = int(month.astype("datetime64[ms]").astype(np.int64))
            close = int((month + 1).astype("datetime64[ms]").astype(np.int64)) - 1
        else:
            t = int(keys[s]) * iv + offset
            close = t + iv - 1
        row(
            t,
            bars.open[s],
            float(np.max(bars.high[s : e + 1])),
            float(np.min(bars.low[s : e + 1])),
            bars.close[e],
            vol,
            qv,
            e - s + 1,
            close,
        )
    return _window(rows, lambda r: int(r[0]), p, limit)


def _premium(ex: SimExchange, symbol: str) -> JsonDict:
    now = ex.now_ms
    mark = _num(ex.mark_price(symbol))
    return {
        "symbol": symbol,
        "markPrice": mark,
        "indexPrice": mark,
        "estimatedSettlePrice": mark,
        "lastFundingRate": _num(ex.funding_rate_now(symbol)),
        "interestRate": "0.00010000",
        "nextFundingTime": (now // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS,
        "time": now,
    }


def premium_index(ex: SimExchange, p: Params) -> Any:
    return _one_or_all(p, [_premium(ex, s) for s in _symbols(ex, p)])


def funding_rate_history(ex: SimExchange, p: Params) -> list[JsonDict]:
    sym = p.get("symbol")
    if sym:
        sym = ex.book(sym).spec.symbol
    rows = [
        {"symbol": s, "fundingTime": t, "fundingRate": _num(rate), "markPrice": dec(mark)}
        for s, t, rate, mark in ex.funding_events
        if (sym is None or s == sym) and t <= ex.now_ms
    ]
    return _window(rows, lambda r: int(r["fundingTime"]), p, _limit(p, 100, 1000))


def funding_info(ex: SimExchange, p: Params) -> list[JsonDict]:
    return [
        {
            "symbol": s,
            "adjustedFundingRateCap": "0.03",
            "adjustedFundingRateFloor": "-0.03",
            "fundingIntervalHours": 8,
            "disclaimer": False,
        }
        for s in ex.books
    ]


# ----------------------------------------------------------------------------- trading
def new_order(ex: SimExchange, p: Params) -> JsonDict:
    return order_json(ex.place_order(p))


def get_order(ex: SimExchange, p: Params) -> JsonDict:
    order = ex.find_order(p.get("symbol"), p.get("orderId"), p.get("origClientOrderId"))
    if order is None or not _visible(ex, order):
        raise BinanceError.of("no_such_order")
    return order_json(order)


def get_open_order(ex: SimExchange, p: Params) -> JsonDict:
    order = ex.find_order(p.get("symbol"), p.get("orderId"), p.get("origClientOrderId"))
    if order is None or not order.live:
        raise BinanceError(400, -2013, "Order does not exist.")
    return order_json(order)


def cancel_order(ex: SimExchange, p: Params) -> JsonDict:
    return order_json(
        ex.cancel_order(p.get("symbol"), p.get("orderId"), p.get("origClientOrderId"))
    )


def new_algo_order(ex: SimExchange, p: Params) -> JsonDict:
    return algo_order_json(ex.place_algo_order(p))


def get_algo_order(ex: SimExchange, p: Params) -> JsonDict:
    order = ex.find_order(p.get("symbol"), p.get("algoId"), p.get("clientAlgoId"), algo=True)
    if order is None:
        raise BinanceError.of("no_such_order")
    return algo_order_json(order)


def cancel_algo_order(ex: SimExchange, p: Params) -> JsonDict:
    o = ex.cancel_order(p.get("symbol"), p.get("algoId"), p.get("clientAlgoId"), algo=True)
    return {
        "algoId": o.order_id,
        "clientAlgoId": o.client_order_id,
        "code": "200",
        "msg": "success",
    }


def open_algo_orders(ex: SimExchange, p: Params) -> list[JsonDict]:
    return [algo_order_json(o) for o in ex.open_orders(p.get("symbol") or None, algo=True)]


def all_algo_orders(ex: SimExchange, p: Params) -> list[JsonDict]:
    book = ex.book(p.get("symbol"))
    orders = [o for o in book.orders.values() if o.algo]
    return [
        algo_order_json(o) for o in _window(orders, lambda o: o.time_ms, p, _limit(p, 100, 100))
    ]


def cancel_all_algo(ex: SimExchange, p: Params) -> JsonDict:
    ex.cancel_all(p.get("symbol"), algo=True)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def cancel_all(ex: SimExchange, p: Params) -> JsonDict:
    ex.cancel_all(p.get("symbol"))
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def open_orders(ex: SimExchange, p: Params) -> list[JsonDict]:
    return [order_json(o) for o in ex.open_orders(p.get("symbol") or None, algo=False)]


def _visible(ex: SimExchange, o: SimOrder) -> bool:
    """USD-M forgets, in order queries, a CANCELED or EXPIRED order without fills 3 days after
    it was created, and every order 90 days after (Query Order / All Orders)."""
    age = ex.now_ms - o.time_ms
    if o.status in ("CANCELED", "EXPIRED") and o.executed_qty == 0 and age > 3 * DAY_MS:
        return False
    return age <= 90 * DAY_MS


def all_orders(ex: SimExchange, p: Params) -> list[JsonDict]:
    """GET /fapi/v1/allOrders: with ``orderId`` the orders >= it (oldest first, ``limit``
    of them); with a time range at most 7 days of it; otherwise the most recent ``limit``
    of the last 7 days."""
    book = ex.book(p.get("symbol"))
    limit = _limit(p, 500, 1000)
    since_id = _int(p, "orderId")
    orders = [o for o in book.orders.values() if not o.algo and _visible(ex, o)]
    if since_id is not None:
        picked = [o for o in orders if o.order_id >= since_id]
        start, end = _int(p, "startTime"), _int(p, "endTime")
        picked = [
            o
            for o in picked
            if (start is None or o.time_ms >= start) and (end is None or o.time_ms <= end)
        ]
        return [order_json(o) for o in picked[:limit]]
    start, end = _time_range(ex, p, 7 * DAY_MS)
    picked = [o for o in orders if start <= o.time_ms <= end]
    picked = picked[:limit] if p.get("startTime") else picked[-limit:]
    return [order_json(o) for o in picked]


def _time_range(ex: SimExchange, p: Params, span_ms: int) -> tuple[int, int]:
    """startTime/endTime as USD-M reads them for a windowed query: neither sent means the
    last ``span_ms`` to now; one sent means ``span_ms`` from/to it; both may be at most
    ``span_ms`` apart (-1127) and in order (-1023)."""
    start, end = _int(p, "startTime"), _int(p, "endTime")
    if start is None and end is None:
        return ex.now_ms - span_ms, ex.now_ms
    if start is None:
        assert end is not None
        return end - span_ms, end
    if end is None:
        return start, start + span_ms
    if start > end:
        raise BinanceError.of("start_after_end")
    if end - start > span_ms:
        raise BinanceError(
            400, -1127, f"More than {span_ms // 3_600_000} hours between startTime and endTime."
        )
    return start, end


def user_trades(ex: SimExchange, p: Params) -> list[JsonDict]:
    """GET /fapi/v1/userTrades: ``fromId`` (not with a time range, -1128) pages by trade id;
    otherwise at most ``trades_window_ms`` (7 days) from startTime, to endTime, or back from
    now; oldest first, ``limit`` (default 500, max 1000)."""
    book = ex.book(p.get("symbol"))
    limit = _limit(p, 500, 1000)
    trades = book.trades
    order_id, from_id = _int(p, "orderId"), _int(p, "fromId")
    if order_id is not None:
        trades = [t for t in trades if t.order_id == order_id]
    if from_id is not None:
        if p.get("startTime") or p.get("endTime"):
            raise BinanceError.of("bad_combo")
        return [trade_json(t) for t in trades if t.trade_id >= from_id][:limit]
    start, end = _time_range(ex, p, ex.trades_window_ms)
    picked = [t for t in trades if start <= t.time_ms <= end]
    picked = picked[:limit] if p.get("startTime") else picked[-limit:]
    return [trade_json(t) for t in picked]


def income(ex: SimExchange, p: Params) -> list[JsonDict]:
    """GET /fapi/v1/income: "If neither startTime nor endTime is sent, the recent 7-day data
    will be returned"; oldest first, ``limit`` (default 100, max 1000)."""
    sym = p.get("symbol")
    kind = p.get("incomeType")
    recent = ex.now_ms - 7 * DAY_MS if not (p.get("startTime") or p.get("endTime")) else None
    rows = [
        i
        for i in ex.income
        if (not sym or i.symbol == sym.upper())
        and (not kind or i.income_type == kind)
        and (recent is None or i.time_ms >= recent)
    ]
    return [income_json(i) for i in _window(rows, lambda i: i.time_ms, p, _limit(p, 100, 1000))]


def set_leverage(ex: SimExchange, p: Params) -> JsonDict:
    lev = ex.set_leverage(p.get("symbol"), p.get("leverage"))
    return {"leverage": lev, "maxNotionalValue": "50000000", "symbol": p["symbol"].upper()}


def leverage_bracket(ex: SimExchange, p: Params) -> Any:
    rows = [
        {
            "symbol": s,
            "notionalCoef": 1.0,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": 125,
                    "notionalCap": 50_000_000,
                    "notionalFloor": 0,
                    "maintMarginRatio": float(MAINT_MARGIN_RATE),
                    "cum": 0.0,
                }
            ],
        }
        for s in _symbols(ex, p)
    ]
    return rows


def commission_rate(ex: SimExchange, p: Params) -> JsonDict:
    return {
        "symbol": ex.book(p.get("symbol")).spec.symbol,
        "makerCommissionRate": dec(ex.maker_fee),
        "takerCommissionRate": dec(ex.taker_fee),
    }


# ----------------------------------------------------------------------------- account
def _position(ex: SimExchange, symbol: str, *, v3: bool) -> JsonDict:
    book = ex.books[symbol]
    a = book.account
    mark = Decimal(repr(ex.mark_price(symbol)))
    notional = a.position * mark
    im = ex.position_margin(symbol)
    row: JsonDict = {
        "symbol": symbol,
        "positionSide": "BOTH",
        "positionAmt": dec(a.position),
        "entryPrice": dec(a.entry_price),
        "breakEvenPrice": dec(a.entry_price),
        "markPrice": dec(mark),
        "unRealizedProfit": dec(ex.unrealized(symbol)),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": dec(notional),
        "isolatedWallet": "0",
        "updateTime": ex.now_ms,
    }
    if v3:
        row.update(
            marginAsset="USDT",
            initialMargin=dec(im + ex.open_order_margin(symbol)),
            maintMargin=dec(abs(notional) * MAINT_MARGIN_RATE),
            positionInitialMargin=dec(im),
            openOrderInitialMargin=dec(ex.open_order_margin(symbol)),
            adl=0,
            bidNotional="0",
            askNotional="0",
        )
    else:
        row.update(
            leverage=str(book.leverage),
            maxNotionalValue="50000000",
            marginType="cross",
            isAutoAddMargin="false",
        )
    return row


def position_risk_v2(ex: SimExchange, p: Params) -> list[JsonDict]:
    return [_position(ex, s, v3=False) for s in _symbols(ex, p)]


def position_risk_v3(ex: SimExchange, p: Params) -> list[JsonDict]:
    """v3 lists only symbols with a position or open orders, as USD-M does."""
    return [
        _position(ex, s, v3=True)
        for s in _symbols(ex, p)
        if ex.books[s].account.position_lots != 0 or ex.open_orders(s)
    ]


def _usdt_totals(ex: SimExchange) -> dict[str, str]:
    wallet = ex.wallet_balance()
    unreal = sum((ex.unrealized(s) for s in ex.books), start=Decimal(0))
    pos_im = sum((ex.position_margin(s) for s in ex.books), start=Decimal(0))
    ord_im = sum((ex.open_order_margin(s) for s in ex.books), start=Decimal(0))
    notional = sum(
        (abs(ex.books[s].account.position) * Decimal(repr(ex.mark_price(s))) for s in ex.books),
        start=Decimal(0),
    )
    maint = notional * MAINT_MARGIN_RATE
    avail = ex.available_balance()
    return {
        "walletBalance": dec(wallet),
        "unrealizedProfit": dec(unreal),
        "marginBalance": dec(wallet + unreal),
        "maintMargin": dec(maint),
        "initialMargin": dec(pos_im + ord_im),
        "positionInitialMargin": dec(pos_im),
        "openOrderInitialMargin": dec(ord_im),
        "crossWalletBalance": dec(wallet),
        "crossUnPnl": dec(unreal),
        "availableBalance": dec(avail),
        "maxWithdrawAmount": dec(max(Decimal(0), min(avail, wallet))),
    }


def account(ex: SimExchange, p: Params, *, v3: bool = True) -> JsonDict:
    t = _usdt_totals(ex)
    asset = {"asset": "USDT", **t, "marginAvailable": True, "updateTime": ex.now_ms}
    totals = {
        "totalInitialMargin": t["initialMargin"],
        "totalMaintMargin": t["maintMargin"],
        "totalWalletBalance": t["walletBalance"],
        "totalUnrealizedProfit": t["unrealizedProfit"],
        "totalMarginBalance": t["marginBalance"],
        "totalPositionInitialMargin": t["positionInitialMargin"],
        "totalOpenOrderInitialMargin": t["openOrderInitialMargin"],
        "totalCrossWalletBalance": t["crossWalletBalance"],
        "totalCrossUnPnl": t["crossUnPnl"],
        "availableBalance": t["availableBalance"],
        "maxWithdrawAmount": t["maxWithdrawAmount"],
    }
    positions = []
    for s, b in ex.books.items():
        pos = _position(ex, s, v3=not v3)
        positions.append(
            {
                "symbol": s,
                "positionSide": "BOTH",
                "positionAmt": pos["positionAmt"],
                "entryPrice": pos["entryPrice"],
                "unrealizedProfit": pos["unRealizedProfit"],
                "notional": pos["notional"],
                "initialMargin": dec(ex.position_margin(s)),
                "maintMargin": dec(abs(Decimal(pos["notional"])) * MAINT_MARGIN_RATE),
                "isolatedMargin": "0",
                "isolatedWallet": "0",
                "leverage": str(b.leverage),
                "isolated": False,
                "updateTime": ex.now_ms,
            }
        )
    out: JsonDict = {**totals, "assets": [asset], "positions": positions}
    if not v3:
        out.update(canTrade=True, canDeposit=True, canWithdraw=True, feeTier=0, updateTime=0)
    return out


def account_v2(ex: SimExchange, p: Params) -> JsonDict:
    return account(ex, p, v3=False)


def balance(ex: SimExchange, p: Params) -> list[JsonDict]:
    t = _usdt_totals(ex)
    return [
        {
            "accountAlias": "sim",
            "asset": "USDT",
            "balance": t["walletBalance"],
            "crossWalletBalance": t["crossWalletBalance"],
            "crossUnPnl": t["crossUnPnl"],
            "availableBalance": t["availableBalance"],
            "maxWithdrawAmount": t["maxWithdrawAmount"],
            "marginAvailable": True,
            "updateTime": ex.now_ms,
        }
    ]


def spot_account(ex: SimExchange, p: Params) -> JsonDict:
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "updateTime": ex.now_ms,
        "accountType": "SPOT",
        "balances": [{"asset": a, "free": dec(v), "locked": "0"} for a, v in ex.spot.items()],
        "permissions": ["SPOT"],
    }


def server_time(ex: SimExchange, p: Params) -> JsonDict:
    """The exchange's one clock: the replay's market time (see ``SimServer.clock_ms``)."""
    return {"serverTime": int(p["_clock"])}


def position_side(ex: SimExchange, p: Params) -> JsonDict:
    """GET /fapi/v1/positionSide/dual: true in hedge mode, false in one-way mode."""
    return {"dualSidePosition": ex.dual_side}


def change_position_side(ex: SimExchange, p: Params) -> JsonDict:
    """POST /fapi/v1/positionSide/dual with ``dualSidePosition`` "true" / "false"."""
    value = (p.get("dualSidePosition") or "").lower()
    if value not in ("true", "false"):
        raise BinanceError.of("bad_param", "(dualSidePosition must be true or false)")
    ex.set_position_mode(value == "true")
    return {"code": 200, "msg": "success"}


def margin_type(ex: SimExchange, p: Params) -> JsonDict:
    """POST /fapi/v1/marginType: CROSSED or ISOLATED; -4046 if it is already so, -4047/-4048
    with open orders or a position, as USD-M answers. (Margin is still computed cross.)"""
    book = ex.book(p.get("symbol"))
    kind = (p.get("marginType") or "").upper()
    if kind not in ("CROSSED", "ISOLATED"):
        raise BinanceError.of("bad_param", "(marginType must be CROSSED or ISOLATED)")
    if kind == ex.margin_types.get(book.spec.symbol, "CROSSED"):
        raise BinanceError(400, -4046, "No need to change margin type.")
    if ex.open_orders(book.spec.symbol):
        raise BinanceError(400, -4047, "Margin type cannot be changed if there exists open orders.")
    if book.account.position_lots != 0:
        raise BinanceError(400, -4048, "Margin type cannot be changed if there exists position.")
    ex.margin_types[book.spec.symbol] = kind
    ex.touch_meta()
    return {"code": 200, "msg": "success"}


def symbol_config(ex: SimExchange, p: Params) -> list[JsonDict]:
    """GET /fapi/v1/symbolConfig: margin type and leverage per symbol."""
    return [
        {
            "symbol": s,
            "marginType": ex.margin_types.get(s, "CROSSED"),
            "isAutoAddMargin": "false",
            "leverage": ex.books[s].leverage,
            "maxNotionalValue": "50000000",
        }
        for s in _symbols(ex, p)
    ]


def account_config(ex: SimExchange, p: Params) -> JsonDict:
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "dualSidePosition": ex.dual_side,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
    }


def system_status(ex: SimExchange, p: Params) -> JsonDict:
    return {"status": 0, "msg": "normal"}


def capital_config(ex: SimExchange, p: Params) -> list[JsonDict]:
    """GET /sapi/v1/capital/config/getall: the coins of the account (ccxt's fetchCurrencies,
    part of ``load_markets`` with default options)."""
    coins = sorted({*ex.spot, "USDT", *(b.spec.base for b in ex.books.values())})
    return [
        {
            "coin": c,
            "name": c,
            "depositAllEnable": True,
            "withdrawAllEnable": True,
            "free": dec(ex.spot.get(c, Decimal(0))),
            "locked": "0",
            "freeze": "0",
            "withdrawing": "0",
            "ipoing": "0",
            "ipoable": "0",
            "storage": "0",
            "isLegalMoney": False,
            "trading": True,
            "networkList": [
                {
                    "network": c,
                    "coin": c,
                    "withdrawIntegerMultiple": "0.00000001",
                    "isDefault": True,
                    "depositEnable": True,
                    "withdrawEnable": True,
                    "depositDesc": "",
                    "withdrawDesc": "",
                    "name": c,
                    "resetAddressStatus": False,
                    "withdrawFee": "0",
                    "withdrawMin": "0",
                    "withdrawMax": "10000000000",
                    "minConfirm": 1,
                    "unLockConfirm": 0,
                    "sameAddress": False,
                }
            ],
        }
        for c in coins
    ]


def margin_pairs(ex: SimExchange, p: Params) -> list[JsonDict]:
    """GET /sapi/v1/margin/allPairs (and isolated/allPairs): ccxt's fetchMargins, part of
    ``load_markets`` with default options."""
    return [
        {
            "id": i + 1,
            "symbol": b.spec.symbol,
            "base": b.spec.base,
            "quote": b.spec.quote,
            "isMarginTrade": True,
            "isBuyAllowed": True,
            "isSellAllowed": True,
        }
        for i, b in enumerate(ex.books.values())
    ]


def public_trades(ex: SimExchange, p: Params, *, agg: bool) -> list[JsonDict]:
    """Public trades (/fapi/v1/trades, /fapi/v1/aggTrades): one print per closed bar, at its
    close price for its volume, at its close time; id = the bar index."""
    symbol = ex.book(p.get("symbol")).spec.symbol
    bars = ex.book(symbol).spec.bars
    limit = _limit(p, 500, 1000)
    rows: list[JsonDict] = []
    for k in range(max(0, ex.bar + 1 - 1000), ex.bar + 1):
        price, qty = _px(ex, symbol, bars.close[k]), _qty(ex, symbol, bars.volume[k])
        t = ex.bar_close_ms(k) - 1
        if agg:
            rows.append({"a": k, "p": price, "q": qty, "f": k, "l": k, "T": t, "m": False})
        else:
            quote = dec(Decimal(price) * Decimal(qty))
            rows.append(
                {
                    "id": k,
                    "price": price,
                    "qty": qty,
                    "quoteQty": quote,
                    "time": t,
                    "isBuyerMaker": False,
                }
            )
    from_id = _int(p, "fromId")
    if from_id is not None:
        return [r for r in rows if int(r["a" if agg else "id"]) >= from_id][:limit]
    key = "T" if agg else "time"
    return _window(rows, lambda r: int(r[key]), p, limit)


def ping(ex: SimExchange, p: Params) -> JsonDict:
    return {}


def _routes() -> list[Route]:
    def pub(method: str, path: str, h: Handler, weight: Weight = 1) -> Route:
        return Route(method, path, h, signed=False, weight=weight)

    def sig(method: str, path: str, h: Handler, weight: Weight = 1) -> Route:
        return Route(method, path, h, signed=True, weight=weight)

    def spot_info(ex: SimExchange, p: Params) -> JsonDict:
        return exchange_info(ex, p, futures=False)

    def trades(ex: SimExchange, p: Params) -> list[JsonDict]:
        return public_trades(ex, p, agg=False)

    def agg_trades(ex: SimExchange, p: Params) -> list[JsonDict]:
        return public_trades(ex, p, agg=True)

    routes = [
        pub("GET", "/fapi/v1/ping", ping),
        pub("GET", "/fapi/v1/time", server_time),
        pub("GET", "/fapi/v1/exchangeInfo", exchange_info),
        pub("GET", "/fapi/v1/ticker/24hr", ticker_24h, _by_symbol(1, 40)),
        pub("GET", "/fapi/v1/ticker/price", ticker_price, _by_symbol(1, 2)),
        pub("GET", "/fapi/v2/ticker/price", ticker_price, _by_symbol(1, 2)),
        pub("GET", "/fapi/v1/ticker/bookTicker", book_ticker, _by_symbol(2, 5)),
        pub("GET", "/fapi/v1/klines", klines, _kline_weight),
        pub("GET", "/fapi/v1/markPriceKlines", klines, _kline_weight),
        pub("GET", "/fapi/v1/indexPriceKlines", klines, _kline_weight),
        pub("GET", "/fapi/v1/depth", depth, _depth_weight),
        pub("GET", "/fapi/v1/premiumIndex", premium_index, _by_symbol(1, 10)),
        pub("GET", "/fapi/v1/fundingRate", funding_rate_history),
        pub("GET", "/fapi/v1/fundingInfo", funding_info),
        pub("GET", "/fapi/v1/trades", trades, 5),
        pub("GET", "/fapi/v1/aggTrades", agg_trades, 20),
        Route("POST", "/fapi/v1/order", new_order, signed=True, weight=0, order=True),
        sig("GET", "/fapi/v1/order", get_order),
        sig("DELETE", "/fapi/v1/order", cancel_order),
        sig("GET", "/fapi/v1/openOrder", get_open_order),
        Route("POST", "/fapi/v1/algoOrder", new_algo_order, signed=True, weight=0, order=True),
        sig("GET", "/fapi/v1/algoOrder", get_algo_order),
        sig("DELETE", "/fapi/v1/algoOrder", cancel_algo_order),
        sig("GET", "/fapi/v1/openAlgoOrders", open_algo_orders, _by_symbol(1, 40)),
        sig("GET", "/fapi/v1/allAlgoOrders", all_algo_orders, 5),
        sig("DELETE", "/fapi/v1/algoOpenOrders", cancel_all_algo),
        sig("GET", "/fapi/v1/openOrders", open_orders, _by_symbol(1, 40)),
        sig("DELETE", "/fapi/v1/allOpenOrders", cancel_all),
        sig("GET", "/fapi/v1/allOrders", all_orders, 5),
        sig("GET", "/fapi/v1/userTrades", user_trades, 5),
        sig("GET", "/fapi/v1/income", income, 30),
        sig("POST", "/fapi/v1/leverage", set_leverage),
        sig("POST", "/fapi/v1/marginType", margin_type),
        sig("GET", "/fapi/v1/positionSide/dual", position_side, 30),
        sig("POST", "/fapi/v1/positionSide/dual", change_position_side),
        sig("GET", "/fapi/v1/symbolConfig", symbol_config, 5),
        sig("GET", "/fapi/v1/accountConfig", account_config, 5),
        sig("GET", "/fapi/v1/leverageBracket", leverage_bracket),
        sig("GET", "/fapi/v1/commissionRate", commission_rate, 20),
        sig("GET", "/fapi/v2/account", account_v2, 5),
        sig("GET", "/fapi/v3/account", account, 5),
        sig("GET", "/fapi/v2/balance", balance, 5),
        sig("GET", "/fapi/v3/balance", balance, 5),
        sig("GET", "/fapi/v2/positionRisk", position_risk_v2, 5),
        sig("GET", "/fapi/v3/positionRisk", position_risk_v3, 5),
        pub("GET", "/api/v3/ping", ping),
        pub("GET", "/api/v3/time", server_time),
        pub("GET", "/api/v3/exchangeInfo", spot_info, 20),
        pub("GET", "/api/v3/ticker/24hr", ticker_24h_spot, _by_symbol(2, 80)),
        pub("GET", "/api/v3/ticker/price", ticker_price, _by_symbol(2, 4)),
        pub("GET", "/api/v3/ticker/bookTicker", book_ticker, _by_symbol(2, 4)),
        pub("GET", "/api/v3/klines", klines, 2),
        pub("GET", "/api/v3/depth", depth, _depth_weight),
        sig("GET", "/api/v3/account", spot_account, 20),
        pub("GET", "/sapi/v1/system/status", system_status),
        pub("GET", "/sapi/v1/margin/allPairs", margin_pairs),
        pub("GET", "/sapi/v1/margin/isolated/allPairs", margin_pairs, 10),
        sig("GET", "/sapi/v1/capital/config/getall", capital_config, 10),
    ]
    return routes


ROUTES: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in _routes()}
BYBIT: dict[tuple[str, str], Route] = {
    (m, path): Route(m, path, h, signed=signed, weight=0 if order else 1, order=order)
    for m, path, h, signed, order in BYBIT_ROUTES
}
DIALECTS = {"binance": ROUTES, "bybit": BYBIT}
"""The REST dialects the emulator speaks over the same engine (``gridhedge.sim.bybit``)."""


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without answering (the client sees a disconnect)."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=200)


class SimServer:
    """The emulator on 127.0.0.1: ``async with SimServer(exchange) as sim: sim.url``.

    ``secrets`` maps API key to secret (default ``sim-key``/``sim-secret``);
    ``bars_per_second`` > 0 advances the replay clock on its own; ``limits`` are the rate
    limits (default Binance USD-M's; ``Limits.lifted()`` for none); ``dialect``: the REST
    API spoken (``binance``, or ``bybit`` v5: see ``gridhedge.sim.bybit``).
    """

    def __init__(
        self,
        exchange: SimExchange,
        *,
        faults: Faults | None = None,
        secrets: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        bars_per_second: float = 0.0,
        limits: Limits | None = None,
        dialect: str = "binance",
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect: must be one of {sorted(DIALECTS)} (got {dialect!r})")
        self.dialect = dialect
        """Which exchange's REST API it speaks: ``binance`` (USD-M) or ``bybit`` (v5)."""
        self.exchange = exchange
        self.limits = limits if limits is not None else Limits()
        spot_weight = 6000 if self.limits.weight_per_minute else 0
        self.limiters = {
            "fapi": RateLimiter(self.limits),
            "api": RateLimiter(Limits(spot_weight, 0, 0)),
        }
        """USD-M (``/fapi``) and spot (``/api``, ``/sapi``: 6000 a minute) count apart."""
        self._clock_anchor = (exchange.bar, time.monotonic())
        self.faults = faults if faults is not None else Faults()
        self.secrets = dict(secrets) if secrets else {DEFAULT_API_KEY: DEFAULT_API_SECRET}
        self.host = host
        self.port = port
        self.bars_per_second = bars_per_second
        self.requests: deque[tuple[str, str]] = deque(maxlen=10_000)
        """(method, path) of the latest requests, newest last."""
        self.served: Counter[tuple[str, str]] = Counter()
        """How many requests each (method, path) received since the start (unbounded)."""
        self.unhandled: list[tuple[str, str]] = []
        self.app = create_app(self)
        self._runner: web.AppRunner | None = None
        self._auto: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def clock_ms(self) -> int:
        """The exchange's one clock, as ``/fapi/v1/time`` tells it: the replay's market time
        (the close of the last closed bar) running on with the wall clock since the replay
        last moved, never reaching the next bar's close. Every record the API returns is on
        the same clock (stamped at the market time it happened)."""
        ex = self.exchange
        bar, since = self._clock_anchor
        now = time.monotonic()
        if bar != ex.bar:
            self._clock_anchor = (ex.bar, now)
            since = now
        elapsed = int((now - since) * 1000)
        return ex.now_ms + min(elapsed, ex.timeframe_ms - 1)

    async def start(self) -> SimServer:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._auto = asyncio.create_task(self._auto_advance())
        logger.info("sim: listening on {} ({} symbols)", self.url, len(self.exchange.books))
        return self

    async def stop(self) -> None:
        if self._auto is not None:
            self._auto.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._auto
            self._auto = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def advance(self, bars: int = 1) -> int:
        """Advance the replay clock ``bars`` bars; returns how many trades they produced."""
        return len(self.exchange.advance(bars))

    async def _auto_advance(self) -> None:
        while True:
            if self.bars_per_second > 0 and self.exchange.bars_left > 0:
                await asyncio.sleep(1.0 / self.bars_per_second)
                self.exchange.advance(1)
            else:
                await asyncio.sleep(0.05)

    async def apply_faults(
        self, request: web.Request, fired: list[FaultRule]
    ) -> web.Response | None:
        """Sleep/answer/drop as the fired rules say; None lets the request proceed."""
        faults = self.faults
        for rule in fired:
            if rule.kind == "latency" and rule.latency_ms > 0:
                await asyncio.sleep(rule.latency_ms / 1000)
        now = time.monotonic()
        for rule in fired:
            if rule.kind == "ban":
                faults.banned_until = now + rule.retry_after_s
        if faults.banned_until > now:
            retry = max(1, round(faults.banned_until - now))
            if self.dialect == "bybit":  # an IP over its limit: HTTP 403 for a while
                return web.Response(status=403, text="access too frequent")
            body = error_body(-1003, f"Way too many requests; IP banned for {retry} s.")
            return _json(body, 418, {"Retry-After": str(retry)})
        for rule in fired:
            if rule.kind == "rate_limit":
                err = BinanceError.of("rate_limit")
                return self.refusal(err, 429, {"Retry-After": str(rule.retry_after_s)})
            if rule.kind == "server_error":
                return web.Response(status=rule.status, text="Service Unavailable")
            if rule.kind == "timeout":
                await asyncio.sleep(rule.hang_s)
                return _drop(request)
            if rule.kind == "reject":
                return self.refusal(BinanceError.of("overloaded"), 400)
        return None

    def refusal(
        self, e: BinanceError | BybitError, status: int, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        """An engine refusal in this dialect (Bybit: retCode in a 200 envelope, or 403)."""
        if self.dialect == "bybit":
            b = e if isinstance(e, BybitError) else bybit_error(e)
            body = envelope({}, self.clock_ms(), b.code, b.msg)
            return _json(body, b.status, headers)
        assert isinstance(e, BinanceError)
        return _json(e.body(), status, headers)


def _refuse(r: Refusal) -> web.Response:
    return _json(error_body(r.code, r.msg), r.status, r.headers)


async def _params(request: web.Request) -> tuple[str, str]:
    query = request.rel_url.raw_query_string
    body = await request.text() if request.can_read_body else ""
    return query, body


def create_app(sim: SimServer) -> web.Application:
    """The aiohttp app of ``sim``: the Binance routes, the admin routes, one dispatcher."""
    app = web.Application()

    async def dispatch(request: web.Request) -> web.Response:
        method, path = request.method, request.path
        sim.requests.append((method, path))
        sim.served[method, path] += 1
        route = DIALECTS[sim.dialect].get((method, path))
        if route is None:
            sim.unhandled.append((method, path))
            return _json(error_body(-1000, f"sim: no route for {method} {path}"), 404)
        bybit = sim.dialect == "bybit"
        fired = sim.faults.draw(method, path)
        faulted = await sim.apply_faults(request, fired)
        if faulted is not None:
            return faulted
        limiter = sim.limiters["fapi" if path.startswith("/fapi/") else "api"]
        headers: dict[str, str] = {}
        try:
            query, body = await _params(request)
            wall = sim.faults.server_time_ms()
            clock = sim.clock_ms()
            if route.signed and bybit:
                params = verify_bybit(
                    headers=request.headers,
                    query=query,
                    body=body,
                    method=method,
                    secrets=sim.secrets,
                    server_time_ms=wall,
                    alt_time_ms=clock,
                )
            elif route.signed:
                params = verify(
                    api_key=request.headers.get(API_KEY_HEADER),
                    query=query,
                    body=body,
                    secrets=sim.secrets,
                    server_time_ms=wall,
                    alt_time_ms=clock,
                )
            else:
                params = dict(request.query)
            refused = limiter.admit(route.weight_of(params))
            if refused is None and route.order:
                refused = limiter.order()
            if refused is not None:
                if bybit:
                    return sim.refusal(BybitError(10006, refused.msg, 403), 403, refused.headers)
                return _refuse(refused)
            headers = limiter.weight_headers()
            if route.order:
                headers.update(limiter.order_headers())
            params["_clock"] = str(clock)
            lim = sim.limits
            params["_limits"] = (
                f"{lim.weight_per_minute},{lim.orders_per_10s},{lim.orders_per_minute}"
            )
            result = route.handler(sim.exchange, params)
        except (BinanceError, BybitError) as e:
            return sim.refusal(e, getattr(e, "status", 400), headers or limiter.weight_headers())
        except GridHedgeError as e:
            if bybit:
                return sim.refusal(BybitError(10001, f"params error: {e}"), 200)
            return _json(error_body(-1102, str(e)), 400)
        except Exception:
            logger.exception("sim: {} {} failed", method, path)
            return _json(error_body(-1000, "An unknown error occurred."), 500)
        finally:
            sim.exchange.commit()
        if any(r.kind == "drop_after_accept" for r in fired):
            hang = max(r.hang_s for r in fired if r.kind == "drop_after_accept")
            await asyncio.sleep(hang)
            return _drop(request)
        if bybit:
            result = envelope(result, clock)
        return _json(result, headers=headers)

    async def admin(request: web.Request) -> web.Response:
        return await _admin(sim, request)

    app.router.add_route("*", "/_sim/{action:.*}", admin)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


async def _admin(sim: SimServer, request: web.Request) -> web.Response:
    action = request.match_info["action"]
    ex = sim.exchange
    data: dict[str, Any] = {}
    if request.can_read_body:
        data = await request.json()
    try:
        if action == "advance" and request.method == "POST":
            trades = ex.advance(int(data.get("bars", 1)))
            return _json({"bar": ex.bar, "time": ex.now_ms, "trades": len(trades)})
        if action == "state":
            return _json(state(ex))
        if action == "auto" and request.method == "POST":
            sim.bars_per_second = float(data.get("bars_per_second", 0.0))
            return _json({"bars_per_second": sim.bars_per_second})
        if action == "faults":
            if request.method == "DELETE":
                sim.faults.clear()
            elif request.method == "POST":
                if "clock_skew_ms" in data:
                    sim.faults.clock_skew_ms = int(data.pop("clock_skew_ms"))
                if "kind" in data:
                    sim.faults.add(**data)
            return _json(sim.faults.snapshot())
    except (GridHedgeError, TypeError, ValueError) as e:
        return _json(error_body(-1102, str(e)), 400)
    return _json(error_body(-1000, f"sim: no admin route {request.method} {action}"), 404)


def state(ex: SimExchange) -> JsonDict:
    """The emulator's books (exact decimal strings): clock, wallet and per-symbol account."""
    return {
        "bar": ex.bar,
        "time": ex.now_ms,
        "bars_left": ex.bars_left,
        "wallet_balance": dec(ex.wallet_balance()),
        "spot": {k: dec(v) for k, v in ex.spot.items()},
        "symbols": {
            s: {
                "position": dec(b.account.position),
                "entry_price": dec(b.account.entry_price),
                "realized_pnl": dec(b.account.realized_pnl),
                "fees": dec(b.account.fees),
                "funding": dec(b.account.funding),
                "open_orders": len(ex.open_orders(s)),
                "trades": len(b.trades),
            }
            for s, b in ex.books.items()
        },
    }
