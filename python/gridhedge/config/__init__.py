"""Packaged configuration files (``examples/grid_hedge.yaml``)."""
