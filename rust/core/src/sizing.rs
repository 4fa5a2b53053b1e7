//! Position sizing: volatility targeting, VaR budget, fractional Kelly, per-level grid sizing.
