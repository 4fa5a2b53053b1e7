# ruff: noqa: E501  (the conformance table in the docstring is one row a line)
"""The emulator's Bybit v5 dialect: the same ``SimExchange`` (matching engine, fill model,
accounts) answered as Bybit's v5 REST API, so ccxt's unmodified ``bybit`` class drives it.

Sources: bybit-exchange.github.io/docs/v5 (guide: authentication; error; market:
instrument, tickers, kline, time; order: create-order, cancel-order, open-order, order-list;
position; execution; account: wallet-balance) and ccxt's ``bybit.py`` (what it sends, what its
parsers read, which retCode becomes which exception). Tests: ``tests/test_sim_bybit.py``.

| behaviour | Bybit v5 rule | test |
|---|---|---|
| signing | ``X-BAPI-API-KEY``/``-TIMESTAMP``/``-RECV-WINDOW``/``-SIGN``: hex HMAC-SHA256 of timestamp + key + recvWindow + (query string, or the JSON body of a POST); bad key 10003, bad sign 10004 | ``test_signing_errors_are_bybit_codes`` |
| receive window | ``server_time - recv_window <= timestamp < server_time + 1000``, else 10002 (ccxt InvalidNonce) | ``test_signing_errors_are_bybit_codes`` |
| envelope | HTTP 200 ``{"retCode":0,"retMsg":"OK","result":{...},"retExtInfo":{},"time":ms}``; a refusal has retCode != 0 | ``test_every_call_of_the_bot_through_ccxt_bybit`` |
| orderLinkId | at most 36 of ``[A-Za-z0-9_-]``; a live duplicate 110072 (ccxt InvalidOrder) | ``test_duplicate_order_link_id_is_110072`` |
| unknown order | 110001 "order not exists or too late to cancel" (ccxt OrderNotFound) | ``test_duplicate_order_link_id_is_110072`` |
| conditional order | ``triggerPrice`` + ``triggerDirection`` (1 rise, 2 fall), status ``Untriggered``; listed by ``order/realtime`` | ``test_every_call_of_the_bot_through_ccxt_bybit`` |
| execution list | ``startTime``/``endTime`` at most 7 days apart (10001), none: the last 7 days; ``limit`` <= 100; ``nextPageCursor`` pages | ``test_execution_list_seven_days_and_cursor`` |
| other refusals | filter, margin and reduce-only failures keep the engine's rule with Bybit's codes (``RET_CODES``) | ``test_engine_refusals_carry_bybit_codes`` |

Not emulated: hedge-mode positions (a hedge-mode account, ``SimExchange.dual_side``, lists its two
legs at size 0 and refuses ``positionIdx`` 0 with 10001; legs 1/2 are refused too), classic
accounts, the spot order routes (the
inventory is read from the unified wallet), Bybit's own rate-limit figures (the Binance limiter
counts, refusals answer 10006), websocket streams.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from gridhedge.sim.binance_format import BinanceError, JsonDict, dec
from gridhedge.sim.engine import SimExchange, SimOrder, SimTrade

__all__ = ["BYBIT_ROUTES", "RET_CODES", "BybitError", "bybit_error", "envelope", "verify_bybit"]

Params = dict[str, str]
WEEK_MS = 7 * 24 * 3600 * 1000
FUTURE_TOLERANCE_MS = 1000
DEFAULT_RECV_WINDOW_MS = 5000

INTERVALS = {
    "1": "1m",
    "3": "3m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "240": "4h",
    "360": "6h",
    "720": "12h",
    "D": "1d",
    "W": "1w",
    "M": "1M",
}
"""Bybit kline ``interval`` -> the engine's (Binance) interval name."""

