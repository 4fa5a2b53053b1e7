//! Hedge ratio: minimum-variance (OLS, EWMA beta), hedge effectiveness, funding carry.
