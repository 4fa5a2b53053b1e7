//! Seeded synthetic market: GARCH-type returns with fat tails and jumps, OHLCV bars, funding rates.
