"""The ``gridhedge`` command: ``gridhedge grid`` prints the grid a price would get.

One error boundary (`RootGroup.main`) turns every failure of every sub-command into one or two
lines on stderr naming the input, the value and the rule: exit code 2 for a usage error (a bad
flag, a missing or malformed input file, a config value breaking its rule), 1 for a runtime
failure (the network, the exchange, a held state lock, a missing optional extra, a bug), 130 on
Ctrl-C and 143 on SIGTERM (with a final line saying so). ``--debug`` (anywhere on the command
line, or ``GRIDHEDGE_DEBUG=1``) shows the traceback instead.

The heavy sub-commands (backtest, optimize, portfolio, sim, data) are imported only when they
run, so ``gridhedge --help`` and ``gridhedge --version`` start fast.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

# typer (>= 0.29) vendors click; these are its classes
from typer._click.core import Command, Context, ParameterSource
from typer._click.exceptions import ClickException, UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import Abort

from gridhedge import GridHedgeError, InvalidInputError, Market, __version__, grid_levels

if TYPE_CHECKING:
    from gridhedge._core import Grid

DEBUG_ENV = "GRIDHEDGE_DEBUG"


class _InterruptedError(Exception):
    """Ctrl-C or SIGTERM reached a running command."""

    def __init__(self, signame: str) -> None:
        super().__init__(signame)
        self.signame = signame


class _LazyCommand:
    """A sub-command imported on first use: ``module:attribute`` is a Typer app or a function."""

    def __init__(self, module: str, attribute: str, help: str, *, long_running: bool) -> None:
        self.module = module
        self.attribute = attribute
        self.help = help
        self.long_running = long_running


LAZY: dict[str, _LazyCommand] = {
    "run": _LazyCommand(
        "gridhedge.live.cli",
        "run",
        "Run the bot on one symbol until SIGINT/SIGTERM: a dry run on live prices by default, "
        "--live for real money.",
        long_running=True,
    ),
    "resume": _LazyCommand(
        "gridhedge.risk.cli",
        "resume",
        "Lift a drawdown halt: the grid trades again from the bot's next rebalance.",
        long_running=False,
    ),
    "backtest": _LazyCommand(
        "gridhedge.backtest.cli",
        "backtest",
        "Backtest the bot's policy over candles (--report and .parquet need "
        "gridhedge\\[backtest]).",
        long_running=True,
    ),
    "optimize": _LazyCommand(
        "gridhedge.backtest.cli",
        "optimize",
        "Search a config space for the best backtest metric (needs gridhedge\\[backtest]; "
        "--backend ray needs gridhedge\\[distributed]).",
        long_running=True,
    ),
    "portfolio": _LazyCommand(
        "gridhedge.portfolio.cli",
        "app",
        "Several symbols under one VaR budget: run (PAPER, RECOMMENDATION, REAL) or backtest.",
        long_running=True,
    ),
    "sim": _LazyCommand(
        "gridhedge.sim.cli",
        "app",
        "Run the local Binance USD-M exchange emulator.",
        long_running=True,
    ),
    "data": _LazyCommand(
        "gridhedge.backtest.cli",
        "data_app",
        "Market data: fetch candles through ccxt (.parquet needs gridhedge\\[backtest]).",
        long_running=True,
    ),
}
"""Sub-commands imported when they run (name -> where it lives); the help lists them from
here without importing them."""

LONG_RUNNING = {"demo", *(name for name, c in LAZY.items() if c.long_running)}
"""Commands (and every sub-command under them) that get ``--quiet`` and ``--verbose``."""


class RootGroup(TyperGroup):
    """The root ``gridhedge`` group: lazy sub-commands, common flags and the error boundary."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in LAZY:
            if self._listing:
                # the help's command list: the short help only, nothing imported
                return TyperCommand(cmd_name, help=LAZY[cmd_name].help)
            cmd = _load(cmd_name, LAZY[cmd_name])
            self.commands[cmd_name] = cmd
        if cmd is not None and cmd_name in LONG_RUNNING:
            _add_common_flags(cmd, verbosity=True)
        elif cmd is not None:
            _add_common_flags(cmd, verbosity=False)
        return cmd

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _InterruptedError(_signal_seen or "SIGINT") from None

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")
        restore = _trap_sigterm()
        try:
            rv = super().main(
                argv, prog_name or "gridhedge", complete_var, standalone_mode=False, **extra
            )
            code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except Exception as e:
            if debug and not isinstance(e, ClickException | _InterruptedError | Abort):
                traceback.print_exc()
            code = report_error(e, argv)
        finally:
            restore()
        if standalone_mode:
            sys.exit(code)
        return code


