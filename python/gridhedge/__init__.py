"""gridhedge: grid-based hedging for crypto exchanges, with a Rust core.

Exact money (`Market`: prices in integer ticks, amounts in integer lots) and grid levels
(`grid_levels`, `grid_levels_batch`) come from the Rust core; errors are the
`GridHedgeError` family.
"""

from gridhedge._core import (
    Grid,
    GridBatch,
    GridLevel,
    Market,
    __version__,
    grid_levels,
    grid_levels_batch,
)
from gridhedge.errors import (
    ConfigError,
    GridHedgeError,
    InternalError,
    InvalidInputError,
    NumericalError,
)

__all__ = [
    "ConfigError",
    "Grid",
    "GridBatch",
    "GridHedgeError",
    "GridLevel",
    "InternalError",
    "InvalidInputError",
    "Market",
    "NumericalError",
    "__version__",
    "grid_levels",
    "grid_levels_batch",
]
