//! The portfolio backtester: several legs over aligned candle series (same open times), each
//! leg the single-symbol backtest ([`LegSim`]: the same policy, fill model, fees and funding),
//! with the portfolio layer between the legs at every rebalance, as the Python
//! `PortfolioRunner` applies it to its bots:
//!
//! 1. the clock moves every leg onto the bar (fills, funding);
//! 2. at a rebalance (the legs' common cadence) the portfolio's figures come from the same core
//!    functions `PortfolioRiskManager` calls: the covariance of the legs' simple returns over
//!    the last `lookback_bars` bars ([`covariance`], with shrinkage), the parametric and
//!    historical VaR of each leg's worst in-band exposure ([`portfolio_risk`]), the budgets
//!    ([`budgets`]) and, over `var_limit`, the shrink multipliers, largest contributors first
//!    ([`shrink`]); the drawdown of the summed equity from its own high-water mark
//!    ([`portfolio_drawdown`]) beyond `max_drawdown` halts: every leg's orders are cancelled
//!    and nothing trades again;
//! 3. each leg's policy is then adjusted by [`leg_policy`] (its band narrowed to the
//!    multiplier, its `var_limit` lowered to its budget, [`leg_var_limits`]) and the leg decides.
//!
//! Every adjustment is recorded with why ([`PortfolioBacktestResult::reasons`]).

use rust_decimal::{Decimal, RoundingStrategy};

use super::{
    budgets, leg_var_limits, portfolio_drawdown, portfolio_risk, shrink, CovMethod, MAX_ASSETS,
};
use crate::backtest::{BacktestConfig, BacktestResult, LegSim, Record, Series};
use crate::error::{check, Error, Result};
use crate::money::{decimal_from_f64 as to_decimal, decimal_to_f64 as to_f64, Market};
use crate::policy::PolicyConfig;
use crate::var;

/// The portfolio layer's settings and the legs' single-symbol settings.
#[derive(Debug, Clone)]
pub struct PortfolioBacktestConfig {
    /// One single-symbol configuration per leg (their `start` and `cadence` are replaced by
    /// the portfolio's: the legs rebalance together).
    pub legs: Vec<BacktestConfig>,
    /// Portfolio VaR limit (quote, positive loss).
    pub var_limit: f64,
    /// Portfolio drawdown from its high-water mark that halts every leg, in (0, 1).
    pub max_drawdown: f64,
    pub confidence: f64,
    pub horizon_bars: usize,
    pub method: CovMethod,
    /// Bars of returns the covariance sees (the manager's `lookback_bars`), >= 2.
    pub lookback_bars: usize,
    /// Budget weights (default equal).
    pub weights: Option<Vec<f64>>,
    /// Bar of the first rebalance, >= 2 (the covariance needs two returns).
    pub start: usize,
    /// Bars between two rebalances (the first leg's cadence in the runner).
    pub cadence: usize,
}

/// The portfolio's figures at one rebalance.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebalance {
    pub bar: usize,
    /// Parametric portfolio VaR / CVaR of the worst in-band exposures (quote).
    pub var: f64,
    pub cvar: f64,
    pub historical_var: f64,
    /// Parametric VaR once the multipliers apply (== `var` when nothing shrinks).
    pub var_after: f64,
    /// Drawdown of the summed equity from its high-water mark, in [-1, 0].
    pub drawdown: f64,
    /// Summed exact equity of the legs (quote).
    pub equity: f64,
    pub halted: bool,
    /// Per leg: worst in-band exposure (quote, signed), component VaR, budget share, shrink
    /// multiplier, the band scale applied (the multiplier to 6 decimals) and the `var_limit`
    /// its policy ran with.
    pub exposures: Vec<f64>,
    pub components: Vec<f64>,
    pub shares: Vec<f64>,
    pub multipliers: Vec<f64>,
    pub band_scales: Vec<f64>,
    pub var_limits: Vec<f64>,
}

/// Summary of the portfolio layer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PortfolioMetrics {
    pub rebalances: usize,
    /// Rebalances where at least one leg's multiplier was below 1.
    pub rebalances_shrunk: usize,
    /// Rebalances where at least one leg ran with a budget below its configured `var_limit`.
    pub rebalances_budgeted: usize,
    pub max_var: f64,
    pub max_var_after_shrink: f64,
    pub worst_drawdown: f64,
    pub halted: bool,
    /// Bar of the portfolio halt (`usize::MAX` without one).
    pub halt_bar: usize,
    pub initial_equity: f64,
    pub final_equity: f64,
    pub total_return: f64,
    /// Largest fall of the summed per-bar equity from its running peak, as a fraction.
    pub max_drawdown: f64,
}

