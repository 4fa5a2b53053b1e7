//! Seeded synthetic market: GARCH-type returns with fat tails and jumps, OHLCV bars, funding rates.
//!
//! One hourly model drives every timeframe. Each hour `t` draws, in order:
//!
//! - a volatility regime (calm or stress, a two-state Markov chain: stress covers
//!   `stress_share` of the hours in episodes of `stress_hours` on average, with
//!   `stress_var_ratio` times the calm variance);
//! - a GARCH(1,1) multiplier `h` with unit mean, `h' = (1 - a - b) + b h + a h z^2`;
//! - the diffusive log return `d = mu + sigma z + stress drift`, with `sigma^2` proportional
//!   to `h x regime`, `z` standard normal (or unit-variance Student-t with `tail_dof` degrees
//!   of freedom); the stress drift is `-stress_drift x sigma_stress` in stress, compensated in
//!   calm hours so the mean log return is exactly `mu`; it is the main source of negative skew;
//! - an occasional jump (Poisson, `jumps_per_year`), mostly down, whose size in units of the
//!   long-run hourly volatility is Gamma distributed with mean `jump_size`; a jump starts a
//!   stress episode with probability `jump_stress_prob`;
//! - the hour's volume, log-linear in the volatility and the size of the move, with an AR(1)
//!   noise.
//!
//! Parameters are solved so that the unconditional variance of the hourly log return is exactly
//! `vol_annual^2 / 8760` and its mean `drift_annual / 8760`.
//!
//! Within the hour the log price follows a Brownian bridge from the open to `d` on 240 steps
//! (four per minute), the jump landing on one random step; each bar's open, high, low and close
//! are read off that path, so `low <= min(open, close) <= max(open, close) <= high` holds
//! exactly, bars of any timeframe share one path, and the open of a bar is the close of the one
//! before. One-minute bars of a seed aggregate exactly to its hourly bars (volume to rounding).
//!
//! Funding is paid at every multiple of 8 hours UTC in the generated span, as a fraction per
//! 8 hours (positive: longs pay shorts): a persistent premium (AR(1) plus rare positive spikes)
//! passed through the exchange's dead zone around the 0.0001 base rate and clamped to
//! `[-0.003, 0.003]`, calibrated to Binance BTCUSDT 2020-2026.
//!
//! Determinism: every random number comes from ChaCha8 seeded by the `u64` seed, with separate
//! streams for the hourly model, the funding series and each hour's intrabar path, so the same
//! seed gives the same bytes on every run and thread count; across platforms the random stream
//! is identical and the results agree to the last bits of `exp`/`ln` of the platform's libm.
//!
//! Conventions: returns are log returns, volatilities per bar unless named `_annual`, prices in
//! quote units, volumes in base units, timestamps in ms since the epoch (UTC, bar open).

use std::str::FromStr;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal, StudentT};
use rayon::prelude::*;

use crate::error::{check, Error, Result};

/// Hours in a (365-day) year: annual figures convert with it.
pub const HOURS_PER_YEAR: f64 = 8760.0;
/// Intrabar path steps per minute.
pub const STEPS_PER_MINUTE: usize = 4;
/// Intrabar path steps per hour.
pub const STEPS_PER_HOUR: usize = 60 * STEPS_PER_MINUTE;
/// Most bars one call generates.
pub const MAX_BARS: usize = 20_000_000;
/// Largest start price accepted (quote units).
pub const MAX_START_PRICE: f64 = 1e12;
/// Latest timestamp generated: 9999-12-31T23:59:59.999Z, in ms.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;
/// Funding interval in ms (8 hours).
pub const FUNDING_INTERVAL_MS: i64 = 8 * 3_600_000;

const MS_PER_MINUTE: i64 = 60_000;
/// Stream numbers of the ChaCha generator: hourly model, funding, then one per hour's path.
const STREAM_HOURLY: u64 = 0;
const STREAM_FUNDING: u64 = 1;
const STREAM_PATH0: u64 = 2;

/// Bar length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeframe {
    M1,
    M5,
    M15,
    M30,
    H1,
    H2,
    H4,
    H8,
    H12,
    D1,
}

