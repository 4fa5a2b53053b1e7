"""Shared hypothesis settings: a CI profile with more examples, selected by HYPOTHESIS_PROFILE."""

import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100)
settings.register_profile(
    "ci", max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """REAL-mode bots keep their state under $XDG_DATA_HOME: never the tester's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
