"""Market data providers: synthetic (seeded, offline), files (CSV / ccxt JSON), replay, ccxt."""