RET_CODES: dict[int, tuple[int, str]] = {
    -2011: (110001, "order not exists or too late to cancel"),
    -2013: (110001, "order not exists or too late to cancel"),
    -4116: (110072, "OrderLinkedID is duplicate"),
    -2019: (110007, "ab not enough for new order"),
    -4164: (110094, "Order does not meet minimum order value"),
    -2022: (110017, "current position is zero, cannot fix reduce-only order qty"),
    -2021: (110092, "expect Rising, but trigger_price[{}] <= current[{}]"),
    -2025: (10001, "The number of active orders exceeds the upper limit"),
    -4045: (110009, "The number of stop orders exceeds maximum limit allowed"),
    -5022: (110084, "post only order will take liquidity"),
    -1003: (10006, "Too many visits. Exceeded the API Rate Limit."),
    -1015: (10006, "Too many visits. Exceeded the API Rate Limit."),
    -1008: (10016, "Server error."),
    -1000: (10016, "Server error."),
    -1021: (10002, "invalid request, please check your server timestamp or recv_window param"),
    -1022: (10004, "error sign!"),
    -2015: (10003, "API key is invalid."),
    -1121: (10001, "params error: symbol invalid"),
}
"""The engine's (Binance) refusal -> Bybit's retCode and retMsg (Bybit v5 error page; ccxt's
``bybit.exceptions`` maps 110001 OrderNotFound, 110072 InvalidOrder, 110007 InsufficientFunds,
10002 InvalidNonce, 10003/10004 AuthenticationError, 10006 RateLimitExceeded). Any other
refusal is 10001 (params error) with the engine's message."""


class BybitError(Exception):
    """A refusal answered as Bybit does: HTTP status and ``retCode``/``retMsg``."""

    def __init__(self, code: int, msg: str, status: int = 200) -> None:
        self.code = code
        self.msg = msg
        self.status = status
        super().__init__(f"{code}: {msg}")


def bybit_error(e: BinanceError) -> BybitError:
    """The Bybit refusal of an engine (Binance-coded) refusal."""
    code, msg = RET_CODES.get(e.code, (10001, f"params error: {e.msg}"))
    return BybitError(code, msg, 403 if code == 10006 else 200)


def envelope(result: Any, time_ms: int, code: int = 0, msg: str = "OK") -> JsonDict:
    """Bybit v5's response envelope."""
    return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": time_ms}


def verify_bybit(
    *,
    headers: Mapping[str, str],
    query: str,
    body: str,
    method: str,
    secrets: Mapping[str, str],
    server_time_ms: int,
    alt_time_ms: int | None = None,
) -> Params:
    """Check a v5 private request (Bybit's authentication guide); returns its parameters
    (the query's, or the JSON body's of a POST)."""
    key = headers.get("X-BAPI-API-KEY")
    if not key or key not in secrets:
        raise BybitError(10003, "API key is invalid.")
    try:
        timestamp = int(headers.get("X-BAPI-TIMESTAMP", ""))
        window = int(headers.get("X-BAPI-RECV-WINDOW") or DEFAULT_RECV_WINDOW_MS)
    except ValueError:
        raise BybitError(10001, "params error: X-BAPI-TIMESTAMP") from None
    payload = f"{timestamp}{key}{window}" + (body if method == "POST" else query)
    expected = hmac.new(secrets[key].encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, (headers.get("X-BAPI-SIGN") or "").lower()):
        raise BybitError(10004, "error sign! origin_string[" + payload + "]")
    clocks = [server_time_ms] if alt_time_ms is None else [server_time_ms, alt_time_ms]
    if not any(now - window <= timestamp < now + FUTURE_TOLERANCE_MS for now in clocks):
        raise BybitError(
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{server_time_ms}],"
            f"recv_window[{window}]",
        )
    if method == "POST":
        try:
            data = json.loads(body or "{}")
        except ValueError:
            raise BybitError(10001, "params error: body is not JSON") from None
        return {k: _text(v) for k, v in data.items()}
    return dict(parse_qsl(query, keep_blank_values=True))


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _category(p: Params) -> str:
    cat = p.get("category", "")
    if cat not in ("linear", "spot"):
        raise BybitError(10001, f"params error: category {cat!r} not supported")
    return cat


def _symbol(ex: SimExchange, p: Params) -> str:
    sym = p.get("symbol") or ""
    if sym.upper() not in ex.books:
        raise BybitError(10001, "params error: symbol invalid")
    return sym.upper()