_signal_seen: str | None = None


def _trap_sigterm() -> Callable[[], None]:
    """SIGTERM raises KeyboardInterrupt (so ``finally`` blocks and ``async with`` exits run, as
    on Ctrl-C) and is remembered for the final line. Returns the undo."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_term(signum: int, frame: object) -> None:
        global _signal_seen
        _signal_seen = "SIGTERM"
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


# --- the error boundary -----------------------------------------------------------------------

EXTRAS = {
    "plotly": "backtest",
    "matplotlib": "backtest",
    "pyarrow": "backtest",
    "optuna": "backtest",
    "ray": "distributed",
    "openai": "llm",
}
"""Optional imports -> the ``gridhedge[extra]`` that installs them."""


def _err(*lines: str) -> None:
    for line in lines:
        typer.echo(line, err=True)


def _first_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.strip().split("\n")[:1]).strip() or text.strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _given(e: UsageError, argv: list[str]) -> str | None:
    """The text given on the command line for the option a usage error is about."""
    opts = getattr(getattr(e, "param", None), "opts", None) or []
    for i, token in enumerate(argv):
        for opt in opts:
            if token == opt and i + 1 < len(argv):
                return argv[i + 1]
            if token.startswith(f"{opt}="):
                return token.split("=", 1)[1]
    return None


def report_error(e: BaseException, argv: list[str] | None = None) -> int:
    """Print ``e`` as one or two lines on stderr and return the exit code (2 usage, 1 runtime,
    130/143 interrupted)."""
    import sqlite3

    if type(e).__name__ == "NoArgsIsHelpError":  # the help, already printed (rich) or here
        message = e.format_message() if isinstance(e, ClickException) else ""
        if message.strip():
            typer.echo(message)
        return 2
    if isinstance(e, UsageError):
        where = e.ctx.command_path if e.ctx is not None else "gridhedge"
        message = e.format_message()
        given = _given(e, argv or [])
        if given is not None and "(got" not in message:
            message += f" (got {given!r})"
        _err(f"error: {where}: {message}", f"(see '{where} --help')")
        return 2
    if isinstance(e, ClickException):
        _err(f"error: {e.format_message()}")
        return e.exit_code
    if isinstance(e, Abort):
        _err("aborted")
        return 1
    if isinstance(e, _InterruptedError):
        key = "Ctrl-C (SIGINT)" if e.signame == "SIGINT" else e.signame
        _err(f"gridhedge: stopped by {key}")
        return 143 if e.signame == "SIGTERM" else 130
    if isinstance(e, GridHedgeError):
        return _report_gridhedge(e)
    if _raised_by(e, "ccxt", "BaseError"):
        return _report_ccxt(e)
    if isinstance(e, ModuleNotFoundError) and e.name:
        top = e.name.split(".")[0]
        extra = EXTRAS.get(top)
        hint = f"pip install 'gridhedge[{extra}]'" if extra else f"pip install {top}"
        _err(f"error: this command needs the optional package {top!r}: {hint}")
        return 1
    if isinstance(e, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        _err(f"error: {e.filename}: {e.strerror or 'no such file'} (must be an existing file)")
        return 2
    if isinstance(e, ConnectionError | TimeoutError) or _raised_by(e, "aiohttp", "ClientError"):
        _err(f"error: network: {type(e).__name__}: {_first_line(str(e)) or 'no answer'}")
        return 1
    if isinstance(e, OSError):
        target = f"{e.filename}: " if e.filename else ""
        _err(f"error: {target}{e.strerror or _first_line(str(e))}")
        return 1
    if isinstance(e, sqlite3.DatabaseError):
        _err(f"error: SQLite: {_first_line(str(e))} (is the state file a gridhedge database?)")
        return 2
    name = type(e).__name__
    if name == "ValidationError":  # pydantic
        _err(f"error: {_first_line(_pydantic_lines(e))}")
        return 2
    if name.endswith("YAMLError") or type(e).__module__.startswith("yaml"):
        _err(f"error: not valid YAML: {_first_line(str(e))}")
        return 2
    _err(
        f"error: unexpected {name}: {_first_line(str(e)) or '(no message)'}",
        "this is a bug in gridhedge: run again with --debug and report the traceback",
    )
    return 1


def _report_gridhedge(e: GridHedgeError) -> int:
    from gridhedge.errors import InternalError

    message = _first_line(str(e), 500)
    if isinstance(e, InternalError):
        _err(f"error: {message}", "this is a bug in gridhedge: run with --debug and report it")
        return 1
    _err(f"error: {message}")
    return 2 if isinstance(e, InvalidInputError) or type(e).__name__ == "StateCorruptError" else 1


def _raised_by(e: BaseException, module: str, cls: str) -> bool:
    """Whether ``e`` is a ``module.cls`` (checked only if ``module`` is already imported)."""
    mod = sys.modules.get(module)
    return mod is not None and isinstance(e, getattr(mod, cls))


CCXT_ERRORS: tuple[tuple[tuple[str, ...], str, int], ...] = (
    (("NetworkError",), "network: {text}{cause}: the exchange did not answer; retry later", 1),
    (("AuthenticationError",), "the exchange refused the API key: {text}", 1),
    (("BadSymbol", "BadRequest", "ArgumentsRequired"), "the exchange refused: {text}", 2),
    (("BaseError",), "exchange: {kind}: {text}", 1),
)
"""ccxt's exception families -> the message and the exit code, first match wins."""


