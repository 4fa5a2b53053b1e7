"""The emulator's HTTP face: an aiohttp app speaking Binance USD-M futures' REST API (and the
spot endpoints that hold the inventory), so ccxt's unmodified ``binanceusdm``/``binance`` run
against it on 127.0.0.1.

Every request goes through one dispatcher: fault knobs, then (for signed routes) the API key,
HMAC signature and recvWindow check against the wall clock, then the route. Admin routes live
under ``/_sim`` (advance the replay clock, read the books, set fault knobs); they are neither
signed nor faulted. Unknown paths answer 404 and are recorded in ``SimServer.unhandled``.
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
from gridhedge.sim.engine import MAINT_MARGIN_RATE, SimExchange
from gridhedge.sim.faults import FaultRule, Faults
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
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    signed: bool


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
def exchange_info(ex: SimExchange, p: Params, *, futures: bool = True) -> JsonDict:
    return {
        "timezone": "UTC",
        "serverTime": int(time.time() * 1000),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 2400,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "0"}],
        "symbols": [symbol_json(b.spec, futures=futures) for b in ex.books.values()],
    }


def _ticker_24h(ex: SimExchange, symbol: str, *, spot: bool) -> JsonDict:
    bars = ex.book(symbol).spec.bars
    k = ex.bar
    first = max(0, k - DAY_MS // ex.timeframe_ms + 1)
    sl = slice(first, k + 1)
    o, last = float(bars.open[first]), float(bars.close[k])
    vol = bars.volume[sl]
    out: JsonDict = {
        "symbol": symbol,
        "priceChange": _num(last - o),
        "priceChangePercent": f"{(last / o - 1) * 100:.3f}",
        "weightedAvgPrice": _num(
            float(np.sum(bars.close[sl] * vol) / np.sum(vol)) if np.sum(vol) > 0 else last
        ),
        "lastPrice": _num(last),
        "lastQty": "0",
        "openPrice": _num(o),
        "highPrice": _num(float(np.max(bars.high[sl]))),
        "lowPrice": _num(float(np.min(bars.low[sl]))),
        "volume": _num(float(np.sum(vol))),
        "quoteVolume": _num(float(np.sum(bars.close[sl] * vol))),
        "openTime": int(bars.open_time_ms[first]),
        "closeTime": ex.now_ms - 1,
        "firstId": 0,
        "lastId": 0,
        "count": k - first + 1,
    }
    if spot:
        bid, ask = _bid_ask(ex, symbol)
        out.update(bidPrice=dec(bid), askPrice=dec(ask), bidQty="1", askQty="1")
    return out


def _bid_ask(ex: SimExchange, symbol: str) -> tuple[Decimal, Decimal]:
    """Best bid = the last price snapped down, best ask one tick above."""
    bid = ex.last_price(symbol)
    return bid, bid + ex.book(symbol).spec.market.tick_size


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
        bid, ask = _bid_ask(ex, s)
        rows.append(
            {
                "symbol": s,
                "bidPrice": dec(bid),
                "bidQty": "1",
                "askPrice": dec(ask),
                "askQty": "1",
                "time": ex.now_ms,
            }
        )
    return _one_or_all(p, rows)


def depth(ex: SimExchange, p: Params) -> JsonDict:
    """A synthetic book around the last price: ``limit`` levels a side, one tick apart, each
    holding a share of the last bar's volume (snapped to the lot, at least one lot)."""
    book = ex.book(p.get("symbol"))
    m = book.spec.market
    n = _limit(p, 500, 1000)
    bid, ask = _bid_ask(ex, book.spec.symbol)
    qty = max(m.round_amount(float(book.spec.bars.volume[ex.bar]) / 50), m.lot_size)
    return {
        "lastUpdateId": ex.bar,
        "E": ex.now_ms,
        "T": ex.now_ms,
        "bids": [
            [dec(bid - i * m.tick_size), dec(qty)] for i in range(n) if bid - i * m.tick_size > 0
        ],
        "asks": [[dec(ask + i * m.tick_size), dec(qty)] for i in range(n)],
    }


