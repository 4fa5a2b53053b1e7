"""Runnable examples (``python -m gridhedge.examples.demo_grid_hedge_integration``)."""