def _report_ccxt(e: BaseException) -> int:
    cause = e.__cause__ or e.__context__
    fields = {
        "text": _first_line(str(e)),
        "cause": f" ({type(cause).__name__})" if cause is not None else "",
        "kind": type(e).__name__,
    }
    for classes, message, code in CCXT_ERRORS:
        if any(_raised_by(e, "ccxt", c) for c in classes):
            _err("error: " + message.format(**fields))
            return code
    return 1  # pragma: no cover - every ccxt error is a BaseError


def _pydantic_lines(e: BaseException) -> str:
    errors = getattr(e, "errors", None)
    if not callable(errors):
        return str(e)
    parts = []
    for item in errors():
        loc = ".".join(str(p) for p in item.get("loc", ())) or "value"
        parts.append(f"{loc}: {item.get('msg')} (got {item.get('input')!r})")
    return "; ".join(parts)


# --- common flags -------------------------------------------------------------------------


def _set_quiet(value: bool) -> None:
    if value:
        from gridhedge.logs import set_level_override

        set_level_override("WARNING")


def _set_verbose(value: bool) -> None:
    if value:
        from gridhedge.logs import set_level_override

        set_level_override("DEBUG")


def _flag_source(
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            is_eager=True,
            callback=_set_quiet,
            help="Log only warnings and errors.",
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", is_eager=True, callback=_set_verbose, help="Log debug lines too."
        ),
    ] = False,
) -> None:  # pragma: no cover - only its options are used
    """The common flags, built by typer and attached to every command by `_add_common_flags`."""


_COMMON: dict[str, Any] = {}


def _common_flags() -> dict[str, Any]:
    if not _COMMON:
        holder = typer.Typer(add_completion=False)
        holder.command()(_flag_source)
        for param in typer.main.get_command(holder).params:
            param.expose_value = False  # the command's function never sees them
            _COMMON[param.opts[0]] = param
    return _COMMON


def _add_common_flags(cmd: Command, *, verbosity: bool) -> None:
    """``--debug`` on every command; ``--quiet``/``--verbose`` on long-running ones (and on
    every sub-command under them). The boundary reads ``--debug`` from the command line."""
    if getattr(cmd, "_gridhedge_flags", False):
        return
    flags = _common_flags()
    names = {n for p in cmd.params for n in p.opts}
    wanted = ["--debug", "--quiet", "--verbose"] if verbosity else ["--debug"]
    cmd.params.extend(flags[n] for n in wanted if n not in names)
    cmd._gridhedge_flags = True  # type: ignore[attr-defined]
    for sub in getattr(cmd, "commands", {}).values():
        _add_common_flags(sub, verbosity=verbosity)


