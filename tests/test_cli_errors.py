"""The CLI's error boundary: every sub-command, fed each bad input a new user tries, ends in one
or two lines naming the input (and the value or the rule), never a traceback; exit code 2 for
a usage error, 1 for a runtime failure. Also: no silent wrong result, ``--version``, a light
``--help``, ``--debug``, ``--quiet``, SIGTERM's final line, readable numbers."""

from __future__ import annotations

import pathlib
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from gridhedge._fmt import METRIC_KINDS, count, flag, metric, money, pct
from gridhedge.cli import app, report_error
from gridhedge.data.files import save_candles
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.state.sqlite import SQLiteStateManager

ROOT = pathlib.Path(__file__).resolve().parents[1]
PORTFOLIO_YAML = ROOT / "python" / "gridhedge" / "config" / "examples" / "portfolio.yaml"


def _closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("cli")
    out: dict[str, str] = {}

    def put(name: str, text: str) -> None:
        (d / name).write_text(text)
        out[name] = str(d / name)

    # a CSV whose first column holds dates where the emulator wants ms, and no 'close'
    put("wrong_columns.csv", "date,open,high,low,price,volume\n2024-01-01,1,2,0.5,1.5,10\n")
    put("not_a_db.sqlite", "this is not SQLite, just text " * 10)
    put("broken.yaml", "portfolio: [\n  unclosed")
    put(
        "typo_metric.yaml", "metric: sharp\nparams:\n  grid_spacing_pct: {low: 0.005, high: 0.02}\n"
    )
    put(
        "good_space.yaml", "metric: sharpe\nparams:\n  grid_spacing_pct: {low: 0.005, high: 0.02}\n"
    )
    put("ccxt_source.yaml", "source: ccxt\n")
    short = synthetic_candles(seed=1, bars=300, timeframe="1h")
    save_candles(short, d / "short.csv")
    out["short.csv"] = str(d / "short.csv")
    long = synthetic_candles(seed=1, bars=700, timeframe="1h")
    save_candles(long, d / "long.csv")
    out["long.csv"] = str(d / "long.csv")
    s = SQLiteStateManager(d / "state.sqlite", "btcusdt-grid")
    s.close()
    out["state.sqlite"] = str(d / "state.sqlite")
    out["missing"] = str(d / "missing.csv")
    out["missing.yaml"] = str(d / "missing.yaml")
    return out


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.output


