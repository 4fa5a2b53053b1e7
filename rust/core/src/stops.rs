//! Dynamic stops: volatility-scaled, ATR multiple, trailing; snapped to tick on the safe side.
