"""The OKX adapter (``gridhedge.execution.venues.okx``) through ccxt's unmodified ``okx`` class,
its HTTP answered offline with recorded OKX response shapes.

Sources of the shapes (each named where used):
- ccxt's own test fixtures, ``ts/src/test/static/response/okx.json`` in ccxt/ccxt:
  ``createOrder`` (an order and an algo order placed) and ``fetchBalance`` (the trading
  account's ``details``);
- OKX's API v5 documentation (www.okx.com/docs-v5/en): "Get instruments" (the fields of a
  SWAP instrument; a recorded BTC-USD-SWAP answer is in github.com/burakoner/OKX.Api/issues/7,
  here with BTC-USDT-SWAP's linear values ``ctVal`` 0.01 BTC, ``lotSz``/``minSz`` 0.01,
  ``tickSz`` 0.1), "Place order" (``sCode``/``sMsg`` per order under ``code`` "1") and the
  error-code table (51016 duplicated clOrdId, 50011 rate limit, 50113 invalid signature,
  50102 timestamp expired).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridhedge._core import client_order_id
from gridhedge.common.types import Order, OrderStatus, Side
from gridhedge.errors import ConfigError, DuplicateOrderError
from gridhedge.execution.ccxt_broker import (
    CcxtBroker,
    RetryPolicy,
    is_auth_failure,
    is_retryable,
    make_exchange,
)
from gridhedge.execution.secrets import ApiKeys
from gridhedge.execution.venues import venue_for
from gridhedge.execution.venues.okx import OKX

SYMBOL = "BTC/USDT:USDT"

INSTRUMENT = {  # "Get instruments" (instType=SWAP), BTC-USDT-SWAP
    "alias": "",
    "baseCcy": "",
    "category": "1",
    "ctMult": "1",
    "ctType": "linear",
    "ctVal": "0.01",
    "ctValCcy": "BTC",
    "expTime": "",
    "instFamily": "BTC-USDT",
    "instId": "BTC-USDT-SWAP",
    "instType": "SWAP",
    "lever": "100",
    "listTime": "1611916828000",
    "lotSz": "0.01",
    "maxIcebergSz": "100000000.0000000000000000",
    "maxLmtSz": "100000000",
    "maxMktSz": "10000",
    "maxStopSz": "10000",
    "maxTriggerSz": "100000000.0000000000000000",
    "maxTwapSz": "100000000.0000000000000000",
    "minSz": "0.01",
    "optType": "",
    "quoteCcy": "",
    "settleCcy": "USDT",
    "state": "live",
    "stk": "",
    "tickSz": "0.1",
    "uly": "BTC-USDT",
}

# ccxt okx.json, createOrder (placed): the answer's shape, with this test's ids
PLACED = {
    "code": "0",
    "data": [
        {
            "clOrdId": "",
            "ordId": "2896576259728695296",
            "sCode": "0",
            "sMsg": "Order placed",
            "tag": "",
            "ts": "1758827099512",
        }
    ],
    "inTime": "1758827099511856",
    "msg": "",
    "outTime": "1758827099513562",
}
# ccxt okx.json, createOrder with a triggerPrice (an algo order)
ALGO_PLACED = {
    "code": "0",
    "data": [
        {
            "algoClOrdId": "",
            "algoId": "2896574163517353984",
            "clOrdId": "",
            "sCode": "0",
            "sMsg": "",
            "tag": "",
        }
    ],
    "msg": "",
}
# ccxt okx.json, fetchBalance of the trading account: the BTC detail as recorded, and a USDT
# detail in the same shape
BALANCE = {
    "code": "0",
    "data": [
        {
            "adjEq": "152550.80919105993",
            "availEq": "151083.76008402856",
            "details": [
                {
                    "availBal": "0.6612664522199999",
                    "availEq": "0.6612664522199999",
                    "cashBal": "1.06126645222",
                    "ccy": "BTC",
                    "eq": "1.06126645222",
                    "eqUsd": "125092.85636955927",
                    "frozenBal": "0.4",
                    "ordFrozen": "0.4",
                    "uTime": "1639596891483",
                    "upl": "0",
                },
                {
                    "availBal": "2950.5",
                    "availEq": "2950.5",
                    "cashBal": "3000",
                    "ccy": "USDT",
                    "eq": "3012.25",
                    "eqUsd": "3012.25",
                    "frozenBal": "49.5",
                    "ordFrozen": "49.5",
                    "uTime": "1639594842592",
                    "upl": "12.25",
                },
            ],
            "totalEq": "128105.10636955927",
            "uTime": "1639596891483",
        }
    ],
    "msg": "",
}
DUPLICATE = {  # "Place order": a per-order failure under code "1"
    "code": "1",
    "data": [
        {"clOrdId": "", "ordId": "", "sCode": "51016", "sMsg": "Duplicated clOrdId", "tag": ""}
    ],
    "msg": "All operations failed",
}


class RecordedOkx:
    """ccxt's ``okx`` with its HTTP answered from ``routes`` (path -> answer, or a function of
    the request's parameters); every request is recorded."""

    def __init__(self, routes: dict[str, Any]) -> None:
        keys = ApiKeys(api_key="k", secret="s", password="p")  # type: ignore[arg-type]
        self.exchange = make_exchange(keys, exchange_id="okx")
        self.exchange.enableRateLimit = False
        self.routes = routes
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.exchange.fetch = self._fetch

    async def _fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        parts = urlsplit(url)
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        if body:
            data = json.loads(body)
            params.update(data[0] if isinstance(data, list) else data)
        self.requests.append((method, parts.path, params))
        answer = self.routes[parts.path]
        answer = answer(params) if callable(answer) else answer
        text = json.dumps(answer)
        self.exchange.handle_errors(200, "OK", url, method, {}, text, answer, headers, body)
        return answer


