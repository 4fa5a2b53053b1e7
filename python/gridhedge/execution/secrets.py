"""Exchange API keys for REAL trading: from the environment or a key file outside the repo,
held as pydantic ``SecretStr`` so they never reach logs, reprs, errors or state.

Environment: ``GRIDHEDGE_API_KEY`` and ``GRIDHEDGE_API_SECRET``. Key file (``key_file=`` or
``GRIDHEDGE_KEY_FILE``): JSON ``{"api_key": ..., "secret": ...}`` or ``api_key=...`` /
``secret=...`` lines; OKX's passphrase as ``password`` (or ``passphrase``) in the file or
``GRIDHEDGE_API_PASSWORD``. The file is refused inside a git work tree, so keys are never committed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from gridhedge.errors import ConfigError

__all__ = ["ENV_KEY", "ENV_KEY_FILE", "ENV_SECRET", "ApiKeys", "load_api_keys"]

ENV_KEY = "GRIDHEDGE_API_KEY"
ENV_SECRET = "GRIDHEDGE_API_SECRET"
ENV_KEY_FILE = "GRIDHEDGE_KEY_FILE"
ENV_PASSWORD = "GRIDHEDGE_API_PASSWORD"


class ApiKeys(BaseModel):
    """An API key and its secret; ``repr``/``str`` show ``**********``."""

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr
    secret: SecretStr
    password: SecretStr | None = None
    """The key's passphrase where the exchange has one (OKX)."""


def _inside_git_tree(path: Path) -> Path | None:
    for parent in path.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


def _read_key_file(path: Path) -> dict[str, str]:
    repo = _inside_git_tree(path)
    if repo is not None:
        raise ConfigError(
            f"key_file: must live outside any git repository (it is inside {repo})",
            field="key_file",
            value=str(path),
            rule="must be outside a git work tree",
        )
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(
            f"key_file: cannot be read ({e.strerror})",
            field="key_file",
            value=str(path),
            rule="must be a readable file",
        ) from None
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
    except json.JSONDecodeError:
        pass
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def load_api_keys(
    api_key: str | SecretStr | None = None,
    secret: str | SecretStr | None = None,
    *,
    key_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ApiKeys:
    """The keys given, else from ``key_file`` (or ``GRIDHEDGE_KEY_FILE``), else from
    ``GRIDHEDGE_API_KEY``/``GRIDHEDGE_API_SECRET``; ConfigError (naming what is missing, never
    a value) when there are none."""
    environ = os.environ if env is None else env
    found: dict[str, str | SecretStr | None] = {"api_key": api_key, "secret": secret}
    path = key_file if key_file is not None else environ.get(ENV_KEY_FILE)
    password: str | None = None
    if (found["api_key"] is None or found["secret"] is None) and path:
        from_file = _read_key_file(Path(path))
        found["api_key"] = found["api_key"] or from_file.get("api_key") or from_file.get("apiKey")
        found["secret"] = found["secret"] or from_file.get("secret") or from_file.get("api_secret")
        password = from_file.get("password") or from_file.get("passphrase")
    found["api_key"] = found["api_key"] or environ.get(ENV_KEY)
    found["secret"] = found["secret"] or environ.get(ENV_SECRET)
    missing = [name for name, value in found.items() if not value]
    if missing:
        raise ConfigError(
            f"trading_mode REAL: the ccxt broker needs API keys; missing {', '.join(missing)} "
            f"(set {ENV_KEY} and {ENV_SECRET}, or pass key_file= a file outside the repo)",
            field=missing[0],
            value=None,
            rule=f"set {ENV_KEY}/{ENV_SECRET} or a key file",
        )
    password = password or environ.get(ENV_PASSWORD)
    keys = ApiKeys(
        api_key=found["api_key"],  # type: ignore[arg-type]
        secret=found["secret"],  # type: ignore[arg-type]
        password=password,  # type: ignore[arg-type]
    )
    from gridhedge.logs import register_secret

    # from now on no log line can carry them, whatever formats them
    register_secret(keys.api_key.get_secret_value())
    register_secret(keys.secret.get_secret_value())
    if keys.password is not None:
        register_secret(keys.password.get_secret_value())
    return keys