# ------------------------------------------------------------------------------- market
def instruments(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/market/instruments-info (linear perpetuals; spot pairs of the inventory)."""
    cat = _category(p)
    rows: list[JsonDict] = []
    for sym, book in ex.books.items():
        spec, m = book.spec, book.spec.market
        if cat == "linear":
            rows.append(
                {
                    "symbol": sym,
                    "contractType": "LinearPerpetual",
                    "status": "Trading",
                    "baseCoin": spec.base,
                    "quoteCoin": spec.quote,
                    "settleCoin": spec.quote,
                    "launchTime": str(int(spec.bars.open_time_ms[0])),
                    "deliveryTime": "0",
                    "deliveryFeeRate": "",
                    "priceScale": str(spec.price_places),
                    "leverageFilter": {
                        "minLeverage": "1",
                        "maxLeverage": "100.00",
                        "leverageStep": "0.01",
                    },
                    "priceFilter": {
                        "minPrice": dec(m.tick_size),
                        "maxPrice": dec(spec.max_price),
                        "tickSize": dec(m.tick_size),
                    },
                    "lotSizeFilter": {
                        "maxOrderQty": dec(spec.max_qty),
                        "maxMktOrderQty": dec(spec.max_qty),
                        "minOrderQty": dec(m.min_qty),
                        "qtyStep": dec(m.lot_size),
                        "postOnlyMaxOrderQty": dec(spec.max_qty),
                        "minNotionalValue": dec(m.min_notional),
                    },
                    "unifiedMarginTrade": True,
                    "fundingInterval": 480,
                    "copyTrading": "both",
                    "upperFundingRate": "0.00375",
                    "lowerFundingRate": "-0.00375",
                }
            )
        else:
            rows.append(
                {
                    "symbol": sym,
                    "baseCoin": spec.base,
                    "quoteCoin": spec.quote,
                    "innovation": "0",
                    "status": "Trading",
                    "marginTrading": "none",
                    "lotSizeFilter": {
                        "basePrecision": dec(m.lot_size),
                        "quotePrecision": "0.00000001",
                        "minOrderQty": dec(m.min_qty),
                        "maxOrderQty": dec(spec.max_qty),
                        "minOrderAmt": dec(m.min_notional),
                        "maxOrderAmt": "10000000",
                    },
                    "priceFilter": {"tickSize": dec(m.tick_size)},
                }
            )
    return {"category": cat, "list": rows, "nextPageCursor": ""}


def tickers(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/market/tickers: last/mark/index price, 24 h figures, funding rate and time."""
    from gridhedge.sim.server import _premium, _ticker_24h

    cat = _category(p)
    syms = [_symbol(ex, p)] if p.get("symbol") else list(ex.books)
    rows = []
    for sym in syms:
        t = _ticker_24h(ex, sym, spot=True)
        prem = _premium(ex, sym)
        row = {
            "symbol": sym,
            "lastPrice": t["lastPrice"],
            "indexPrice": prem["indexPrice"],
            "markPrice": prem["markPrice"],
            "prevPrice24h": t["openPrice"],
            "price24hPcnt": str(Decimal(t["priceChangePercent"]) / 100),
            "highPrice24h": t["highPrice"],
            "lowPrice24h": t["lowPrice"],
            "volume24h": t["volume"],
            "turnover24h": t["quoteVolume"],
            "bid1Price": t["bidPrice"],
            "bid1Size": t["bidQty"],
            "ask1Price": t["askPrice"],
            "ask1Size": t["askQty"],
        }
        if cat == "linear":
            row.update(
                fundingRate=prem["lastFundingRate"],
                nextFundingTime=str(prem["nextFundingTime"]),
                openInterest="0",
                openInterestValue="0",
            )
        rows.append(row)
    return {"category": cat, "list": rows}


def kline(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/market/kline: ``[startTime, open, high, low, close, volume, turnover]``, newest
    first; ``limit`` default 200, max 1000; ``start``/``end`` in ms."""
    from gridhedge.sim.server import klines

    cat = _category(p)
    sym = _symbol(ex, p)
    interval = INTERVALS.get(p.get("interval", ""))
    if interval is None:
        raise BybitError(10001, "params error: interval invalid")
    limit = min(int(p.get("limit") or 200), 1000)
    q: Params = {"symbol": sym, "interval": interval, "limit": str(limit)}
    if p.get("start"):
        q["startTime"] = p["start"]
    if p.get("end"):
        q["endTime"] = p["end"]
    rows = klines(ex, q)
    out = [[str(r[0]), r[1], r[2], r[3], r[4], r[5], r[7]] for r in rows]
    return {"category": cat, "symbol": sym, "list": out[::-1]}


def server_time(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/market/time."""
    now = int(p["_clock"])
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


# ------------------------------------------------------------------------------- orders
ORDER_STATUS = {
    "NEW": "New",
    "PARTIALLY_FILLED": "PartiallyFilled",
    "FILLED": "Filled",
    "CANCELED": "Cancelled",
    "EXPIRED": "Cancelled",
    "REJECTED": "Rejected",
}
STOP_STATUS = {"NEW": "Untriggered", "FILLED": "Triggered", "CANCELED": "Deactivated"}


def order_json(o: SimOrder) -> JsonDict:
    """An order as ``order/realtime`` and ``order/history`` list it."""
    status = (STOP_STATUS if o.algo else ORDER_STATUS).get(o.status, "Cancelled")
    return {
        "orderId": str(o.order_id),
        "orderLinkId": o.client_order_id,
        "symbol": o.symbol,
        "price": dec(o.price) if o.type == "LIMIT" else "0",
        "qty": dec(o.orig_qty),
        "side": "Buy" if o.side == "BUY" else "Sell",
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": status,
        "cancelType": "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": dec(o.avg_price) if o.executed_qty else "",
        "leavesQty": dec(o.orig_qty - o.executed_qty) if o.live else "0",
        "leavesValue": "0",
        "cumExecQty": dec(o.executed_qty),
        "cumExecValue": dec(o.cum_quote),
        "cumExecFee": "0",
        "timeInForce": {"GTX": "PostOnly"}.get(o.time_in_force, o.time_in_force),
        "orderType": "Limit" if o.type == "LIMIT" else "Market",
        "stopOrderType": "Stop" if o.algo else "",
        "orderIv": "",
        "triggerPrice": dec(o.stop_price) if o.algo else "",
        "takeProfit": "",
        "stopLoss": "",
        "triggerBy": "LastPrice" if o.algo else "",
        "triggerDirection": (1 if o.side == "BUY" else 2) if o.algo else 0,
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": False,
        "createdTime": str(o.time_ms),
        "updatedTime": str(o.update_time_ms),
    }


def create_order(ex: SimExchange, p: Params) -> JsonDict:
    """POST /v5/order/create (category linear, one-way mode): Limit/Market, ``timeInForce``
    GTC/IOC/FOK/PostOnly, ``reduceOnly``, ``orderLinkId``; with ``triggerPrice`` a conditional
    (stop-market) order whose ``triggerDirection`` must match its side's stop."""
    if _category(p) != "linear":
        raise BybitError(10001, "params error: only category linear trades here")
    sym = _symbol(ex, p)
    side = {"Buy": "BUY", "Sell": "SELL"}.get(p.get("side", ""))
    if side is None:
        raise BybitError(10001, "params error: side invalid")
    idx = p.get("positionIdx") or "0"
    if idx not in ("0", "1", "2") or (idx == "0") == ex.dual_side:
        # one-way mode takes positionIdx 0, hedge mode 1 (Buy leg) or 2 (Sell leg)
        raise BybitError(10001, "params error: position idx not match position mode")
    if idx != "0":
        raise BybitError(10001, "params error: hedge-mode positions are not emulated")
    otype = {"Limit": "LIMIT", "Market": "MARKET"}.get(p.get("orderType", ""))
    if otype is None:
        raise BybitError(10001, "params error: orderType invalid")
    tif = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "GTX"}.get(
        p.get("timeInForce") or "GTC"
    )
    if tif is None:
        raise BybitError(10001, "params error: timeInForce invalid")
    link = p.get("orderLinkId", "")
    if len(link) > 36:
        raise BybitError(10001, "params error: orderLinkId length over 36")
    q: Params = {"symbol": sym, "side": side, "quantity": p.get("qty", "")}
    if link:
        q["newClientOrderId"] = link
    if p.get("reduceOnly") == "true":
        q["reduceOnly"] = "true"
    if p.get("triggerPrice"):
        want = "1" if side == "BUY" else "2"
        if p.get("triggerDirection") != want:
            raise BybitError(
                10001, "params error: triggerDirection must be 1 (rise) for a buy stop, 2 (fall)"
            )
        if otype != "MARKET":
            raise BybitError(10001, "params error: only conditional market orders are emulated")
        q.update(algoType="CONDITIONAL", type="STOP_MARKET", triggerPrice=p["triggerPrice"])
        order = ex.place_algo_order(q)
    else:
        q["type"] = otype
        if otype == "LIMIT":
            q.update(price=p.get("price", ""), timeInForce=tif)
        order = ex.place_order(q)
    return {"orderId": str(order.order_id), "orderLinkId": order.client_order_id}


def _find(ex: SimExchange, p: Params) -> SimOrder | None:
    sym = _symbol(ex, p)
    oid, link = p.get("orderId") or None, p.get("orderLinkId") or None
    if not (oid or link):
        raise BybitError(10001, "params error: orderId or orderLinkId is required")
    for algo in (False, True):
        try:
            found = ex.find_order(sym, oid, link, algo=algo)
        except BinanceError:
            raise BybitError(10001, "params error: orderId invalid") from None
        if found is not None:
            return found
    return None


def cancel_order(ex: SimExchange, p: Params) -> JsonDict:
    """POST /v5/order/cancel by ``orderId`` or ``orderLinkId``; 110001 when not live."""
    _category(p)
    found = _find(ex, p)
    if found is None or not found.live:
        raise BybitError(110001, "order not exists or too late to cancel")
    ex.cancel_order(found.symbol, str(found.order_id), None, algo=found.algo)
    return {"orderId": str(found.order_id), "orderLinkId": found.client_order_id}


def _page(rows: list[JsonDict], p: Params, default: int, maximum: int) -> JsonDict:
    """A page of ``rows`` after ``cursor`` (an offset) with ``nextPageCursor``."""
    limit = min(int(p.get("limit") or default), maximum)
    start = int(p.get("cursor") or 0)
    page = rows[start : start + limit]
    more = start + limit < len(rows)
    return {"list": page, "nextPageCursor": str(start + limit) if more else ""}


def _select(ex: SimExchange, p: Params, rows: list[SimOrder]) -> list[SimOrder]:
    if p.get("orderId"):
        rows = [o for o in rows if str(o.order_id) == p["orderId"]]
    if p.get("orderLinkId"):
        rows = [o for o in rows if o.client_order_id == p["orderLinkId"]]
    if p.get("orderFilter") == "StopOrder":
        rows = [o for o in rows if o.algo]
    elif p.get("orderFilter") == "Order":
        rows = [o for o in rows if not o.algo]
    return sorted(rows, key=lambda o: -o.order_id)  # newest first


def realtime(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/order/realtime: live orders (plain and conditional), newest first;
    ``openOnly=1``: the recent closed ones instead (up to 500)."""
    cat = _category(p)
    sym = _symbol(ex, p) if p.get("symbol") else None
    books = [ex.books[sym]] if sym else list(ex.books.values())
    every = [o for b in books for o in b.orders.values()]
    rows = (
        [o for o in every if o.live]
        if p.get("openOnly", "0") == "0"
        else [o for o in every if not o.live][-500:]
    )
    out = _page([order_json(o) for o in _select(ex, p, rows)], p, 20, 50)
    return {"category": cat, **out}


def history(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/order/history: orders no longer live (filled, cancelled, triggered), newest
    first."""
    cat = _category(p)
    sym = _symbol(ex, p) if p.get("symbol") else None
    books = [ex.books[sym]] if sym else list(ex.books.values())
    rows = [o for b in books for o in b.orders.values() if not o.live]
    out = _page([order_json(o) for o in _select(ex, p, rows)], p, 20, 50)
    return {"category": cat, **out}


# ------------------------------------------------------------------------------- account
def trade_json(ex: SimExchange, t: SimTrade) -> JsonDict:
    """A trade as ``execution/list`` lists it (``execFee`` > 0 paid, < 0 rebate)."""
    order = ex.books[t.symbol].orders.get(t.order_id)
    return {
        "symbol": t.symbol,
        "orderId": str(t.order_id),
        "orderLinkId": order.client_order_id if order is not None else "",
        "side": "Buy" if t.side == "BUY" else "Sell",
        "orderPrice": dec(order.price) if order is not None else "0",
        "orderQty": dec(order.orig_qty) if order is not None else "0",
        "orderType": "Limit" if order is not None and order.type == "LIMIT" else "Market",
        "stopOrderType": "Stop" if order is not None and order.algo else "UNKNOWN",
        "execFee": dec(t.commission),
        "execId": str(t.trade_id),
        "execPrice": dec(t.price),
        "execQty": dec(t.qty),
        "execType": "Trade",
        "execValue": dec(t.quote_qty),
        "execTime": str(t.time_ms),
        "feeCurrency": "USDT",
        "isMaker": t.maker,
        "feeRate": "0",
        "markPrice": dec(t.price),
        "closedSize": "0",
        "seq": t.trade_id,
    }


def _span(ex: SimExchange, p: Params) -> tuple[int, int]:
    """Execution list: "startTime and endTime: the time range ... should be within 7 days";
    neither: the last 7 days; one: 7 days from/to it."""
    start = int(p["startTime"]) if p.get("startTime") else None
    end = int(p["endTime"]) if p.get("endTime") else None
    now = int(p["_clock"])
    if start is None and end is None:
        return now - WEEK_MS, now
    if start is None:
        assert end is not None
        return end - WEEK_MS, end
    if end is None:
        return start, start + WEEK_MS
    if end < start or end - start > WEEK_MS:
        raise BybitError(10001, "params error: The time range should be within 7 days")
    return start, end


def executions(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/execution/list: trades (``execType`` Trade) and funding settlements
    (``execType=Funding``) within 7 days, newest first, ``limit`` <= 100, cursor paged."""
    cat = _category(p)
    sym = _symbol(ex, p) if p.get("symbol") else None
    start, end = _span(ex, p)
    rows: list[tuple[int, JsonDict]] = []
    kind = p.get("execType")
    if kind in (None, "", "Trade"):
        books = [ex.books[sym]] if sym else list(ex.books.values())
        for b in books:
            for t in b.trades:
                if start <= t.time_ms <= end and (
                    not p.get("orderId") or str(t.order_id) == p["orderId"]
                ):
                    rows.append((t.time_ms, trade_json(ex, t)))
    if kind in (None, "", "Funding"):
        for i in ex.income:
            if (
                i.income_type == "FUNDING_FEE"
                and (not sym or i.symbol == sym)
                and start <= i.time_ms <= end
            ):
                rows.append(
                    (
                        i.time_ms,
                        {
                            "symbol": i.symbol,
                            "orderId": "",
                            "orderLinkId": "",
                            "side": "Sell",
                            "execFee": dec(-i.income),
                            "execId": f"funding-{i.tran_id}",
                            "execPrice": "0",
                            "execQty": "0",
                            "execType": "Funding",
                            "execValue": "0",
                            "execTime": str(i.time_ms),
                            "feeCurrency": "USDT",
                            "isMaker": False,
                            "feeRate": repr(i.rate),
                        },
                    )
                )
    rows.sort(key=lambda r: -r[0])
    out = _page([r for _, r in rows], p, 50, 100)
    return {"category": cat, **out}


def positions(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/position/list: in one-way mode one row, ``positionIdx`` 0, side Buy/Sell/"";
    in hedge mode the two legs, ``positionIdx`` 1 (Buy) and 2 (Sell), listed at size 0 (the
    emulator holds no hedge-mode legs)."""
    cat = _category(p)
    syms = [_symbol(ex, p)] if p.get("symbol") else list(ex.books)
    rows: list[JsonDict] = []
    for sym in syms:
        book = ex.books[sym]
        a = book.account
        mark = Decimal(repr(ex.mark_price(sym)))
        if ex.dual_side:
            rows.extend(
                _hedge_leg(ex, sym, idx, side, mark) for idx, side in ((1, "Buy"), (2, "Sell"))
            )
            continue
        rows.append(
            {
                "positionIdx": 0,
                "riskId": 1,
                "riskLimitValue": "2000000",
                "symbol": sym,
                "side": "Buy" if a.position > 0 else "Sell" if a.position < 0 else "",
                "size": dec(abs(a.position)),
                "avgPrice": dec(a.entry_price),
                "positionValue": dec(abs(a.position) * a.entry_price),
                "tradeMode": 0,
                "positionStatus": "Normal",
                "autoAddMargin": 0,
                "adlRankIndicator": 0,
                "leverage": str(book.leverage),
                "positionBalance": dec(ex.position_margin(sym)),
                "markPrice": dec(mark),
                "liqPrice": "",
                "bustPrice": "",
                "positionMM": "0",
                "positionIM": dec(ex.position_margin(sym)),
                "takeProfit": "0",
                "stopLoss": "0",
                "trailingStop": "0",
                "unrealisedPnl": dec(ex.unrealized(sym)),
                "cumRealisedPnl": dec(a.realized_pnl),
                "curRealisedPnl": dec(a.realized_pnl),
                "createdTime": str(ex.now_ms),
                "updatedTime": str(ex.now_ms),
                "isReduceOnly": False,
            }
        )
    return {"category": cat, "list": rows, "nextPageCursor": ""}


def _hedge_leg(ex: SimExchange, sym: str, idx: int, side: str, mark: Decimal) -> JsonDict:
    """A hedge-mode leg as Get Position Info lists it with nothing held."""
    return {
        "positionIdx": idx,
        "symbol": sym,
        "side": side,
        "size": "0",
        "avgPrice": "0",
        "positionValue": "0",
        "tradeMode": 0,
        "positionStatus": "Normal",
        "leverage": str(ex.books[sym].leverage),
        "markPrice": dec(mark),
        "unrealisedPnl": "0",
        "cumRealisedPnl": "0",
        "createdTime": str(ex.now_ms),
        "updatedTime": str(ex.now_ms),
        "isReduceOnly": False,
    }


def wallet_balance(ex: SimExchange, p: Params) -> JsonDict:
    """GET /v5/account/wallet-balance (``accountType=UNIFIED``): the futures margin in USDT
    (``equity`` = wallet + unrealised PnL) and the spot inventory coins."""
    if p.get("accountType") != "UNIFIED":
        raise BybitError(10001, "params error: accountType only support UNIFIED")
    wallet, equity, free = ex.wallet_balance(), ex.margin_balance(), ex.available_balance()
    coins = [
        {
            "coin": "USDT",
            "equity": dec(equity),
            "usdValue": dec(equity),
            "walletBalance": dec(wallet),
            "free": "",
            "locked": "0",
            "availableToWithdraw": dec(free),
            "unrealisedPnl": dec(equity - wallet),
            "cumRealisedPnl": "0",
            "totalOrderIM": "0",
            "totalPositionIM": "0",
            "totalPositionMM": "0",
            "borrowAmount": "0",
            "spotBorrow": "0",
            "accruedInterest": "0",
            "marginCollateral": True,
            "collateralSwitch": True,
        }
    ]
    for asset, amount in ex.spot.items():
        if asset == "USDT":
            continue
        coins.append(
            {
                "coin": asset,
                "equity": dec(amount),
                "usdValue": "0",
                "walletBalance": dec(amount),
                "free": "",
                "locked": "0",
                "availableToWithdraw": dec(amount),
                "unrealisedPnl": "0",
                "cumRealisedPnl": "0",
                "totalOrderIM": "0",
                "totalPositionIM": "0",
                "totalPositionMM": "0",
                "borrowAmount": "0",
                "spotBorrow": "0",
                "accruedInterest": "0",
                "marginCollateral": False,
                "collateralSwitch": False,
            }
        )
    return {
        "list": [
            {
                "accountType": "UNIFIED",
                "totalEquity": dec(equity),
                "totalWalletBalance": dec(wallet),
                "totalMarginBalance": dec(equity),
                "totalAvailableBalance": dec(free),
                "totalPerpUPL": dec(equity - wallet),
                "totalInitialMargin": dec(equity - free),
                "totalMaintenanceMargin": "0",
                "accountIMRate": "0",
                "accountMMRate": "0",
                "accountLTV": "0",
                "coin": coins,
            }
        ]
    }


Handler = Callable[[SimExchange, Params], Any]
BYBIT_ROUTES: list[tuple[str, str, Handler, bool, bool]] = [
    # method, path, handler, signed, counts as an order
    ("GET", "/v5/market/time", server_time, False, False),
    ("GET", "/v5/market/instruments-info", instruments, False, False),
    ("GET", "/v5/market/tickers", tickers, False, False),
    ("GET", "/v5/market/kline", kline, False, False),
    ("POST", "/v5/order/create", create_order, True, True),
    ("POST", "/v5/order/cancel", cancel_order, True, False),
    ("GET", "/v5/order/realtime", realtime, True, False),
    ("GET", "/v5/order/history", history, True, False),
    ("GET", "/v5/execution/list", executions, True, False),
    ("GET", "/v5/position/list", positions, True, False),
    ("GET", "/v5/account/wallet-balance", wallet_balance, True, False),
]
"""The v5 routes the bot's ccxt calls use (see the module docstring)."""
