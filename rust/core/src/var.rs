//! Value at Risk and expected shortfall (positive losses), single asset and portfolio.
