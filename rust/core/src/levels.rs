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

/// Pivot prices kept sorted with their clusters maintained incrementally: after an insert or a
/// removal only the clusters from the one before the change are regrouped, until a cluster
/// starts at an unchanged pivot where an old one started (from there the greedy pass is the
/// same, so the old clusters are kept, their start indices shifted). The levels are exactly
/// those of [`cluster`] over the same prices (a property test checks it); a change typically
/// costs O(log P + cluster size) instead of O(P).
///
/// The regrouping waits until the levels are read: the changes since the last read make one
/// changed span of pivots (from the lowest changed index to the first of the unchanged pivots
/// after the last change), regrouped in one pass, so a policy deciding every hour on minute
/// bars regroups once an hour, not at every new pivot.
#[derive(Debug, Clone, Default)]
pub struct PivotClusters {
    prices: Vec<f64>,
    /// The clusters of the prices as they were at the last regrouping.
    clusters: Vec<Group>,
    /// The prices changed since then (None: the clusters are those of `prices`).
    pending: Option<Changed>,
    tolerance: f64,
    /// The regrouped clusters before they are spliced in (a buffer kept to avoid an
    /// allocation per change).
    spare: Vec<Group>,
}

/// The prices changed since the last regrouping: at indices `lo..hi` (in the current prices);
/// those below `lo` are unchanged in place, those from `hi` on unchanged `net` places away.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Changed {
    lo: usize,
    hi: usize,
    net: isize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Group {
    start: usize,
    sum: f64,
    count: u32,
    /// `sum / count`, set when the group is complete (what the levels read).
    level: f64,
}

impl Group {
    fn new(start: usize, price: f64) -> Self {
        Group {
            start,
            sum: price,
            count: 1,
            level: f64::NAN,
        }
    }

    fn mean(&self) -> f64 {
        self.sum / f64::from(self.count)
    }

    fn closed(self) -> Self {
        Group {
            level: self.mean(),
            ..self
        }
    }
}

impl PivotClusters {
    /// An empty set grouping within `tolerance` (a fraction of the running cluster mean).
    pub fn new(tolerance: f64) -> Self {
        PivotClusters {
            tolerance,
            ..Self::default()
        }
    }

    /// The pivot prices, sorted ascending.
    pub fn prices(&self) -> &[f64] {
        &self.prices
    }

