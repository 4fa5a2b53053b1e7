"""Backtests a trader can trust: baselines on the same bars, the excess over the static hedge
with its bootstrap interval, PnL attribution, metrics that cannot lie, the full VaR backtest.

Every figure is checked against an independent numpy/pandas computation from the run's
per-bar series, fills and the candles."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
import pytest

from gridhedge import _core
from gridhedge.backtest import run_backtest
from gridhedge.data.candles import Candles
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.errors import GridHedgeError

BASE: dict[str, Any] = {
    "data": {"history_bars": 100},
    "grid": {"grid_spacing_pct": "0.004"},
    "logging": {"level": "ERROR"},
}
CANDLES = synthetic_candles(seed=11, bars=1200, timeframe="1h", start_price=30_000.0)
RUN = run_backtest(BASE, CANDLES, seed=3)


def _mbb_totals(
    d: npt.NDArray[np.float64], block: int, resamples: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Moving-block bootstrap of the sum of ``d`` (numpy, independent of the core)."""
    m = len(d)
    k = math.ceil(m / block)
    starts = rng.integers(0, m - block + 1, size=(resamples, k))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, -1)[:, :m]
    return np.asarray(d[idx].sum(axis=1), dtype=np.float64)


def test_excess_and_its_interval_match_an_independent_bootstrap() -> None:
    m, s = RUN.metrics, RUN.series
    d = np.diff(s["equity"].to_numpy()) - np.diff(s["static_equity"].to_numpy())
    # the point estimate is the PnL difference, exactly
    assert d.sum() == pytest.approx(m["excess_pnl"], abs=1e-6)
    assert m["excess_pnl"] == pytest.approx(m["pnl"] - m["static_pnl"], abs=1e-9)
    block = m["excess_block_bars"]
    assert block == round(len(d) ** (1 / 3))
    totals = _mbb_totals(d, block, 20_000, np.random.default_rng(12345))
    lo, hi = np.quantile(totals, [0.025, 0.975])
    width = hi - lo
    assert width > 0
    assert m["excess_ci_low"] == pytest.approx(lo, abs=0.1 * width)
    assert m["excess_ci_high"] == pytest.approx(hi, abs=0.1 * width)
    assert m["excess_t"] == pytest.approx(d.sum() / totals.std(ddof=1), rel=0.1)
    # deterministic for a seed, different for another
    again = _core.excess_bootstrap(
        s["equity"].to_numpy(), s["static_equity"].to_numpy(), resamples=2000, seed=3
    )
    assert again["ci_low"] == m["excess_ci_low"]
    other = _core.excess_bootstrap(
        s["equity"].to_numpy(), s["static_equity"].to_numpy(), resamples=2000, seed=4
    )
    assert other["ci_low"] != m["excess_ci_low"]
    with pytest.raises(GridHedgeError, match="resamples"):
        _core.excess_bootstrap(s["equity"].to_numpy(), s["static_equity"].to_numpy(), resamples=5)


def test_static_hedge_and_unhedged_baselines_match_pandas() -> None:
    m, s = RUN.metrics, RUN.series
    c = CANDLES
    first = int(s["bar"].iloc[0])
    close = c.close[first:]
    # unhedged: the inventory alone
    assert m["unhedged_pnl"] == pytest.approx(close[-1] - close[0], abs=1e-9)
    assert np.allclose(s["unhedged_equity"], close)
    # static: 1.0 short of 1 BTC opened at the first close with the taker fee, funding paid on
    # it at each funding time inside a later bar (at that bar's close)
    tick = float(RUN.market.tick_size)
    entry = round(close[0] / tick) * tick
    fee = 0.0005 * entry * 1.0
    ts = c.timestamp
    assert c.funding_time is not None and c.funding_rate is not None
    ft, fr = c.funding_time, c.funding_rate
    bar = int(ts[1] - ts[0])
    funding = 0.0
    for t, r in zip(ft, fr, strict=True):
        j = int(np.searchsorted(ts, t, side="left")) - 1  # bar with open < t <= open + bar
        if j > first and t <= ts[j] + bar:
            funding += 1.0 * c.close[j] * r  # a short receives positive funding
    want = (close[-1] - close[0]) - (close[-1] - entry) - fee + funding
    assert m["static_fees"] == pytest.approx(fee, abs=1e-9)
    assert m["static_funding"] == pytest.approx(funding, abs=1e-6)
    assert m["static_pnl"] == pytest.approx(want, abs=1e-6)
    assert s["static_equity"].iloc[-1] - s["static_equity"].iloc[0] == pytest.approx(want)
    # a half hedge: the same bars, a different static PnL
    half = run_backtest(
        {**BASE, "hedge": {"hedge_ratio": "0.5", "hedge_ratio_min": "0.3"}},
        CANDLES,
        record_events=False,
    )
    assert half.metrics["static_pnl"] != pytest.approx(m["static_pnl"])


