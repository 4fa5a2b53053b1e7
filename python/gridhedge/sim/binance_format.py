"""Binance USD-M futures wire format: error codes, decimal strings and JSON shapes.

Error codes are the exchange's own, chosen so that ccxt's ``binanceusdm`` raises its own
classes (see ``ERRORS``); shapes follow the fields ccxt's parsers read.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridhedge.sim.engine import Income, SimOrder, SimTrade, SymbolSpec

__all__ = [
    "ERRORS",
    "BinanceError",
    "Err",
    "algo_order_json",
    "dec",
    "error_body",
    "income_json",
    "min_notional_error",
    "order_json",
    "places",
    "symbol_json",
    "trade_json",
]

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Err:
    """An error the exchange answers with: HTTP status, Binance code and message."""

    status: int
    code: int
    msg: str


# code -> what ccxt raises for it against a localhost URL (global map; linear-only codes need the
# broker's exception merge, see gridhedge.execution.ccxt_broker)
ERRORS: dict[str, Err] = {
    "unknown_order": Err(400, -2011, "Unknown order sent."),  # OrderNotFound
    "no_such_order": Err(400, -2013, "Order does not exist."),  # OrderNotFound
    "bad_timestamp": Err(400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "bad_signature": Err(
        400, -1022, "Signature for this request is not valid."
    ),  # AuthenticationError
    "bad_key": Err(401, -2015, "Invalid API-key, IP, or permissions for action."),
    "bad_symbol": Err(400, -1121, "Invalid symbol."),  # BadSymbol
    "bad_client_id": Err(400, -4015, "Client order id is not valid."),  # BadRequest
    "duplicate_client_id": Err(400, -4116, "ClientOrderId is duplicated."),  # linear: InvalidOrder
    "price_low": Err(400, -4001, "Price less than 0."),
    "price_high": Err(400, -4002, "Price greater than max price."),
    "price_min": Err(400, -4013, "Price less than min price."),
    "stop_price_low": Err(400, -4006, "Stop price less than zero."),
    "stop_price_high": Err(400, -4007, "Stop price greater than max price."),
    "tick": Err(400, -4014, "Price not increased by tick size."),
    "precision": Err(400, -1111, "Precision is over the maximum defined for this asset."),
    "qty_zero": Err(400, -4003, "Quantity less than or equal to zero."),
    "qty_min": Err(400, -4004, "Quantity less than min quantity."),
    "qty_max": Err(400, -4005, "Quantity greater than max quantity."),
    "step": Err(400, -4023, "Qty not increased by step size."),
    "would_trigger": Err(400, -2021, "Order would immediately trigger."),
    "max_open_orders": Err(400, -2025, "Reach max open order limit."),
    "max_stop_orders": Err(400, -4045, "Reach max stop order limit."),
    "post_only": Err(
        400,
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    ),  # linear: OrderNotFillable
    "fok": Err(
        400,
        -5021,
        "Due to the order could not be filled immediately, the FOK order has been rejected.",
    ),  # linear: OrderNotFillable
    "too_many_orders": Err(429, -1015, "Too many new orders; current limit is %s orders per %s."),
    "bad_combo": Err(400, -1128, "Combination of optional parameters invalid."),
    "start_after_end": Err(400, -1023, "Start time is greater than end time."),
    "reduce_only": Err(400, -2022, "ReduceOnly Order is rejected."),  # linear: InvalidOrder
    "margin": Err(400, -2019, "Margin is insufficient."),  # linear: InsufficientFunds
    "overloaded": Err(
        400, -1008, "Server is currently overloaded with other requests. Please try again later."
    ),  # OperationFailed
    "rate_limit": Err(
        429, -1003, "Too many requests; current limit of IP is 2400 requests per minute."
    ),  # DDoSProtection
    "banned": Err(418, -1003, "Way too many requests; IP banned."),  # DDoSProtection
    "bad_interval": Err(400, -1120, "Invalid interval."),  # BadRequest
    "bad_param": Err(400, -1102, "A mandatory parameter was not sent, was empty, or malformed."),
    "bad_type": Err(400, -1116, "Invalid orderType."),
    "bad_side": Err(400, -1117, "Invalid side."),
    "bad_tif": Err(400, -1115, "Invalid timeInForce."),
    "bad_recv_window": Err(400, -1131, "recvWindow must be less than 60000"),
    # position mode (dev.binance.vision "Order's position side does not match user's setting")
    "position_side": Err(400, -4061, "Order's position side does not match user's setting."),
    "same_position_mode": Err(400, -4059, "No need to change position side."),
    "mode_open_orders": Err(
        400, -4067, "Position side cannot be changed if there exists open orders."
    ),
    "mode_position": Err(400, -4068, "Position side cannot be changed if there exists position."),
    "unsupported": Err(400, -1020, "This operation is not supported."),
}


class BinanceError(Exception):
    """An error answered as Binance does: ``{"code": <code>, "msg": <msg>}`` with an HTTP status."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        self.status = status
        self.code = code
        self.msg = msg
        super().__init__(f"{code}: {msg}")

    @classmethod
    def of(cls, key: str, detail: str | None = None) -> BinanceError:
        """The error named ``key`` in ``ERRORS``, its message optionally followed by ``detail``."""
        err = ERRORS[key]
        return cls(err.status, err.code, err.msg if detail is None else f"{err.msg} {detail}")

    def body(self) -> JsonDict:
        return error_body(self.code, self.msg)