/// The outcome of a portfolio run.
#[derive(Debug, Clone, Default)]
pub struct PortfolioBacktestResult {
    /// One single-symbol result per leg (as [`crate::backtest::run`]'s).
    pub legs: Vec<BacktestResult>,
    pub rebalances: Vec<Rebalance>,
    /// (bar, why) of every shrink, budget and halt.
    pub reasons: Vec<(usize, String)>,
    /// Summed per-bar equity of the legs (f64 marks), bars `start..n`.
    pub equity: Vec<f64>,
    pub metrics: PortfolioMetrics,
}

/// The band scale the runner applies for a shrink multiplier: clamped to [1e-6, 1] and
/// quantized to 6 decimals, half to even (`Decimal(repr(m)).quantize(Decimal("1e-6"))`).
pub fn band_scale(multiplier: f64) -> Result<Decimal> {
    let m = multiplier.clamp(1e-6, 1.0);
    Ok(to_decimal("multiplier", m)?
        .round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven))
}

/// One leg's policy under the portfolio: `configured` with its hedge band narrowed to `scale`
/// of its width around the target hedge ratio (`h - k (h - h_min)`, `h + k (h_max - h)` in
/// exact decimals, as `GridHedgeBot.effective_config`) and its `var_limit` lowered to
/// `var_limit` (never above the configured one).
pub fn leg_policy(
    configured: &PolicyConfig,
    scale: Decimal,
    var_limit: f64,
) -> Result<PolicyConfig> {
    if !(scale > Decimal::ZERO && scale <= Decimal::ONE) {
        return Err(Error::invalid(
            "band_scale",
            scale,
            "must be > 0 and <= 1 (only tightens)",
        ));
    }
    check::positive("var_limit", var_limit)?;
    let mut p = configured.clone();
    if scale < Decimal::ONE {
        let h = to_decimal("hedge_ratio", configured.hedge_ratio)?;
        let lo = to_decimal("hedge_ratio_min", configured.hedge_ratio_min)?;
        let hi = to_decimal("hedge_ratio_max", configured.hedge_ratio_max)?;
        p.hedge_ratio_min = to_f64(h - scale * (h - lo));
        p.hedge_ratio_max = to_f64(h + scale * (hi - h));
    }
    p.var_limit = configured.var_limit.min(var_limit);
    Ok(p)
}

/// The widest side of a leg's configured band around a full hedge: `max(1 - h_min, h_max - 1,
/// 0)` (exact decimals); its worst in-band exposure is `spot x side x price`.
fn band_side(p: &PolicyConfig) -> Result<Decimal> {
    let lo = to_decimal("hedge_ratio_min", p.hedge_ratio_min)?;
    let hi = to_decimal("hedge_ratio_max", p.hedge_ratio_max)?;
    Ok((Decimal::ONE - lo)
        .max(hi - Decimal::ONE)
        .max(Decimal::ZERO))
}

fn leg_name(cfg: &BacktestConfig, i: usize) -> String {
    format!("legs[{i}] ({})", cfg.symbol)
}

fn prefixed(e: Error, prefix: &str) -> Error {
    match e {
        Error::InvalidInput { field, value, rule } => Error::InvalidInput {
            field: format!("{prefix}.{field}"),
            value,
            rule,
        },
        Error::Numerical { what, detail } => Error::Numerical {
            what: format!("{prefix}.{what}"),
            detail,
        },
    }
}

