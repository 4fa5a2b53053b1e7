"""Binance request signing: HMAC-SHA256 over the raw parameters, the API key header, and the
``timestamp``/``recvWindow`` check against the wall clock.

The replay clock is the exchange's one clock (``/fapi/v1/time``), and a client that measured
its offset to it (ccxt's ``load_time_difference``) signs with that clock: such a timestamp is
accepted too (``alt_time_ms``), as Binance accepts both a client on true time and one synced to
its serverTime, which there are the same clock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

from gridhedge.sim.binance_format import BinanceError

__all__ = ["API_KEY_HEADER", "sign", "verify"]

API_KEY_HEADER = "X-MBX-APIKEY"
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
FUTURE_TOLERANCE_MS = 1000
"""How far ahead of the server's clock a timestamp may be (Binance: 1 s)."""


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` under ``secret`` (the ``signature`` parameter)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _split_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` without its trailing ``signature=...`` parameter, and the signature."""
    head, sep, sig = raw.rpartition("signature=")
    if not sep:
        return raw, None
    return head.removesuffix("&"), sig.split("&", 1)[0]


def verify(
    *,
    api_key: str | None,
    query: str,
    body: str,
    secrets: Mapping[str, str],
    server_time_ms: int,
    alt_time_ms: int | None = None,
) -> dict[str, str]:
    """Check key, signature and time window of a signed request; returns its parameters.

    ``query`` and ``body`` are the raw (still URL-encoded) strings; the signed payload is the
    query followed by the body, as Binance defines it.
    """
    if not api_key or api_key not in secrets:
        raise BinanceError.of("bad_key")
    q_rest, q_sig = _split_signature(query)
    b_rest, b_sig = _split_signature(body)
    signature = q_sig or b_sig
    if not signature:
        raise BinanceError.of("bad_param", "(signature)")
    payload = (q_rest if q_sig else query) + (b_rest if b_sig else body)
    expected = sign(secrets[api_key], payload)
    if not hmac.compare_digest(expected, signature.lower()):
        raise BinanceError.of("bad_signature")
    params = dict(parse_qsl(payload, keep_blank_values=True))
    try:
        timestamp = int(params["timestamp"])
        window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW_MS))
    except (KeyError, ValueError):
        raise BinanceError.of("bad_param", "(timestamp)") from None
    if not 0 < window <= MAX_RECV_WINDOW_MS:
        raise BinanceError.of("bad_recv_window")
    clocks = [server_time_ms] if alt_time_ms is None else [server_time_ms, alt_time_ms]
    if not any(
        timestamp < now + FUTURE_TOLERANCE_MS and now - timestamp <= window for now in clocks
    ):
        raise BinanceError.of("bad_timestamp")
    return params