# (sub-command and bad input, expected exit code, texts the message must contain)
CASES: list[tuple[str, Callable[[dict[str, str]], list[str]], int, list[str]]] = [
    (
        "backtest: missing data file",
        lambda f: ["backtest", "--data", f["missing"]],
        2,
        ["missing.csv"],
    ),
    (
        "backtest: wrong CSV columns",
        lambda f: ["backtest", "--data", f["wrong_columns.csv"]],
        2,
        ["wrong_columns.csv", "close"],
    ),
    (
        "backtest: --spot abc",
        lambda f: ["backtest", "--spot", "abc"],
        2,
        ["--spot", "abc", "decimal"],
    ),
    (
        "backtest: malformed config",
        lambda f: ["backtest", "--config", f["broken.yaml"]],
        2,
        ["broken.yaml", "YAML", "line 2"],
    ),
    (
        "backtest: data.source ccxt",
        lambda f: ["backtest", "--config", f["ccxt_source.yaml"]],
        2,
        ["data.source", "ccxt"],
    ),
    (
        "backtest: fewer bars than the history window",
        lambda f: ["backtest", "--bars", "100"],
        2,
        ["--bars", "100", "history_bars"],
    ),
    (
        "backtest: file shorter than the history window",
        lambda f: ["backtest", "--data", f["short.csv"]],
        2,
        ["short.csv", "300", "history_bars"],
    ),
    (
        "optimize: missing space file",
        lambda f: ["optimize", "--space", f["missing.yaml"]],
        2,
        ["missing.yaml", "search-space"],
    ),
    (
        "optimize: metric typo",
        lambda f: ["optimize", "--space", f["typo_metric.yaml"], "--bars", "600"],
        2,
        ["metric", "'sharp'", "sharpe"],
    ),
    (
        "optimize: --trials 0",
        lambda f: ["optimize", "--space", f["good_space.yaml"], "--trials", "0"],
        2,
        ["--trials", "0", "greater than or equal to 1"],
    ),
    (
        "optimize: unknown backend",
        lambda f: ["optimize", "--space", f["good_space.yaml"], "--backend", "spark"],
        2,
        ["--backend", "spark"],
    ),
    ("sim: --port 99999", lambda f: ["sim", "--port", "99999"], 2, ["--port", "99999", "65535"]),
    (
        "sim: wrong CSV columns",
        lambda f: ["sim", "--data", f["wrong_columns.csv"], "--port", "0"],
        2,
        ["wrong_columns.csv", "timestamp,open,high,low,close,volume"],
    ),
    (
        "status: not a SQLite file",
        lambda f: ["status", "--db", f["not_a_db.sqlite"]],
        2,
        ["not_a_db.sqlite", "not a gridhedge state file"],
    ),
    ("status: missing file", lambda f: ["status", "--db", f["missing"]], 2, ["missing.csv"]),
    (
        "status: a bot id not in the file",
        lambda f: ["status", "--db", f["state.sqlite"], "--bot-id", "ethusdt-grid"],
        2,
        ["--bot-id", "ethusdt-grid", "btcusdt-grid"],
    ),
    (
        "portfolio: malformed YAML",
        lambda f: ["portfolio", f["broken.yaml"]],
        2,
        ["broken.yaml", "not valid YAML"],
    ),
    (
        "portfolio: missing YAML",
        lambda f: ["portfolio", f["missing.yaml"]],
        2,
        ["missing.yaml", "cannot read"],
    ),
    (
        "portfolio backtest: missing YAML",
        lambda f: ["portfolio", "backtest", "--config", f["missing.yaml"]],
        2,
        ["missing.yaml"],
    ),
    ("grid: --levels -3", lambda f: ["grid", "--levels", "-3"], 2, ["--levels", "-3", "1"]),
    ("grid: --levels 0", lambda f: ["grid", "--levels", "0"], 2, ["--levels", "0", "1"]),
    ("grid: --price abc", lambda f: ["grid", "--price", "abc"], 2, ["--price", "abc"]),
    ("grid: --spacing 2", lambda f: ["grid", "--spacing", "2"], 2, ["--spacing", "must be > 0"]),
    (
        "demo: file shorter than the history window",
        lambda f: ["demo", "--data", f["short.csv"]],
        2,
        ["short.csv", "300", "history"],
    ),
    (
        "demo: --bars beyond the file",
        lambda f: ["demo", "--data", f["long.csv"], "--bars", "400"],
        2,
        ["long.csv", "700", "400"],
    ),
    (
        "data fetch: bad --since",
        lambda f: [
            "data",
            "fetch",
            "--symbol",
            "BTC/USDT",
            "--out",
            "x.csv",
            "--since",
            "yesterday",
        ],
        2,
        ["--since", "yesterday"],
    ),
    ("unknown command", lambda f: ["backtset"], 2, ["backtset"]),
]