impl Timeframe {
    /// Every timeframe, shortest first.
    pub const ALL: [Timeframe; 10] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H2,
        Timeframe::H4,
        Timeframe::H8,
        Timeframe::H12,
        Timeframe::D1,
    ];

    /// Bar length in minutes.
    pub fn minutes(self) -> usize {
        match self {
            Timeframe::M1 => 1,
            Timeframe::M5 => 5,
            Timeframe::M15 => 15,
            Timeframe::M30 => 30,
            Timeframe::H1 => 60,
            Timeframe::H2 => 120,
            Timeframe::H4 => 240,
            Timeframe::H8 => 480,
            Timeframe::H12 => 720,
            Timeframe::D1 => 1440,
        }
    }

    /// Bar length in ms.
    pub fn millis(self) -> i64 {
        self.minutes() as i64 * MS_PER_MINUTE
    }

    /// The exchange spelling: `"1m"`, `"1h"`, `"1d"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::M30 => "30m",
            Timeframe::H1 => "1h",
            Timeframe::H2 => "2h",
            Timeframe::H4 => "4h",
            Timeframe::H8 => "8h",
            Timeframe::H12 => "12h",
            Timeframe::D1 => "1d",
        }
    }

    /// Bars per (365-day) year.
    pub fn bars_per_year(self) -> f64 {
        HOURS_PER_YEAR * 60.0 / self.minutes() as f64
    }
}

impl FromStr for Timeframe {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Timeframe::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Timeframe::ALL.iter().map(|t| t.as_str()).collect();
                Error::invalid(
                    "timeframe",
                    format!("{s:?}"),
                    format!("must be one of {}", names.join(", ")),
                )
            })
    }
}

/// The funding-rate model (fractions per 8 hours). Defaults are fitted to Binance BTCUSDT
/// 2020-2026: mean 1.08e-4, std 2.1e-4, 34% at the base rate, 14% negative, lag-1
/// autocorrelation 0.8.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingParams {
    /// The exchange's base (interest) rate: premiums inside the dead zone pay exactly this.
    pub base_rate: f64,
    /// Mean of the premium's Gaussian part.
    pub premium_mean: f64,
    /// Lag-one autocorrelation of the premium's persistent part, in [0, 1).
    pub premium_phi: f64,
    /// Stationary std of the persistent part.
    pub premium_std: f64,
    /// Std of the premium's white-noise part.
    pub noise_std: f64,
    /// Dead zone below the base rate: premiums within it pay the base rate.
    pub dead_zone_below: f64,
    /// Dead zone above the base rate.
    pub dead_zone_above: f64,
    /// Per-interval probability of a positive premium spike (a buying frenzy).
    pub spike_prob: f64,
    /// Mean spike size (exponentially distributed).
    pub spike_mean: f64,
    /// Lag-one autocorrelation of the spike component, in [0, 1).
    pub spike_phi: f64,
    /// Rates are clamped to [-clamp, clamp].
    pub clamp: f64,
}

impl Default for FundingParams {
    fn default() -> Self {
        FundingParams {
            base_rate: 1e-4,
            premium_mean: 6.2e-5,
            premium_phi: 0.85,
            premium_std: 1.26e-4,
            noise_std: 3.7e-5,
            dead_zone_below: 5.7e-5,
            dead_zone_above: 7.8e-5,
            spike_prob: 0.0103,
            spike_mean: 6.3e-4,
            spike_phi: 0.90,
            clamp: 0.003,
        }
    }
}

