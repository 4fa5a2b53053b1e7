"""A local exchange emulator speaking Binance USD-M futures' REST API (and spot balances), so
ccxt's unmodified ``binanceusdm``/``binance`` can trade against replayed bars on 127.0.0.1.

Fills come from the core fill model (``FillBook`` + ``SimAccount``), the same as backtests and
PAPER; the replay clock is the exchange's one clock; signing and ``recvWindow`` use wall-clock
time. Rate limits, validation codes and the 7-day ``userTrades`` window are USD-M's (the table
of rules and their tests is in ``gridhedge.sim.server``); ``--state`` persists everything.
"""

from gridhedge.sim.binance_format import BinanceError
from gridhedge.sim.engine import SimExchange, SimOrder, SimTrade, SymbolSpec
from gridhedge.sim.faults import FaultRule, Faults
from gridhedge.sim.limits import Limits
from gridhedge.sim.replay import Bars
from gridhedge.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimServer, create_app
from gridhedge.sim.store import SimStore

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "Bars",
    "BinanceError",
    "FaultRule",
    "Faults",
    "Limits",
    "SimExchange",
    "SimOrder",
    "SimServer",
    "SimStore",
    "SimTrade",
    "SymbolSpec",
    "create_app",
]
