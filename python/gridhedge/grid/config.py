"""Configuration of a grid-hedge bot: pydantic v2 models, from a dict, YAML or the environment.

The seed's flat keys (``grid_spacing_pct``, ``num_levels``, ``var_limit``, ...) are accepted at
the top level and routed to their section; nested sections (``{"risk": {"var_limit": ...}}``)
work too. Numbers may be decimal strings (``"0.01"``), which stay exact ``Decimal``.
Environment variables override files and dicts: ``GRIDHEDGE_<SECTION>__<KEY>`` (for example
``GRIDHEDGE_RISK__VAR_LIMIT=5000``). Every bad key or value raises
:class:`gridhedge.ConfigError` naming the key, the value and the rule; unknown keys get a
did-you-mean.

Units: prices and distances in quote currency, sizes in base currency, ``_pct`` keys are
fractions (``0.01`` is 1%), intervals in seconds, VaR a positive loss in quote currency.
"""

from __future__ import annotations

import difflib
import os
import pathlib
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self, TypeAlias

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gridhedge.errors import ConfigError

Fraction = Annotated[Decimal, Field(gt=0, lt=1)]
Positive = Annotated[Decimal, Field(gt=0)]
NonNegative = Annotated[Decimal, Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class GridSettings(_Section):
    """Grid shape: where the levels go."""

    grid_spacing_pct: Fraction = Decimal("0.01")
    """Base spacing between levels as a fraction of the center (0.01 = 1%)."""
    num_levels: Annotated[int, Field(ge=1, le=1000)] = 5
    """Levels on each side of the center."""
    min_price_distance: NonNegative = Decimal("0")
    """Smallest allowed gap between two levels, in quote currency (closer levels merge)."""
    grid_mode: Literal["geometric", "arithmetic"] = "geometric"
    """Geometric: c*(1+s)^i and c/(1+s)^i; arithmetic: c +- i*s*c."""
    dynamic_spacing: bool = True
    """Widen the spacing with volatility: s = max(grid_spacing_pct, k * sigma_horizon)."""
    volatility_multiplier: NonNegative = Decimal("1.0")
    """k in the dynamic spacing rule."""
    volatility_estimator: Literal["close_to_close", "ewma", "parkinson", "garman_klass"] = "ewma"
    """Estimator of the per-bar volatility used for dynamic spacing and stops."""
    spacing_horizon_bars: Annotated[int, Field(ge=1, le=100000)] = 1
    """Bars over which sigma is scaled (sqrt-time) for the dynamic spacing."""
    recenter_threshold_pct: Fraction = Decimal("0.02")
    """Recenter the grid when price drifts this fraction away from the center."""
    support_resistance: bool = True
    """Snap levels near detected support/resistance to just in front of them."""
    sr_tolerance_pct: Fraction = Decimal("0.003")
    """A level within this fraction of an S/R level snaps to it."""
    grid_refresh_tolerance: Annotated[
        Decimal, Field(ge=0, le=Decimal("0.5"), allow_inf_nan=False)
    ] = Decimal("0")
    """Fraction of the spacing (0 to 0.5) within which the resting grid keeps its prices under
    dynamic spacing: the last decision's spacing stays while the new one is within this
    fraction of it divided by ``num_levels`` (every rung then within about this fraction of a
    spacing of where the new spacing puts it); 0 re-prices the grid on every change."""
    trend_guard_bars: Annotated[int, Field(ge=0, le=100000)] = 0
    """Trend guard (0: off): bars of the moving mean close (at most ``data.history_bars``).
    When the price stands more than ``trend_guard_pct`` above that mean the sell rungs beyond
    the center pause (they would build a short into the rise); below it, the buy rungs."""
    trend_guard_pct: Fraction = Decimal("0.02")
    """Distance from the trend guard's mean (fraction of it) that counts as a trend."""


class RiskSettings(_Section):
    """Risk limits: position, drawdown, stop, VaR."""

    max_position_size: Positive = Decimal("1.5")
    """Largest absolute hedge (futures) position, in base currency; one worst-case cap: if every
    resting order of one side filled in one bar, |position| stays within it (1.5 leaves a
    1-unit inventory's 1.2 band top and its stop room on both sides)."""
    max_drawdown: Fraction = Decimal("0.1")
    """Halt and cancel all orders when equity falls this fraction below its high-water mark."""
    stop_loss_pct: Fraction = Decimal("0.04")
    """Base stop distance as a fraction of price, scaled by current/long-run volatility."""
    var_limit: Positive = Decimal("10000")
    """Value at Risk limit, a positive loss in quote currency."""
    var_confidence: Fraction = Decimal("0.95")
    """Confidence of the VaR: 0.95 is the 95% loss quantile."""
    var_horizon_bars: Annotated[int, Field(ge=1)] = 24
    """VaR horizon in bars."""
    sizing_vol_target_pct: Annotated[Decimal, Field(ge=0, le=1)] = Decimal("0.0005")
    """Sizing from risk: one grid level's P&L standard deviation per bar (size x price x
    volatility) at most this fraction of equity; levels shrink below the band's share when
    volatility spikes (0: off)."""
    sizing_var_share: Annotated[Decimal, Field(ge=0, le=1)] = Decimal("0.1")
    """Sizing from risk: one grid level's horizon VaR (size x price x the VaR fraction checked
    against var_limit) at most this share of var_limit (0: off)."""
    var_method: Literal["fhs", "sqrt"] = "fhs"
    """How the VaR checked against var_limit reaches var_horizon_bars: ``fhs`` filtered
    historical simulation (returns standardised by their EWMA volatility, the quantile of
    their overlapping horizon sums, times the next bar's volatility) or ``sqrt`` the one-bar
    historical VaR x sqrt(horizon). On real hourly BTC 2018-2022 (benches/bench_var_horizon.py)
    ``fhs`` passes Kupiec and Christoffersen at 95% and 99%; ``sqrt`` is breached 7% of the
    time at 95% (Kupiec p 0.0007)."""
    var_window_bars: Annotated[int, Field(ge=100, le=10_000_000)] = 2000
    """Overlapping horizon sums the ``fhs`` VaR keeps (bars a running bot or a backtest has
    fed, beyond data.history_bars); until it holds that many, the VaR is never below the
    ``sqrt`` rule. 2000 is the window passing all four tests on the real candles, also from a
    fresh start (5000 fails Christoffersen at 99% when full and Kupiec at 99% while filling);
    at least 100 (fewer sums have no 99% tail)."""
    var_shrink_ratio: Annotated[Decimal, Field(ge=1)] = Decimal("1.2")
    """Warn when VaR exceeds var_limit; shrink sizes when it exceeds var_limit * this ratio."""
    stop_scale_min: Positive = Decimal("0.5")
    """Lower bound of the volatility scale applied to stop_loss_pct."""
    stop_scale_max: Positive = Decimal("2.0")
    """Upper bound of the volatility scale applied to stop_loss_pct."""
    stop_refresh_tolerance: Annotated[
        Decimal, Field(ge=0, le=Decimal("0.5"), allow_inf_nan=False)
    ] = Decimal("0.05")
    """Fraction of the stop distance (0 to 0.5) within which the resting protective stop is
    kept still instead of cancelled and re-placed: while the stop rule's new price is within
    this fraction of the distance of the resting one and the amount is unchanged, the stop
    stays (so it protects at most this fraction of its distance less than the rule); 0 moves
    it on every tick. Precedent: Hummingbot's ``order_refresh_tolerance_pct``."""
    max_volume_share: Fraction = Decimal("0.05")
    """Cap each order at this share of recent per-bar volume (market impact)."""
    halt_hedge_ratio: Annotated[Decimal, Field(ge=0, le=2)] = Decimal("1.0")
    """Safe hedge a drawdown halt moves to (multiple of the spot exposure, clamped to the band):
    the grid is cancelled, market orders of at most max_volume_share of recent volume move the
    hedge there, and a protective stop stays on what remains."""
    halt_cooldown: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal("0")
    """Seconds after which a halt lifts by itself (0: only ``gridhedge resume`` lifts it);
    counted in decisions of ``max(rebalance_interval, one bar)`` seconds each."""
    stop_cooldown: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal("21600")
    """Seconds the grid side that would rebuild the exposure pauses after a stop fired
    (counted in decisions of ``max(rebalance_interval, one bar)`` seconds each)."""

    @model_validator(mode="after")
    def _scales_ordered(self) -> Self:
        if self.stop_scale_min > self.stop_scale_max:
            raise ValueError(
                f"stop_scale_min ({self.stop_scale_min}) must be <= stop_scale_max "
                f"({self.stop_scale_max})"
            )
        return self


class ExecutionSettings(_Section):
    """Order execution and cadence."""

    max_active_orders: Annotated[int, Field(ge=1, le=10000)] = 50
    """Most open orders at any time (the order manager never exceeds it)."""
    rebalance_interval: Annotated[Decimal, Field(gt=0)] = Decimal("60")
    """Seconds between two rebalances (policy calls) of a running bot."""
    maker_fee: Annotated[Decimal, Field(ge=-0.01, le=0.01)] = Decimal("0.0002")
    """Maker fee as a fraction of notional (negative for a rebate)."""
    taker_fee: Annotated[Decimal, Field(ge=0, le=0.01)] = Decimal("0.0005")
    """Taker fee as a fraction of notional."""
    participation: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.1")
    """Largest share of a bar's volume one order can fill (simulated fills)."""
    requote_tolerance: Annotated[Decimal, Field(ge=0, le=Decimal("0.5"), allow_inf_nan=False)] = (
        Decimal("0")
    )
    """The requote gate (0: off, every decision is taken in full): a decision keeps the last
    full decision's orders while the price stays within this fraction of a grid spacing of
    it, the volatility, VaR, mean volume and equity within this fraction of their values then,
    and nothing filled, no order was reached, no risk limit was crossed and no paused side
    resumes. Fewer cancels and re-placements (queue priority, rate limits); see the README."""
    requote_max_skips: Annotated[int, Field(ge=1, le=100000)] = 60
    """Most decisions in a row the requote gate keeps before one is taken in full again."""


class HedgeSettings(_Section):
    """The hedge ratio and its band (DESIGN: 'Band')."""

    hedge_ratio: Annotated[Decimal, Field(ge=0, le=2)] = Decimal("1.0")
    """Target short hedge as a multiple of the spot exposure."""
    hedge_ratio_min: Annotated[Decimal, Field(ge=0, le=2)] = Decimal("0.8")
    """Lower edge of the band: all buy levels filled leave the hedge here."""
    hedge_ratio_max: Annotated[Decimal, Field(ge=0, le=2)] = Decimal("1.2")
    """Upper edge of the band: all sell levels filled take the hedge here."""

    @model_validator(mode="after")
    def _band_ordered(self) -> Self:
        if not self.hedge_ratio_min <= self.hedge_ratio <= self.hedge_ratio_max:
            raise ValueError(
                f"the band must satisfy hedge_ratio_min <= hedge_ratio <= hedge_ratio_max "
                f"(got {self.hedge_ratio_min} <= {self.hedge_ratio} <= {self.hedge_ratio_max})"
            )
        return self


class FundingSettings(_Section):
    """Funding-rate tilt of the hedge ratio (positive funding: shorts receive)."""

    funding_tilt: bool = True
    """Tilt the hedge ratio up when funding is positive, down when negative, inside the band."""
    funding_sensitivity: NonNegative = Decimal("500")
    """Tilt per unit of 8-hour funding rate: h += sensitivity * rate, clipped to the band."""


class AnalyzerSettings(_Section):
    """The risk analyzer: basic, or LLM-enhanced (only allowed to tighten risk)."""

    kind: Literal["basic", "llm"] = "basic"
    """basic: deterministic; llm: the basic report reviewed by a model (only tightens risk)."""
    llm_base_url: str | None = None
    """An OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama)."""
    llm_model: str | None = None
    llm_timeout: Annotated[Decimal, Field(gt=0)] = Decimal("10")
    """Seconds; the bot waits at most min(llm_timeout, rebalance_interval / 2)."""
    llm_api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the API key (never put the key itself in a config)."""

    @model_validator(mode="after")
    def _llm_needs_endpoint(self) -> Self:
        if self.kind == "llm" and (not self.llm_base_url or not self.llm_model):
            raise ValueError("kind 'llm' needs llm_base_url and llm_model")
        return self


class DataSettings(_Section):
    """Where market data comes from."""

    source: Literal["synthetic", "file", "ccxt"] = "synthetic"
    path: pathlib.Path | None = None
    """Candle file (CSV or ccxt JSON) when source is 'file'."""
    timeframe: Literal["1m", "1h"] = "1h"
    seed: Annotated[int, Field(ge=0)] = 7
    """Seed of the synthetic market."""
    history_bars: Annotated[int, Field(ge=10)] = 500
    """Bars of history the policy sees (volatility, VaR, S/R)."""

    @model_validator(mode="after")
    def _file_needs_path(self) -> Self:
        if self.source == "file" and self.path is None:
            raise ValueError("source 'file' needs a path to a candle file")
        return self


class LoggingSettings(_Section):
    """loguru sinks."""

    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "INFO"
    file: pathlib.Path | None = None
    """Log file; None logs to stderr only."""
    rotation: str = "1 day"
    retention: str = "30 days"


class StateSettings(_Section):
    """Where the bot keeps what it must remember across restarts."""

    state_path: pathlib.Path | None = None
    """SQLite file (WAL). None: in memory for PAPER/RECOMMENDATION runs, and
    ``$XDG_DATA_HOME/gridhedge/<bot_id>.sqlite`` (default ``~/.local/share``) for REAL."""
    bot_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] | None = None
    """Names the bot in its state and client order ids; default ``<symbol>-grid`` (a ccxt
    symbol's ``/`` and ``:`` as ``-``)."""


SECTIONS: dict[str, type[_Section]] = {
    "grid": GridSettings,
    "risk": RiskSettings,
    "execution": ExecutionSettings,
    "hedge": HedgeSettings,
    "funding": FundingSettings,
    "analyzer": AnalyzerSettings,
    "data": DataSettings,
    "logging": LoggingSettings,
    "state": StateSettings,
}
FLAT_KEYS: dict[str, str] = {
    key: section for section, model in SECTIONS.items() for key in model.model_fields
}
"""Every section key accepted at the top level (the seed's flat form), mapped to its section."""


def _route_flat_keys(data: Any) -> Any:
    """Move top-level seed keys into their sections; reject unknown keys with a did-you-mean."""
    if not isinstance(data, dict):
        return data
    routed: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{key}: must be a mapping of settings (got {value!r})",
                    field=key,
                    value=repr(value),
                    rule="must be a mapping of settings",
                )
            routed.setdefault(key, {}).update(value)
        elif key in FLAT_KEYS:
            routed.setdefault(FLAT_KEYS[key], {})[key] = value
        else:
            raise _unknown_key(key, [*SECTIONS, *FLAT_KEYS])
    for section, values in routed.items():
        known = SECTIONS[section].model_fields
        for key in values:
            if key not in known:
                raise _unknown_key(f"{section}.{key}", [f"{section}.{k}" for k in known])
    return routed


def _unknown_key(key: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"{key}: unknown configuration key{hint}",
        field=key,
        value=None,
        rule=f"must be a known configuration key{hint}",
    )


ConfigSource: TypeAlias = "GridHedgeConfig | dict[str, Any] | str | os.PathLike[str] | None"


class GridHedgeConfig(BaseSettings):
    """The whole configuration of one bot; see each section for keys, units and defaults."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDHEDGE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )
    ENV_PREFIX: ClassVar[str] = "GRIDHEDGE_"

    grid: GridSettings = GridSettings()
    risk: RiskSettings = RiskSettings()
    execution: ExecutionSettings = ExecutionSettings()
    hedge: HedgeSettings = HedgeSettings()
    funding: FundingSettings = FundingSettings()
    analyzer: AnalyzerSettings = AnalyzerSettings()
    data: DataSettings = DataSettings()
    logging: LoggingSettings = LoggingSettings()
    state: StateSettings = StateSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the environment overrides files and dicts
        return (env_settings, init_settings)

    @model_validator(mode="before")
    @classmethod
    def _flat_seed_keys(cls, data: Any) -> Any:
        return _route_flat_keys(data)

    @model_validator(mode="after")
    def _trend_mean_in_window(self) -> Self:
        if self.grid.trend_guard_bars > self.data.history_bars:
            raise ValueError(
                f"grid.trend_guard_bars ({self.grid.trend_guard_bars}) must be <= "
                f"data.history_bars ({self.data.history_bars}): the mean is over the "
                "policy's window"
            )
        return self

    @classmethod
    def load(
        cls, source: GridHedgeConfig | dict[str, Any] | str | os.PathLike[str] | None = None
    ) -> GridHedgeConfig:
        """A config from an instance, a dict (flat seed keys or sections), a YAML path, or None
        (defaults); environment overrides apply. Raises ConfigError on any bad key or value."""
        if isinstance(source, GridHedgeConfig):
            return source
        if source is None:
            data: dict[str, Any] = {}
        elif isinstance(source, dict):
            data = source
        else:
            data = _read_yaml(pathlib.Path(source))
        _check_env_keys()
        try:
            return cls(**_route_flat_keys(data))
        except ValidationError as e:
            raise _config_error(e) from None

    def config_hash(self) -> str:
        """A short stable hash of every setting (recorded in the bot's state)."""
        import hashlib

        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def flat(self) -> dict[str, Any]:
        """Every setting as ``section.key -> value`` (for logs, hashing and reports)."""
        return {
            f"{section}.{key}": value
            for section, values in self.model_dump().items()
            for key, value in values.items()
        }


def _read_yaml(path: pathlib.Path, what: str = "config file") -> dict[str, Any]:
    """The mapping in the YAML file ``path``; a `ConfigError` naming ``what`` and the file
    (and the line and column of a syntax error) otherwise."""
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(
            f"{what}: cannot read {str(path)!r} ({e.strerror})",
            field=what,
            value=str(path),
            rule="must be a readable YAML file",
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(
            f"{what}: {str(path)!r} is not valid YAML ({problem}{where})",
            field=what,
            value=str(path),
            rule="must be valid YAML",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{what}: {str(path)!r} must hold a mapping of settings",
            field=what,
            value=str(path),
            rule="must hold a mapping of settings",
        )
    return data


def _check_env_keys() -> None:
    """Reject GRIDHEDGE_<SECTION>__<KEY> variables that name no setting (a typo would be
    silently ignored); other GRIDHEDGE_* variables (API keys, ...) are not settings."""
    prefix = GridHedgeConfig.ENV_PREFIX
    for name in os.environ:
        if not name.startswith(prefix):
            continue
        parts = name[len(prefix) :].lower().split("__")
        if len(parts) == 1:
            continue  # not a setting: GRIDHEDGE_API_KEY, _API_SECRET, _KEY_FILE, _CRASH_AT, ...
        if len(parts) == 2 and parts[0] in SECTIONS and parts[1] in SECTIONS[parts[0]].model_fields:
            continue
        known = [
            f"{prefix}{s.upper()}__{k.upper()}" for s, m in SECTIONS.items() for k in m.model_fields
        ]
        raise _unknown_key(name, known)


def _config_error(e: ValidationError) -> ConfigError:
    problems = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        value = err.get("input")
        rule = err["msg"].removeprefix("Value error, ")
        problems.append((loc, value, rule))
    loc, value, rule = problems[0]
    lines = [f"{p[0]}: {p[2]}" + ("" if "(got " in p[2] else f" (got {p[1]!r})") for p in problems]
    message = lines[0] if len(lines) == 1 else "invalid configuration:\n  " + "\n  ".join(lines)
    return ConfigError(message, field=loc, value=repr(value), rule=rule)
