"""Packaging: one version, typed, the CLI prints a correct grid."""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import pickle
import tomllib

from typer.testing import CliRunner

import gridhedge as gh
from gridhedge.cli import app

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_version_comes_from_the_cargo_workspace() -> None:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    assert gh.__version__ == cargo["workspace"]["package"]["version"]
    assert importlib.metadata.version("gridhedge") == gh.__version__


def test_package_ships_type_information() -> None:
    pkg = pathlib.Path(gh.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_core.pyi").exists()
    stub = (pkg / "_core.pyi").read_text()
    for name in dir(gh._core):
        if not name.startswith("__"):
            assert name in stub, f"{name} is exported by _core but not typed in _core.pyi"


def test_market_round_trips_through_pickle_and_equality() -> None:
    m = gh.Market("0.10", "0.001", "0.001", "100")
    assert pickle.loads(pickle.dumps(m)) == m
    assert m != gh.Market("0.01", "0.001", "0.001", "100")
    expected = "Market(tick_size='0.1', lot_size='0.001', min_qty='0.001', min_notional='100')"
    assert repr(m) == expected


def test_cli_grid_defaults_print_the_documented_grid() -> None:
    result = CliRunner().invoke(app, ["grid", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    prices = [lv["price"] for lv in out["levels"]]
    assert prices[:2] == ["100094.2", "99103.2"] and prices[-2:] == ["91520.0", "90613.9"]
    assert {lv["amount"] for lv in out["levels"]} == {"0.010"}
    table = CliRunner().invoke(app, ["grid"])
    assert table.exit_code == 0 and "96188.6" in table.output and "94293.2" in table.output


def test_cli_bad_value_exits_2_with_the_rule() -> None:
    result = CliRunner().invoke(app, ["grid", "--spacing", "2"])
    assert result.exit_code == 2
    assert "spacing" in result.output and "must be > 0 and < 1" in result.output


def test_readme_python_example_runs_and_its_comments_hold() -> None:
    blocks = readme_python_blocks()
    block = next(b for b in blocks if "gh.grid_levels(" in b)
    scope: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), scope)
    grid = scope["grid"]
    assert str(grid.sells[0].price) == "96188.6"  # type: ignore[attr-defined]
    assert str(grid.buys[0].price) == "94293.2"  # type: ignore[attr-defined]
    batch = scope["batch"]
    assert batch.sell_ticks.shape == (1_000_000, 5)  # type: ignore[attr-defined]


def test_cli_demo_runs_a_short_paper_replay() -> None:
    result = CliRunner().invoke(app, ["demo", "--bars", "300", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "PAPER run summary" in result.output
    assert "bars replayed / executions" in result.output
    assert "300 / 300" in result.output


def readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]


def test_readme_seed_example_runs() -> None:
    import asyncio
    import textwrap

    block = next(b for b in readme_python_blocks() if "GridHedgeBot.create" in b)
    scope: dict[str, object] = {}
    wrapped = "async def _example():\n" + textwrap.indent(block, "    ") + "\n    return bot\n"
    exec(compile(wrapped, "README.md", "exec"), scope)
    bot = asyncio.run(scope["_example"]())  # type: ignore[operator]
    assert bot.last_report is not None
    assert bot.last_report.sync.placed


def test_cli_and_demo_need_no_optional_extra() -> None:
    """`pip install .` (no extras) must run `gridhedge demo`: block every test/backtest extra."""
    import subprocess
    import sys

    script = """
import sys
BLOCKED = {"optuna", "ray", "plotly", "matplotlib", "pyarrow", "arch", "numba", "scipy",
           "hypothesis", "pytest"}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is an optional extra")
        return None
sys.meta_path.insert(0, Block())
from typer.testing import CliRunner
from gridhedge.cli import app
result = CliRunner().invoke(app, ["demo", "--bars", "60"])
assert result.exit_code == 0, result.output
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("ok")