    pub fn len(&self) -> usize {
        self.prices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    pub fn clear(&mut self) {
        self.prices.clear();
        self.clusters.clear();
        self.pending = None;
    }

    /// Change the tolerance (every cluster is regrouped).
    pub fn set_tolerance(&mut self, tolerance: f64) {
        if tolerance != self.tolerance {
            self.tolerance = tolerance;
            self.clusters.clear();
            self.pending = None;
            let mut fresh = std::mem::take(&mut self.spare);
            fresh.clear();
            self.regroup(0, 0, 0, 0, &mut fresh);
            self.clusters.append(&mut fresh);
            self.spare = fresh;
        }
    }

    /// Add a pivot price (finite and > 0, as prices are).
    pub fn insert(&mut self, price: f64) {
        let at = self.prices.partition_point(|&y| y < price);
        self.prices.insert(at, price);
        self.note(at, 1);
    }

    /// Remove one pivot at `price` (no-op when there is none).
    pub fn remove(&mut self, price: f64) {
        let at = self.prices.partition_point(|&y| y < price);
        if at < self.prices.len() && self.prices[at] == price {
            self.prices.remove(at);
            self.note(at, -1);
        }
    }

    /// The levels (clusters of at least `min_touches` pivots at their mean price), sorted by
    /// price, into `out` (cleared first).
    pub fn levels_into(&mut self, min_touches: u32, out: &mut Vec<SrLevel>) {
        if let Some(c) = self.pending.take() {
            self.changed(c);
        }
        out.clear();
        out.extend(
            self.clusters
                .iter()
                .filter(|g| g.count >= min_touches)
                .map(|g| SrLevel {
                    price: g.level,
                    touches: g.count,
                }),
        );
    }

    /// Record a change at index `at` (`delta` +1: inserted there; -1: the pivot there was
    /// removed) into the changed span.
    fn note(&mut self, at: usize, delta: isize) {
        let hi_alone = if delta > 0 { at + 1 } else { at };
        self.pending = Some(match self.pending {
            None => Changed {
                lo: at,
                hi: hi_alone,
                net: delta,
            },
            Some(c) => Changed {
                lo: c.lo.min(at),
                // a change before `hi` moves the unchanged pivots; one at or after it leaves
                // those before it `net` away and those after it `net + delta`: changed from it
                hi: if at < c.hi {
                    (c.hi as isize + delta) as usize
                } else {
                    hi_alone
                },
                net: c.net + delta,
            },
        });
    }

    /// Regroup after the prices changed (see [`Changed`]).
    fn changed(&mut self, c: Changed) {
        let (at, same, delta) = (c.lo, c.hi, c.net);
        // restart from the cluster holding the pivot before the change: that cluster may now
        // take (or lose) the pivots after it
        let from = if at == 0 {
            0
        } else {
            self.clusters.partition_point(|g| g.start < at) - 1
        };
        // pivots at new index >= `same` are unchanged (old index = new index - delta)
        let begin = self.clusters.get(from).map_or(0, |g| g.start);
        let mut fresh = std::mem::take(&mut self.spare);
        fresh.clear();
        let kept_from = self.regroup(begin, same, delta, from, &mut fresh);
        // the clusters from `kept_from` on are unchanged but for their start, `delta` away
        for g in &mut self.clusters[kept_from..] {
            g.start = (g.start as isize + delta) as usize;
        }
        self.clusters.splice(from..kept_from, fresh.drain(..));
        self.spare = fresh;
    }

    /// The greedy pass from new index `begin` into `fresh`, over the old clusters
    /// `self.clusters[from..]`; it stops once a cluster starts at a new index >= `same` where an
    /// old one started (`delta` apart) and returns that old cluster's index (the clusters from
    /// there on stay), or `self.clusters.len()` when it reached the last pivot.
    fn regroup(
        &self,
        begin: usize,
        same: usize,
        delta: isize,
        from: usize,
        fresh: &mut Vec<Group>,
    ) -> usize {
        let old = &self.clusters;
        let mut next_old = from;
        let mut cur: Option<Group> = None;
        for (k, &p) in self.prices.iter().enumerate().skip(begin) {
            if let Some(g) = cur {
                let mean = g.mean();
                if (p - mean).abs() <= self.tolerance * mean {
                    cur = Some(Group {
                        sum: g.sum + p,
                        count: g.count + 1,
                        ..g
                    });
                    continue;
                }
                fresh.push(g.closed());
            }
            if k >= same {
                let old_start = (k as isize - delta) as usize;
                while next_old < old.len() && old[next_old].start < old_start {
                    next_old += 1;
                }
                if next_old < old.len() && old[next_old].start == old_start {
                    return next_old;
                }
            }
            cur = Some(Group::new(k, p));
        }
        fresh.extend(cur.map(Group::closed));
        old.len()
    }
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

    use proptest::prelude::*;

    proptest! {
        /// Any sequence of inserts and removals, the levels read after every few changes,
        /// leaves exactly the levels of a fresh [`cluster`] pass over the same prices.
        #[test]
        fn incremental_clusters_equal_a_fresh_pass(
            ops in prop::collection::vec((any::<bool>(), 0usize..40, 0u8..4), 1..200),
            tol in 0.0005f64..0.05,
            min_touches in 1u32..4,
        ) {
            // prices on a coarse lattice so that ties and boundary cases happen
            let price = |i: usize| 100.0 * (1.0 + 0.004 * i as f64);
            let mut inc = PivotClusters::new(tol);
            let mut plain: Vec<f64> = Vec::new();
            let mut got = Vec::new();
            for (add, i, read) in ops {
                let p = price(i);
                if add || plain.is_empty() {
                    inc.insert(p);
                    plain.push(p);
                } else {
                    let q = plain[i % plain.len()];
                    inc.remove(q);
                    let at = plain.iter().position(|&x| x == q).expect("present");
                    plain.remove(at);
                }
                // the levels read after some changes only (several changes regrouped at once)
                if read == 0 {
                    inc.levels_into(min_touches, &mut got);
                    let want = cluster(&mut plain.clone(), tol, min_touches);
                    prop_assert_eq!(&got, &want);
                }
            }
            inc.levels_into(min_touches, &mut got);
            prop_assert_eq!(&got, &cluster(&mut plain.clone(), tol, min_touches));
            let mut sorted = plain.clone();
            sorted.sort_by(f64::total_cmp);
            prop_assert_eq!(inc.prices(), &sorted[..]);
            inc.set_tolerance(tol * 2.0);
            inc.levels_into(min_touches, &mut got);
            prop_assert_eq!(got, cluster(&mut sorted, tol * 2.0, min_touches));
        }
    }
}
