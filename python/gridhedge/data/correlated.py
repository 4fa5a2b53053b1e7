"""Correlated synthetic assets (e.g. BTC and ETH) for offline portfolio runs.

The first asset is the seeded synthetic market itself (:func:`synthetic_candles`), which serves
as the common factor. Each further asset's hourly log return is
``r = beta * f + gamma * e``: ``f`` the factor's log return, ``e`` the log return of an
independent synthetic series (its own seed, same model: clustering, fat tails, jumps), with
``beta = rho * k`` and ``gamma = k * sqrt(1 - rho^2) * std(f) / std(e)``, so the sample
correlation with the factor is near ``rho`` and the volatility near ``k`` times the factor's
(``k = vol_ratio``). OHLC: open is the previous close, close compounds ``r``; the wicks are the
idiosyncratic series' relative wicks times ``k``, so ``high >= max(open, close)`` and
``low <= min(open, close)`` hold by construction; prices are rounded to the asset's decimals
(monotone, so OHLC stays consistent). Volume and funding come from the idiosyncratic series.
Every result is validated by :class:`Candles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridhedge.data.candles import Candles
from gridhedge.data.synthetic import Timeframe, synthetic_candles
from gridhedge.errors import InvalidInputError

__all__ = ["BTC_ETH", "AssetSpec", "correlated_candles"]


@dataclass(frozen=True)
class AssetSpec:
    """One synthetic asset: the factor (the first one) or a correlated follower."""

    symbol: str
    start_price: float
    correlation: float = 1.0
    """Hourly log-return correlation with the first asset (ignored for the first)."""
    vol_ratio: float = 1.0
    """Volatility as a multiple of the first asset's (ignored for the first)."""
    price_decimals: int = 2


#: BTC and ETH: hourly return correlation 0.8, ETH 1.3 times as volatile.
BTC_ETH = (
    AssetSpec("BTCUSDT", 95_236.15, price_decimals=1),
    AssetSpec("ETHUSDT", 3_412.55, correlation=0.8, vol_ratio=1.3, price_decimals=2),
)


def _check(spec: AssetSpec, i: int) -> None:
    if not -1.0 <= spec.correlation <= 1.0:
        raise InvalidInputError(
            f"assets[{i}].correlation: must be between -1 and 1 (got {spec.correlation})",
            field=f"assets[{i}].correlation",
            value=repr(spec.correlation),
            rule="must be between -1 and 1",
        )
    if not (spec.vol_ratio > 0 and np.isfinite(spec.vol_ratio)):
        raise InvalidInputError(
            f"assets[{i}].vol_ratio: must be finite and > 0 (got {spec.vol_ratio})",
            field=f"assets[{i}].vol_ratio",
            value=repr(spec.vol_ratio),
            rule="must be finite and > 0",
        )


def correlated_candles(
    assets: tuple[AssetSpec, ...] | list[AssetSpec] = BTC_ETH,
    *,
    seed: int = 7,
    bars: int = 8760,
    timeframe: Timeframe = "1h",
) -> dict[str, Candles]:
    """Aligned candles (same timestamps) for each asset, keyed by symbol; see the module docs."""
    if not assets:
        raise InvalidInputError(
            "assets: must name at least one asset",
            field="assets",
            value="[]",
            rule="must name at least one asset",
        )
    for i, spec in enumerate(assets):
        _check(spec, i)
    first = assets[0]
    raw = synthetic_candles(
        seed=seed, bars=bars, timeframe=timeframe, start_price=first.start_price
    )
    out = {first.symbol: _rounded(raw, first.price_decimals)}
    f = np.diff(np.log(raw.close), prepend=np.log(raw.open[0]))
    for k, spec in enumerate(assets[1:], start=1):
        idio = synthetic_candles(
            seed=seed + 7919 * k, bars=bars, timeframe=timeframe, start_price=1.0
        )
        e = np.diff(np.log(idio.close), prepend=np.log(idio.open[0]))
        rho, ratio = spec.correlation, spec.vol_ratio
        sf, se = float(np.std(f)), float(np.std(e))
        gamma = ratio * np.sqrt(max(0.0, 1.0 - rho * rho)) * (sf / se if se > 0 else 0.0)
        r = rho * ratio * f + gamma * e
        close = spec.start_price * np.exp(np.cumsum(r))
        open_ = np.concatenate(([spec.start_price], close[:-1]))
        body_hi, body_lo = np.maximum(open_, close), np.minimum(open_, close)
        up = idio.high / np.maximum(idio.open, idio.close) - 1.0
        down = 1.0 - idio.low / np.minimum(idio.open, idio.close)
        high = body_hi * (1.0 + ratio * up)
        low = body_lo * np.maximum(1.0 - ratio * down, 0.5)
        candles = Candles(
            raw.timestamp,
            open_,
            high,
            low,
            close,
            idio.volume * first.start_price / spec.start_price,
            idio.funding_time,
            idio.funding_rate,
        )
        out[spec.symbol] = _rounded(candles, spec.price_decimals)
    return out


def _rounded(c: Candles, decimals: int) -> Candles:
    return Candles(
        c.timestamp,
        np.round(c.open, decimals),
        np.round(c.high, decimals),
        np.round(c.low, decimals),
        np.round(c.close, decimals),
        c.volume,
        c.funding_time,
        c.funding_rate,
    )
