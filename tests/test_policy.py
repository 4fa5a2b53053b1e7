"""The decision policy through its Python face: hypothesis properties (limits, band, ticks,
halt) on random books, markets and configs; reasons a trader can read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge._core import Decision, decide
from gridhedge.grid.config import GridHedgeConfig
from gridhedge.grid.policy import policy_config

MARKET = gh.Market("0.10", "0.001", "0.001", "100")


def candles(
    seed: int, n: int = 300, price: float = 50_000.0, vol: float = 0.008
) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.concatenate([[price], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, n)))
    volume = rng.lognormal(5, 0.5, n)
    return open_, high, low, close, volume


def run(config: dict[str, Any], seed: int, spot: float, short_lots: int, **kw: Any) -> Decision:
    cfg = policy_config(GridHedgeConfig.load(config))
    o, h, low, c, v = candles(seed)
    return decide(
        cfg,
        MARKET,
        float(c[-1]) * kw.pop("move", 1.0),
        o,
        h,
        low,
        c,
        v,
        kw.pop("funding", 0.0),
        spot,
        -short_lots,
        kw.pop("equity", 100_000.0),
        100_000.0,
        **kw,
    )


configs = st.fixed_dictionaries(
    {
        "grid_spacing_pct": st.sampled_from(["0.002", "0.005", "0.01", "0.03"]),
        "num_levels": st.integers(1, 15),
        "max_position_size": st.sampled_from(["0.2", "1", "2.5", "10"]),
        "max_active_orders": st.integers(1, 40),
        "hedge_ratio_min": st.sampled_from(["0.5", "0.8", "1.0"]),
        "hedge_ratio_max": st.sampled_from(["1.0", "1.2", "1.5"]),
        "dynamic_spacing": st.booleans(),
        "support_resistance": st.booleans(),
        "funding_tilt": st.booleans(),
        "min_price_distance": st.sampled_from(["0", "50", "400"]),
        "var_limit": st.sampled_from(["300", "10000"]),
    }
)


@given(
    config=configs,
    seed=st.integers(0, 50),
    spot=st.floats(0, 5),
    short_frac=st.floats(0, 2),
    move=st.floats(0.97, 1.03),
    funding=st.floats(-0.003, 0.003),
)
def test_policy_never_breaks_its_limits(
    config: dict[str, Any], seed: int, spot: float, short_frac: float, move: float, funding: float
) -> None:
    short = int(spot * short_frac * 1000)
    d = run(config, seed, spot, short, move=move, funding=funding)
    cfg = GridHedgeConfig.load(config)
    assert len(d.orders) <= cfg.execution.max_active_orders
    cap = MARKET.amount_to_lots(cfg.risk.max_position_size)
    # the short after a rebalance, then after every sell / every buy fills
    after = short + sum(
        (o.amount_lots if o.side == "sell" else -o.amount_lots)
        for o in d.orders
        if o.role == "rebalance"
    )
    sells = sum(o.amount_lots for o in d.orders if o.role == "grid" and o.side == "sell")
    buys = sum(o.amount_lots for o in d.orders if o.role == "grid" and o.side == "buy")
    assert after + sells <= max(cap, short), "never beyond max_position_size"
    # the band edges as the policy computes them: h x spot in float, snapped down to the lot
    # with the market's float-noise tolerance
    lo = min(MARKET.amount_to_lots(float(cfg.hedge.hedge_ratio_min) * spot), cap)
    hi = min(MARKET.amount_to_lots(float(cfg.hedge.hedge_ratio_max) * spot), cap)
    codes = {c for c, _ in d.reasons}
    if lo <= after <= hi and "var_shrink" not in codes:
        assert after + sells <= hi, "all sells filled: at most the top of the band"
        assert after - buys >= lo, "all buys filled: at least the bottom of the band"
    if not lo <= short <= hi and any(o.role == "rebalance" for o in d.orders):
        assert "rebalance" in codes, "a hedge outside its band is rebalanced, with a reason"
    for o in d.orders:
        assert o.amount_lots > 0
        if o.kind != "market":
            assert o.price is not None
            assert o.price == MARKET.round_price(o.price, o.side)  # on tick
            assert MARKET.meets_minimums(o.price_ticks, o.amount_lots)
    assert cfg.hedge.hedge_ratio_min <= Decimal(repr(d.metrics["target_hedge_ratio"]))
    assert Decimal(repr(d.metrics["target_hedge_ratio"])) <= cfg.hedge.hedge_ratio_max


def joint_cap_holds(d: Decision, short: int, cap: int) -> None:
    """Independent check of the joint cap: every order of one side filling in one bar."""
    sells = sum(o.amount_lots for o in d.orders if o.side == "sell")
    buys = sum(o.amount_lots for o in d.orders if o.side == "buy")
    assert short + sells <= max(cap, short), "all sells filled: |position| <= cap"
    assert -short + buys <= max(cap, -short), "all buys filled: |position| <= cap"


@given(
    config=configs,
    seed=st.integers(0, 50),
    drop=st.floats(0.101, 0.9),
    hedge=st.floats(0.0, 1.6),
    spot=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_drawdown_halt_de_risks_to_the_safe_hedge(
    config: dict[str, Any], seed: int, drop: float, hedge: float, spot: float
) -> None:
    # the default max_drawdown is 0.1; the safe hedge is a full hedge clamped to the band
    cfg = GridHedgeConfig.load(config)
    short = int(hedge * spot / 0.001)
    d = run(config, seed, spot, short, equity=100_000.0 * (1 - drop))
    assert d.halted and not d.cancel_all
    assert d.reasons[0][0] == "halt"
    assert all(o.role != "grid" for o in d.orders), "the grid is cancelled"
    cap = MARKET.amount_to_lots(cfg.risk.max_position_size)
    joint_cap_holds(d, short, cap)
    # reference: the safe hedge in lots, clamped to the capped band
    lo = min(MARKET.amount_to_lots(float(cfg.hedge.hedge_ratio_min) * spot), cap)
    hi = min(MARKET.amount_to_lots(float(cfg.hedge.hedge_ratio_max) * spot), cap)
    safe = min(max(MARKET.amount_to_lots(1.0 * spot), lo), hi)
    # a halt never raises the net exposure: a hedge above the capped band is not bought back
    # below the full hedge (the way from it to the safe hedge is nearest a full hedge here)
    full = MARKET.amount_to_lots(spot)
    if (short - full) * (safe - full) <= 0:
        safe = full  # the way crosses (or starts or ends at) the full hedge
    elif abs(full - safe) > abs(full - short):
        safe = short  # the safe hedge lies farther from a full hedge on the same side: stay
    after = short + sum(
        (o.amount_lots if o.side == "sell" else -o.amount_lots)
        for o in d.orders
        if o.role == "rebalance"
    )
    v = candles(seed)[4]
    volume_cap = MARKET.amount_to_lots(float(cfg.risk.max_volume_share) * float(np.mean(v[-24:])))
    now = MARKET.price_to_ticks(float(candles(seed)[3][-1]), "buy")
    if not MARKET.meets_minimums(max(now, 1), abs(safe - short)):
        assert after == short, "an order below the market minimums cannot be sent"
    elif abs(safe - short) <= volume_cap:
        assert abs(after - safe) <= 1, "within one lot of the safe hedge"
    else:
        assert abs(after - short) == volume_cap, "participation-capped, toward the safe hedge"
        assert abs(safe - after) < abs(safe - short)
    net = MARKET.amount_to_lots(spot) - after
    stops = [o for o in d.orders if o.role == "stop"]
    if net != 0 and stops:
        assert stops[0].side == ("sell" if net > 0 else "buy"), "the stop protects the rest"
    again = run(config, seed, spot, after, state=d.state)
    assert again.halted, "a halt sticks until resumed"
    assert all(o.role != "grid" for o in again.orders)


@given(config=configs, seed=st.integers(0, 50), hedge=st.floats(0.0, 1.6), move=st.floats(0.9, 1.1))
def test_joint_cap_holds_in_every_state(
    config: dict[str, Any], seed: int, hedge: float, move: float
) -> None:
    cfg = GridHedgeConfig.load(config)
    short = int(hedge / 0.001)
    d = run(config, seed, 1.0, short, move=move)
    joint_cap_holds(d, short, MARKET.amount_to_lots(cfg.risk.max_position_size))


def test_var_warning_uses_the_seed_wording() -> None:
    d = run({"var_limit": "50", "hedge_ratio_min": "0", "hedge_ratio_max": "2"}, 1, 2.0, 2000)
    messages = dict(d.reasons)
    assert messages["var_warning"].startswith("VaR (")
    assert "exceeds limit (50.00)" in messages["var_warning"]


def test_reasons_explain_the_first_decision() -> None:
    d = run({}, 2, 1.0, 0)
    codes = [c for c, _ in d.reasons]
    assert "rebalance" in codes
    message = dict(d.reasons)["rebalance"]
    assert "outside its band" in message
    assert "market sell 1.000" in message


@given(
    config=configs,
    seed=st.integers(0, 50),
    bars=st.integers(2, 300),
    pct=st.sampled_from(["0.002", "0.01", "0.03"]),
    move=st.floats(0.95, 1.05),
)
def test_trend_guard_pauses_the_side_the_trend_would_fill(
    config: dict[str, Any], seed: int, bars: int, pct: str, move: float
) -> None:
    # the reference: pandas' rolling mean of the last `bars` closes; above it by more than
    # pct the sell rungs beyond the center go, below it the buy rungs; else nothing changes
    import pandas as pd

    c = candles(seed)[3]
    mean = float(pd.Series(c).rolling(bars).mean().iloc[-1])
    price = float(c[-1]) * move
    up, down = price > mean * (1 + float(pct)), price < mean * (1 - float(pct))
    plain = run(config, seed, 1.0, 1000, move=move)
    guarded = run(
        {**config, "trend_guard_bars": bars, "trend_guard_pct": pct}, seed, 1.0, 1000, move=move
    )
    rungs = {
        side: [o.key for o in guarded.orders if o.role == "grid" and o.side == side and o.level]
        for side in ("sell", "buy")
    }
    had = {
        side: [o.key for o in plain.orders if o.role == "grid" and o.side == side and o.level]
        for side in ("sell", "buy")
    }
    codes = [code for code, _ in guarded.reasons]
    if up:
        assert rungs["sell"] == []
        assert "trend_guard" in codes or not had["sell"]
    elif down:
        assert rungs["buy"] == []
        assert "trend_guard" in codes or not had["buy"]
    else:
        assert [x.row for x in guarded.orders] == [x.row for x in plain.orders]
        assert "trend_guard" not in codes
