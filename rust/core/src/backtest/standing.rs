//! The orders a leg's last decision left standing, and the next decision's change to them
//! while nothing else touched the book: the order manager's diff ([`crate::orders::Differ`])
//! reduced to the positions that changed.
//!
//! Why that is the diff: right after a diff is applied, the live orders are exactly the wanted
//! orders `W` (each kept or placed for one of them, the same key, kind, price and amount).
//! Until a fill or a cancel of all touches the book they stay so. When the keys (role, side,
//! rung) of `W` are distinct and the next wanted orders `D` have the same length with the same
//! key at every position (no market order: a live market order is never matched), each
//! desired order has exactly one live order of its key: an unchanged position keeps it, a
//! changed one (another kind, price or amount) cancels it and places the new order. So the
//! diff's cancels are the live orders of the changed positions (ascending live index) and its
//! places the changed positions (ascending), as [`crate::orders::Differ::diff`] finds them.

use crate::fills::OrderKind;
use crate::orders::OrderKey;
use crate::policy::DesiredOrder;

/// How the next wanted orders differ from the standing ones (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// The same orders: nothing to send.
    Same,
    /// The same keys at every position, some with another kind, price or amount (their
    /// positions in [`Standing::changed`]).
    InPlace,
    /// Anything else: the full diff decides.
    Other,
}

/// The orders the last applied diff was for, and what the module doc's shortcut needs.
#[derive(Debug, Clone, Default)]
pub(super) struct Standing {
    /// The wanted orders of the last applied diff (at most `max_active_orders`).
    want: Vec<DesiredOrder>,
    /// Whether the book changed since that diff by anything but the decisions that followed
    /// it (a fill, a cancel of all): then the live orders are no longer `want`.
    moved: bool,
    /// Whether the keys of `want` are distinct.
    distinct: bool,
    /// Positions that changed at the last [`Standing::compare`] returning `InPlace`.
    changed: Vec<usize>,
    /// Packed keys, sorted to check them distinct (reused).
    keys: Vec<u64>,
}

impl Standing {
    /// Nothing stands yet (the first decision diffs in full).
    pub(super) fn new() -> Self {
        Standing {
            moved: true,
            ..Standing::default()
        }
    }

    /// Something besides a decision changed the live orders (a fill, a cancel of all).
    pub(super) fn moved(&mut self) {
        self.moved = true;
    }

    /// How `want` differs from the standing orders.
    pub(super) fn compare(&mut self, want: &[DesiredOrder]) -> Change {
        if self.moved || want.len() != self.want.len() {
            return Change::Other;
        }
        self.changed.clear();
        for (i, (d, w)) in want.iter().zip(&self.want).enumerate() {
            if d.kind == OrderKind::Market || w.kind == OrderKind::Market {
                return Change::Other;
            }
            if d != w {
                if OrderKey::from(d) != OrderKey::from(w) {
                    return Change::Other;
                }
                self.changed.push(i);
            }
        }
        if self.changed.is_empty() {
            // the live orders are these: the diff would keep every one
            Change::Same
        } else if self.distinct {
            Change::InPlace
        } else {
            Change::Other
        }
    }

    /// The positions that changed (after [`Standing::compare`] returned `InPlace`), ascending.
    pub(super) fn changed(&self) -> &[usize] {
        &self.changed
    }

    /// The standing order at `i`.
    pub(super) fn at(&self, i: usize) -> &DesiredOrder {
        &self.want[i]
    }

    /// The first `wanted` of `orders` now stand (their diff was applied). `same_keys`: they
    /// have the keys of the orders standing before, position by position (an `InPlace`
    /// change), so whether the keys are distinct is known. The decision's vector is swapped
    /// in, not copied; `orders` gets the old buffer back.
    pub(super) fn stand(&mut self, orders: &mut Vec<DesiredOrder>, wanted: usize, same_keys: bool) {
        std::mem::swap(&mut self.want, orders);
        self.want.truncate(wanted);
        if !same_keys {
            self.distinct = keys_distinct(&self.want, &mut self.keys);
        }
        self.moved = false;
    }
}