def min_notional_error(min_notional: Decimal) -> BinanceError:
    """-4164, what USD-M answers for an order under the minimum notional (ccxt linear:
    InvalidOrder)."""
    return BinanceError(
        400,
        -4164,
        f"Order's notional must be no smaller than {dec(min_notional)} "
        "(unless you choose reduce only).",
    )


def places(step: Decimal) -> int:
    """Decimal places of a tick or lot size (``0.10`` -> 1)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def error_body(code: int, msg: str) -> JsonDict:
    return {"code": code, "msg": msg}


def dec(value: Decimal | int) -> str:
    """A decimal as Binance writes it: plain notation, no exponent, no trailing dot."""
    d = Decimal(value)
    return "0" if d == 0 else format(d, "f")


# ------------------------------------------------------------------------------- shapes
def order_json(o: SimOrder) -> JsonDict:
    """The USD-M order object (POST/GET/DELETE /fapi/v1/order, openOrders, allOrders)."""
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_order_id,
        "price": dec(o.price),
        "avgPrice": dec(o.avg_price),
        "origQty": dec(o.orig_qty),
        "executedQty": dec(o.executed_qty),
        "cumQty": dec(o.executed_qty),
        "cumQuote": dec(o.cum_quote),
        "timeInForce": o.time_in_force,
        "type": o.type,
        "origType": o.type,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side,
        "positionSide": "BOTH",
        "stopPrice": dec(o.stop_price),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": o.time_ms,
        "updateTime": o.update_time_ms,
    }


def algo_order_json(o: SimOrder) -> JsonDict:
    """The USD-M algo (conditional) order object (``/fapi/v1/algoOrder``, openAlgoOrders)."""
    status = {"FILLED": "FINISHED"}.get(o.status, o.status)
    return {
        "algoId": o.order_id,
        "clientAlgoId": o.client_order_id,
        "algoType": "CONDITIONAL",
        "orderType": o.type,
        "symbol": o.symbol,
        "side": o.side,
        "positionSide": "BOTH",
        "timeInForce": "GTC",
        "quantity": dec(o.orig_qty),
        "algoStatus": status,
        "triggerPrice": dec(o.stop_price),
        "price": "0",
        "actualPrice": dec(o.avg_price),
        "icebergQuantity": None,
        "selfTradePreventionMode": "NONE",
        "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE",
        "closePosition": False,
        "priceProtect": False,
        "reduceOnly": o.reduce_only,
        "createTime": o.time_ms,
        "updateTime": o.update_time_ms,
        "triggerTime": o.update_time_ms if o.status == "FILLED" else 0,
        "goodTillDate": 0,
    }


def trade_json(t: SimTrade) -> JsonDict:
    """A USD-M account trade (GET /fapi/v1/userTrades)."""
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "side": t.side,
        "price": dec(t.price),
        "qty": dec(t.qty),
        "quoteQty": dec(t.quote_qty),
        "realizedPnl": dec(t.realized_pnl),
        "commission": dec(t.commission),
        "commissionAsset": "USDT",
        "time": t.time_ms,
        "positionSide": "BOTH",
        "buyer": t.side == "BUY",
        "maker": t.maker,
    }


def income_json(i: Income) -> JsonDict:
    """A USD-M income record (GET /fapi/v1/income)."""
    return {
        "symbol": i.symbol,
        "incomeType": i.income_type,
        "income": dec(i.income),
        "asset": "USDT",
        "info": i.income_type,
        "time": i.time_ms,
        "tranId": i.tran_id,
        "tradeId": i.trade_id,
    }


def symbol_json(spec: SymbolSpec, *, futures: bool) -> JsonDict:
    """One exchangeInfo symbol with PRICE_FILTER, LOT_SIZE and the notional filter, all from
    the core ``Market`` (exact strings)."""
    m = spec.market
    lot = {
        "stepSize": dec(m.lot_size),
        "minQty": dec(max(m.min_qty, m.lot_size)),
        "maxQty": dec(spec.max_qty),
    }
    filters: list[JsonDict] = [
        {
            "filterType": "PRICE_FILTER",
            "tickSize": dec(m.tick_size),
            "minPrice": dec(m.tick_size),
            "maxPrice": dec(spec.max_price),
        },
        {"filterType": "LOT_SIZE", **lot},
        {"filterType": "MARKET_LOT_SIZE", **lot},
    ]
    precision = {
        "pricePrecision": spec.price_places,
        "quantityPrecision": spec.qty_places,
    }
    base: JsonDict = {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
    }
    if futures:
        filters += [
            {"filterType": "MIN_NOTIONAL", "notional": dec(m.min_notional)},
            {"filterType": "MAX_NUM_ORDERS", "limit": spec.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": spec.max_num_algo_orders},
        ]
        return {
            **base,
            "pair": spec.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "marginAsset": spec.quote,
            **precision,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "orderTypes": ["LIMIT", "MARKET", "STOP_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
            "filters": filters,
        }
    filters.append(
        {"filterType": "NOTIONAL", "minNotional": dec(m.min_notional), "applyMinToMarket": True}
    )
    return {
        **base,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "permissions": ["SPOT"],
        "permissionSets": [["SPOT"]],
        "filters": filters,
    }
