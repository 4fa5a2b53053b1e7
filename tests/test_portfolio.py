"""Portfolio mode: the Rust portfolio risk against numpy (hypothesis), correlated synthetic
assets, and a PAPER run of BTC+ETH where each leg alone is within var_limit but the pair is not."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger
from scipy.stats import norm

from gridhedge import InvalidInputError
from gridhedge._core import (
    covariance_from_correlation,
    ewma_var_path,
    portfolio_covariance,
    portfolio_drawdown,
    portfolio_risk,
    portfolio_var,
    shrink_to_limit,
    var_budgets,
)
from gridhedge.data.correlated import BTC_ETH, correlated_candles
from gridhedge.portfolio import LegInput, PortfolioRiskManager, PortfolioRunner

F64 = npt.NDArray[np.float64]


def _returns(seed: int, t: int, n: int) -> F64:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n)) * 0.01
    return np.ascontiguousarray(rng.normal(size=(t, n)) @ a)


def _corr(n: int, rho: float) -> F64:
    c = np.full((n, n), rho)
    np.fill_diagonal(c, 1.0)
    return c


def _lw_reference(r: F64) -> tuple[F64, float]:
    """numpy: sample covariance (ddof 1) shrunk toward its diagonal, Schafer-Strimmer
    intensity sum Var(s_ij) / sum s_ij^2 over the off-diagonals."""
    t = r.shape[0]
    x = r - r.mean(axis=0)
    s = x.T @ x / t
    prod = x[:, :, None] * x[:, None, :]
    noise = ((prod - s) ** 2).sum(axis=0) / t**2
    off = ~np.eye(r.shape[1], dtype=bool)
    k = t / (t - 1)
    s, noise = s * k, noise * k * k
    signal = float((s[off] ** 2).sum())
    d = min(1.0, float(noise[off].sum()) / signal) if signal > 0 else 0.0
    out = s.copy()
    out[off] *= 1 - d
    return out, d


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    t=st.integers(5, 300),
    n=st.integers(1, 6),
    horizon=st.integers(1, 48),
)
def test_euler_components_sum_to_var_and_match_numpy(
    seed: int, t: int, n: int, horizon: int
) -> None:
    r = _returns(seed, t, n)
    w = np.random.default_rng(seed + 1).normal(size=n) * 1e4
    risk = portfolio_risk(r, w, method="rolling", window=t, confidence=0.99, horizon=horizon)
    cov, d = _lw_reference(r)
    np.testing.assert_allclose(risk.covariance, cov, rtol=1e-9, atol=1e-18)
    assert risk.shrinkage == pytest.approx(d, rel=1e-9, abs=1e-12)
    var = norm.ppf(0.99) * np.sqrt(horizon) * np.sqrt(w @ cov @ w)
    assert risk.var == pytest.approx(var, rel=1e-9)
    assert float(risk.component.sum()) == pytest.approx(risk.var, rel=1e-9, abs=1e-9)
    pnl = r @ w
    assert risk.historical_var == pytest.approx(
        float(np.quantile(-pnl, 0.99)) * np.sqrt(horizon), rel=1e-9, abs=1e-12
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vols=st.lists(st.floats(1e-4, 0.1), min_size=1, max_size=8),
    scale=st.floats(1.0, 1e6),
)
def test_correlation_one_sums_and_zero_is_root_sum_square(vols: list[float], scale: float) -> None:
    v = np.array(vols)
    n = len(v)
    w = scale * np.arange(1, n + 1, dtype=np.float64)
    solo = norm.ppf(0.95) * v * w
    one = portfolio_var(w, covariance_from_correlation(v, _corr(n, 1.0)), 0.95, 1)
    assert one.var == pytest.approx(float(solo.sum()), rel=1e-9)
    zero = portfolio_var(w, covariance_from_correlation(v, _corr(n, 0.0)), 0.95, 1)
    assert zero.var == pytest.approx(float(np.sqrt((solo**2).sum())), rel=1e-9)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 10),
    rho=st.floats(-0.1, 0.99),
    cut=st.floats(0.01, 1.5),
)
def test_budgets_never_exceeded_after_shrinking(seed: int, n: int, rho: float, cut: float) -> None:
    rng = np.random.default_rng(seed)
    vols = 0.005 + rng.random(n) * 0.05
    w = rng.normal(size=n) * 1e5
    if n > 1:
        rho = max(rho, -1 / (n - 1) + 1e-6)
    cov = covariance_from_correlation(vols, _corr(n, rho))
    before = float(norm.ppf(0.99) * np.sqrt(24) * np.sqrt(max(w @ cov @ w, 0.0)))
    if before <= 0:
        return
    limit = before * cut
    m = shrink_to_limit(w, cov, limit, 0.99, 24)
    assert np.all((m > 0) & (m <= 1))
    shrunk = w * m
    after = float(norm.ppf(0.99) * np.sqrt(24) * np.sqrt(max(shrunk @ cov @ shrunk, 0.0)))
    assert after <= limit * (1 + 1e-9)
    if cut >= 1:
        assert np.all(m == 1)
    shares, allowed = var_budgets(shrunk, cov, limit, None, 0.99, 24)
    assert float(shares.sum()) == pytest.approx(limit)
    assert np.all(allowed > 0)


def test_correlated_second_leg_is_allowed_less_and_cut_first() -> None:
    vols = np.array([0.01, 0.01, 0.01])
    rho = np.array([[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]], dtype=np.float64)
    cov = covariance_from_correlation(vols, rho)
    w = np.array([1000.0, 1000.0, 1000.0])
    _, allowed = var_budgets(w, cov, 30.0)
    assert allowed[1] < allowed[2]
    var = portfolio_var(w, cov).var
    m = shrink_to_limit(w, cov, var * 0.95)
    assert m[2] == 1.0 and min(m[0], m[1]) < 1.0


def test_ewma_path_and_drawdown_and_errors() -> None:
    r = _returns(3, 400, 4)
    w = np.array([1e4, -2e4, 5e3, 1e4])
    path = ewma_var_path(r, w, lam=0.97, confidence=0.95, horizon=1)
    wt = 0.97 ** np.arange(399, -1, -1)
    cov = (r * wt[:, None]).T @ r / wt.sum()
    assert path[-1] == pytest.approx(norm.ppf(0.95) * np.sqrt(w @ cov @ w), rel=1e-9)
    total, current, worst = portfolio_drawdown(
        np.array([[100.0, 100.0], [110.0, 100.0], [90.0, 100.0]])
    )
    assert list(total) == [200.0, 210.0, 190.0]
    assert current == pytest.approx(190 / 210 - 1)
    assert worst.drawdown == pytest.approx(current)
    _, d, eff = portfolio_covariance(r, method="ewma", lam=0.9)
    assert 0 <= d <= 1 and eff == pytest.approx((1 + 0.9) / (1 - 0.9), rel=1e-6)
    with pytest.raises(InvalidInputError) as e:
        portfolio_covariance(r, method="ewma", lam=1.5)
    assert e.value.field == "lambda"
    with pytest.raises(InvalidInputError) as e:
        portfolio_covariance(r, method="median")
    assert e.value.field == "method"
    with pytest.raises(InvalidInputError) as e:
        shrink_to_limit(w, np.eye(4), -1.0)
    assert e.value.field == "var_limit"


def test_correlated_candles_btc_eth() -> None:
    c = correlated_candles(BTC_ETH, seed=11, bars=4000)
    btc, eth = c["BTCUSDT"], c["ETHUSDT"]
    assert np.array_equal(btc.timestamp, eth.timestamp)
    rb, re = np.diff(np.log(btc.close)), np.diff(np.log(eth.close))
    assert np.corrcoef(rb, re)[0, 1] == pytest.approx(0.8, abs=0.03)
    assert re.std() / rb.std() == pytest.approx(1.3, rel=0.05)
    assert np.all(eth.high >= np.maximum(eth.open, eth.close))
    assert np.all(eth.low <= np.minimum(eth.open, eth.close))


@pytest.fixture
def log_lines() -> Any:
    lines: list[str] = []
    handler = logger.add(lines.append, format="{level} | {message}", level="DEBUG")
    yield lines
    logger.remove(handler)


def _config(var_limit: float, max_drawdown: float = 0.5) -> dict[str, Any]:
    return {
        "portfolio": {
            "var_limit": var_limit,
            "max_drawdown": max_drawdown,
            "horizon_bars": 24,
            "lam": 0.97,
        },
        "data": {"seed": 7, "bars": 700, "history_bars": 500},
        "legs": [
            {
                "symbol": "BTCUSDT",
                "spot_amount": "1",
                "start_price": 95236.15,
                "price_decimals": 1,
                "config": {"max_position_size": "1.5"},
            },
            {
                "symbol": "ETHUSDT",
                "spot_amount": "30",
                "start_price": 3412.55,
                "correlation": 0.8,
                "vol_ratio": 1.3,
                "config": {"max_position_size": "40"},
            },
        ],
    }


def _grid_lots(runner: PortfolioRunner) -> dict[str, int]:
    out = {}
    for leg in runner.legs:
        assert leg.last is not None
        out[leg.symbol] = sum(o.amount_lots for o in leg.last.decision.orders if o.role == "grid")
    return out


def test_paper_btc_eth_each_leg_within_but_the_pair_over_shrinks(log_lines: list[str]) -> None:
    free = PortfolioRunner(_config(1e9))
    asyncio.run(free.run(1))
    first = free.manager.last
    assert first is not None and not first.over_limit
    standalone = [leg.standalone_var for leg in first.legs]
    # a limit every leg meets alone but the correlated pair breaks (well over: both shrink)
    limit = max(standalone) * 1.05
    assert max(standalone) < limit < first.var
    bound = PortfolioRunner(_config(limit))
    asyncio.run(bound.run(1))
    report = bound.manager.last
    assert report is not None and report.over_limit
    assert report.var_after <= limit * (1 + 1e-9)
    mult = {leg.symbol: leg.multiplier for leg in report.legs}
    # ETH contributes most: it shrinks most
    assert mult["ETHUSDT"] < mult["BTCUSDT"] <= 1.0
    text = "\n".join(log_lines)
    assert "exceeds var_limit" in text
    assert "shrinking ETHUSDT to" in text and "of the portfolio, correlation" in text
    assert "each leg alone: BTCUSDT" in text
    assert "ETHUSDT hedge band at" in text
    # the orders that result are smaller than the unconstrained run's
    free_lots, bound_lots = _grid_lots(free), _grid_lots(bound)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert 0 < bound_lots[symbol] < free_lots[symbol]
    # a bot's own band is never looser than its configuration
    for leg in bound.legs:
        eff, cfg = leg.bot.effective_config().hedge, leg.bot.config.hedge
        assert cfg.hedge_ratio_min <= eff.hedge_ratio_min <= eff.hedge_ratio_max
        assert eff.hedge_ratio_max <= cfg.hedge_ratio_max
    status = bound.status()
    assert status["portfolio"]["var"] == pytest.approx(report.var)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        row = status["legs"][symbol]
        for key in ("exposure", "hedge_ratio", "var_contribution", "funding_carry", "multiplier"):
            assert key in row
    assert sum(r["var_contribution"] for r in status["legs"].values()) == pytest.approx(report.var)


def test_portfolio_halt_cancels_every_leg(log_lines: list[str]) -> None:
    runner = PortfolioRunner(_config(1e9))
    asyncio.run(runner.run(1))
    assert any(leg.bot.order_manager is not None for leg in runner.legs)
    # a high-water mark far above today's equity: the portfolio is 50%+ under it
    runner.manager._equity.insert(0, [1e7, 1e7])
    report = asyncio.run(runner.step())
    assert report.halted
    assert "Portfolio halt" in "\n".join(log_lines)
    for leg in runner.legs:
        assert asyncio.run(leg.bot.broker.fetch_open_orders(leg.symbol)) == []


def test_manager_rejects_bad_limits_and_runner_reads_yaml(tmp_path: pathlib.Path) -> None:
    with pytest.raises(InvalidInputError):
        PortfolioRiskManager(0.0)
    m = PortfolioRiskManager(1e9)
    ts = np.arange(50, dtype=np.int64)
    closes = np.linspace(100, 110, 50)
    rep = m.evaluate([LegInput("A", ts, closes + np.sin(ts), 1000.0, 1000.0)])
    assert rep.legs[0].multiplier == 1.0 and not rep.halted
    import yaml

    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(_config(1e9)))
    runner = PortfolioRunner(path)
    assert [leg.symbol for leg in runner.legs] == ["BTCUSDT", "ETHUSDT"]


def test_shared_state_file_keeps_the_halt_across_a_restart(tmp_path: pathlib.Path) -> None:
    import sqlite3

    cfg = {**_config(1e9), "state": {"state_path": str(tmp_path / "portfolio.sqlite")}}
    runner = PortfolioRunner(cfg)
    asyncio.run(runner.run(1))
    runner.manager._equity.insert(0, [1e7, 1e7])
    assert asyncio.run(runner.step()).halted
    db = sqlite3.connect(tmp_path / "portfolio.sqlite")
    bots = {row[0] for row in db.execute("SELECT bot_id FROM bots")}
    assert bots == {"portfolio", "btcusdt-grid", "ethusdt-grid"}
    events = [row[0] for row in db.execute("SELECT code FROM risk_events")]
    assert "portfolio_halt" in events
    runner.close()
    restarted = PortfolioRunner(cfg)
    assert restarted.manager.halted
    report = asyncio.run(restarted.step())
    assert report.halted
    for leg in restarted.legs:
        assert leg.last is None  # no leg traded
    restarted.close()


def test_cli_runs_the_example_config() -> None:
    from typer.testing import CliRunner

    from gridhedge.cli import app

    example = pathlib.Path(__file__).parents[1] / "python/gridhedge/config/examples/portfolio.yaml"
    result = CliRunner().invoke(app, ["portfolio", str(example), "--steps", "2", "--json"])
    assert result.exit_code == 0, result.output
    import json

    status = json.loads(result.output[result.output.index("{") :])
    assert set(status["legs"]) == {"BTCUSDT", "ETHUSDT"}
    assert status["portfolio"]["var"] > status["portfolio"]["var_limit"]
    assert status["portfolio"]["var_after_shrink"] <= status["portfolio"]["var_limit"] * 1.000001


def test_recommendation_mode_and_run_summary(tmp_path: pathlib.Path) -> None:
    from gridhedge import ConfigError

    base = _config(1e9)
    runner = PortfolioRunner({**base, "mode": "RECOMMENDATION"})
    asyncio.run(runner.run(3))
    assert all(leg.bot.broker.trading_mode.value == "RECOMMENDATION" for leg in runner.legs)
    run = runner.status()["run"]
    assert run["rebalances"] == 3 and run["rebalances_shrunk"] == 0
    with pytest.raises(ConfigError):
        PortfolioRunner({**base, "mode": "REAL"})