def test_attribution_sums_to_the_total_to_the_cent() -> None:
    m, s = RUN.metrics, RUN.series
    parts = ("pnl_spot", "pnl_grid", "pnl_drift", "pnl_fees", "pnl_funding")
    assert abs(sum(m[k] for k in parts) - m["pnl"]) < 0.005
    assert m["pnl"] == pytest.approx(s["equity"].iloc[-1] - s["equity"].iloc[0], abs=1e-6)
    close = s["close"].to_numpy()
    assert m["pnl_spot"] == pytest.approx(close[-1] - close[0], abs=1e-6)
    # inventory drift: the position held from one close to the next times the move
    drift = float((s["position"].to_numpy()[:-1] * np.diff(close)).sum())
    assert m["pnl_drift"] == pytest.approx(drift, abs=1e-6)
    assert m["pnl_fees"] == pytest.approx(-m["fees"]) and m["fees"] > 0
    assert m["pnl_funding"] == pytest.approx(m["funding_pnl"])
    # grid trading = every fill against the close of its bar, marked to the next closes:
    # sum over fills of signed amount x (close of the fill's bar - fill price)
    f = RUN.fills
    sign = np.where(f["side"] == "buy", 1.0, -1.0)
    amount = f["amount"].astype(float).to_numpy()
    price = f["price"].astype(float).to_numpy()
    bar_close = CANDLES.close[f["bar"].to_numpy()]
    grid = float((sign * amount * (bar_close - price)).sum())
    assert m["pnl_grid"] == pytest.approx(grid, abs=0.005)


def test_var_backtest_counts_every_bar_and_matches_the_formulas() -> None:
    m, s = RUN.metrics, RUN.series
    eq = s["equity"].to_numpy()
    # a loss beyond the f64 rounding of the marking (1e-9 of the book) is a loss
    noise = 1e-9 * np.maximum(np.maximum(s["close"].to_numpy(), np.abs(eq)), 1.0)[1:]
    loss = -np.diff(eq) - noise
    for level, c in (("95", 0.95), ("99", 0.99)):
        var = s[f"var{level}"].to_numpy()[1:]
        exc = loss > var  # a zero forecast with a loss is an exception
        assert m[f"var{level}_exceptions"] == int(exc.sum())
        n, x = len(exc), int(exc.sum())
        p = 1 - c

        def xlogy(a: float, b: float) -> float:
            return 0.0 if a == 0 else a * math.log(b)

        ph = x / n
        lr_pof = -2 * (xlogy(n - x, 1 - p) + xlogy(x, p) - xlogy(n - x, 1 - ph) - xlogy(x, ph))
        assert m[f"kupiec_p_{level}"] == pytest.approx(math.erfc(math.sqrt(lr_pof / 2)), rel=1e-6)
        a, b = exc[:-1], exc[1:]
        n00, n01 = int((~a & ~b).sum()), int((~a & b).sum())
        n10, n11 = int((a & ~b).sum()), int((a & b).sum())
        p01 = n01 / (n00 + n01) if n00 + n01 else 0.0
        p11 = n11 / (n10 + n11) if n10 + n11 else 0.0
        pi = (n01 + n11) / (n00 + n01 + n10 + n11)
        null = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
        alt = xlogy(n00, 1 - p01) + xlogy(n01, p01) + xlogy(n10, 1 - p11) + xlogy(n11, p11)
        lr_ind = -2 * (null - alt)
        assert m[f"christoffersen_p_{level}"] == pytest.approx(
            math.erfc(math.sqrt(lr_ind / 2)), rel=1e-6
        )
        assert m[f"conditional_coverage_p_{level}"] == pytest.approx(
            math.exp(-(lr_pof + lr_ind) / 2), rel=1e-6
        )
    assert m["var_observations"] == m["bars"] - 1


def _falling(bars: int = 600) -> Candles:
    """A market that falls 80% in a straight line (hourly, no funding)."""
    close = np.geomspace(30_000.0, 6_000.0, bars)
    open_ = np.concatenate([[close[0]], close[:-1]])
    ts = 1_704_067_200_000 + 3_600_000 * np.arange(bars, dtype=np.int64)
    return Candles(
        ts,
        open_,
        np.maximum(open_, close) * 1.001,
        np.minimum(open_, close) * 0.999,
        close,
        np.full(bars, 100.0),
    )