/// Check the portfolio's settings and that the legs' series are aligned and finite.
pub fn validate(
    cfg: &PortfolioBacktestConfig,
    markets: &[Market],
    data: &[Series<'_>],
) -> Result<()> {
    let n = cfg.legs.len();
    if n == 0 || n > MAX_ASSETS {
        return Err(Error::invalid(
            "legs",
            n,
            format!("must hold between 1 and {MAX_ASSETS} legs"),
        ));
    }
    for (field, len) in [("markets", markets.len()), ("data", data.len())] {
        if len != n {
            return Err(Error::invalid(
                field,
                format!("{len} value(s)"),
                format!("must hold one per leg ({n})"),
            ));
        }
    }
    check::positive("var_limit", cfg.var_limit)?;
    check::open_interval("max_drawdown", cfg.max_drawdown, 0.0, 1.0)?;
    crate::series::confidence("confidence", cfg.confidence)?;
    check::count_in("horizon_bars", cfg.horizon_bars, 1, 100_000)?;
    check::count_in("lookback_bars", cfg.lookback_bars, 2, 100_000_000)?;
    check::count_in("cadence", cfg.cadence, 1, 100_000_000)?;
    if let CovMethod::Ewma { lambda } = cfg.method {
        check::open_interval("lam", lambda, 0.0, 1.0)?;
    }
    let bars = data[0].timestamp.len();
    for (i, (leg, d)) in cfg.legs.iter().zip(data).enumerate() {
        let name = leg_name(leg, i);
        d.validate().map_err(|e| prefixed(e, &name))?;
        leg.policy.validate().map_err(|e| prefixed(e, &name))?;
        if d.timestamp.len() != bars {
            return Err(Error::invalid(
                format!("{name}.timestamp"),
                format!("{} bar(s)", d.timestamp.len()),
                format!(
                    "must hold the same bars as {} ({bars}): align the legs first",
                    leg_name(&cfg.legs[0], 0)
                ),
            ));
        }
        if let Some(j) = (0..bars).find(|&j| d.timestamp[j] != data[0].timestamp[j]) {
            return Err(Error::invalid(
                format!("{name}.timestamp[{j}]"),
                d.timestamp[j],
                format!(
                    "must equal {}.timestamp[{j}] = {}: align the legs first",
                    leg_name(&cfg.legs[0], 0),
                    data[0].timestamp[j]
                ),
            ));
        }
        for (field, col) in [
            ("open", d.open),
            ("high", d.high),
            ("low", d.low),
            ("close", d.close),
            ("volume", d.volume),
        ] {
            if let Some(j) = col.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    format!("{name}.{field}[{j}]"),
                    col[j],
                    "must be finite (drop or fill missing bars first)",
                ));
            }
        }
        if let Some(j) = d.close.iter().position(|&v| v <= 0.0) {
            return Err(Error::invalid(
                format!("{name}.close[{j}]"),
                d.close[j],
                "must be > 0",
            ));
        }
    }
    if cfg.start < 2 || cfg.start >= bars {
        return Err(Error::invalid(
            "start",
            cfg.start,
            format!("must be a bar index in [2, {bars}) (the covariance needs 2 returns)"),
        ));
    }
    Ok(())
}

