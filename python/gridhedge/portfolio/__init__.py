"""Portfolio mode: several symbols under one risk budget (correlation-aware VaR, budgets,
shrinking the largest contributors first, a portfolio drawdown halt)."""

from gridhedge.portfolio.risk import LegInput, LegRisk, PortfolioReport, PortfolioRiskManager
from gridhedge.portfolio.runner import PortfolioRunner

__all__ = [
    "LegInput",
    "LegRisk",
    "PortfolioReport",
    "PortfolioRiskManager",
    "PortfolioRunner",
]
