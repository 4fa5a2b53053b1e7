"""The portfolio backtester (Rust core, ``gridhedge.portfolio.backtest``): the same legs as the
single-symbol backtester when nothing binds, the portfolio layer of ``PortfolioRiskManager``
between the legs when it does (shrink largest contributor first, budgets as each leg's own
``var_limit``), parity with a PAPER ``PortfolioRunner`` over the same bars, typed errors."""

from __future__ import annotations

import asyncio
import copy
import json
import pathlib
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loguru import logger

from gridhedge import ConfigError, InvalidInputError
from gridhedge._core import leg_var_limits, portfolio_backtest, var_budgets
from gridhedge.backtest import run_backtest
from gridhedge.backtest.engine import arrays, spec_for
from gridhedge.data.candles import Candles
from gridhedge.execution.paper import default_market
from gridhedge.grid.config import GridHedgeConfig
from gridhedge.portfolio import LegInput, PortfolioRiskManager, PortfolioRunner
from gridhedge.portfolio.backtest import run_portfolio_backtest
from gridhedge.portfolio.runner import leg_config, synthetic_legs

F64 = npt.NDArray[np.float64]
LEG_CONFIG = {
    "max_position_size": "40",
    "hedge_ratio_min": "0.6",
    "hedge_ratio_max": "1.2",
    "grid_spacing_pct": "0.004",
    "num_levels": 4,
    "rebalance_interval": "7200",
    "logging": {"level": "ERROR"},
}


def _config(var_limit: float, *, bars: int = 520, history: int = 300) -> dict[str, Any]:
    """BTC + ETH, hourly correlation 0.8, ETH 1.3 times as volatile (synthetic)."""
    return {
        "portfolio": {"var_limit": var_limit, "max_drawdown": 0.5, "lookback_bars": 200},
        "data": {"seed": 7, "bars": bars, "history_bars": history},
        "legs": [
            {
                "symbol": "BTCUSDT",
                "spot_amount": "1",
                "start_price": 95236.15,
                "price_decimals": 1,
                "config": {**LEG_CONFIG, "max_position_size": "1.5"},
            },
            {
                "symbol": "ETHUSDT",
                "spot_amount": "30",
                "start_price": 3412.55,
                "correlation": 0.8,
                "vol_ratio": 1.3,
                "config": LEG_CONFIG,
            },
        ],
    }


def _single(cfg: dict[str, Any], candles: dict[str, Candles], i: int) -> Any:
    leg = cfg["legs"][i]
    history = cfg["data"]["history_bars"]
    symbol = leg["symbol"]
    return run_backtest(
        GridHedgeConfig.load(leg_config(leg, history)),
        candles[symbol],
        symbol=symbol,
        spot_amount=leg["spot_amount"],
        start=history,
    )


def test_one_leg_is_the_single_backtest_event_for_event() -> None:
    cfg = _config(1e12)
    cfg["legs"] = cfg["legs"][:1]
    candles = synthetic_legs(cfg)
    port = run_portfolio_backtest(cfg, candles=candles)
    single = _single(cfg, candles, 0)
    log = port.legs["BTCUSDT"].event_log()
    assert {e[1] for e in log} == {"place", "cancel", "fill"}
    assert log == single.event_log()
    assert port.legs["BTCUSDT"].fills.equals(single.fills)
    np.testing.assert_array_equal(
        port.legs["BTCUSDT"].series["equity"].to_numpy(), single.series["equity"].to_numpy()
    )
    assert port.legs["BTCUSDT"].metrics == single.metrics
    assert port.metrics["rebalances"] == single.metrics["decisions"]
    assert port.metrics["rebalances_shrunk"] == 0 and len(port.reasons) == 0


def test_unbound_legs_are_independent_single_backtests() -> None:
    cfg = _config(1e12)
    candles = synthetic_legs(cfg)
    port = run_portfolio_backtest(cfg, candles=candles)
    for i, symbol in enumerate(("BTCUSDT", "ETHUSDT")):
        single = _single(cfg, candles, i)
        assert len(single.event_log()) > 30
        assert port.legs[symbol].event_log() == single.event_log()
        assert port.legs[symbol].metrics == single.metrics
    total = sum(port.legs[s].series["equity"].to_numpy() for s in ("BTCUSDT", "ETHUSDT"))
    np.testing.assert_array_equal(port.equity["equity"].to_numpy(), total)


def _first_report(cfg: dict[str, Any], candles: dict[str, Candles], start: int) -> Any:
    """PortfolioRiskManager's figures at the first rebalance (its own path, from Python)."""
    port = cfg["portfolio"]
    manager = PortfolioRiskManager(port["var_limit"], port["max_drawdown"], lookback_bars=200)
    legs = []
    for leg in cfg["legs"]:
        c = candles[leg["symbol"]]
        side = max(1 - 0.6, 1.2 - 1, 0)
        exposure = float(leg["spot_amount"]) * side * float(c.close[start])
        w = slice(max(0, start - 200), start + 1)
        legs.append(LegInput(leg["symbol"], c.timestamp[w], c.close[w], exposure, 1.0))
    return manager.evaluate(legs)