def test_equity_reaching_zero_makes_return_figures_undefined_with_the_reason() -> None:
    c = _falling()
    # 1 BTC on credit (cash -15,000): equity ~8,000 at the first decision (bar 100, BTC ~23,000),
    # below zero once BTC < 15,000; no stop (a stop would hedge the fall, and the drawdown
    # halt, which never raises the net exposure, would keep that hedge)
    cfg = {
        **BASE,
        "hedge": {"hedge_ratio": "0", "hedge_ratio_min": "0", "hedge_ratio_max": "0"},
        "risk": {"stop_loss_pct": "0.99"},
    }
    r = run_backtest(cfg, c, cash="-15000", record_events=False)
    m = r.metrics
    assert m["min_equity"] < 0
    assert m["pnl"] < 0 and m["total_return"] < -1  # the truth: more than the capital lost
    for k in ("sharpe", "sortino", "annual_return", "calmar", "max_drawdown"):
        assert m[k] is None
        assert "equity reached" in m["undefined"][k]
    # with positive equity throughout the same figures are numbers that agree with the sign
    ok = run_backtest(BASE, c, record_events=False).metrics
    assert ok["min_equity"] > 0 and ok["sharpe"] is not None
    assert (ok["sharpe"] > 0) == (ok["pnl"] > 0)
    assert ok["undefined"] == {}


def test_a_gap_is_an_error_unless_allowed_and_does_not_change_the_bar_length() -> None:
    c = CANDLES
    keep = np.ones(len(c), dtype=bool)
    keep[1] = False  # a missing bar right at the start
    keep[700:703] = False
    gappy = Candles(
        c.timestamp[keep], c.open[keep], c.high[keep], c.low[keep], c.close[keep], c.volume[keep]
    )
    with pytest.raises(GridHedgeError, match=r"2 gap\(s\), 4 missing bar"):
        run_backtest(BASE, gappy)
    m = run_backtest(BASE, gappy, allow_gaps=True, record_events=False).metrics
    assert m["gaps"] == 2 and m["missing_bars"] == 4
    assert m["bar_seconds"] == 3600.0  # the median step, not the first one (2 h)
    # the annualisation uses it: the same Sharpe scale as without the gaps
    whole = run_backtest(BASE, c, record_events=False).metrics
    assert whole["gaps"] == 0 and whole["bar_seconds"] == 3600.0


def test_times_are_utc_and_the_funding_source_is_named() -> None:
    assert str(RUN.series.index.tz) == "UTC"
    assert str(RUN.fills["time"].dt.tz) == "UTC"
    assert RUN.funding_source.startswith("synthetic")
    bare = Candles(
        CANDLES.timestamp, CANDLES.open, CANDLES.high, CANDLES.low, CANDLES.close, CANDLES.volume
    )
    r = run_backtest(BASE, bare.slice(0, 300), record_events=False)
    assert r.funding_source == "none: zero funding assumed"
    assert r.metrics["funding_pnl"] == 0 == r.metrics["static_funding"]


def test_sweep_rows_carry_the_baselines() -> None:
    from gridhedge.backtest.sweep import grid_of, sweep

    table = sweep(BASE, grid_of({"grid_spacing_pct": [0.004, 0.008]}), CANDLES.slice(0, 600))
    single = run_backtest(
        {**BASE, "grid": {"grid_spacing_pct": "0.008"}}, CANDLES.slice(0, 600), record_events=False
    )
    row = table.iloc[1]
    for k in ("static_pnl", "unhedged_pnl", "excess_pnl", "pnl_grid", "kupiec_p_99"):
        assert row[k] == pytest.approx(single.metrics[k], rel=1e-12, abs=1e-9)
    assert Decimal(str(row["excess_pnl"])) == Decimal(str(single.metrics["excess_pnl"]))
    assert isinstance(pd.DataFrame(table), pd.DataFrame)
    # the excess's bootstrap interval: the single run's (same resamples and seed), which brackets
    # the excess here, and left out on request
    for k in ("excess_ci_low", "excess_ci_high", "excess_t"):
        assert row[k] == single.metrics[k], k
    assert row["excess_ci_low"] < row["excess_pnl"] < row["excess_ci_high"]
    one = grid_of({"grid_spacing_pct": [0.008]})
    bare = sweep(BASE, one, CANDLES.slice(0, 600), bootstrap_resamples=None)
    assert "excess_ci_low" not in bare.columns
    assert bare.iloc[0]["excess_pnl"] == row["excess_pnl"]


