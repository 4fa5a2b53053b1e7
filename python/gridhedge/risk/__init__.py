"""Risk maths (computed in the Rust core) and, later, the risk manager and analyzers.

Submodules: ``volatility``, ``garch``, ``var``, ``var_backtest``, ``sizing``, ``stops``,
``hedge``, ``drawdown``. Conventions: VaR/CVaR are positive losses; confidence 0.95 is the
95% loss quantile; returns are simple unless named ``log_``; volatility is per bar unless named
``_annual``.
"""