def test_a_correlated_pair_over_the_limit_is_shrunk_every_rebalance() -> None:
    free = _config(1e12)
    candles = synthetic_legs(free)
    start = free["data"]["history_bars"]
    first = _first_report(free, candles, start)
    standalone = [leg.standalone_var for leg in first.legs]
    # each leg alone within the limit, the correlated pair over it
    limit = max(standalone) * 1.05
    assert max(standalone) < limit < first.var
    cfg = _config(limit)
    result = run_portfolio_backtest(cfg, candles=candles)
    rb = result.rebalances
    # the backtester's figures at the first rebalance are the manager's (same functions)
    bound = _first_report(cfg, candles, start)
    assert rb["var"].iloc[0] == bound.var == first.var
    for i, symbol in enumerate(("BTCUSDT", "ETHUSDT")):
        assert rb[f"exposure[{symbol}]"].iloc[0] == bound.legs[i].exposure
        assert rb[f"multiplier[{symbol}]"].iloc[0] == bound.legs[i].multiplier
        assert rb[f"var_limit[{symbol}]"].iloc[0] == bound.legs[i].var_limit
        assert rb[f"var_limit[{symbol}]"].iloc[0] <= float(GridHedgeConfig().risk.var_limit)
    # over every rebalance: shrunk when over, VaR after the shrink within the limit
    assert (rb["var_after"] <= limit * (1 + 1e-9)).all()
    over = rb["var"] > limit
    assert over.all()
    eth, btc = rb["multiplier[ETHUSDT]"], rb["multiplier[BTCUSDT]"]
    top_eth = rb["component[ETHUSDT]"] >= rb["component[BTCUSDT]"]
    assert top_eth.any()
    assert ((eth <= btc) | ~top_eth).all() and ((btc <= eth) | top_eth).all()
    assert (np.minimum(eth, btc) < 1).all()
    # recorded why, the largest contributor named first
    assert result.metrics["rebalances_shrunk"] == len(rb)
    first_bar = result.reasons[result.reasons["bar"] == rb["bar"].iloc[0]]["reason"].tolist()
    assert "exceeds var_limit" in first_bar[0] and "shrinking ETHUSDT" in first_bar[0]
    # the legs traded smaller than unconstrained
    free_run = run_portfolio_backtest(free, candles=candles)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert result.legs[symbol].event_log() != free_run.legs[symbol].event_log()


def test_budgets_become_each_legs_var_limit() -> None:
    cfg = _config(1e12)
    for leg in cfg["legs"]:
        leg["config"] = {**leg["config"], "var_limit": "3000"}
    candles = synthetic_legs(cfg)
    first = _first_report(_config(1e12), candles, cfg["data"]["history_bars"])
    # a budget below the legs' configured limits, above what would shrink the pair
    cfg["portfolio"]["var_limit"] = first.var * 1.5
    result = run_portfolio_backtest(cfg, candles=candles)
    rb = result.rebalances
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert (rb[f"var_limit[{symbol}]"] <= 3000).all()
        assert (rb[f"var_limit[{symbol}]"] >= rb[f"share[{symbol}]"] * (1 - 1e-12)).all()
    assert (
        rb["share[BTCUSDT]"] + rb["share[ETHUSDT]"] <= cfg["portfolio"]["var_limit"] * (1 + 1e-12)
    ).all()
    assert result.metrics["rebalances_budgeted"] > 0
    assert result.reasons["reason"].str.contains("var_limit 3000.00 ->").any()


def _k(confidence: float, horizon: int) -> float:
    return NormalDist().inv_cdf(confidence) * float(np.sqrt(horizon))


def _reference(w: F64, cov: F64, limit: float, configured: F64, k: float) -> F64:
    """numpy: the VaR each leg may have alone at the exposure its budget allows."""
    n = len(w)
    share = np.full(n, limit / n)
    sigma = float(np.sqrt(w @ cov @ w))
    marginal = k * (cov @ w) / sigma * np.sign(np.where(w == 0, 1.0, w))
    out = configured.copy()
    for i in range(n):
        if marginal[i] > 0:
            alone = share[i] / marginal[i] * k * np.sqrt(cov[i, i])
            if np.isfinite(alone) and alone > 0:
                out[i] = min(alone, configured[i])
    return out