def test_walk_forward_derives_the_test_overrides_from_the_training_window() -> None:
    pytest.importorskip("optuna")
    from gridhedge.backtest.optimize import Param, SearchSpace, walk_forward
    from gridhedge.errors import ConfigError

    seen: list[tuple[int, int]] = []

    def derive(p: dict[str, Any], train: Any) -> dict[str, Any]:
        # spacing from the training window's sd of log returns (numpy), times the trial's k
        seen.append((int(train.timestamp[0]), int(train.timestamp[-1])))
        sigma = float(np.std(np.diff(np.log(train.close)), ddof=1))
        return {"grid_spacing_pct": min(0.2, p["k"] * sigma), "dynamic_spacing": False}

    space = SearchSpace("excess_pnl", "maximize", 3, 1, (Param("k", low=1.0, high=8.0),))
    folds, table = walk_forward(
        BASE, space, CANDLES, train_bars=400, test_bars=250, seed=1, derive=derive
    )
    ts = CANDLES.timestamp
    for f in folds:
        train = CANDLES.slice(f.train_start, f.test_start)
        assert f.overrides == derive(f.best, train)
        # every window the rule saw ends before the fold's test bars begin
        assert int(train.timestamp[-1]) < int(ts[f.test_start])
    assert all(end < int(ts[folds[-1].test_end - 1]) for _, end in seen)
    assert "set.grid_spacing_pct" in table.columns and "best.k" in table.columns
    with pytest.raises(ConfigError, match=r"params\.k"):
        walk_forward(BASE, space, CANDLES, train_bars=400, test_bars=250, seed=1)


def test_walk_forward_tests_each_choice_out_of_sample() -> None:
    pytest.importorskip("optuna")
    from gridhedge.backtest.optimize import load_space, pooled_excess, walk_forward

    space = load_space(
        {
            "metric": "excess_pnl",
            "trials": 3,
            "folds": 1,
            "params": {"grid_spacing_pct": {"low": 0.002, "high": 0.02, "log": True}},
        }
    )
    ticks: list[tuple[int, int]] = []
    folds, table = walk_forward(
        BASE,
        space,
        CANDLES,
        train_bars=400,
        test_bars=250,
        seed=1,
        progress=lambda d, t: ticks.append((d, t)),
    )
    # folds roll by the test window while a full one fits: 0, 250, 500 (+400+250 <= 1200)
    assert [(f.train_start, f.test_start, f.test_end) for f in folds] == [
        (0, 400, 650),
        (250, 650, 900),
        (500, 900, 1150),
    ]
    assert ticks[-1] == (12, 12) and len(ticks) == 12
    for f in folds:
        # the out-of-sample run is the chosen config on the test bars only (history before)
        cfg = {**BASE, "grid": {"grid_spacing_pct": str(f.best["grid_spacing_pct"])}}
        r = run_backtest(
            cfg,
            CANDLES.slice(f.test_start - 100, f.test_end),
            start=100,
            record_events=False,
        )
        assert r.metrics["bars"] == f.test_end - f.test_start
        assert f.excess == pytest.approx(r.metrics["excess_pnl"], abs=1e-9)
        assert f.differences.sum() == pytest.approx(f.excess, abs=1e-6)
        assert f.excess_ci_low is not None and f.excess_ci_high is not None
        assert f.excess_ci_low < f.excess_ci_high
    assert list(table["fold"]) == [1, 2, 3] and "base_excess" in table
    pooled = pooled_excess(folds)
    assert pooled["total"] == pytest.approx(sum(f.excess for f in folds), abs=1e-6)
    base = pooled_excess(folds, base=True)
    assert base["total"] == pytest.approx(sum(f.base_excess for f in folds), abs=1e-6)


def test_optimize_errors_name_the_space_metric_and_trials(tmp_path: Any) -> None:
    pytest.importorskip("optuna")
    from typer.testing import CliRunner

    from gridhedge.backtest.optimize import load_space, optimize
    from gridhedge.cli import app
    from gridhedge.errors import ConfigError

    with pytest.raises(ConfigError, match="no such file"):
        load_space(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="did you mean grid_spacing_pct"):
        load_space({"params": {"grid_spacing": {"low": 0.01, "high": 0.02}}})
    space = load_space(
        {"metric": "sharp", "params": {"grid_spacing_pct": {"low": 0.002, "high": 0.02}}}
    )
    with pytest.raises(ConfigError, match="did you mean sharpe"):
        optimize(BASE, space, CANDLES.slice(0, 300))
    ok = load_space({"params": {"grid_spacing_pct": {"low": 0.002, "high": 0.02}}})
    with pytest.raises(ConfigError, match="trials: must be >= 1"):
        optimize(BASE, ok, CANDLES.slice(0, 300), trials=0)
    run = CliRunner().invoke
    res = run(app, ["optimize", "--space", str(tmp_path / "none.yaml"), "--bars", "300"])
    assert res.exit_code == 2 and "no such file" in res.output
    (tmp_path / "s.yaml").write_text(
        "metric: excess_pnl\ntrials: 2\nparams:\n  grid_spacing_pct: {low: 0.002, high: 0.02}\n"
    )
    res = run(
        app,
        [
            "optimize",
            "--space",
            str(tmp_path / "s.yaml"),
            "--bars",
            "1400",
            "--walk-forward",
            "--train-bars",
            "700",
            "--test-bars",
            "300",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "out of sample over 2 folds" in res.output and "95% CI" in res.output
    assert "funding:" in res.output