/// Parameters of the hourly model; the defaults are calibrated to BTC/USD hourly candles
/// 2018-2022 (see the module docs and `benches/bench_synthetic.py`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticParams {
    /// Annualised std of hourly log returns (> 0): `std_hourly x sqrt(8760)`.
    pub vol_annual: f64,
    /// Mean log return a year (drift of the log price).
    pub drift_annual: f64,
    /// GARCH reaction `a` (>= 0).
    pub garch_alpha: f64,
    /// GARCH persistence `b` (>= 0, `a + b < 1`).
    pub garch_beta: f64,
    /// Degrees of freedom of the innovations (> 2); `f64::INFINITY` means normal.
    pub tail_dof: f64,
    /// Long-run share of hours in the stress regime, in [0, 1).
    pub stress_share: f64,
    /// Variance of a stress hour over a calm one (>= 1).
    pub stress_var_ratio: f64,
    /// Mean length of a stress episode in hours (>= 1).
    pub stress_hours: f64,
    /// Mean log return of a stress hour in units of its volatility, negated (crashes come in
    /// stress); compensated in calm hours. In [-1, 1].
    pub stress_drift: f64,
    /// Expected jumps a year (>= 0).
    pub jumps_per_year: f64,
    /// Mean absolute jump in units of the long-run hourly volatility (>= 0).
    pub jump_size: f64,
    /// Probability a jump is down, in [0, 1].
    pub jump_down_prob: f64,
    /// Probability a jump starts a stress episode, in [0, 1].
    pub jump_stress_prob: f64,
    /// Median hourly volume in base units (> 0).
    pub volume_median: f64,
    /// Generate the funding series.
    pub funding: bool,
    pub funding_params: FundingParams,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        SyntheticParams {
            vol_annual: 0.0082 * HOURS_PER_YEAR.sqrt(),
            drift_annual: 0.0,
            garch_alpha: 0.05,
            garch_beta: 0.85,
            tail_dof: f64::INFINITY,
            stress_share: 0.16,
            stress_var_ratio: 34.0,
            stress_hours: 5.0,
            stress_drift: 0.03,
            jumps_per_year: 18.0,
            jump_size: 3.0,
            jump_down_prob: 0.75,
            jump_stress_prob: 0.5,
            volume_median: 175.0,
            funding: true,
            funding_params: FundingParams::default(),
        }
    }
}

/// Jump sizes are Gamma distributed with this shape (coefficient of variation 1/3).
const JUMP_SHAPE: f64 = 9.0;
/// Volume model: log volume loads on log volatility, on |z| and has an AR(1) noise.
const VOLUME_VOL_LOADING: f64 = 0.6;
const VOLUME_MOVE_LOADING: f64 = 0.5;
const VOLUME_NOISE_PHI: f64 = 0.7;
const VOLUME_NOISE_STD: f64 = 0.6;
/// Minute volume shares: lognormal noise and a floor on the move-driven part.
const MINUTE_VOLUME_NOISE: f64 = 0.5;
const MINUTE_VOLUME_FLOOR: f64 = 0.25;
/// Funding burn-in intervals before the first reported rate (reaches the stationary law).
const FUNDING_BURN_IN: usize = 64;

/// Generated market data, oldest first. Bars: `timestamp` is the bar open (ms UTC); prices in
/// quote units; `volume` in base units. Funding: `funding_time` (ms UTC) and `funding_rate`
/// (fraction per 8 hours, positive: longs pay shorts), empty when funding is off.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyntheticMarket {
    pub timestamp: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
    pub funding_time: Vec<i64>,
    pub funding_rate: Vec<f64>,
}

impl SyntheticMarket {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }
    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.timestamp.is_empty()
    }
}

/// The model with every derived constant, checked.
#[derive(Debug, Clone, Copy)]
struct Model {
    /// Mean log return an hour.
    mu: f64,
    /// Long-run hourly volatility (std of log returns).
    sigma_bar: f64,
    /// Diffusive scale: `sigma_t = scale x sqrt(h x m / E[m])`.
    scale: f64,
    mean_multiplier: f64,
    stress_ratio: f64,
    stress_share: f64,
    /// Calm -> stress probability an hour (besides jumps) and stress -> calm.
    enter_prob: f64,
    leave_prob: f64,
    /// Stress drift (an hour, log) is `drift_unit x (1[stress] - share)`.
    drift_unit: f64,
    garch_omega: f64,
    garch_alpha: f64,
    garch_beta: f64,
    /// Student-t and its unit-variance factor, or None for normal innovations.
    t_dist: Option<(StudentT<f64>, f64)>,
    jump_prob: f64,
    /// Mean absolute jump in units of `sigma_bar`.
    jump_size: f64,
    jump_gamma: Gamma<f64>,
    jump_down_prob: f64,
    jump_stress_prob: f64,
    /// Expected jump, subtracted each hour so jumps do not move the mean.
    jump_mean: f64,
    volume_log_median: f64,
    /// E[ln(sigma_t / scale)] over the regimes, to centre the volume loading.
    mean_log_vol: f64,
}

