"""The bridge from ``GridHedgeConfig`` to the Rust policy's ``PolicyConfig``."""

from __future__ import annotations

import math
from decimal import Decimal

from gridhedge._core import PolicyConfig
from gridhedge.grid.config import GridHedgeConfig

TIMEFRAME_SECONDS = {"1m": Decimal(60), "1h": Decimal(3600)}


def decision_period(config: GridHedgeConfig) -> Decimal:
    """Seconds between two decisions that can see a new bar: ``rebalance_interval``, but never
    less than one bar of ``data.timeframe`` (the backtester decides every
    ``max(1, round(rebalance_interval / bar))`` bars)."""
    return max(config.execution.rebalance_interval, TIMEFRAME_SECONDS[config.data.timeframe])


def decisions_in(seconds: Decimal, period: Decimal) -> int:
    """A duration in seconds as a count of decisions (one per ``period`` seconds), rounded
    up so a cooldown never ends early; 0 stays 0."""
    if seconds <= 0:
        return 0
    return max(1, math.ceil(seconds / period))


def policy_config(
    config: GridHedgeConfig, review_hedge_ratio: Decimal | None = None
) -> PolicyConfig:
    """The policy settings of a bot configuration (decimals become floats for the maths;
    money reaching the exchange stays exact through the market's ticks and lots).
    ``review_hedge_ratio``: a risk review's hedge ratio, applied by the policy after the
    funding tilt and only where it tightens (nearer a full hedge within the band)."""
    g, r, e, h, f = config.grid, config.risk, config.execution, config.hedge, config.funding
    return PolicyConfig(
        grid_spacing_pct=g.grid_spacing_pct,
        num_levels=g.num_levels,
        min_price_distance=g.min_price_distance,
        grid_mode=g.grid_mode,
        dynamic_spacing=g.dynamic_spacing,
        volatility_multiplier=g.volatility_multiplier,
        volatility_estimator=g.volatility_estimator,
        spacing_horizon_bars=g.spacing_horizon_bars,
        recenter_threshold_pct=g.recenter_threshold_pct,
        support_resistance=g.support_resistance,
        sr_tolerance_pct=g.sr_tolerance_pct,
        grid_refresh_tolerance=g.grid_refresh_tolerance,
        max_position_size=r.max_position_size,
        max_drawdown=r.max_drawdown,
        stop_loss_pct=r.stop_loss_pct,
        var_limit=r.var_limit,
        var_confidence=r.var_confidence,
        var_horizon_bars=r.var_horizon_bars,
        var_shrink_ratio=r.var_shrink_ratio,
        var_method=r.var_method,
        var_window_bars=r.var_window_bars,
        sizing_vol_target_pct=r.sizing_vol_target_pct,
        sizing_var_share=r.sizing_var_share,
        stop_scale_min=r.stop_scale_min,
        stop_scale_max=r.stop_scale_max,
        stop_refresh_tolerance=r.stop_refresh_tolerance,
        max_volume_share=r.max_volume_share,
        max_active_orders=e.max_active_orders,
        hedge_ratio=h.hedge_ratio,
        hedge_ratio_min=h.hedge_ratio_min,
        hedge_ratio_max=h.hedge_ratio_max,
        funding_tilt=f.funding_tilt,
        funding_sensitivity=f.funding_sensitivity,
        halt_hedge_ratio=r.halt_hedge_ratio,
        halt_cooldown=decisions_in(r.halt_cooldown, decision_period(config)),
        stop_cooldown=decisions_in(r.stop_cooldown, decision_period(config)),
        review_hedge_ratio=review_hedge_ratio,
        trend_guard_bars=g.trend_guard_bars,
        trend_guard_pct=g.trend_guard_pct,
        requote_tolerance=e.requote_tolerance,
        requote_max_skips=e.requote_max_skips,
    )
