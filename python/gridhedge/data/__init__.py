"""Market data providers: synthetic (seeded, offline), files (CSV / ccxt JSON), replay, ccxt."""

from gridhedge.data.candles import Candles
from gridhedge.data.files import load_candles, save_candles
from gridhedge.data.synthetic import synthetic_candles

__all__ = ["Candles", "load_candles", "save_candles", "synthetic_candles"]