fn in_unit(field: &str, x: f64, upper_open: bool) -> Result<f64> {
    check::finite(field, x)?;
    let ok = x >= 0.0 && if upper_open { x < 1.0 } else { x <= 1.0 };
    if ok {
        Ok(x)
    } else if upper_open {
        Err(Error::invalid(field, x, "must be >= 0 and < 1"))
    } else {
        Err(Error::invalid(field, x, "must be >= 0 and <= 1"))
    }
}

impl Model {
    fn new(p: &SyntheticParams) -> Result<Self> {
        let vol_annual = check::positive("vol_annual", p.vol_annual)?;
        if vol_annual > 10.0 {
            return Err(Error::invalid(
                "vol_annual",
                vol_annual,
                "must be <= 10 (1000% a year)",
            ));
        }
        let drift_annual = check::finite("drift_annual", p.drift_annual)?;
        if drift_annual.abs() > 10.0 {
            return Err(Error::invalid(
                "drift_annual",
                drift_annual,
                "must be between -10 and 10 (log return a year)",
            ));
        }
        let a = check::non_negative("garch_alpha", p.garch_alpha)?;
        let b = check::non_negative("garch_beta", p.garch_beta)?;
        if a + b >= 1.0 {
            return Err(Error::invalid(
                "garch_beta",
                b,
                format!("garch_alpha + garch_beta must be < 1 (got alpha {a})"),
            ));
        }
        if p.tail_dof.is_nan() || p.tail_dof <= 2.0 {
            return Err(Error::invalid(
                "tail_dof",
                p.tail_dof,
                "must be > 2 (inf for normal innovations)",
            ));
        }
        let t_dist = if p.tail_dof.is_finite() {
            let nu = p.tail_dof;
            let dist = StudentT::new(nu)
                .map_err(|_| Error::invalid("tail_dof", nu, "must be > 2 (inf for normal)"))?;
            Some((dist, ((nu - 2.0) / nu).sqrt()))
        } else {
            None
        };
        let f = in_unit("stress_share", p.stress_share, true)?;
        let ratio = check::finite("stress_var_ratio", p.stress_var_ratio)?;
        if !(1.0..=1e4).contains(&ratio) {
            return Err(Error::invalid(
                "stress_var_ratio",
                ratio,
                "must be >= 1 and <= 10000",
            ));
        }
        let hours = check::finite("stress_hours", p.stress_hours)?;
        if !(1.0..=1e6).contains(&hours) {
            return Err(Error::invalid(
                "stress_hours",
                hours,
                "must be >= 1 and <= 1000000",
            ));
        }
        let c = check::finite("stress_drift", p.stress_drift)?;
        if c.abs() > 1.0 {
            return Err(Error::invalid(
                "stress_drift",
                c,
                "must be between -1 and 1",
            ));
        }
        let jumps = check::non_negative("jumps_per_year", p.jumps_per_year)?;
        if jumps > HOURS_PER_YEAR {
            return Err(Error::invalid(
                "jumps_per_year",
                jumps,
                "must be <= 8760 (one an hour)",
            ));
        }
        let js = check::non_negative("jump_size", p.jump_size)?;
        let down = in_unit("jump_down_prob", p.jump_down_prob, false)?;
        let jstress = in_unit("jump_stress_prob", p.jump_stress_prob, false)?;
        let vmed = check::positive("volume_median", p.volume_median)?;
        if vmed > 1e15 {
            return Err(Error::invalid("volume_median", vmed, "must be <= 1e15"));
        }

        let sigma_bar = vol_annual / HOURS_PER_YEAR.sqrt();
        let var = sigma_bar * sigma_bar;
        let lam = jumps / HOURS_PER_YEAR;
        let jump_e2 = 1.0 + 1.0 / JUMP_SHAPE; // E[G^2] for a unit-mean Gamma
        let jump_mean_units = lam * js * (1.0 - 2.0 * down);
        let jump_var_share = lam * js * js * jump_e2 - jump_mean_units * jump_mean_units;
        if jump_var_share >= 0.9 {
            return Err(Error::invalid(
                "jump_size",
                js,
                format!(
                    "jumps would carry {:.0}% of the variance (jumps_per_year x jump_size^2 too large; must be < 90%)",
                    100.0 * jump_var_share
                ),
            ));
        }
        let mean_m = 1.0 - f + f * ratio;
        let drift_var = c * c * ratio * f * (1.0 - f) / mean_m;
        let scale = (var * (1.0 - jump_var_share) / (1.0 + drift_var)).sqrt();
        // stationary share f of the chain: enter x (1 - f) = leave x f
        let leave = 1.0 / hours;
        let enter_total = f / (1.0 - f) * leave;
        if enter_total > 1.0 {
            return Err(Error::invalid(
                "stress_share",
                f,
                format!("too large for episodes of {hours} hours (stress_share / (1 - stress_share) must be <= stress_hours)"),
            ));
        }
        let by_jumps = lam * jstress;
        let enter = 1.0 - (1.0 - enter_total) / (1.0 - by_jumps);
        if enter < 0.0 {
            return Err(Error::invalid(
                "jump_stress_prob",
                jstress,
                "jumps alone would start stress episodes more often than stress_share allows",
            ));
        }
        let jump_gamma = Gamma::new(JUMP_SHAPE, 1.0 / JUMP_SHAPE)
            .map_err(|_| Error::numerical("jump distribution", "invalid Gamma parameters"))?;
        let mean_log_vol = 0.5 * (f * (ratio / mean_m).ln() + (1.0 - f) * (1.0 / mean_m).ln());
        Ok(Model {
            mu: drift_annual / HOURS_PER_YEAR,
            sigma_bar,
            scale,
            mean_multiplier: mean_m,
            stress_ratio: ratio,
            stress_share: f,
            enter_prob: enter,
            leave_prob: leave,
            drift_unit: -c * scale * (ratio / mean_m).sqrt(),
            garch_omega: 1.0 - a - b,
            garch_alpha: a,
            garch_beta: b,
            t_dist,
            jump_prob: lam,
            jump_size: js,
            jump_gamma,
            jump_down_prob: down,
            jump_stress_prob: jstress,
            jump_mean: jump_mean_units * sigma_bar,
            volume_log_median: vmed.ln(),
            mean_log_vol,
        })
    }