@pytest.mark.parametrize(("name", "args", "code", "texts"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_ends_in_a_message_naming_it(
    files: dict[str, str],
    name: str,
    args: Callable[[dict[str, str]], list[str]],
    code: int,
    texts: list[str],
) -> None:
    exit_code, output = _run(args(files))
    assert "Traceback" not in output, output
    assert exit_code == code, output
    lines = [ln for ln in output.splitlines() if ln.strip().startswith(("error", "("))]
    assert 1 <= len(lines) <= 2, output
    for text in texts:
        assert text in output, (text, output)


def test_data_fetch_offline_is_one_line_and_exit_1(tmp_path: pathlib.Path) -> None:
    """The exchange unreachable (a proxy on a closed 127.0.0.1 port: nothing leaves the
    machine): one line naming the exchange, exit code 1, no traceback."""
    proxy = f"http://127.0.0.1:{_closed_port()}"
    env = {"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": ""}
    out = str(tmp_path / "x.csv")
    code, output = _run(
        ["data", "fetch", "--symbol", "BTC/USDT", "--out", out, "--limit", "5"], env
    )
    assert "Traceback" not in output, output
    assert code == 1, output
    assert "network" in output and "binance" in output
    assert len(output.strip().splitlines()) <= 2, output


def test_missing_extra_is_named_before_any_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def without_plotly(name: str, package: str | None = None) -> object:
        return None if name.split(".")[0] in ("plotly", "optuna") else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_plotly)
    code, output = _run(["backtest", "--bars", "600", "--report", str(tmp_path / "r")])
    assert code == 1 and "Traceback" not in output
    assert "--report" in output and "pip install 'gridhedge[backtest]'" in output
    assert "bars in" not in output  # refused before the backtest ran
    code, output = _run(["optimize", "--space", "x.yaml"])
    assert code == 1 and "optuna" in output and "gridhedge[backtest]" in output


def test_bars_with_data_is_honoured(files: dict[str, str]) -> None:
    code, output = _run(["backtest", "--data", files["long.csv"], "--bars", "600"])
    assert code == 0, output
    bars = re.search(r"^([\d,]+) bars in", output, re.MULTILINE)
    assert bars is not None and bars.group(1) == "100", output  # 600 - 500 of history
    code, output = _run(["demo", "--data", files["long.csv"], "--bars", "150"])
    assert code == 0, output
    assert "150 / 150" in output


def test_status_takes_the_bot_id_in_any_case(files: dict[str, str]) -> None:
    """The README's ``BTCUSDT-grid`` finds ``btcusdt-grid`` (never an empty, new bot)."""
    for given in ("btcusdt-grid", "BTCUSDT-grid"):
        code, output = _run(["status", "--db", files["state.sqlite"], "--bot-id", given])
        assert code == 0, output
        assert "btcusdt-grid" in output


def test_debug_shows_the_traceback(files: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["status", "--db", files["not_a_db.sqlite"], "--debug"])
    assert result.exit_code == 2
    assert "Traceback" in result.output and "not a gridhedge state file" in result.output


def test_report_error_maps_families_to_exit_codes() -> None:
    import ccxt  # type: ignore[import-untyped]

    from gridhedge.errors import InternalError, InvalidInputError, NumericalError

    assert report_error(InvalidInputError("x: bad")) == 2
    assert report_error(NumericalError("no answer")) == 1
    assert report_error(InternalError("panic")) == 1
    assert report_error(ccxt.NetworkError("binance GET x")) == 1
    assert report_error(ccxt.AuthenticationError("binance key")) == 1
    assert report_error(ModuleNotFoundError("no plotly", name="plotly")) == 1
    assert report_error(FileNotFoundError(2, "No such file", "a.csv")) == 2
    assert report_error(ConnectionRefusedError("refused")) == 1
    assert report_error(RuntimeError("surprise")) == 1


def test_version_flag_and_a_light_help() -> None:
    """``--version`` prints the version; ``--help`` lists every command without importing the
    heavy ones (pandas, ccxt, the backtester): that is what keeps it fast."""
    import gridhedge

    code, output = _run(["--version"])
    assert code == 0 and output.strip() == f"gridhedge {gridhedge.__version__}"
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from gridhedge.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for name in ('backtest', 'optimize', 'portfolio', 'sim', 'data', 'grid', 'demo'):\n"
        "    assert name in r.output, name\n"
        "assert 'gridhedge[backtest]' in r.output, r.output\n"
        "heavy = [m for m in ('pandas', 'ccxt', 'aiohttp', 'gridhedge.backtest.cli',"
        " 'gridhedge.portfolio.cli', 'gridhedge.sim.cli') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "[]", out.stdout


def test_quiet_keeps_routine_log_lines_off(tmp_path: pathlib.Path) -> None:
    """``--quiet`` on a portfolio run: no INFO line (the run below, without it, logs them)."""
    cmd = [sys.executable, "-m", "gridhedge.cli", "portfolio", str(PORTFOLIO_YAML)]
    quiet = subprocess.run(
        [*cmd, "--steps", "1", "--quiet"], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "| INFO " not in quiet.stderr and "portfolio (PAPER)" in quiet.stdout


def test_sigterm_ends_a_portfolio_run_with_a_final_line(tmp_path: pathlib.Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "gridhedge.cli",
        "portfolio",
        str(PORTFOLIO_YAML),
        "--steps",
        "1000000",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait until the runner is up (an INFO line: not --quiet)
        seen.append(line)
        if "| INFO " in line and "Initialized PortfolioRunner" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 143, err[-2000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "gridhedge: stopped by SIGTERM"


def test_numbers_read_as_numbers() -> None:
    from decimal import Decimal

    assert pct(0.1330393516795827) == "13.30%"
    assert money(Decimal("76628.76275303968296696412613")) == "76,628.76"
    assert money(1234567.891) == "1,234,567.89"
    assert count(348.0) == "348"
    assert flag(0.0) == "no" and flag(True) == "yes"
    assert metric("kupiec_p_value", float("nan")) == "-"
    assert metric("sharpe", 1.23456) == "1.235"


def test_metric_kinds_name_real_backtest_metrics() -> None:
    from gridhedge.backtest.engine import run_backtest

    result = run_backtest({}, synthetic_candles(seed=3, bars=560, timeframe="1h"))
    assert set(METRIC_KINDS) <= set(result.metrics)
    for name in METRIC_KINDS:  # each reads as text, whatever its value
        assert metric(name, result.metrics[name])


def test_demo_table_keeps_its_brackets() -> None:
    code, output = _run(["demo", "--bars", "20"])
    assert code == 0, output
    assert "hedge ratio mean [min, max]" in output
    row = next(ln for ln in output.splitlines() if "hedge ratio mean" in ln)
    assert row.count("[") == 2 and row.count("]") == 2, row
