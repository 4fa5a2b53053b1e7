"""Shared hypothesis settings, selected by HYPOTHESIS_PROFILE.

- ``dev`` (default): 100 examples a test, random each run.
- ``ci``: 400 examples a test, derandomized, so that a CI verdict is reproducible from the
  commit alone (a red run can be replayed exactly; a green one cannot flip on a rerun).
- ``deep``: 5,000 random examples a test, for exploring before a release
  (``HYPOTHESIS_PROFILE=deep pytest``); what it finds becomes an ``@example`` or a fix.
"""

import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100)
settings.register_profile(
    "ci",
    max_examples=400,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    deadline=None,
)
settings.register_profile(
    "deep", max_examples=5000, suppress_health_check=[HealthCheck.too_slow], deadline=None
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """REAL-mode bots keep their state under $XDG_DATA_HOME: never the tester's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
