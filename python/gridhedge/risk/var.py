"""Value at Risk and expected shortfall, computed in the Rust core.

VaR and CVaR are positive losses as fractions of the position (``position_var`` turns them
into quote currency; ``portfolio_var`` works in quote currency directly); confidence 0.95 is
the 95% quantile of losses; returns are simple per-bar returns. See ``gridhedge._core`` for
each function's definition, units and defaults.
"""

from gridhedge._core import (
    PortfolioVar,
    cornish_fisher_var,
    covariance_from_correlation,
    ewma_filtered_historical_var,
    filtered_historical_var,
    historical_var,
    monte_carlo_var,
    normal_var,
    portfolio_var,
    position_var,
    return_moments,
    rolling_historical_var,
    rolling_parametric_var,
    student_t_var,
)

__all__ = [
    "PortfolioVar",
    "cornish_fisher_var",
    "covariance_from_correlation",
    "ewma_filtered_historical_var",
    "filtered_historical_var",
    "historical_var",
    "monte_carlo_var",
    "normal_var",
    "portfolio_var",
    "position_var",
    "return_moments",
    "rolling_historical_var",
    "rolling_parametric_var",
    "student_t_var",
]
