"""The backtester's Python front: results as pandas, sweeps (rayon and Ray), Optuna
optimisation, reports, the CLI commands and candle files."""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from gridhedge.backtest import run_backtest
from gridhedge.backtest.data import load_any, load_parquet, save_parquet
from gridhedge.backtest.optimize import load_space, optimize
from gridhedge.backtest.sweep import grid_of, sweep, with_overrides
from gridhedge.cli import app
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.errors import ConfigError, GridHedgeError

BASE: dict[str, Any] = {
    "data": {"history_bars": 100},
    "grid": {"grid_spacing_pct": "0.004"},
    "logging": {"level": "ERROR"},
}
CANDLES = synthetic_candles(seed=5, bars=1500, timeframe="1h", start_price=30_000.0)


def test_results_are_pandas_and_consistent() -> None:
    r = run_backtest(BASE, CANDLES)
    m = r.metrics
    assert m["bars"] == len(CANDLES) - 100 == len(r.series)
    assert set(r.events["event"]) == {"place", "cancel", "fill"}
    assert len(r.fills) == m["fills"] == (r.events["event"] == "fill").sum()
    assert list(r.series.columns[:3]) == ["bar", "close", "equity"]
    assert r.series["drawdown"].max() == pytest.approx(m["max_drawdown"], rel=1e-9)
    assert r.series["equity"].iloc[-1] == pytest.approx(m["final_equity"])
    assert r.series["funding"].iloc[-1] == pytest.approx(m["funding_pnl"])
    assert int(r.series["var_exception"].sum()) == m["var_exceptions"]
    assert 0.5 < m["hedge_effectiveness"] <= 1.0
    assert 0.0 <= m["kupiec_p_value"] <= 1.0
    # ids are the order manager's: per key, sequence numbers 1, 2, 3, ...
    ids = r.orders["client_order_id"]
    assert ids.is_unique and all(len(i) <= 36 for i in ids)
    assert all(e[4] >= 0 for e in r.event_log())


def test_the_core_hands_over_numeric_columns_and_frames_are_built_on_demand() -> None:
    r = run_backtest(BASE, CANDLES)
    # no Python object per order, fill or bar: every column is a numeric numpy array
    for table in ("orders", "fills", "series"):
        for name, col in r.raw[table].items():
            assert isinstance(col, np.ndarray) and col.dtype != object, (table, name)
    assert not {"events", "orders", "fills", "series"} & set(vars(r))
    # the frames, once asked for, agree with the columns and with each other
    o, e = r.orders, r.events
    assert len(o) == len(r.raw["orders"]["role"]) == r.metrics["orders_placed"]
    assert (e["event"] == "cancel").sum() == r.metrics["orders_cancelled"]
    placed = e[e["event"] == "place"]
    assert placed["client_order_id"].tolist() == o["client_order_id"].tolist()
    assert placed["bar"].tolist() == o["placed_bar"].tolist()
    assert placed["price"].tolist() == o["price"].tolist()
    # a cancel's amount is what was left unfilled, on the bar the order says
    cancels = e[e["event"] == "cancel"].merge(o, on="client_order_id", suffixes=("", "_o"))
    assert (cancels["bar"] == cancels["cancelled_bar"]).all()
    left = cancels["amount_o"].map(Decimal) - cancels["filled"].map(Decimal)
    assert (cancels["amount"].map(Decimal) == left).all()
    # bars never go back, and within a bar fills come before cancels before placements
    rank = e["event"].map({"fill": 0, "cancel": 1, "place": 2}).to_numpy()
    key = e["bar"].to_numpy() * 3 + rank
    assert (np.diff(key) >= 0).all()
    assert "events" in vars(r)  # cached


def test_rayon_sweep_equals_single_runs_and_reports_progress() -> None:
    space = grid_of({"grid_spacing_pct": ["0.004", "0.01"], "num_levels": [3, 5]})
    seen: list[tuple[int, int]] = []
    df = sweep(BASE, space, CANDLES, threads=2, progress=lambda d, t: seen.append((d, t)))
    assert len(df) == 4 and df["error"].isna().all()
    assert seen[-1] == (4, 4)
    one = run_backtest(with_overrides(BASE, space[3]), CANDLES, record_events=False)
    assert df.loc[3, "total_return"] == one.metrics["total_return"]
    assert df.loc[3, "fills"] == one.metrics["fills"]
    with pytest.raises(ConfigError, match="not a configuration key"):
        sweep(BASE, [{"grid_spacing": "0.01"}], CANDLES)


