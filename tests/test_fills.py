"""The shared fill model through its Python face (the Rust tests cover the rules in depth)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import gridhedge as gh
from gridhedge import _core


def test_fill_at_limit_only_when_traded_through_and_fee_is_exact() -> None:
    book = _core.FillBook(gh.Market("0.10", "0.001"), participation=1, maker_fee="0.0002")
    book.place(1, "buy", 952361, 10, bar_index=0)  # 95236.1, 0.010 BTC
    assert book.on_bar(1, 95300.0, 95400.0, 95236.1, 95300.0, 10.0) == []  # a touch
    assert book.on_bar(2, 95300.0, 95400.0, 95236.05, 95300.0, 10.0) == []  # half a tick
    (fill,) = book.on_bar(3, 95300.0, 95400.0, 95236.0, 95300.0, 10.0)
    assert (fill.price, fill.amount, fill.maker, fill.done) == (
        Decimal("95236.1"),
        Decimal("0.010"),
        True,
        True,
    )
    # 95236.1 * 0.010 * 0.0002 = 0.190472200
    assert fill.fee == Decimal("0.1904722")
    assert book.open_orders() == []


def test_bad_bar_and_duplicate_id_are_named_errors() -> None:
    book = _core.FillBook(gh.Market("1", "1"))
    book.place(7, "sell", 105, 1, 0)
    with pytest.raises(gh.InvalidInputError, match="order_id"):
        book.place(7, "sell", 106, 1, 0)
    with pytest.raises(gh.InvalidInputError, match="low <= open, close <= high"):
        book.on_bar(1, 100.0, 99.0, 98.0, 100.5, 1.0)
    with pytest.raises(gh.InvalidInputError, match="participation"):
        _core.FillBook(gh.Market("1", "1"), participation=0)


def test_funding_sign_positive_rate_longs_pay_shorts() -> None:
    assert _core.funding_payment(-2, 50_000, 0.0001) == pytest.approx(10.0)
    assert _core.funding_payment(2, 50_000, 0.0001) == pytest.approx(-10.0)
