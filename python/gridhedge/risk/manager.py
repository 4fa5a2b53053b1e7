"""RiskManager: the four risk layers of a decision, reported per layer with their reasons.

The layers act inside the Rust policy (one decision for the live bot and the backtester); this
manager reads what they did, logs what a trader must see (the seed's "VaR (...) exceeds limit
(...)" line among them) and vetoes trading on a halt.
"""

from __future__ import annotations

from loguru import logger

from gridhedge._core import Decision
from gridhedge.common.interfaces import RiskManager, RiskReport
from gridhedge.common.types import MarketState, Position
from gridhedge.grid.config import GridHedgeConfig

LAYER_OF: dict[str, str] = {
    "halt": "portfolio",
    "var_warning": "portfolio",
    "var_shrink": "portfolio",
    "rebalance": "position",
    "position_cap": "position",
    "band_too_narrow": "position",
    "support_resistance": "order",
    "below_minimum": "order",
    "max_active_orders": "order",
    "dynamic_spacing": "market",
    "funding_tilt": "market",
    "volume_cap": "market",
    "recenter": "market",
    "halted": "portfolio",
    "resume": "portfolio",
    "joint_cap": "position",
    "stop": "position",
    "stop_fired": "position",
    "stop_kept": "position",
    "stop_clear": "order",
    "stop_cooldown": "order",
    "review": "market",
}
"""Which layer each policy reason code belongs to."""


class LayeredRiskManager(RiskManager):
    """Position, order, portfolio and market layers, as defined in DESIGN.md."""

    def __init__(self, config: GridHedgeConfig) -> None:
        self.config = config
        self._halt_logged = False

    def evaluate(self, decision: Decision, position: Position, market: MarketState) -> RiskReport:
        layers: dict[str, list[str]] = {"position": [], "order": [], "portfolio": [], "market": []}
        for code, message in decision.reasons:
            layers[LAYER_OF.get(code, "order")].append(message)
            if code == "var_warning":
                logger.warning(message)
            elif code == "halt":
                # the halt is news once; afterwards every decision repeats it quietly
                (logger.debug if self._halt_logged else logger.error)(message)
                self._halt_logged = True
            elif code == "var_shrink":
                # routine: the policy shrank the band itself; nothing for a human to do
                logger.warning(message)
            elif code in ("band_too_narrow", "joint_cap", "stop", "stop_fired"):
                # a cap that empties a grid side or a stop that fires is news to the trader
                logger.warning(message)
            elif code in ("rebalance", "recenter", "funding_tilt", "dynamic_spacing"):
                logger.info(message)
            else:
                logger.debug(message)
        m = decision.metrics
        return RiskReport(
            halted=decision.halted,
            var=m["var"],
            var_limit=float(self.config.risk.var_limit),
            drawdown=m["drawdown"],
            max_drawdown=float(self.config.risk.max_drawdown),
            layers=layers,
        )
