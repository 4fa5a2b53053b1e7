"""A local exchange emulator speaking Binance USD-M futures' REST API (and spot balances), so
ccxt's unmodified ``binanceusdm``/``binance`` can trade against replayed bars on 127.0.0.1.

Fills come from the core fill model (``FillBook`` + ``SimAccount``), the same as backtests and
PAPER; the replay clock is the market's own; signing and ``recvWindow`` use wall-clock time.
"""

from gridhedge.sim.binance_format import BinanceError
from gridhedge.sim.engine import SimExchange, SimOrder, SimTrade, SymbolSpec
from gridhedge.sim.faults import FaultRule, Faults
from gridhedge.sim.replay import Bars
from gridhedge.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimServer, create_app

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "Bars",
    "BinanceError",
    "FaultRule",
    "Faults",
    "SimExchange",
    "SimOrder",
    "SimServer",
    "SimTrade",
    "SymbolSpec",
    "create_app",
]
