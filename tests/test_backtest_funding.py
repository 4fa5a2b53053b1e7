"""Funding as data: candle files carry a funding column or a sidecar, ``gridhedge data fetch``
downloads the funding-rate history (paged) beside the candles, and every run names where its
funding came from. The download is checked end to end against ``gridhedge sim`` on
127.0.0.1."""

from __future__ import annotations

import asyncio
import pathlib

import numpy as np
import pytest
from typer.testing import CliRunner

from gridhedge.backtest import run_backtest
from gridhedge.backtest.data import ccxt_exchange, fetch_funding, load_any, with_funding
from gridhedge.cli import app
from gridhedge.data.candles import Candles
from gridhedge.data.files import funding_sidecar, load_candles, save_candles
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.errors import GridHedgeError
from tests.sim_support import PERP, make_exchange, running, seeded_bars

BASE = {"data": {"history_bars": 100}, "logging": {"level": "ERROR"}}


def _bare(c: Candles) -> Candles:
    return Candles(c.timestamp, c.open, c.high, c.low, c.close, c.volume)


async def test_data_fetch_downloads_the_funding_history_from_the_emulator(
    tmp_path: pathlib.Path,
) -> None:
    source = synthetic_candles(seed=7, bars=300, timeframe="1h", start_price=60_000.0)
    assert source.funding_time is not None and source.funding_rate is not None
    exchange = make_exchange(seeded_bars(seed=7, n=300), start_bar=290)
    out = tmp_path / "btc.csv"
    t0 = int(source.timestamp[0])
    async with running(exchange) as (sim, _):
        res = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            [
                "data",
                "fetch",
                "--exchange",
                "binanceusdm",
                "--symbol",
                PERP,
                "--out",
                str(out),
                "--since",
                str(t0),
                "--limit",
                "250",
                "--url",
                sim.url,
            ],
        )
        assert res.exit_code == 0, res.output
        # paging: 7 rates a request gives the same series as one request
        ex = ccxt_exchange("binanceusdm", sim.url)
        t1 = int(source.timestamp[249]) + 3_600_000
        paged = await asyncio.to_thread(fetch_funding, ex, PERP, t0, t1, 7)
        whole = await asyncio.to_thread(fetch_funding, ex, PERP, t0, t1, 1000)
    side = funding_sidecar(out)
    assert side.name == "btc.funding.csv" and side.is_file()
    assert f"funding rates (binanceusdm {PERP})" in res.output
    loaded = load_any(out)
    assert len(loaded) == 250
    # the emulator's prices are on its 0.10 tick
    np.testing.assert_allclose(loaded.close, source.close[:250], rtol=0, atol=0.1)
    # the rates the emulator replays are the synthetic series over the fetched bars (a bar
    # pays the funding times in (open, open + 1 h]: the one at the first open precedes them)
    keep = (source.funding_time > t0) & (source.funding_time <= t1)
    assert keep.sum() > 20
    assert loaded.funding_time is not None and loaded.funding_rate is not None
    np.testing.assert_array_equal(loaded.funding_time, source.funding_time[keep])
    np.testing.assert_allclose(loaded.funding_rate, source.funding_rate[keep], rtol=1e-7)
    np.testing.assert_array_equal(paged[0], whole[0])
    np.testing.assert_array_equal(paged[1], whole[1])
    np.testing.assert_array_equal(paged[0], loaded.funding_time)
    # a backtest on the file says where its funding came from and books the same funding as
    # a run on the source bars
    r = run_backtest(BASE, loaded, record_events=False)
    assert r.funding_source.startswith(f"file {side}")
    same = with_funding(
        _bare(loaded), source.funding_time[keep], source.funding_rate[keep], "the source"
    )
    direct = run_backtest(BASE, same, record_events=False)
    assert r.metrics["funding_pnl"] == pytest.approx(direct.metrics["funding_pnl"], rel=1e-6)
    assert r.metrics["funding_pnl"] != 0
    # without the funding the run says so, and books none
    res = CliRunner().invoke(app, ["backtest", "--config", _cfg(tmp_path), "--data", str(out)])
    assert res.exit_code == 0, res.output
    assert f"file {side}" in res.output
    side.unlink()
    res = CliRunner().invoke(app, ["backtest", "--config", _cfg(tmp_path), "--data", str(out)])
    assert "none: zero funding assumed" in res.output