@settings(max_examples=60, deadline=None)
@given(
    s1=st.floats(0.002, 0.05),
    s2=st.floats(0.002, 0.05),
    e1=st.floats(1e3, 1e6),
    e2=st.floats(1e3, 1e6),
    rho=st.floats(0.3, 0.99),
    limit=st.floats(10.0, 1e5),
)
def test_a_correlated_second_leg_gets_less(
    s1: float, s2: float, e1: float, e2: float, rho: float, limit: float
) -> None:
    w = np.array([e1, e2])
    configured = np.array([1e300, 1e300])

    def cov(r: float) -> F64:
        return np.array([[s1 * s1, r * s1 * s2], [r * s1 * s2, s2 * s2]])

    correlated = leg_var_limits(w, cov(rho), limit, configured, None, 0.95, 24)
    independent = leg_var_limits(w, cov(0.0), limit, configured, None, 0.95, 24)
    assert correlated[1] < independent[1]
    for c in (rho, 0.0):
        got = leg_var_limits(w, cov(c), limit, configured, None, 0.95, 24)
        ref = _reference(w, cov(c), limit, configured, _k(0.95, 24))
        np.testing.assert_allclose(got, ref, rtol=1e-9)
        shares, _ = var_budgets(w, cov(c), limit, None, 0.95, 24)
        assert shares.sum() <= limit * (1 + 1e-12)
        # a leg's limit is at least its share (its correlation with the portfolio is <= 1)
        assert (got >= shares * (1 - 1e-9)).all()


@settings(max_examples=60, deadline=None)
@given(
    s=st.lists(st.floats(0.002, 0.05), min_size=2, max_size=5),
    e=st.lists(st.floats(-1e6, 1e6), min_size=5, max_size=5),
    cap=st.lists(st.floats(1.0, 1e5), min_size=5, max_size=5),
    rho=st.floats(-0.5, 0.95),
    limit=st.floats(10.0, 1e5),
)
def test_leg_var_limits_never_exceed_the_configured_ones(
    s: list[float], e: list[float], cap: list[float], rho: float, limit: float
) -> None:
    n = len(s)
    sd = np.array(s)
    corr = np.full((n, n), max(rho, -1 / (n - 1) + 1e-3))
    np.fill_diagonal(corr, 1.0)
    cov = np.ascontiguousarray(corr * np.outer(sd, sd))
    w = np.array(e[:n])
    configured = np.array(cap[:n])
    got = leg_var_limits(w, cov, limit, configured, None, 0.95, 24)
    assert (got <= configured).all() and (got > 0).all()
    if float(w @ cov @ w) > 0:
        np.testing.assert_allclose(
            got, _reference(w, cov, limit, configured, _k(0.95, 24)), rtol=1e-9
        )


def _runner_events(cfg: dict[str, Any], candles: dict[str, Candles]) -> tuple[dict[str, Any], Any]:
    runner = PortfolioRunner(cfg, candles=candles)
    asyncio.run(runner.run(10_000))
    logs = {}
    for leg in runner.legs:
        broker: Any = leg.bot.broker
        logs[leg.symbol] = [
            (b.bar, b.event, b.client_order_id, b.side, b.price, b.amount) for b in broker.events
        ]
    runner.close()
    return logs, runner


@pytest.mark.parametrize("case", ["shrunk", "budgeted"])
def test_the_paper_runner_logs_the_portfolio_backtests_events(case: str) -> None:
    cfg = _config(1e12, bars=420, history=300)
    candles = synthetic_legs(cfg)
    first = _first_report(cfg, candles, 300)
    if case == "shrunk":
        cfg["portfolio"]["var_limit"] = max(x.standalone_var for x in first.legs) * 1.05
    else:
        for leg in cfg["legs"]:
            leg["config"] = {**leg["config"], "var_limit": "3000"}
        cfg["portfolio"]["var_limit"] = first.var * 1.5
    result = run_portfolio_backtest(copy.deepcopy(cfg), candles=candles)
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="INFO")
    try:
        paper, runner = _runner_events(copy.deepcopy(cfg), candles)
    finally:
        logger.remove(sink)
    assert len(runner.history.var) == result.metrics["rebalances"]
    np.testing.assert_array_equal(np.array(runner.history.var), result.rebalances["var"])
    for symbol in ("BTCUSDT", "ETHUSDT"):
        backtest = result.legs[symbol].event_log()
        assert len(backtest) > 20
        diff = next(
            (i for i, (a, b) in enumerate(zip(paper[symbol], backtest, strict=False)) if a != b),
            None,
        )
        assert diff is None, (
            f"{symbol}: first divergence at event {diff}: paper {paper[symbol][diff]} "
            f"vs backtest {backtest[diff]}"
        )
        assert len(paper[symbol]) == len(backtest)
    text = "\n".join(lines)
    if case == "shrunk":
        assert result.metrics["rebalances_shrunk"] > 0
        assert "hedge band at" in text
    else:
        assert result.metrics["rebalances_budgeted"] > 0
        # the runner logs why a leg's limit moved, as the backtester records it
        assert "Portfolio budget: ETHUSDT var_limit" in text and "(configured 3000.00)" in text
        assert result.reasons["reason"].str.startswith("ETHUSDT var_limit 3000.00 ->").any()


