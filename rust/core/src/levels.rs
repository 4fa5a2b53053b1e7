//! Support and resistance levels from recent candles: pivot highs and lows, clustered.
//!
//! A bar is a pivot high when its high is the largest of the `2w + 1` highs centred on it
//! (a pivot low likewise with lows). Pivot prices are sorted and grouped: a price within
//! `tolerance` (a fraction) of the running cluster mean joins it. A cluster touched by at least
//! `min_touches` pivots is a level at its mean price; its strength is the touch count.

use crate::error::{check, Error, Result};

/// A support or resistance level: mean price of its pivots and how many pivots touched it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SrLevel {
    pub price: f64,
    pub touches: u32,
}

/// Levels found in `high`/`low` (same length), sorted by price.
pub fn support_resistance(
    high: &[f64],
    low: &[f64],
    half_window: usize,
    tolerance: f64,
    min_touches: u32,
) -> Result<Vec<SrLevel>> {
    crate::series::same_len("high", high.len(), "low", low.len())?;
    check::count_in("half_window", half_window, 1, 1000)?;
    check::open_interval("tolerance", tolerance, 0.0, 1.0)?;
    if min_touches == 0 {
        return Err(Error::invalid("min_touches", 0, "must be >= 1"));
    }
    let n = high.len();
    let mut pivots = Vec::new();
    if n < 2 * half_window + 1 {
        return Ok(Vec::new());
    }
    for i in half_window..n - half_window {
        let span = i - half_window..=i + half_window;
        let (h, l) = (high[i], low[i]);
        if !h.is_finite() || !l.is_finite() {
            return Err(Error::invalid(
                format!("high/low[{i}]"),
                format!("{h}/{l}"),
                "must be finite",
            ));
        }
        if high[span.clone()].iter().all(|&x| x <= h) {
            pivots.push(h);
        }
        if low[span].iter().all(|&x| x >= l) {
            pivots.push(l);
        }
    }
    Ok(cluster(&mut pivots, tolerance, min_touches))
}

/// Cluster pivot prices into levels (sorts `pivots` in place; see the module doc). Used by
/// [`support_resistance`] and by the policy engine, which keeps its pivots incrementally.
pub fn cluster(pivots: &mut [f64], tolerance: f64, min_touches: u32) -> Vec<SrLevel> {
    pivots.sort_by(f64::total_cmp);
    let mut levels = Vec::new();
    let (mut sum, mut count) = (0.0, 0u32);
    for &p in pivots.iter() {
        if count > 0 && (p - sum / f64::from(count)).abs() > tolerance * (sum / f64::from(count)) {
            if count >= min_touches {
                levels.push(SrLevel {
                    price: sum / f64::from(count),
                    touches: count,
                });
            }
            (sum, count) = (0.0, 0);
        }
        sum += p;
        count += 1;
    }
    if count >= min_touches {
        levels.push(SrLevel {
            price: sum / f64::from(count),
            touches: count,
        });
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_highs_make_a_resistance() {
        // highs touch ~110 three times with dips between; lows bottom near 90 twice
        let high = [
            100.0, 105.0, 110.0, 104.0, 101.0, 106.0, 110.2, 103.0, 100.0, 109.9, 102.0, 101.0,
        ];
        let low = [
            95.0, 97.0, 99.0, 96.0, 90.0, 95.0, 98.0, 94.0, 90.1, 96.0, 97.0, 98.0,
        ];
        let lv = support_resistance(&high, &low, 1, 0.005, 2).expect("levels");
        let prices: Vec<i64> = lv.iter().map(|l| l.price.round() as i64).collect();
        assert_eq!(prices, [90, 110]);
        assert_eq!(lv[1].touches, 3);
    }

    #[test]
    fn bad_input() {
        assert!(support_resistance(&[1.0], &[1.0, 2.0], 1, 0.01, 2).is_err());
        assert!(support_resistance(&[1.0; 5], &[1.0; 5], 0, 0.01, 2).is_err());
        assert!(support_resistance(&[1.0; 5], &[1.0; 5], 1, 0.0, 2).is_err());
        assert!(support_resistance(&[1.0, f64::NAN, 1.0], &[1.0; 3], 1, 0.1, 1).is_err());
        assert_eq!(
            support_resistance(&[1.0; 2], &[1.0; 2], 1, 0.1, 1),
            Ok(vec![])
        );
    }
}