    fn innovation(&self, rng: &mut ChaCha8Rng) -> f64 {
        match &self.t_dist {
            None => rng.sample(StandardNormal),
            Some((dist, unit)) => dist.sample(rng) * unit,
        }
    }
}

/// One hour of the model: everything its intrabar path needs.
#[derive(Debug, Clone, Copy, Default)]
struct Hour {
    /// Open price of the hour.
    open: f64,
    /// Diffusive log return (drift included) and its volatility.
    diffusive: f64,
    sigma: f64,
    /// Jump (log) and the path step (1..=STEPS_PER_HOUR) it lands on; 0.0 when none.
    jump: f64,
    jump_step: usize,
    volume: f64,
}

/// The hourly model over `hours` hours: sequential, one ChaCha stream.
fn simulate_hours(model: &Model, seed: u64, hours: usize, start_price: f64) -> Vec<Hour> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(STREAM_HOURLY);
    let mut out = Vec::with_capacity(hours);
    let mut stress = rng.random::<f64>() < model.stress_share;
    let mut h = 1.0_f64;
    let mut eta = 0.0_f64;
    let eta_innov = VOLUME_NOISE_STD * (1.0 - VOLUME_NOISE_PHI * VOLUME_NOISE_PHI).sqrt();
    let abs_z_mean = (2.0 / std::f64::consts::PI).sqrt();
    let mut price = start_price;
    for _ in 0..hours {
        let m = if stress { model.stress_ratio } else { 1.0 };
        let sigma = model.scale * (h * m / model.mean_multiplier).sqrt();
        let z = model.innovation(&mut rng);
        let indicator = if stress { 1.0 } else { 0.0 };
        let drift = model.drift_unit * (indicator - model.stress_share);
        let diffusive = model.mu - model.jump_mean + drift + sigma * z;
        // jump: always draw the same numbers so the stream does not depend on outcomes
        let u_jump: f64 = rng.random();
        let u_sign: f64 = rng.random();
        let u_step: f64 = rng.random();
        let u_jstress: f64 = rng.random();
        let size: f64 = model.jump_gamma.sample(&mut rng);
        let jumped = u_jump < model.jump_prob;
        let jump = if jumped {
            let sign = if u_sign < model.jump_down_prob {
                -1.0
            } else {
                1.0
            };
            sign * size * model.jump_size * model.sigma_bar
        } else {
            0.0
        };
        let jump_step = 1 + ((u_step * STEPS_PER_HOUR as f64) as usize).min(STEPS_PER_HOUR - 1);
        // volume
        let xi: f64 = rng.sample(StandardNormal);
        eta = VOLUME_NOISE_PHI * eta + eta_innov * xi;
        let log_vol_rel = (sigma / model.scale).ln() - model.mean_log_vol;
        let volume = (model.volume_log_median
            + VOLUME_VOL_LOADING * log_vol_rel
            + VOLUME_MOVE_LOADING * (z.abs() - abs_z_mean)
            + eta)
            .exp();
        out.push(Hour {
            open: price,
            diffusive,
            sigma,
            jump,
            jump_step,
            volume,
        });
        price *= (diffusive + jump).exp();
        // next hour's state
        h = model.garch_omega + model.garch_beta * h + model.garch_alpha * h * z * z;
        let u_regime: f64 = rng.random();
        stress = if stress {
            u_regime >= model.leave_prob
        } else {
            u_regime < model.enter_prob || (jumped && u_jstress < model.jump_stress_prob)
        };
    }
    out
}