def _raw(cfg: dict[str, Any], candles: dict[str, Candles], **over: Any) -> Any:
    history = cfg["data"]["history_bars"]
    specs, data = [], []
    for leg in cfg["legs"]:
        c = candles[leg["symbol"]]
        specs.append(
            spec_for(
                GridHedgeConfig.load(leg_config(leg, history)),
                c,
                symbol=leg["symbol"],
                spot_amount=leg["spot_amount"],
                start=history,
            )
        )
        data.append(arrays(c))
    kw: dict[str, Any] = {
        "var_limit": 1e6,
        "max_drawdown": 0.5,
        "confidence": 0.95,
        "horizon": 24,
        "method": "ewma",
        "lam": 0.97,
        "window": 500,
        "lookback_bars": 200,
        "weights": None,
        "start": history,
        "cadence": 2,
        **over,
    }
    markets = [default_market(leg["symbol"]) for leg in cfg["legs"]]
    if "data" in kw:
        data = kw.pop("data")
    return portfolio_backtest(specs, markets, data, **kw)


def test_bad_inputs_are_typed_errors_naming_leg_field_and_rule() -> None:
    cfg = _config(1e6, bars=360, history=300)
    candles = synthetic_legs(cfg)
    good = [arrays(candles["BTCUSDT"]), arrays(candles["ETHUSDT"])]
    # misaligned: one bar of ETH an hour late
    ts = good[1][0].copy()
    ts[320] += 1
    with pytest.raises(InvalidInputError) as e:
        _raw(cfg, candles, data=[good[0], (ts, *good[1][1:])])
    assert e.value.field == "legs[1] (ETHUSDT).timestamp[320]"
    assert "align the legs" in str(e.value)
    # a missing bar
    short = tuple(a[:-1] if i < 6 else a for i, a in enumerate(good[1]))
    with pytest.raises(InvalidInputError) as e:
        _raw(cfg, candles, data=[good[0], short])
    assert e.value.field == "legs[1] (ETHUSDT).timestamp"
    # NaN
    close = good[0][4].copy()
    close[310] = np.nan
    with pytest.raises(InvalidInputError) as e:
        _raw(cfg, candles, data=[(*good[0][:4], close, *good[0][5:]), good[1]])
    assert e.value.field == "legs[0] (BTCUSDT).close[310]"
    assert "finite" in str(e.value)
    # zero legs, settings
    with pytest.raises(InvalidInputError) as e:
        portfolio_backtest(
            [],
            [],
            [],
            var_limit=1.0,
            max_drawdown=0.1,
            confidence=0.95,
            horizon=24,
            method="ewma",
            lam=0.97,
            window=500,
            lookback_bars=200,
            weights=None,
            start=10,
            cadence=1,
        )
    assert e.value.field == "legs"
    for key, value in (("var_limit", float("nan")), ("max_drawdown", 1.5), ("start", 1)):
        with pytest.raises(InvalidInputError) as e:
            _raw(cfg, candles, **{key: value})
        assert e.value.field == key
    with pytest.raises(InvalidInputError) as e:
        _raw(cfg, candles, method="garch")
    assert e.value.field == "method"
    with pytest.raises(ConfigError):
        run_portfolio_backtest({**cfg, "legs": []})


def test_cli_backtests_the_portfolio(tmp_path: pathlib.Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from gridhedge.cli import app
    from gridhedge.data.files import save_candles

    cfg = _config(1e12, bars=360, history=300)
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = CliRunner().invoke(app, ["portfolio", "backtest", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output[result.output.index("{") :])
    assert set(out["legs"]) == {"BTCUSDT", "ETHUSDT"}
    assert out["portfolio"]["rebalances"] == 31  # bars 300, 302, ..., 358 and the last, 359
    # a leg's candles from a file, misaligned with the other: a typed error naming the leg
    candles = synthetic_legs(cfg)
    eth = candles["ETHUSDT"]
    shifted = Candles(eth.timestamp + 60_000, eth.open, eth.high, eth.low, eth.close, eth.volume)
    save_candles(shifted, tmp_path / "eth.csv")
    result = CliRunner().invoke(
        app,
        [
            "portfolio",
            "backtest",
            "--config",
            str(path),
            "--data",
            f"ETHUSDT={tmp_path / 'eth.csv'}",
        ],
    )
    assert result.exit_code == 2
    assert "legs[1] (ETHUSDT).timestamp[0]" in result.output
    # the runner's command still takes the config directly
    result = CliRunner().invoke(app, ["portfolio", str(path), "--steps", "1", "--json"])
    assert result.exit_code == 0, result.output