def test_ray_backend_runs_the_same_sweep() -> None:
    ray = pytest.importorskip("ray")
    space = grid_of({"grid_spacing_pct": ["0.004", "0.01"], "num_levels": [3]})
    local = sweep(BASE, space, CANDLES)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = sweep(BASE, space, CANDLES, backend="ray", chunks=2)
    finally:
        ray.shutdown()
    assert (on_ray["total_return"].to_numpy() == local["total_return"].to_numpy()).all()


def test_optuna_finds_a_better_config_than_the_worst() -> None:
    pytest.importorskip("optuna")
    space = load_space(
        {
            "metric": "total_return",
            "trials": 8,
            "folds": 2,
            "params": {
                "grid_spacing_pct": {"low": 0.002, "high": 0.03, "log": True},
                "num_levels": {"low": 2, "high": 6, "type": "int"},
            },
        }
    )
    best, table = optimize(BASE, space, CANDLES, seed=1)
    assert set(best) == {"grid_spacing_pct", "num_levels"}
    done = table[table["state"] == "COMPLETE"]["value"]
    assert len(table) == 8 and done.max() >= done.min()
    with pytest.raises(ConfigError):
        load_space({"params": {"num_levels": {"low": 5, "high": 2}}})


def test_cli_backtest_writes_the_report(tmp_path: pathlib.Path) -> None:
    data = save_parquet(CANDLES.slice(0, 400), tmp_path / "c.parquet")
    cfg = tmp_path / "bot.yaml"
    cfg.write_text("data:\n  history_bars: 100\nlogging:\n  level: ERROR\n")
    out = tmp_path / "report"
    res = CliRunner().invoke(
        app, ["backtest", "--config", str(cfg), "--data", str(data), "--report", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "ns/bar" in res.output and "Sharpe" in res.output
    assert "Excess over static hedge" in res.output and "95% CI" in res.output
    assert "Funding from" in res.output and "zero funding assumed" in res.output
    html = (out / "report.html").read_text()
    # self-contained and small: the charts are inlined PNGs, no JavaScript library
    assert html.count("data:image/png;base64,") == 6 and len(html) < 2_000_000
    assert html.index("Summary") < html.index("<img")
    for png in ("pnl_vs_baselines", "price_fills", "hedge_ratio", "drawdown"):
        assert (out / f"{png}.png").stat().st_size > 5_000
    for png in ("var_exceptions", "funding"):
        assert (out / f"{png}.png").stat().st_size > 5_000
    assert json.loads((out / "metrics.json").read_text())["bars"] == 300
    bad = CliRunner().invoke(app, ["backtest", "--data", str(tmp_path / "none.csv")])
    assert bad.exit_code == 2 and "error" in bad.output


def test_parquet_round_trip_and_fetch_arguments(tmp_path: pathlib.Path) -> None:
    p = save_parquet(CANDLES, tmp_path / "c.parquet")
    back = load_any(p)
    assert np.array_equal(back.close, CANDLES.close)
    assert np.array_equal(back.timestamp, CANDLES.timestamp)
    with pytest.raises(GridHedgeError):
        load_parquet(tmp_path / "missing.parquet")
    run = CliRunner().invoke
    r = run(app, ["data", "fetch", "--symbol", "BTC/USDT", "--out", "x.txt"])
    assert r.exit_code != 0 and ".parquet" in r.output
    r = run(app, ["data", "fetch", "--symbol", "BTC/USDT", "--out", "x.csv", "--timeframe", "5m"])
    assert r.exit_code != 0 and "1m or 1h" in r.output
    r = run(app, ["data", "fetch", "--symbol", "BTC/USDT", "--out", "x.csv", "--since", "soon"])
    assert r.exit_code == 2 and "--since" in r.output