def _cfg(tmp_path: pathlib.Path) -> str:
    p = tmp_path / "bot.yaml"
    p.write_text("data:\n  history_bars: 100\nlogging:\n  level: ERROR\n")
    return str(p)


def test_a_funding_column_and_a_sidecar_load_and_a_broken_one_is_named(
    tmp_path: pathlib.Path,
) -> None:
    c = synthetic_candles(seed=3, bars=200, timeframe="1h")
    assert c.funding_time is not None and c.funding_rate is not None
    # save_candles writes the sidecar, load_candles reads it back
    p = save_candles(c, tmp_path / "c.csv")
    back = load_candles(p)
    assert back == c and back.funding_source == f"file {funding_sidecar(p)}"
    # a funding_rate column: a cell is an event at that bar's open
    col = tmp_path / "col.csv"
    rows = ["timestamp,open,high,low,close,volume,funding_rate"]
    for i in range(len(c)):
        rate = "0.0003" if i % 8 == 0 else ""
        rows.append(
            f"{c.timestamp[i]},{float(c.open[i])!r},{float(c.high[i])!r},"
            f"{float(c.low[i])!r},{float(c.close[i])!r},{float(c.volume[i])!r},{rate}"
        )
    col.write_text("\n".join(rows) + "\n")
    got = load_candles(col)
    assert got.funding_time is not None and got.funding_rate is not None
    np.testing.assert_array_equal(got.funding_time, c.timestamp[::8])
    assert np.all(got.funding_rate == 0.0003)
    assert "funding_rate column" in got.funding_origin
    # a bad sidecar names its file and line
    bad = tmp_path / "b.csv"
    save_candles(_bare(c), bad)
    funding_sidecar(bad).write_text("timestamp,funding_rate\n1,0.1\n1,0.2\n")
    with pytest.raises(GridHedgeError, match=r"b\.funding\.csv, line 3"):
        load_candles(bad)


def test_cli_names_gaps_and_runs_across_them_when_allowed(tmp_path: pathlib.Path) -> None:
    c = synthetic_candles(seed=3, bars=400, timeframe="1h")
    keep = np.ones(len(c), dtype=bool)
    keep[250] = False
    gappy = Candles(
        c.timestamp[keep], c.open[keep], c.high[keep], c.low[keep], c.close[keep], c.volume[keep]
    )
    path = save_candles(gappy, tmp_path / "gappy.csv")
    run = CliRunner().invoke
    res = run(app, ["backtest", "--config", _cfg(tmp_path), "--data", str(path)])
    assert res.exit_code == 2 and "1 gap(s), 1 missing bar(s)" in res.output
    assert "--allow-gaps" in res.output
    res = run(app, ["backtest", "--config", _cfg(tmp_path), "--data", str(path), "--allow-gaps"])
    assert res.exit_code == 0, res.output
    assert "1 gap(s), 1 missing bar(s)" in res.output and "bars of 1 h" in res.output


def test_a_parquet_file_reads_its_funding_sidecar(tmp_path: pathlib.Path) -> None:
    from gridhedge.backtest.data import save_parquet
    from gridhedge.data.files import save_funding

    c = synthetic_candles(seed=3, bars=200, timeframe="1h")
    assert c.funding_time is not None and c.funding_rate is not None
    p = save_parquet(c, tmp_path / "c.parquet")
    assert not load_any(p).has_funding
    save_funding(funding_sidecar(p), c.funding_time, c.funding_rate)
    back = load_any(p)
    assert back.funding_time is not None
    np.testing.assert_array_equal(back.funding_time, c.funding_time)
    assert back.funding_origin.startswith(f"file {funding_sidecar(p)}")