/// Open, high, low, close and volume of one bar.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Bar {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

/// The hour's intrabar log path relative to its open: `x[k]` at step `k` (0..=240), a Brownian
/// bridge from 0 to `diffusive` with volatility `sigma` over the hour, plus the jump from its
/// step on. `x[0]` is 0 and `x[240]` is exactly `diffusive + jump`.
fn intrabar_path(hour: &Hour, rng: &mut ChaCha8Rng, x: &mut [f64; STEPS_PER_HOUR + 1]) {
    let n = STEPS_PER_HOUR;
    let step_sd = hour.sigma / (n as f64).sqrt();
    let mut w = 0.0;
    x[0] = 0.0;
    for xk in x.iter_mut().skip(1) {
        let e: f64 = rng.sample(StandardNormal);
        w += step_sd * e;
        *xk = w;
    }
    let slope = (hour.diffusive - w) / n as f64;
    for (k, xk) in x.iter_mut().enumerate().skip(1) {
        *xk += slope * k as f64;
        if k >= hour.jump_step {
            *xk += hour.jump;
        }
    }
    x[n] = hour.diffusive + hour.jump;
}

/// The bars of one hour at a sub-hour timeframe of `steps` path steps (a multiple of
/// `STEPS_PER_MINUTE` dividing `STEPS_PER_HOUR`), written to `out` (`240 / steps` bars).
fn hour_bars(hour: &Hour, rng: &mut ChaCha8Rng, steps: usize, out: &mut [Bar]) {
    let mut x = [0.0; STEPS_PER_HOUR + 1];
    intrabar_path(hour, rng, &mut x);
    let px = |v: f64| hour.open * v.exp();
    if steps == STEPS_PER_HOUR {
        let (lo, hi) = x
            .iter()
            .fold((0.0_f64, 0.0_f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if let Some(bar) = out.first_mut() {
            *bar = Bar {
                open: hour.open,
                high: px(hi),
                low: px(lo),
                close: px(x[STEPS_PER_HOUR]),
                volume: hour.volume,
            };
        }
        return;
    }
    // minute volume shares: lognormal noise times (floor + |minute move| / minute volatility)
    let minutes = 60;
    let minute_sd = hour.sigma / (minutes as f64).sqrt();
    let mut shares = [0.0_f64; 60];
    let mut total = 0.0;
    for (j, share) in shares.iter_mut().enumerate() {
        let move_ = (x[(j + 1) * STEPS_PER_MINUTE] - x[j * STEPS_PER_MINUTE]).abs();
        let noise: f64 = rng.sample(StandardNormal);
        *share = (MINUTE_VOLUME_NOISE * noise).exp() * (MINUTE_VOLUME_FLOOR + move_ / minute_sd);
        total += *share;
    }
    let per_bar_minutes = steps / STEPS_PER_MINUTE;
    for (i, bar) in out.iter_mut().enumerate() {
        let (a, b) = (i * steps, (i + 1) * steps);
        let seg = &x[a..=b];
        let (lo, hi) = seg
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let share: f64 = shares[i * per_bar_minutes..(i + 1) * per_bar_minutes]
            .iter()
            .sum();
        *bar = Bar {
            open: if a == 0 { hour.open } else { px(x[a]) },
            high: px(hi),
            low: px(lo),
            close: px(x[b]),
            volume: hour.volume * share / total,
        };
    }
}

fn path_rng(seed: u64, hour_index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(STREAM_PATH0.wrapping_add(hour_index as u64));
    rng
}

/// The funding series at every multiple of 8 hours UTC in `[start_ms, end_ms)`.
fn funding_series(
    p: &FundingParams,
    seed: u64,
    start_ms: i64,
    end_ms: i64,
) -> (Vec<i64>, Vec<f64>) {
    let first = start_ms.div_euclid(FUNDING_INTERVAL_MS)
        + i64::from(start_ms.rem_euclid(FUNDING_INTERVAL_MS) != 0);
    let mut times = Vec::new();
    let mut k = first;
    while k.saturating_mul(FUNDING_INTERVAL_MS) < end_ms {
        times.push(k * FUNDING_INTERVAL_MS);
        k += 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(STREAM_FUNDING);
    let innov = p.premium_std * (1.0 - p.premium_phi * p.premium_phi).sqrt();
    let mut x: f64 = p.premium_std * rng.sample::<f64, _>(StandardNormal);
    let mut spike = 0.0_f64;
    let mut rates = Vec::with_capacity(times.len());
    for i in 0..FUNDING_BURN_IN + times.len() {
        let e1: f64 = rng.sample(StandardNormal);
        let e2: f64 = rng.sample(StandardNormal);
        let u: f64 = rng.random();
        let size: f64 = rng.sample(Exp1);
        x = p.premium_phi * x + innov * e1;
        spike = p.spike_phi * spike
            + if u < p.spike_prob {
                p.spike_mean * size
            } else {
                0.0
            };
        let premium = p.premium_mean + x + p.noise_std * e2 + spike - p.base_rate;
        let excess = if premium > p.dead_zone_above {
            premium - p.dead_zone_above
        } else if premium < -p.dead_zone_below {
            premium + p.dead_zone_below
        } else {
            0.0
        };
        if i >= FUNDING_BURN_IN {
            rates.push((p.base_rate + excess).clamp(-p.clamp, p.clamp));
        }
    }
    (times, rates)
}

fn check_funding(p: &FundingParams) -> Result<()> {
    check::finite("funding_params.base_rate", p.base_rate)?;
    check::finite("funding_params.premium_mean", p.premium_mean)?;
    in_unit("funding_params.premium_phi", p.premium_phi, true)?;
    check::non_negative("funding_params.premium_std", p.premium_std)?;
    check::non_negative("funding_params.noise_std", p.noise_std)?;
    check::non_negative("funding_params.dead_zone_below", p.dead_zone_below)?;
    check::non_negative("funding_params.dead_zone_above", p.dead_zone_above)?;
    in_unit("funding_params.spike_prob", p.spike_prob, false)?;
    check::non_negative("funding_params.spike_mean", p.spike_mean)?;
    in_unit("funding_params.spike_phi", p.spike_phi, true)?;
    check::positive("funding_params.clamp", p.clamp)?;
    Ok(())
}

/// Generate `bars` bars of `timeframe` from `start_ms` (ms UTC, a multiple of the timeframe),
/// opening at `start_price` (quote units), with the funding series over the same span.
///
/// The same arguments always give the same output. Errors name the argument and the rule:
/// `bars` in 1..=[`MAX_BARS`], `start_price` finite in (0, 1e12], every parameter finite and
/// in its range (see [`SyntheticParams`]).
pub fn generate(
    seed: u64,
    bars: usize,
    timeframe: Timeframe,
    start_ms: i64,
    start_price: f64,
    params: &SyntheticParams,
) -> Result<SyntheticMarket> {
    check::count_in("bars", bars, 1, MAX_BARS)?;
    let start_price = check::positive("start_price", start_price)?;
    if start_price > MAX_START_PRICE {
        return Err(Error::invalid(
            "start_price",
            start_price,
            format!("must be <= {MAX_START_PRICE:e}"),
        ));
    }
    let bar_ms = timeframe.millis();
    if !(0..=MAX_TIMESTAMP_MS).contains(&start_ms) {
        return Err(Error::invalid(
            "start",
            start_ms,
            "must be between 0 (1970-01-01) and 9999-12-31 in ms UTC",
        ));
    }
    if start_ms % bar_ms != 0 {
        return Err(Error::invalid(
            "start",
            start_ms,
            format!(
                "must be a multiple of the timeframe ({} = {bar_ms} ms) so bars open on the exchange's grid",
                timeframe.as_str()
            ),
        ));
    }
    let end_ms = (bars as i64)
        .checked_mul(bar_ms)
        .and_then(|span| span.checked_add(start_ms))
        .filter(|end| *end <= MAX_TIMESTAMP_MS + 1)
        .ok_or_else(|| {
            Error::invalid(
                "bars",
                bars,
                "too many for this start and timeframe (the last bar must open before year 10000)",
            )
        })?;
    let model = Model::new(params)?;
    if params.funding {
        check_funding(&params.funding_params)?;
    }

    let minutes = timeframe.minutes();
    let hours = if minutes >= 60 {
        bars * (minutes / 60)
    } else {
        bars.div_ceil(60 / minutes)
    };
    let hourly = simulate_hours(&model, seed, hours, start_price);

    let rows: Vec<Bar> = if minutes >= 60 {
        let mut per_hour = vec![Bar::default(); hours];
        per_hour
            .par_iter_mut()
            .zip(hourly.par_iter())
            .enumerate()
            .for_each(|(i, (bar, hour))| {
                let mut rng = path_rng(seed, i);
                hour_bars(hour, &mut rng, STEPS_PER_HOUR, std::slice::from_mut(bar));
            });
        per_hour.chunks(minutes / 60).map(aggregate).collect()
    } else {
        let per_hour = 60 / minutes;
        let steps = minutes * STEPS_PER_MINUTE;
        let mut rows = vec![Bar::default(); hours * per_hour];
        rows.par_chunks_mut(per_hour)
            .zip(hourly.par_iter())
            .enumerate()
            .for_each(|(i, (out, hour))| {
                let mut rng = path_rng(seed, i);
                hour_bars(hour, &mut rng, steps, out);
            });
        rows.truncate(bars);
        rows
    };

    let mut out = SyntheticMarket {
        timestamp: (0..bars as i64).map(|i| start_ms + i * bar_ms).collect(),
        open: Vec::with_capacity(bars),
        high: Vec::with_capacity(bars),
        low: Vec::with_capacity(bars),
        close: Vec::with_capacity(bars),
        volume: Vec::with_capacity(bars),
        funding_time: Vec::new(),
        funding_rate: Vec::new(),
    };
    for bar in &rows {
        if !(bar.low > 0.0 && bar.high.is_finite() && bar.volume.is_finite()) {
            return Err(Error::numerical(
                "synthetic prices",
                "left the float range (lower vol_annual, drift_annual or bars)",
            ));
        }
        out.open.push(bar.open);
        out.high.push(bar.high);
        out.low.push(bar.low);
        out.close.push(bar.close);
        out.volume.push(bar.volume);
    }
    if params.funding {
        let (t, r) = funding_series(&params.funding_params, seed, start_ms, end_ms);
        out.funding_time = t;
        out.funding_rate = r;
    }
    Ok(out)
}

/// Several consecutive hourly bars as one.
fn aggregate(group: &[Bar]) -> Bar {
    let first = group.first().copied().unwrap_or_default();
    group.iter().skip(1).fold(first, |acc, b| Bar {
        open: acc.open,
        high: acc.high.max(b.high),
        low: acc.low.min(b.low),
        close: b.close,
        volume: acc.volume + b.volume,
    })
}

#[cfg(test)]
mod tests;
