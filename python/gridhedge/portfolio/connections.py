"""One broker connection per exchange for a REAL portfolio: its settings, its keys and the
shared ccxt client(s) every leg on that exchange trades through.

The portfolio YAML names each connection under ``exchanges`` (all keys optional)::

    exchanges:
      binanceusdm:
        base_url: http://127.0.0.1:8765   # point ccxt at a local emulator (gridhedge sim)
        sandbox: false                    # the exchange's demo trading
        spot_exchange: binance            # inventory from the same exchange's spot
                                          # account (binance / bybit / okx; else each
                                          # leg's spot_amount)
        api_key_env: GRIDHEDGE_API_KEY    # the environment variables holding the keys
        api_secret_env: GRIDHEDGE_API_SECRET
        key_file: /etc/gridhedge/keys.json  # or a key file outside any git work tree
                                          # (else GRIDHEDGE_KEY_FILE, as for one bot)
        timeout_ms: 10000

Keys are never part of the config: they come from the named environment variables or the key
file, are held as ``SecretStr`` (``gridhedge.execution.secrets``) and reach only the ccxt
client. A config key that is not a setting (``api_key: ...`` included) is refused without
echoing its value.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gridhedge.errors import ConfigError
from gridhedge.execution.ccxt_broker import RetryPolicy, call_with_retry, make_exchange
from gridhedge.execution.secrets import ENV_KEY, ENV_KEY_FILE, ENV_SECRET, ApiKeys, load_api_keys
from gridhedge.execution.venues import venue_for

__all__ = [
    "DEFAULT_EXCHANGE",
    "SUPPORTED_EXCHANGES",
    "Connection",
    "ExchangeSettings",
    "check_exchange_id",
    "connect",
    "parse_exchanges",
]

DEFAULT_EXCHANGE = "binanceusdm"
SUPPORTED_EXCHANGES = ("binanceusdm", "bybit", "okx")
"""The exchanges ``CcxtBroker`` speaks (ccxt's unified API and ``execution.venues``)."""

EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class ExchangeSettings(BaseModel):
    """How to reach one exchange; see the module docs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/@]+(/\S*)?$")] | None = None
    """Overrides every API url (a local emulator); None: the exchange's own hosts."""
    sandbox: bool = False
    """The exchange's demo trading (ccxt ``enable_demo_trading``)."""
    spot_exchange: Literal["binance", "bybit", "okx"] | None = None
    """Read each leg's inventory from this spot account (the same exchange's); None: each
    leg's ``spot_amount``."""
    api_key_env: EnvName = ENV_KEY
    api_secret_env: EnvName = ENV_SECRET
    key_file: pathlib.Path | None = None
    """A key file (JSON or ``api_key=``/``secret=`` lines) outside any git work tree; it takes
    precedence over the environment variables."""
    timeout_ms: Annotated[int, Field(gt=0, le=120_000)] = 10_000


def check_exchange_id(value: Any, field: str) -> str:
    """``value`` as a supported exchange id, else a ConfigError naming ``field``."""
    if not isinstance(value, str) or value not in SUPPORTED_EXCHANGES:
        raise ConfigError(
            f"{field}: unknown exchange {value!r} (must be one of {list(SUPPORTED_EXCHANGES)})",
            field=field,
            value=repr(value),
            rule=f"must be one of {list(SUPPORTED_EXCHANGES)} (the exchanges CcxtBroker speaks)",
        )
    return value


def _settings_error(exchange_id: str, e: ValidationError) -> ConfigError:
    err = e.errors()[0]
    loc = ".".join(["exchanges", exchange_id, *(str(p) for p in err["loc"])])
    if err["type"] == "extra_forbidden":
        # never echo the value: it may be a key someone pasted into the config
        rule = (
            "must be a connection setting "
            f"({', '.join(ExchangeSettings.model_fields)}); API keys go in the environment "
            "(api_key_env/api_secret_env) or key_file, never in the config"
        )
        return ConfigError(f"{loc}: unknown key; {rule}", field=loc, value=None, rule=rule)
    rule = err["msg"].removeprefix("Value error, ")
    if err["loc"] and err["loc"][0] in ("api_key_env", "api_secret_env"):
        # what was written there may be the key itself: never echo it
        return ConfigError(f"{loc}: {rule} (value not shown)", field=loc, value=None, rule=rule)
    value = repr(err.get("input"))
    return ConfigError(f"{loc}: {rule} (got {value})", field=loc, value=value, rule=rule)


def parse_exchanges(raw: Any) -> dict[str, ExchangeSettings]:
    """The ``exchanges`` section: exchange id -> its validated settings."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"exchanges: must be a mapping of exchange id to settings (got {type(raw).__name__})",
            field="exchanges",
            value=type(raw).__name__,
            rule="must be a mapping of exchange id to settings",
        )
    out: dict[str, ExchangeSettings] = {}
    for exchange_id, values in raw.items():
        check_exchange_id(exchange_id, f"exchanges.{exchange_id}")
        if values is not None and not isinstance(values, Mapping):
            raise ConfigError(
                f"exchanges.{exchange_id}: must be a mapping of settings "
                f"(got {type(values).__name__})",
                field=f"exchanges.{exchange_id}",
                value=type(values).__name__,
                rule="must be a mapping of settings",
            )
        try:
            out[exchange_id] = ExchangeSettings.model_validate(dict(values or {}))
        except ValidationError as e:
            raise _settings_error(exchange_id, e) from None
        spot = out[exchange_id].spot_exchange
        if spot is not None and venue_for(spot).name != venue_for(exchange_id).name:
            field = f"exchanges.{exchange_id}.spot_exchange"
            rule = f"must be {venue_for(exchange_id).spot_id!r}: the same exchange's spot account"
            raise ConfigError(
                f"{field}: {rule} (got {spot!r})", field=field, value=repr(spot), rule=rule
            )
    return out


def api_keys(
    exchange_id: str, settings: ExchangeSettings, environ: Mapping[str, str] | None = None
) -> ApiKeys:
    """The connection's keys: its ``key_file``, else its environment variables, else the key
    file named by ``GRIDHEDGE_KEY_FILE``; a ConfigError naming what is missing (never a
    value) when there are none."""
    if settings.key_file is not None:
        return load_api_keys(key_file=settings.key_file, env={})
    env = os.environ if environ is None else environ
    key, secret = env.get(settings.api_key_env), env.get(settings.api_secret_env)
    if key and secret:
        return load_api_keys(key, secret, env={})
    if env.get(ENV_KEY_FILE):  # as the single bot: a key file named by GRIDHEDGE_KEY_FILE
        return load_api_keys(key, secret, key_file=env[ENV_KEY_FILE], env={})
    # (key and secret are not both set here)
    missing = [
        (setting, name)
        for setting, name, value in (
            ("api_key_env", settings.api_key_env, key),
            ("api_secret_env", settings.api_secret_env, secret),
        )
        if not value
    ]
    setting, _ = missing[0]
    field = f"exchanges.{exchange_id}.{setting}"
    # a variable's name is shown only when it is gridhedge's default: a name the user wrote
    # may be the key itself pasted into the wrong setting, and an error must never echo it
    shown = ", ".join(
        n if n in (ENV_KEY, ENV_SECRET) else f"the one named by {s} (name not shown)"
        for s, n in missing
    )
    raise ConfigError(
        f"{field}: reading the account on {exchange_id} needs API keys; environment "
        f"variable(s) {shown} not set (or set key_file: a file outside the repository)",
        field=field,
        value=None,
        rule="must name a set environment variable (or set key_file) to read the account",
    )


@dataclass(eq=False)
class Connection:
    """One exchange's shared ccxt client (and its spot companion); closed exactly once."""

    exchange_id: str
    settings: ExchangeSettings
    client: Any
    spot: Any | None = None
    closed: bool = False

    def __repr__(self) -> str:
        where = "local" if self.settings.base_url else "exchange"
        spot = f", spot={self.settings.spot_exchange!r}" if self.spot is not None else ""
        return f"Connection({self.exchange_id!r}, {where}{spot}, closed={self.closed})"

    async def load_markets(self, retry: RetryPolicy) -> None:
        """Load the markets once; every leg's broker reads them from the shared client."""
        await call_with_retry(self.client, retry, "load_markets", self.client.load_markets)
        if self.spot is not None:
            await call_with_retry(self.spot, retry, "spot load_markets", self.spot.load_markets)

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.client.close()
        finally:
            if self.spot is not None:
                await self.spot.close()


def connect(
    exchange_id: str, settings: ExchangeSettings, environ: Mapping[str, str] | None = None
) -> Connection:
    """The exchange's client (keys from ``settings``), built once for every leg on it."""
    keys = api_keys(exchange_id, settings, environ)
    common: dict[str, Any] = {
        "base_url": settings.base_url,
        "testnet": settings.sandbox,
        "timeout_ms": settings.timeout_ms,
    }
    client = make_exchange(keys, exchange_id=exchange_id, **common)
    spot = (
        make_exchange(keys, exchange_id=settings.spot_exchange, spot=True, **common)
        if settings.spot_exchange
        else None
    )
    logger.info(
        "Portfolio connection to {} ({}{})",
        exchange_id,
        "local" if settings.base_url else ("demo" if settings.sandbox else "exchange"),
        f", spot inventory from {settings.spot_exchange}" if spot is not None else "",
    )
    return Connection(exchange_id, settings, client, spot)
