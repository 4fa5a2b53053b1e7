//! Drawdown series, maximum drawdown and high-water mark.
