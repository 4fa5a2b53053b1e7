//! Volatility estimators (per bar): close-to-close, EWMA, range-based, ATR.
