//! GARCH(1,1) maximum-likelihood fit (normal and Student-t) and variance forecasts.
