"""``create_broker(trading_mode=...)``: the seed's entry point to a broker.

PAPER (the default) and RECOMMENDATION run offline on a replayed market: the synthetic
default (seeded, calibrated to BTC hourly figures) or a candle file. REAL trades through ccxt
(``gridhedge.execution.ccxt_broker``); without API keys it raises a clear ConfigError.
"""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

import numpy as np

from gridhedge._core import Market
from gridhedge.common.interfaces import Broker
from gridhedge.common.types import TradingMode
from gridhedge.data.candles import Candles
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.data.synthetic import Timeframe
from gridhedge.execution.paper import PaperBroker
from gridhedge.execution.recommendation import RecommendationBroker


def replay_for(
    symbol: str,
    *,
    candles: Candles | None = None,
    data_path: str | pathlib.Path | None = None,
    seed: int = 7,
    bars: int = 8760 + 500,
    timeframe: Timeframe = "1h",
    history_bars: int = 500,
    start_price: float = 95236.15,
    price_decimals: int = 1,
) -> ReplayDataProvider:
    """A replay over ``candles``, a candle file, or the seeded synthetic market; the clock
    starts after ``history_bars`` bars so the policy has history from the first decision."""
    if candles is None:
        if data_path is not None:
            from gridhedge.data.files import load_candles

            candles = load_candles(data_path)
        else:
            from gridhedge.data.synthetic import synthetic_candles

            raw = synthetic_candles(
                seed=seed, bars=bars, timeframe=timeframe, start_price=start_price
            )
            # on a price grid like an exchange's candles (rounding is monotone, so OHLC
            # stays consistent)
            candles = Candles(
                raw.timestamp,
                np.round(raw.open, price_decimals),
                np.round(raw.high, price_decimals),
                np.round(raw.low, price_decimals),
                np.round(raw.close, price_decimals),
                raw.volume,
                raw.funding_time,
                raw.funding_rate,
                funding_source=raw.funding_source,
            )
    start = min(history_bars, len(candles.close) - 1)
    return ReplayDataProvider(candles, symbol, start=start)


def create_broker(
    trading_mode: str | TradingMode | None = None,
    *,
    symbol: str = "BTCUSDT",
    market: Market | None = None,
    data_provider: ReplayDataProvider | None = None,
    spot_amount: Decimal | str = "1",
    cash: Decimal | str = "0",
    plan_path: str | pathlib.Path | None = None,
    **replay: Any,
) -> Broker:
    """A broker for ``trading_mode`` (REAL, PAPER, RECOMMENDATION; default: the
    ``TRADING_MODE`` environment variable, then PAPER). ``replay`` keywords go to
    :func:`replay_for` when no ``data_provider`` is given."""
    mode = TradingMode.parse(trading_mode)
    if mode is TradingMode.REAL:
        # keywords: exchange, api_key, api_secret, key_file, base_url, testnet, spot_exchange
        from gridhedge.execution.ccxt_broker import create_ccxt_broker

        return create_ccxt_broker(spot_amount=spot_amount, **replay)
    provider = data_provider if data_provider is not None else replay_for(symbol, **replay)
    if mode is TradingMode.RECOMMENDATION:
        return RecommendationBroker(
            provider, market=market, spot_amount=spot_amount, cash=cash, plan_path=plan_path
        )
    return PaperBroker(provider, market=market, spot_amount=spot_amount, cash=cash)
