//! VaR backtests: exception series, Kupiec POF, Christoffersen independence and conditional coverage.