/// Run the portfolio over aligned `data` (one series and one market per leg); see the module
/// docs.
pub fn run(
    cfg: &PortfolioBacktestConfig,
    markets: &[Market],
    data: &[Series<'_>],
    record: Record,
) -> Result<PortfolioBacktestResult> {
    validate(cfg, markets, data)?;
    // The portfolio figures are small (a few legs, `lookback_bars` rows) and computed at every
    // rebalance: on one thread (the same results, see `covariance`) they skip the pool's
    // wake-ups, which would cost more than the work.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::numerical("threads", e.to_string()))?;
    pool.install(|| run_validated(cfg, markets, data, record))
}

fn run_validated(
    cfg: &PortfolioBacktestConfig,
    markets: &[Market],
    data: &[Series<'_>],
    record: Record,
) -> Result<PortfolioBacktestResult> {
    let n = cfg.legs.len();
    let bars = data[0].timestamp.len();
    let legs_cfg: Vec<BacktestConfig> = cfg
        .legs
        .iter()
        .map(|l| BacktestConfig {
            start: cfg.start,
            cadence: cfg.cadence,
            plain_grid: false,
            ..l.clone()
        })
        .collect();
    let mut sims = legs_cfg
        .iter()
        .zip(markets)
        .zip(data)
        .enumerate()
        .map(|(i, ((c, m), d))| {
            LegSim::new(c, m, d, record).map_err(|e| prefixed(e, &leg_name(c, i)))
        })
        .collect::<Result<Vec<_>>>()?;
    let sides = legs_cfg
        .iter()
        .map(|c| band_side(&c.policy))
        .collect::<Result<Vec<_>>>()?;
    let configured: Vec<f64> = legs_cfg.iter().map(|c| c.policy.var_limit).collect();
    let mut out = PortfolioBacktestResult::default();
    let mut met = PortfolioMetrics {
        halt_bar: usize::MAX,
        ..PortfolioMetrics::default()
    };
    let mut halted = false;
    let mut peak_row: Option<Vec<f64>> = None;
    let mut returns: Vec<f64> = Vec::with_capacity(cfg.lookback_bars.min(bars) * n);
    let mut running_peak = f64::NEG_INFINITY;
    for j in cfg.start..bars {
        if j > cfg.start {
            for (i, s) in sims.iter_mut().enumerate() {
                s.on_bar(j)
                    .map_err(|e| prefixed(e, &leg_name(&legs_cfg[i], i)))?;
            }
        }
        if !halted && sims[0].decides_at(j) {
            let r = rebalance(
                cfg,
                &legs_cfg,
                data,
                &mut sims,
                &sides,
                &configured,
                j,
                &mut returns,
                &mut peak_row,
                &mut out.reasons,
            )?;
            met.rebalances += 1;
            met.rebalances_shrunk += r.multipliers.iter().any(|&m| m < 1.0) as usize;
            met.rebalances_budgeted +=
                r.var_limits.iter().zip(&configured).any(|(v, c)| v < c) as usize;
            met.max_var = met.max_var.max(r.var);
            met.max_var_after_shrink = met.max_var_after_shrink.max(r.var_after);
            met.worst_drawdown = met.worst_drawdown.min(r.drawdown);
            if r.halted {
                halted = true;
                met.halted = true;
                met.halt_bar = j;
                for s in sims.iter_mut() {
                    s.cancel_all(j);
                }
            } else {
                for (i, s) in sims.iter_mut().enumerate() {
                    s.decide(j)
                        .map_err(|e| prefixed(e, &leg_name(&legs_cfg[i], i)))?;
                }
            }
            out.rebalances.push(r);
        }
        let mut total = 0.0;
        for s in sims.iter_mut() {
            total += s.mark(j);
        }
        if j == cfg.start {
            met.initial_equity = total;
        }
        met.final_equity = total;
        running_peak = running_peak.max(total);
        if running_peak > 0.0 {
            met.max_drawdown = met.max_drawdown.max(1.0 - total / running_peak);
        }
        if record.series {
            out.equity.push(total);
        }
    }
    met.total_return = if met.initial_equity > 0.0 {
        met.final_equity / met.initial_equity - 1.0
    } else {
        f64::NAN
    };
    out.metrics = met;
    out.legs = sims.into_iter().map(LegSim::finish).collect();
    for (i, leg) in out.legs.iter_mut().enumerate() {
        crate::backtest::add_baselines(leg, &legs_cfg[i], &markets[i], &data[i], record.series)?;
    }
    Ok(out)
}

/// The portfolio layer at bar `j`: figures, shrink, budgets, drawdown; the legs' policies
/// adjusted (unless halted). As `PortfolioRiskManager.evaluate` + `PortfolioRunner.step`.
#[allow(clippy::too_many_arguments)]
fn rebalance(
    cfg: &PortfolioBacktestConfig,
    legs_cfg: &[BacktestConfig],
    data: &[Series<'_>],
    sims: &mut [LegSim<'_>],
    sides: &[Decimal],
    configured: &[f64],
    j: usize,
    returns: &mut Vec<f64>,
    peak_row: &mut Option<Vec<f64>>,
    reasons: &mut Vec<(usize, String)>,
) -> Result<Rebalance> {
    let n = legs_cfg.len();
    // the simple returns of the last `lookback_bars` bars up to j (the replay's window)
    let from = j - j.min(cfg.lookback_bars);
    returns.clear();
    for r in from + 1..=j {
        for d in data {
            returns.push(d.close[r] / d.close[r - 1] - 1.0);
        }
    }
    let mut exposures = Vec::with_capacity(n);
    let mut equities = Vec::with_capacity(n);
    for (i, s) in sims.iter().enumerate() {
        let spot = legs_cfg[i].spot_amount * sides[i];
        exposures.push(to_f64(spot) * data[i].close[j]);
        equities.push(to_f64(s.exact_equity(j)?));
    }
    let risk = portfolio_risk(
        returns,
        n,
        &exposures,
        cfg.method,
        cfg.confidence,
        cfg.horizon_bars,
    )?;
    let cov = &risk.covariance.matrix;
    let shares = budgets(
        &exposures,
        cov,
        cfg.var_limit,
        cfg.weights.as_deref(),
        cfg.confidence,
        cfg.horizon_bars,
    )?;
    let limits = leg_var_limits(
        &exposures,
        cov,
        cfg.var_limit,
        cfg.weights.as_deref(),
        cfg.confidence,
        cfg.horizon_bars,
        configured,
    )?;
    let over = risk.parametric.var > cfg.var_limit;
    let multipliers = if over {
        shrink(
            &exposures,
            cov,
            cfg.var_limit,
            cfg.confidence,
            cfg.horizon_bars,
        )?
    } else {
        vec![1.0; n]
    };
    let var_after = if over {
        let w: Vec<f64> = exposures
            .iter()
            .zip(&multipliers)
            .map(|(e, m)| e * m)
            .collect();
        var::portfolio_var(&w, cov, cfg.confidence, cfg.horizon_bars)?.var
    } else {
        risk.parametric.var
    };
    let name = |i: usize| legs_cfg[i].symbol.as_str();
    if over {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            risk.parametric.component[b].total_cmp(&risk.parametric.component[a])
        });
        let alone: Vec<String> = (0..n)
            .map(|i| format!("{} {:.2}", name(i), risk.standalone[i]))
            .collect();
        for i in order.into_iter().filter(|&i| multipliers[i] < 1.0) {
            reasons.push((
                j,
                format!(
                    "portfolio VaR {:.2} exceeds var_limit {:.2} (each leg alone: {}): shrinking {} to {:.6} of its band (component VaR {:.2} = {:.1}% of the portfolio); VaR after {:.2}",
                    risk.parametric.var,
                    cfg.var_limit,
                    alone.join(", "),
                    name(i),
                    multipliers[i],
                    risk.parametric.component[i],
                    100.0 * risk.parametric.component[i] / risk.parametric.var,
                    var_after
                ),
            ));
        }
    }
    // the drawdown of the summed equity from the legs' equities at its high-water mark
    let total: f64 = equities.iter().sum();
    let drawdown = match peak_row.as_ref() {
        _ if total <= 0.0 => -1.0,
        Some(p) if p.iter().sum::<f64>() <= 0.0 => 0.0,
        Some(p) => {
            let mut rows = p.clone();
            rows.extend_from_slice(&equities);
            portfolio_drawdown(&rows, n)?.current
        }
        None => portfolio_drawdown(&equities, n)?.current,
    };
    if peak_row
        .as_ref()
        .is_none_or(|p| total > p.iter().sum::<f64>())
    {
        *peak_row = Some(equities.clone());
    }
    let halted = drawdown < -cfg.max_drawdown;
    if halted {
        reasons.push((
            j,
            format!(
                "portfolio drawdown {:.2}% beyond max_drawdown {:.2}%: halting and cancelling every leg",
                100.0 * drawdown,
                100.0 * cfg.max_drawdown
            ),
        ));
    }
    let mut band_scales = Vec::with_capacity(n);
    let mut var_limits = Vec::with_capacity(n);
    for (i, s) in sims.iter_mut().enumerate() {
        let scale = band_scale(multipliers[i])?;
        let limit = configured[i].min(limits[i]);
        band_scales.push(to_f64(scale));
        var_limits.push(limit);
        if halted {
            continue;
        }
        let policy = leg_policy(&legs_cfg[i].policy, scale, limit)?;
        if policy.var_limit != s.policy().var_limit && limit < configured[i] {
            reasons.push((
                j,
                format!(
                    "{} var_limit {:.2} -> {:.2}: its budget share {:.2} of the portfolio's {:.2} at marginal VaR {:.6} per unit exposure (allowed exposure {:.2}, worst in-band {:.2})",
                    name(i),
                    configured[i],
                    limit,
                    shares[i].share,
                    cfg.var_limit,
                    risk.parametric.marginal[i],
                    shares[i].allowed_exposure,
                    exposures[i].abs()
                ),
            ));
        }
        if &policy != s.policy() {
            s.set_policy(policy)?;
        }
    }
    Ok(Rebalance {
        bar: j,
        var: risk.parametric.var,
        cvar: risk.parametric.cvar,
        historical_var: risk.historical.var,
        var_after,
        drawdown,
        equity: total,
        halted,
        exposures,
        components: risk.parametric.component.clone(),
        shares: shares.iter().map(|b| b.share).collect(),
        multipliers,
        band_scales,
        var_limits,
    })
}

#[cfg(test)]
mod tests;