/// Whether the keys (role, side, rung) of `orders` are distinct; `keys` is scratch.
fn keys_distinct(orders: &[DesiredOrder], keys: &mut Vec<u64>) -> bool {
    keys.clear();
    keys.extend(orders.iter().map(|o| {
        (u64::from(o.role as u8) << 40)
            | (u64::from(o.side as u8) << 32)
            | u64::from(o.level as u32)
    }));
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Side;
    use crate::orders::{Differ, OpenOrder};
    use crate::policy::Role;
    use proptest::prelude::*;

    fn order(role: u8, side: bool, level: i32, kind: u8, price: i64, lots: i64) -> DesiredOrder {
        DesiredOrder {
            role: [Role::Grid, Role::Rebalance, Role::Stop][usize::from(role % 3)],
            side: if side { Side::Buy } else { Side::Sell },
            level,
            kind: [OrderKind::Limit, OrderKind::StopMarket][usize::from(kind % 2)],
            price_ticks: price,
            amount_lots: lots,
        }
    }

    fn open_of(d: &DesiredOrder) -> OpenOrder {
        OpenOrder {
            key: OrderKey::from(d),
            kind: d.kind,
            price_ticks: d.price_ticks,
            remaining_lots: d.amount_lots,
        }
    }

    #[test]
    fn keys_distinct_tells_a_repeated_key() {
        let mut scratch = Vec::new();
        let a = order(0, false, 1, 0, 100, 1);
        let b = order(0, true, 1, 0, 90, 1);
        assert!(keys_distinct(&[a, b], &mut scratch));
        assert!(!keys_distinct(
            &[a, b, order(0, false, 1, 1, 120, 2)],
            &mut scratch
        ));
        assert!(keys_distinct(
            &[order(0, false, -1, 0, 1, 1), order(0, false, 1, 0, 1, 1)],
            &mut scratch
        ));
    }

    #[test]
    fn a_fill_or_a_repeated_key_or_a_market_order_needs_the_full_diff() {
        let a = order(0, false, 1, 0, 100, 1);
        let mut s = Standing::new();
        assert_eq!(s.compare(&[a]), Change::Other); // nothing stands yet
        s.stand(&mut vec![a], 1, false);
        assert_eq!(s.compare(&[a]), Change::Same);
        s.moved();
        assert_eq!(s.compare(&[a]), Change::Other);
        let mut b = a;
        b.price_ticks = 101;
        s.stand(&mut vec![a, a], 2, false);
        assert_eq!(s.compare(&[a, a]), Change::Same);
        assert_eq!(s.compare(&[a, b]), Change::Other); // a repeated key
        let mut m = a;
        m.kind = OrderKind::Market;
        s.stand(&mut vec![a], 1, false);
        assert_eq!(s.compare(&[m]), Change::Other);
        assert_eq!(s.compare(&[a, a]), Change::Other); // another length
        let mut other_rung = a;
        other_rung.level = 2;
        assert_eq!(s.compare(&[other_rung]), Change::Other);
    }

    proptest! {
        /// Reference: the order manager's diff (`Differ::diff`) of the live orders (the
        /// standing ones in any placement order) against the new wanted orders.
        #[test]
        fn an_in_place_change_is_the_full_diff(
            rungs in proptest::collection::btree_set((0u8..3, any::<bool>(), -6i32..6), 1..12),
            seed in proptest::collection::vec((0u8..2, 90i64..110, 1i64..4), 12),
            edits in proptest::collection::vec((0usize..12, 0u8..3, 90i64..110, 1i64..4), 0..6),
            order_of_placement in any::<u64>(),
        ) {
            let standing: Vec<DesiredOrder> = rungs
                .iter()
                .zip(&seed)
                .map(|(&(role, side, level), &(kind, price, lots))| order(role, side, level, kind, price, lots))
                .collect();
            let mut want = standing.clone();
            for &(at, what, price, lots) in &edits {
                let n = want.len();
                let o = &mut want[at % n];
                match what {
                    0 => o.price_ticks = price,
                    1 => o.amount_lots = lots,
                    _ => o.kind = if o.kind == OrderKind::Limit { OrderKind::StopMarket } else { OrderKind::Limit },
                }
            }
            // the live orders: the standing ones, placed in some order
            let mut live: Vec<usize> = (0..standing.len()).collect();
            let mut r = order_of_placement;
            for i in (1..live.len()).rev() {
                r = r.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                live.swap(i, (r >> 33) as usize % (i + 1));
            }
            let open: Vec<OpenOrder> = live.iter().map(|&k| open_of(&standing[k])).collect();
            let mut s = Standing::new();
            s.stand(&mut standing.clone(), standing.len(), false);
            let mut differ = Differ::default();
            let (cancels, places) = differ.diff(&open, &want);
            match s.compare(&want) {
                Change::Same => prop_assert!(cancels.is_empty() && places.is_empty()),
                Change::InPlace => {
                    let mut got: Vec<usize> = s
                        .changed()
                        .iter()
                        .map(|&i| {
                            let key = OrderKey::from(s.at(i));
                            open.iter().position(|o| o.key == key).expect("a live order")
                        })
                        .collect();
                    got.sort_unstable();
                    prop_assert_eq!(&got[..], cancels);
                    prop_assert_eq!(s.changed(), places);
                }
                Change::Other => prop_assert!(false, "distinct keys edited in place"),
            }
        }
    }
}