def klines(ex: SimExchange, p: Params) -> list[list[Any]]:
    """Closed bars (and, for a coarser interval, the group in progress), native or aggregated
    to any listed interval that is a multiple of the replay's timeframe."""
    bars = ex.book(p.get("symbol")).spec.bars
    iv = INTERVALS_MS.get(p.get("interval", ""))
    if iv is None or iv % ex.timeframe_ms != 0:
        raise BinanceError.of("bad_interval")
    k = ex.bar + 1
    times = bars.open_time_ms[:k]
    keys = times // iv
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], k] - 1
    rows: list[list[Any]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        t = int(keys[s]) * iv
        vol = float(np.sum(bars.volume[s : e + 1]))
        qv = float(np.sum(bars.volume[s : e + 1] * bars.close[s : e + 1]))
        rows.append(
            [
                t,
                _num(bars.open[s]),
                _num(float(np.max(bars.high[s : e + 1]))),
                _num(float(np.min(bars.low[s : e + 1]))),
                _num(bars.close[e]),
                _num(vol),
                t + iv - 1,
                _num(qv),
                e - s + 1,
                _num(vol / 2),
                _num(qv / 2),
                "0",
            ]
        )
    return _window(rows, lambda r: int(r[0]), p, _limit(p, 500, 1500))


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
    if order is None:
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


def all_orders(ex: SimExchange, p: Params) -> list[JsonDict]:
    book = ex.book(p.get("symbol"))
    since_id = _int(p, "orderId")
    orders = [
        o
        for o in book.orders.values()
        if not o.algo and (since_id is None or o.order_id >= since_id)
    ]
    return [order_json(o) for o in _window(orders, lambda o: o.time_ms, p, _limit(p, 500, 1000))]


def user_trades(ex: SimExchange, p: Params) -> list[JsonDict]:
    book = ex.book(p.get("symbol"))
    trades = book.trades
    order_id, from_id = _int(p, "orderId"), _int(p, "fromId")
    if order_id is not None:
        trades = [t for t in trades if t.order_id == order_id]
    if from_id is not None:
        trades = [t for t in trades if t.trade_id >= from_id]
        return [trade_json(t) for t in trades[: _limit(p, 500, 1000)]]
    return [trade_json(t) for t in _window(trades, lambda t: t.time_ms, p, _limit(p, 500, 1000))]


def income(ex: SimExchange, p: Params) -> list[JsonDict]:
    sym = p.get("symbol")
    kind = p.get("incomeType")
    rows = [
        i
        for i in ex.income
        if (not sym or i.symbol == sym.upper()) and (not kind or i.income_type == kind)
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
    return {"serverTime": p["_server_time"]}


def ping(ex: SimExchange, p: Params) -> JsonDict:
    return {}


def _routes() -> list[Route]:
    def pub(method: str, path: str, h: Handler) -> Route:
        return Route(method, path, h, signed=False)

    def sig(method: str, path: str, h: Handler) -> Route:
        return Route(method, path, h, signed=True)

    def spot_info(ex: SimExchange, p: Params) -> JsonDict:
        return exchange_info(ex, p, futures=False)

    routes = [
        pub("GET", "/fapi/v1/ping", ping),
        pub("GET", "/fapi/v1/time", server_time),
        pub("GET", "/fapi/v1/exchangeInfo", exchange_info),
        pub("GET", "/fapi/v1/ticker/24hr", ticker_24h),
        pub("GET", "/fapi/v1/ticker/price", ticker_price),
        pub("GET", "/fapi/v2/ticker/price", ticker_price),
        pub("GET", "/fapi/v1/ticker/bookTicker", book_ticker),
        pub("GET", "/fapi/v1/klines", klines),
        pub("GET", "/fapi/v1/markPriceKlines", klines),
        pub("GET", "/fapi/v1/indexPriceKlines", klines),
        pub("GET", "/fapi/v1/depth", depth),
        pub("GET", "/fapi/v1/premiumIndex", premium_index),
        pub("GET", "/fapi/v1/fundingRate", funding_rate_history),
        pub("GET", "/fapi/v1/fundingInfo", funding_info),
        sig("POST", "/fapi/v1/order", new_order),
        sig("GET", "/fapi/v1/order", get_order),
        sig("DELETE", "/fapi/v1/order", cancel_order),
        sig("GET", "/fapi/v1/openOrder", get_open_order),
        sig("POST", "/fapi/v1/algoOrder", new_algo_order),
        sig("GET", "/fapi/v1/algoOrder", get_algo_order),
        sig("DELETE", "/fapi/v1/algoOrder", cancel_algo_order),
        sig("GET", "/fapi/v1/openAlgoOrders", open_algo_orders),
        sig("GET", "/fapi/v1/allAlgoOrders", all_algo_orders),
        sig("DELETE", "/fapi/v1/algoOpenOrders", cancel_all_algo),
        sig("GET", "/fapi/v1/openOrders", open_orders),
        sig("DELETE", "/fapi/v1/allOpenOrders", cancel_all),
        sig("GET", "/fapi/v1/allOrders", all_orders),
        sig("GET", "/fapi/v1/userTrades", user_trades),
        sig("GET", "/fapi/v1/income", income),
        sig("POST", "/fapi/v1/leverage", set_leverage),
        sig("GET", "/fapi/v1/leverageBracket", leverage_bracket),
        sig("GET", "/fapi/v1/commissionRate", commission_rate),
        sig("GET", "/fapi/v2/account", account_v2),
        sig("GET", "/fapi/v3/account", account),
        sig("GET", "/fapi/v2/balance", balance),
        sig("GET", "/fapi/v3/balance", balance),
        sig("GET", "/fapi/v2/positionRisk", position_risk_v2),
        sig("GET", "/fapi/v3/positionRisk", position_risk_v3),
        pub("GET", "/api/v3/ping", ping),
        pub("GET", "/api/v3/time", server_time),
        pub("GET", "/api/v3/exchangeInfo", spot_info),
        pub("GET", "/api/v3/ticker/24hr", ticker_24h_spot),
        pub("GET", "/api/v3/ticker/price", ticker_price),
        pub("GET", "/api/v3/ticker/bookTicker", book_ticker),
        pub("GET", "/api/v3/klines", klines),
        pub("GET", "/api/v3/depth", depth),
        sig("GET", "/api/v3/account", spot_account),
    ]
    return routes


ROUTES: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in _routes()}


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
    ``bars_per_second`` > 0 advances the replay clock on its own.
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
    ) -> None:
        self.exchange = exchange
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
            body = error_body(-1003, f"Way too many requests; IP banned for {retry} s.")
            return _json(body, 418, {"Retry-After": str(retry)})
        for rule in fired:
            if rule.kind == "rate_limit":
                err = BinanceError.of("rate_limit")
                return _json(err.body(), 429, {"Retry-After": str(rule.retry_after_s)})
            if rule.kind == "server_error":
                return web.Response(status=rule.status, text="Service Unavailable")
            if rule.kind == "timeout":
                await asyncio.sleep(rule.hang_s)
                return _drop(request)
            if rule.kind == "reject":
                return _json(BinanceError.of("overloaded").body(), 400)
        return None


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
        route = ROUTES.get((method, path))
        if route is None:
            sim.unhandled.append((method, path))
            return _json(error_body(-1000, f"sim: no route for {method} {path}"), 404)
        fired = sim.faults.draw(method, path)
        faulted = await sim.apply_faults(request, fired)
        if faulted is not None:
            return faulted
        try:
            query, body = await _params(request)
            server_time = sim.faults.server_time_ms()
            if route.signed:
                params = verify(
                    api_key=request.headers.get(API_KEY_HEADER),
                    query=query,
                    body=body,
                    secrets=sim.secrets,
                    server_time_ms=server_time,
                )
            else:
                params = dict(request.query)
            params["_server_time"] = str(server_time)
            result = route.handler(sim.exchange, params)
        except BinanceError as e:
            return _json(e.body(), e.status)
        except GridHedgeError as e:
            return _json(error_body(-1102, str(e)), 400)
        except Exception:
            logger.exception("sim: {} {} failed", method, path)
            return _json(error_body(-1000, "An unknown error occurred."), 500)
        if any(r.kind == "drop_after_accept" for r in fired):
            hang = max(r.hang_s for r in fired if r.kind == "drop_after_accept")
            await asyncio.sleep(hang)
            return _drop(request)
        return _json(result)

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
