"""The tearsheet: summary first, units and UTC, small, and it opens in a real browser
(Debian's headless chromium, installed by ``.ci/run``) without a JavaScript error; the test
saves a screenshot of it."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

from gridhedge.backtest import run_backtest
from gridhedge.backtest.report import summary_rows, write_report
from gridhedge.data.synthetic import synthetic_candles

BASE = {"data": {"history_bars": 100}, "logging": {"level": "ERROR"}}


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path is not None:
            return path
    raise AssertionError("no chromium: .ci/run installs it (apt-get install -y chromium)")


def _browser(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tearsheet_opens_in_chromium_without_a_js_error(tmp_path: pathlib.Path) -> None:
    candles = synthetic_candles(seed=4, bars=20_000, timeframe="1m")
    result = run_backtest(BASE, candles, record_events=True)
    out = write_report(result, tmp_path / "report", title="gridhedge backtest BTCUSDT")
    page = out["html"].resolve()
    text = page.read_text()
    assert len(text) < 2_000_000
    # summary first, units, UTC, the baselines and the funding source
    assert text.index("Summary") < text.index("PnL attribution") < text.index("<img")
    for needle in (
        "Static hedge PnL (USD)",
        "Excess over static hedge",
        "95% CI",
        "UTC",
        "Funding from",
        "synthetic",
        "Kupiec p",
        "Christoffersen p",
    ):
        assert needle in text, needle
    dom = _browser("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the page's error handler marks <html data-js-error="..."> on any uncaught error
    err = re.search(r"<html[^>]*data-js-error=\"([^\"]*)\"", dom.stdout)
    assert err is None, err.group(1) if err else ""
    assert "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    # the page's script ran: it counted the charts and coloured the signed numbers
    assert "charts: 6" in dom.stdout
    assert 'class="neg"' in dom.stdout or 'class="pos"' in dom.stdout
    shot = tmp_path / "tearsheet.png"
    run = _browser(f"--screenshot={shot}", "--window-size=1200,2600", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("GRIDHEDGE_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, pathlib.Path(keep) / "tearsheet.png")


def test_summary_rows_read_like_a_trader_writes_them() -> None:
    candles = synthetic_candles(seed=4, bars=600, timeframe="1h")
    result = run_backtest(BASE, candles, record_events=False)
    rows = dict(summary_rows(result))
    m = result.metrics
    assert rows["PnL (USD)"].endswith(" USD")
    assert rows["PnL (USD)"].startswith(("+", "-"))
    assert f"{abs(m['pnl']):,.2f}" in rows["PnL (USD)"]
    assert re.fullmatch(r"[+-]\d+\.\d\d%", rows["Return on initial capital"])
    assert "95% CI" in rows["Excess over static hedge (USD)"]
    assert rows["Period"].count("UTC") == 2