def _echo(answer: dict[str, Any], key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The recorded answer with the request's client id echoed (as OKX does)."""

    def respond(params: dict[str, Any]) -> dict[str, Any]:
        sent = params.get(key) or params.get("clOrdId", "")
        row = {**answer["data"][0], key: sent}
        if key == "algoClOrdId":  # as recorded: an algo order echoes its id in both fields
            row["clOrdId"] = sent
        return {**answer, "data": [row]}

    return respond


def broker_on(routes: dict[str, Any]) -> tuple[CcxtBroker, RecordedOkx]:
    recorded = RecordedOkx(
        {"/api/v5/public/instruments": {"code": "0", "data": [INSTRUMENT], "msg": ""}, **routes}
    )
    broker = CcxtBroker(recorded.exchange, retry=RetryPolicy(attempts=2, backoff_s=0.0, lookups=1))
    return broker, recorded


def bot_order(key: str, side: str, price: str, amount: str) -> Order:
    cid = client_order_id("okx-bot", SYMBOL, key, 1)
    return Order(cid, SYMBOL, Side(side), Decimal(price), Decimal(amount), key=key)


async def test_swap_amounts_are_contracts_of_ct_val() -> None:
    """Get instruments: a SWAP's ``lotSz``/``minSz`` count contracts of ``ctVal`` BTC; the
    bot's market is in BTC (lot 0.01 x 0.01 = 0.0001 BTC) and 0.05 BTC goes out as ``sz`` 5;
    the price is snapped down to ``tickSz`` for a buy; ``clOrdId`` is letters and digits."""
    broker, okx = broker_on({"/api/v5/trade/order": _echo(PLACED, "clOrdId")})
    try:
        market = await broker.load_market(SYMBOL)
        assert (market.tick_size, market.lot_size, market.min_qty) == (
            Decimal("0.1"),
            Decimal("0.0001"),
            Decimal("0.0001"),
        )
        order = bot_order("gb1", "buy", "60000.07", "0.05")
        placed = await broker.place_order(order)
        method, path, sent = okx.requests[-1]
        assert (method, path) == ("POST", "/api/v5/trade/order")
        assert (sent["instId"], sent["side"], sent["ordType"]) == ("BTC-USDT-SWAP", "buy", "limit")
        assert (sent["sz"], sent["px"]) == ("5", "60000")
        assert sent["clOrdId"].isalnum() and len(sent["clOrdId"]) <= 32
        assert placed.client_order_id == order.client_order_id  # decoded back
        assert placed.exchange_order_id == "2896576259728695296"
        assert placed.status is OrderStatus.OPEN
    finally:
        await broker.close()


async def test_stop_goes_to_the_algo_route_with_its_client_id() -> None:
    """Place algo order: a stop-market is ``ordType=trigger`` with ``triggerPx`` and
    ``orderPx=-1`` (market); ccxt sends the client id as ``clOrdId``, which the recorded answer
    echoes as ``algoClOrdId`` too (the id its stop lookups use)."""
    broker, okx = broker_on({"/api/v5/trade/order-algo": _echo(ALGO_PLACED, "algoClOrdId")})
    try:
        order = bot_order("xb0", "buy", "70000.01", "0.02")
        placed = await broker.place_order(order, "stop_market")
        method, path, sent = okx.requests[-1]
        assert (method, path) == ("POST", "/api/v5/trade/order-algo")
        assert (sent["ordType"], sent["orderPx"], sent["sz"]) == ("trigger", "-1", "2")
        assert Decimal(sent["triggerPx"]) == Decimal("70000")  # snapped side-aware, as PAPER
        assert OKX.from_exchange_id(sent["clOrdId"]) == order.client_order_id
        assert placed.client_order_id == order.client_order_id
        assert placed.exchange_order_id == "2896574163517353984"
        assert placed.kind == "stop_market"
    finally:
        await broker.close()


async def test_duplicated_clordid_is_a_duplicate_order_error() -> None:
    """Error codes: ``sCode`` 51016 "Duplicated clOrdId" under ``code`` "1" is the bot's
    duplicate (ccxt raises InvalidOrder from the sCode); the live order is looked up first."""
    live = {
        "code": "0",
        "data": [
            {
                "instId": "BTC-USDT-SWAP",
                "ordId": "1",
                "clOrdId": "",
                "px": "60000",
                "sz": "5",
                "side": "buy",
                "ordType": "limit",
                "state": "live",
                "accFillSz": "0",
                "cTime": "1639596891483",
                "uTime": "1639596891483",
            }
        ],
        "msg": "",
    }
    broker, okx = broker_on(
        {"/api/v5/trade/order": lambda p: DUPLICATE if "sz" in p else _echo(live, "clOrdId")(p)}
    )
    try:
        with pytest.raises(DuplicateOrderError):
            await broker.place_order(bot_order("gb1", "buy", "60000", "0.05"))
        assert [p for m, p, _ in okx.requests if m == "POST"] == ["/api/v5/trade/order"]
    finally:
        await broker.close()


def test_error_codes_classify_as_documented() -> None:
    """Rate limit 50011 and timestamp expired 50102 are retried (50102 after a clock
    resync); invalid signature 50113 refuses the keys; 51016 is a duplicate."""
    ex = ccxt.okx()

    def raised(code: str) -> BaseException:
        body = {"code": code, "data": [], "msg": "recorded"}
        try:
            ex.handle_errors(200, "OK", "u", "GET", {}, json.dumps(body), body, {}, "")
        except Exception as e:
            return e
        raise AssertionError(f"ccxt did not raise for {code}")

    okx = venue_for("okx")
    assert is_retryable(raised("50011"), ex) and is_retryable(raised("50102"), ex)
    assert okx.code(raised("50102")) in okx.clock
    assert is_auth_failure(raised("50113"), ex) and not is_retryable(raised("50113"), ex)
    body = json.dumps(DUPLICATE)
    with pytest.raises(ccxt.InvalidOrder) as dup:
        ex.handle_errors(200, "OK", "u", "POST", {}, body, DUPLICATE, {}, "")
    assert okx.code(dup.value) in okx.duplicate


def test_equity_is_the_usdt_detail_and_inventory_the_base_detail() -> None:
    """Get balance: the futures margin is the USDT detail's ``eq`` (cash + upl), not
    ``totalEq`` (which counts the BTC inventory the broker adds itself); the spot inventory is
    the BTC detail (``eq`` = ``cashBal``)."""
    ex = ccxt.okx()
    balance = ex.parse_trading_balance(BALANCE)
    assert OKX.equity({**balance, "info": BALANCE}) == Decimal("3012.25")
    assert OKX.spot_total(balance, "BTC") == Decimal("1.06126645222")


@given(
    bot_id=st.from_regex(r"[a-z0-9_.-]{1,20}", fullmatch=True),
    level=st.integers(min_value=0, max_value=99),
    seq=st.integers(min_value=1, max_value=10**9),
)
def test_client_ids_round_trip_through_the_okx_alphabet(bot_id: str, level: int, seq: int) -> None:
    """Place order: ``clOrdId`` is 1-32 letters and digits; every id the bot makes encodes to
    one and decodes back to itself (reference: the id itself)."""
    cid = client_order_id(bot_id, SYMBOL, f"gs{level}", seq)
    sent = OKX.to_exchange_id(cid)
    assert sent.isalnum() and len(sent) <= 32
    assert OKX.from_exchange_id(sent) == cid


def test_a_client_id_over_32_characters_is_refused_clearly() -> None:
    with pytest.raises(ConfigError, match="not a valid okx client id") as err:
        OKX.to_exchange_id("gh" + "a" * 40 + "-1")
    assert err.value.field == "client_order_id" and "at most 32" in str(err.value.rule)


async def test_fills_and_position_count_contracts_as_btc() -> None:
    """Get transaction details (fills-history) and Get positions (OKX docs' field sets): a
    fill of ``fillSz`` 3 contracts is 0.03 BTC, its ``fee`` -0.036006 (charged) a cost of
    0.036006, ``execType`` M a maker fill, its order's ``clOrdId`` decoded to the bot's id; a
    net-mode ``pos`` of -150 contracts is a 1.5 BTC short."""
    cid = client_order_id("okx-bot", SYMBOL, "gs1", 1)
    sent = OKX.to_exchange_id(cid)
    now = 1_700_000_100_000
    fill = {
        "instType": "SWAP",
        "instId": "BTC-USDT-SWAP",
        "tradeId": "123",
        "ordId": "777",
        "clOrdId": sent,
        "billId": "9",
        "tag": "",
        "fillPx": "60000.1",
        "fillSz": "3",
        "side": "sell",
        "posSide": "net",
        "execType": "M",
        "feeCcy": "USDT",
        "fee": "-0.036006",
        "ts": str(now - 100_000),
        "fillTime": str(now - 100_000),
    }
    order = {
        "instType": "SWAP",
        "instId": "BTC-USDT-SWAP",
        "ordId": "777",
        "clOrdId": sent,
        "px": "60000.1",
        "sz": "3",
        "side": "sell",
        "ordType": "limit",
        "state": "filled",
        "accFillSz": "3",
        "avgPx": "60000.1",
        "cTime": str(now - 200_000),
        "uTime": str(now - 100_000),
    }
    position = {
        "instType": "SWAP",
        "instId": "BTC-USDT-SWAP",
        "mgnMode": "cross",
        "posSide": "net",
        "pos": "-150",
        "avgPx": "61000.5",
        "upl": "-1.5",
        "lever": "5",
        "ccy": "USDT",
        "markPx": "61001.5",
        "notionalUsd": "91500",
        "posId": "1",
        "cTime": str(now - 300_000),
        "uTime": str(now - 100_000),
    }
    ticker = {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "last": "60000.1", "ts": str(now)}
    ok = lambda rows: {"code": "0", "data": rows, "msg": ""}  # noqa: E731
    broker, okx = broker_on(
        {
            "/api/v5/trade/fills-history": ok([fill]),
            "/api/v5/trade/order": ok([order]),
            "/api/v5/account/positions": ok([position]),
            "/api/v5/public/time": ok([{"ts": str(now)}]),
            "/api/v5/market/ticker": ok([ticker]),
        }
    )
    try:
        (got,) = await broker.fetch_fills(SYMBOL, now - 1_000_000)
        assert (got.trade_id, got.client_order_id, got.side) == ("123", cid, Side.SELL)
        assert (got.price, got.amount, got.fee, got.maker) == (
            Decimal("60000.1"),
            Decimal("0.03"),
            Decimal("0.036006"),
            True,
        )
        pos = await broker.fetch_position(SYMBOL)
        assert (pos.futures_amount, pos.entry_price) == (Decimal("-1.5"), Decimal("61000.5"))
        history = [p for _, p, _ in okx.requests if p == "/api/v5/trade/fills-history"]
        assert len(history) == 1  # one 3-day span, one short page
    finally:
        await broker.close()


async def test_a_stop_is_cancelled_on_the_algo_route_by_its_client_id() -> None:
    """Cancel algo order: ``[{"instId", "algoClOrdId"}]`` (ccxt's ``trigger`` cancel sends
    the client id so); a plain order is cancelled on Cancel order by ``clOrdId``."""
    done = {"code": "0", "data": [{"algoId": "1", "sCode": "0", "sMsg": ""}], "msg": ""}
    plain = {"code": "0", "data": [{"ordId": "2", "clOrdId": "", "sCode": "0"}], "msg": ""}
    broker, okx = broker_on(
        {"/api/v5/trade/cancel-algos": done, "/api/v5/trade/cancel-order": plain}
    )
    try:
        stop = bot_order("xb0", "buy", "70000", "0.02")
        stop.kind = "stop_market"
        await broker.cancel_order(stop)
        method, path, sent = okx.requests[-1]
        assert (method, path) == ("POST", "/api/v5/trade/cancel-algos")
        assert OKX.from_exchange_id(sent["algoClOrdId"]) == stop.client_order_id
        assert stop.status is OrderStatus.CANCELLED
        grid = bot_order("gb1", "buy", "60000", "0.05")
        await broker.cancel_order(grid)
        method, path, sent = okx.requests[-1]
        assert (path, OKX.from_exchange_id(sent["clOrdId"])) == (
            "/api/v5/trade/cancel-order",
            grid.client_order_id,
        )
    finally:
        await broker.close()


def _account_config(pos_mode: str) -> dict[str, Any]:
    """Get account configuration (``/api/v5/account/config``), the fields of OKX's v5 example
    answer; ``posMode``: ``long_short_mode`` (hedge) or ``net_mode`` (one-way)."""
    row = {
        "acctLv": "2",
        "autoLoan": False,
        "ctIsoMode": "automatic",
        "greeksType": "PA",
        "level": "Lv1",
        "levelTmp": "",
        "mgnIsoMode": "automatic",
        "posMode": pos_mode,
        "uid": "44705892343619584",
    }
    return {"code": "0", "data": [row], "msg": ""}


async def test_a_long_short_mode_account_is_refused_net_mode_accepted() -> None:
    """Get account configuration: ``posMode`` ``long_short_mode`` is OKX's hedge mode (orders
    need ``posSide``; the position is split in two): the broker's account check refuses it with
    a ConfigError naming the setting; ``net_mode`` passes."""
    for pos_mode, refused in (("long_short_mode", True), ("net_mode", False)):
        broker, okx = broker_on({"/api/v5/account/config": _account_config(pos_mode)})
        try:
            await broker.load_market(SYMBOL)
            if refused:
                with pytest.raises(ConfigError, match="hedge mode") as raised:
                    await broker.check_account(SYMBOL)
                assert "net_mode" in str(raised.value)
            else:
                await broker.check_account(SYMBOL)
            assert ("GET", "/api/v5/account/config") in [(m, p) for m, p, _ in okx.requests]
        finally:
            await broker.close()
