"""Config: the seed's flat keys, sections, YAML, environment overrides, named errors."""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridhedge import ConfigError
from gridhedge.grid.config import FLAT_KEYS, GridHedgeConfig

SEED_CONFIG = {
    "grid_spacing_pct": "0.01",
    "num_levels": 5,
    "max_position_size": "1.0",
    "max_drawdown": "0.1",
    "stop_loss_pct": "0.04",
    "var_limit": "10000",
}
EXAMPLE = (
    pathlib.Path(__file__).resolve().parents[1] / "python/gridhedge/config/examples/grid_hedge.yaml"
)


def test_seed_keys_load_as_exact_decimals_into_their_sections() -> None:
    c = GridHedgeConfig.load(
        {
            **SEED_CONFIG,
            "min_price_distance": "1.0",
            "max_active_orders": 50,
            "rebalance_interval": 60,
            "hedge_ratio": "1.0",
            "hedge_ratio_min": "0.9",
            "hedge_ratio_max": "1.1",
        }
    )
    assert c.grid.grid_spacing_pct == Decimal("0.01")
    assert c.grid.num_levels == 5
    assert c.grid.min_price_distance == Decimal("1.0")
    assert c.risk.max_position_size == Decimal("1.0")
    assert c.risk.max_drawdown == Decimal("0.1")
    assert c.risk.stop_loss_pct == Decimal("0.04")
    assert c.risk.var_limit == Decimal("10000")
    assert c.execution.max_active_orders == 50
    assert c.execution.rebalance_interval == Decimal("60")
    assert (c.hedge.hedge_ratio_min, c.hedge.hedge_ratio, c.hedge.hedge_ratio_max) == (
        Decimal("0.9"),
        Decimal("1.0"),
        Decimal("1.1"),
    )
    assert isinstance(c.risk.var_limit, Decimal)


def test_sections_and_flat_keys_mix() -> None:
    c = GridHedgeConfig.load({"risk": {"var_limit": "5000"}, "num_levels": 7})
    assert c.risk.var_limit == Decimal("5000")
    assert c.grid.num_levels == 7


def test_example_yaml_documents_and_loads_every_key() -> None:
    text = EXAMPLE.read_text()
    c = GridHedgeConfig.load(EXAMPLE)
    assert c.grid.grid_spacing_pct == Decimal("0.01")
    for key in FLAT_KEYS:
        assert f"{key}:" in text, f"{key} is not documented in grid_hedge.yaml"


def test_unknown_keys_get_a_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'grid_spacing_pct'") as info:
        GridHedgeConfig.load({"grid_spacng_pct": "0.01"})
    assert info.value.field == "grid_spacng_pct"
    with pytest.raises(ConfigError, match=r"did you mean 'risk\.var_limit'"):
        GridHedgeConfig.load({"risk": {"var_limt": "1"}})


@pytest.mark.parametrize(
    ("key", "value", "field", "rule"),
    [
        ("grid_spacing_pct", "0", "grid.grid_spacing_pct", "greater than 0"),
        ("grid_spacing_pct", "1.5", "grid.grid_spacing_pct", "less than 1"),
        ("num_levels", 0, "grid.num_levels", "greater than or equal to 1"),
        ("num_levels", 1001, "grid.num_levels", "less than or equal to 1000"),
        ("var_limit", "abc", "risk.var_limit", "valid decimal"),
        ("var_limit", "-5", "risk.var_limit", "greater than 0"),
        ("max_drawdown", "1", "risk.max_drawdown", "less than 1"),
        ("max_active_orders", 0, "execution.max_active_orders", "greater than or equal to 1"),
        ("rebalance_interval", "0", "execution.rebalance_interval", "greater than 0"),
        ("min_price_distance", "-1", "grid.min_price_distance", "greater than or equal to 0"),
        ("grid_mode", "spiral", "grid.grid_mode", "'geometric' or 'arithmetic'"),
        ("stop_refresh_tolerance", "0.6", "risk.stop_refresh_tolerance", "less than or equal"),
        ("stop_refresh_tolerance", "-0.1", "risk.stop_refresh_tolerance", "greater than or equal"),
        ("grid_refresh_tolerance", "0.6", "grid.grid_refresh_tolerance", "less than or equal"),
        ("requote_tolerance", "0.6", "execution.requote_tolerance", "less than or equal"),
        ("requote_tolerance", "-1", "execution.requote_tolerance", "greater than or equal"),
        ("requote_max_skips", 0, "execution.requote_max_skips", "greater than or equal to 1"),
    ],
)
def test_bad_values_name_key_value_and_rule(key: str, value: Any, field: str, rule: str) -> None:
    with pytest.raises(ConfigError) as info:
        GridHedgeConfig.load({key: value})
    e = info.value
    assert e.field == field
    assert rule in str(e)
    assert repr(value) in str(e)


def test_band_must_be_ordered() -> None:
    with pytest.raises(ConfigError, match="hedge_ratio_min <= hedge_ratio <= hedge_ratio_max"):
        GridHedgeConfig.load({"hedge_ratio": "1.5"})


def test_environment_overrides_and_typos_in_it_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRIDHEDGE_RISK__VAR_LIMIT", "5000")
    assert GridHedgeConfig.load({"var_limit": "10000"}).risk.var_limit == Decimal("5000")
    monkeypatch.setenv("GRIDHEDGE_RISK__VAR_LIMT", "1")
    with pytest.raises(ConfigError, match="GRIDHEDGE_RISK__VAR_LIMIT"):
        GridHedgeConfig.load({})


def test_yaml_errors_are_config_errors(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid_spacing_pct: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        GridHedgeConfig.load(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        GridHedgeConfig.load(tmp_path / "missing.yaml")
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        GridHedgeConfig.load(listing)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from([*FLAT_KEYS, "grid", "risk", "bogus"]), json_values))
def test_fuzzed_configs_load_or_raise_config_error(data: dict[str, Any]) -> None:
    try:
        c = GridHedgeConfig.load(data)
    except ConfigError as e:
        assert e.field
        assert e.rule
        return
    assert 0 < c.grid.grid_spacing_pct < 1
    assert c.hedge.hedge_ratio_min <= c.hedge.hedge_ratio <= c.hedge.hedge_ratio_max


def test_flat_key_names_are_unique_across_sections() -> None:
    from gridhedge.grid.config import SECTIONS

    assert len(FLAT_KEYS) == sum(len(m.model_fields) for m in SECTIONS.values())