def _load(name: str, lazy: _LazyCommand) -> Command:
    """The click command of a lazy sub-command, built exactly as ``add_typer``/``command``
    would have built it."""
    target = getattr(importlib.import_module(lazy.module), lazy.attribute)
    holder = typer.Typer(add_completion=False)

    @holder.callback()
    def _holder() -> None:  # pragma: no cover - never invoked
        pass

    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name, help=lazy.help)
    else:
        holder.command(name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    cmd = group.commands[name]
    return cmd


# --- the app ----------------------------------------------------------------------------------

app = typer.Typer(
    name="gridhedge",
    cls=RootGroup,
    help="Grid-based hedging for crypto exchanges, with a Rust core.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gridhedge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Grid-based hedging for crypto exchanges, with a Rust core."""


class Mode(StrEnum):
    geometric = "geometric"
    arithmetic = "arithmetic"


def _grid_rows(grid: Grid) -> list[dict[str, str | int]]:
    rows: list[dict[str, str | int]] = []
    for level in [*reversed(grid.sells), *grid.buys]:
        rows.append(
            {
                "side": level.side,
                "level": level.index,
                "price": str(level.price),
                "amount": str(level.amount),
                "notional": str(level.notional),
            }
        )
    return rows


GRID_FLAGS = {
    "price": "--price",
    "center": "--price",
    "spacing": "--spacing",
    "grid_spacing_pct": "--spacing",
    "num_levels": "--levels",
    "levels": "--levels",
    "amount": "--amount",
    "min_distance": "--min-distance",
    "min_price_distance": "--min-distance",
    "tick_size": "--tick",
    "lot_size": "--lot",
    "min_qty": "--min-qty",
    "min_notional": "--min-notional",
}
"""The core's field names -> the ``grid`` flags that set them."""


def flag_error(e: GridHedgeError, flags: dict[str, str]) -> NoReturn:
    """Re-raise a core error as a usage error naming the flag that set the field (if known)."""
    field = (e.field or "").split(".")[-1]
    flag = flags.get(field)
    if flag is None:
        raise e
    rule, value = e.rule or str(e), e.value
    raise typer.BadParameter(
        f"{rule} (got {value})" if value is not None else rule, param_hint=f"'{flag}'"
    ) from None


@app.command()
def grid(
    price: Annotated[Decimal, typer.Option(help="Center price (quote currency).")] = Decimal(
        "95236.15"
    ),
    symbol: Annotated[str, typer.Option(help="Symbol, for the header only.")] = "BTCUSDT",
    spacing: Annotated[
        Decimal, typer.Option(help="Grid spacing as a fraction: 0.01 is 1%.")
    ] = Decimal("0.01"),
    levels: Annotated[
        int, typer.Option(help="Levels on each side (1..1000).", min=1, max=1000)
    ] = 5,
    amount: Annotated[Decimal, typer.Option(help="Amount per level (base currency).")] = Decimal(
        "0.01"
    ),
    mode: Annotated[Mode, typer.Option(help="Level spacing rule.")] = Mode.geometric,
    min_distance: Annotated[
        Decimal, typer.Option(help="Minimum gap between levels (quote currency).")
    ] = Decimal("0"),
    tick: Annotated[str, typer.Option(help="Market tick size.")] = "0.10",
    lot: Annotated[str, typer.Option(help="Market lot size.")] = "0.001",
    min_qty: Annotated[str, typer.Option(help="Market minimum amount.")] = "0.001",
    min_notional: Annotated[str, typer.Option(help="Market minimum notional.")] = "100",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the grid of exact, tick-snapped levels around a price (defaults: BTCUSDT)."""
    from rich.console import Console
    from rich.table import Table

    try:
        market = Market(tick, lot, min_qty, min_notional)
        g = grid_levels(price, spacing, levels, market, amount, min_distance, mode.value)
    except GridHedgeError as e:
        flag_error(e, GRID_FLAGS)
    rows = _grid_rows(g)
    if as_json:
        summary = {
            "symbol": symbol,
            "center": str(price),
            "market": repr(market),
            "levels": rows,
            "merged": g.merged,
            "dropped_nonpositive": g.dropped_nonpositive,
            "dropped_below_minimum": g.dropped_below_minimum,
        }
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table(
        title=f"{symbol} grid around {price} ({mode.value}, {spacing} spacing, {levels} a side)",
        caption=f"{market!r}; merged {g.merged}, dropped "
        f"{g.dropped_nonpositive + g.dropped_below_minimum}",
    )
    for col in ("side", "level", "price", "amount", "notional"):
        table.add_column(col, justify="left" if col == "side" else "right")
    for row in rows:
        style = "red" if row["side"] == "sell" else "green"
        table.add_row(*(str(v) for v in row.values()), style=style)
    Console().print(table)


@app.command()
def demo(
    ctx: typer.Context,
    bars: Annotated[
        int,
        typer.Option(
            help="Bars to replay (hourly); with --data, the first BARS after the history window.",
            min=10,
        ),
    ] = 8760,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market.", min=0)] = 7,
    data: Annotated[
        str | None, typer.Option(help="Candle file (CSV/ccxt JSON) instead of synthetic data.")
    ] = None,
) -> None:
    """Run the bot in PAPER mode over a replayed synthetic year (offline, no keys)."""
    from gridhedge.demo import main as run

    given = ctx.get_parameter_source("bars") is not ParameterSource.DEFAULT
    run(bars=bars if data is None or given else None, seed=seed, data_path=data)


@app.command()
def status(
    db: Annotated[str, typer.Option(help="The bot's SQLite state file.")],
    bot_id: Annotated[
        str | None, typer.Option(help="Bot id (default: the only bot in db).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print a bot's saved state: orders by status, fills, equity, high-water mark."""
    import pathlib
    import sqlite3

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from gridhedge._fmt import money
    from gridhedge.state.sqlite import SQLiteStateManager

    path = pathlib.Path(db)
    if not path.is_file():
        raise InvalidInputError(
            f"--db {db!r}: no state file at that path",
            field="--db",
            value=db,
            rule="must be an existing gridhedge state file",
        )
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            ids = [r[0] for r in conn.execute("SELECT bot_id FROM bots ORDER BY bot_id")]
    except sqlite3.DatabaseError as e:
        raise InvalidInputError(
            f"--db {db!r}: not a gridhedge state file ({e})",
            field="--db",
            value=db,
            rule="must be a gridhedge state file (SQLite)",
        ) from None
    if bot_id is None:
        if len(ids) != 1:
            raise typer.BadParameter(
                f"{db} holds {len(ids)} bots ({', '.join(map(repr, ids)) or 'none'}): name one",
                param_hint="'--bot-id'",
            )
        bot_id = ids[0]
    elif bot_id not in ids:
        folded = [i for i in ids if i.lower() == bot_id.lower()]
        if len(folded) != 1:  # ids differ in case only: the one that matches, else an error
            raise typer.BadParameter(
                f"no bot {bot_id!r} in {db} (it holds {', '.join(map(repr, ids)) or 'none'})",
                param_hint="'--bot-id'",
            )
        bot_id = folded[0]
    store = SQLiteStateManager(path, bot_id, read_only=True)  # beside a running bot
    try:
        summary = store.summary()
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"gridhedge state of {escape(bot_id)}", show_header=False)
    for key, value in summary.items():
        if key in ("equity", "high_water_mark"):
            text = money(value)  # the JSON keeps the exact decimal
        elif isinstance(value, dict):
            text = json.dumps(value, default=str)
        else:
            text = str(value)
        table.add_row(key, escape(text))
    Console().print(table)


@app.command()
def version() -> None:
    """Print the gridhedge version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point of the ``gridhedge`` console script."""
    command = typer.main.get_command(app)
    command.main(prog_name="gridhedge")


if __name__ == "__main__":
    main()
