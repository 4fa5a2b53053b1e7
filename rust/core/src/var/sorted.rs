//! [`SortedWindow`]: the values of a moving window kept in order, for exact empirical quantiles
//! of the window under slides (one value out, one in). Values are finite with no -0.0
//! ([`loss_of`] makes a return's loss so), so `<` orders them totally and two equal values have
//! the same bits: any order statistic is the very value a plain sorted `Vec` would hold there.
//!
//! Layout (square-root decomposition): sorted blocks of at most `CAP` values, every value of a
//! block <= every value of the next. A block is found by counting the block maxima below the
//! value (a branchless scan that vectorises), a value within it by the same count over the
//! block, and an insert or removal shifts only that block's values after it. A full block
//! splits in two halves; an emptied block is dropped; when the blocks average under a quarter
//! full they are laid out again half full (O(n), amortised O(1): at least n inserts apart).
//! A slide costs O(n / CAP + CAP) instead of O(log n) dependent loads and an O(n) memmove.

use super::historical::{quantile_from, quantile_position};
use super::QuantileMethod;

/// The loss of a (finite) return, with -0.0 made 0.0 so that `<` orders the losses totally.
pub fn loss_of(r: f64) -> f64 {
    -r + 0.0
}

/// A multiset of finite values (no -0.0) in ascending order (see the module doc); `CAP` is the
/// most values a block holds (even, >= 2).
#[derive(Debug, Clone)]
pub struct SortedWindow<const CAP: usize = 64> {
    /// Block storage: block `id` holds `slots[id * CAP..id * CAP + its length]`, ascending.
    slots: Vec<f64>,
    /// The blocks in value order: id, length and largest value. There is always at least one
    /// block; only a sole block may be empty (its largest value is then +inf).
    ids: Vec<u32>,
    lens: Vec<usize>,
    maxs: Vec<f64>,
    /// Ids of allocated blocks not in use.
    free: Vec<u32>,
    len: usize,
    /// Reused by the relayout.
    scratch: Vec<f64>,
}

impl<const CAP: usize> Default for SortedWindow<CAP> {
    fn default() -> Self {
        Self::new()
    }
}

/// Equal when they hold the same values (whatever their blocks).
impl<const CAP: usize> PartialEq for SortedWindow<CAP> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// How many of `v` are `< x`: a branchless count the compiler vectorises.
#[inline]
fn count_below(v: &[f64], x: f64) -> usize {
    v.iter().map(|&y| usize::from(y < x)).sum()
}

impl<const CAP: usize> SortedWindow<CAP> {
    const HALF: usize = {
        assert!(CAP >= 2 && CAP % 2 == 0, "CAP must be even and >= 2");
        CAP / 2
    };

    /// An empty window.
    pub fn new() -> Self {
        SortedWindow {
            slots: vec![0.0; CAP],
            ids: vec![0],
            lens: vec![0],
            maxs: vec![f64::INFINITY],
            free: Vec::new(),
            len: 0,
            scratch: Vec::new(),
        }
    }

    /// Give back the memory not in use: an empty window drops to one block (a sweep's leg,
    /// whose statistics are computed once for its group, never fills its own).
    pub fn shrink_to_fit(&mut self) {
        if self.len == 0 {
            *self = Self::new();
        } else {
            self.scratch = Vec::new();
            self.free.shrink_to_fit();
        }
    }

    /// An empty window with room for about `n` values without allocating.
    pub fn with_capacity(n: usize) -> Self {
        let mut w = Self::new();
        let blocks = n.div_ceil(Self::HALF) + 1;
        w.slots.reserve(blocks * CAP);
        w.ids.reserve(blocks);
        w.lens.reserve(blocks);
        w.maxs.reserve(blocks);
        w.free.reserve(blocks);
        w
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget every value (the allocated blocks are kept for reuse).
    pub fn clear(&mut self) {
        let allocated = (self.slots.len() / CAP) as u32;
        self.ids.clear();
        self.ids.push(0);
        self.lens.clear();
        self.lens.push(0);
        self.maxs.clear();
        self.maxs.push(f64::INFINITY);
        self.free.clear();
        self.free.extend((1..allocated).rev());
        self.len = 0;
    }

    /// The values in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.ids.len()).flat_map(move |b| self.block(b).iter().copied())
    }

    #[inline]
    fn start(&self, b: usize) -> usize {
        self.ids[b] as usize * CAP
    }

    #[inline]
    fn block(&self, b: usize) -> &[f64] {
        let s = self.start(b);
        &self.slots[s..s + self.lens[b]]
    }

    /// The first block (in value order) whose largest value is >= `x`, else the last block.
    #[inline]
    fn route(&self, x: f64) -> usize {
        count_below(&self.maxs, x).min(self.maxs.len() - 1)
    }

    /// Add `x` (finite, no -0.0).
    pub fn insert(&mut self, x: f64) {
        let mut b = self.route(x);
        if self.lens[b] == CAP {
            self.split(b);
            if x > self.maxs[b] {
                b += 1;
            }
        }
        let (s, n) = (self.start(b), self.lens[b]);
        let blk = &mut self.slots[s..s + n + 1];
        let at = count_below(&blk[..n], x);
        blk.copy_within(at..n, at + 1);
        blk[at] = x;
        self.lens[b] = n + 1;
        if at == n {
            self.maxs[b] = x;
        }
        self.len += 1;
    }

    /// Remove one value equal to `x`; false (and nothing changed) when there is none.
    pub fn remove(&mut self, x: f64) -> bool {
        // a block before `b` holds only values < x; if x is held in a later block then every
        // value from `b`'s largest to it is x, so `b` holds x too
        let b = self.route(x);
        let (s, n) = (self.start(b), self.lens[b]);
        let blk = &mut self.slots[s..s + n];
        let at = count_below(blk, x);
        if at >= n || blk[at] != x {
            return false;
        }
        blk.copy_within(at + 1..n, at);
        self.lens[b] = n - 1;
        self.len -= 1;
        if n == 1 {
            self.drop_block(b);
        } else if at == n - 1 {
            self.maxs[b] = blk[n - 2];
        }
        if self.ids.len() > 2 && self.ids.len() * (CAP / 4).max(1) > self.len {
            self.relayout();
        }
        true
    }

    /// Replace one value equal to `old` by `new` (the slide of a moving window); false (and
    /// nothing changed) when `old` is not held.
    pub fn replace(&mut self, old: f64, new: f64) -> bool {
        let found = self.remove(old);
        if found {
            self.insert(new);
        }
        found
    }

    /// The `k`-th smallest value (0-based) and the next one (the same at the end).
    /// Panics when `k >= len`.
    pub fn pair(&self, k: usize) -> (f64, f64) {
        assert!(k < self.len, "order statistic {k} of {} values", self.len);
        let nb = self.ids.len();
        let (b, i) = if 2 * k < self.len {
            let (mut b, mut i) = (0, k);
            while i >= self.lens[b] {
                i -= self.lens[b];
                b += 1;
            }
            (b, i)
        } else {
            // from the end: the k-th is the `rest`-th from the top
            let (mut b, mut rest) = (nb - 1, self.len - k);
            while rest > self.lens[b] {
                rest -= self.lens[b];
                b -= 1;
            }
            (b, self.lens[b] - rest)
        };
        let blk = self.block(b);
        let next = if i + 1 < blk.len() {
            blk[i + 1]
        } else if b + 1 < nb {
            self.block(b + 1)[0]
        } else {
            blk[i]
        };
        (blk[i], next)
    }

    /// The `k`-th smallest value (0-based). Panics when `k >= len`.
    pub fn get(&self, k: usize) -> f64 {
        self.pair(k).0
    }

    /// numpy's 'linear' quantile at `c` in [0, 1]; None when empty.
    pub fn quantile_linear(&self, c: f64) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        let (lo, g) = quantile_position(self.len, c, QuantileMethod::Linear);
        let (a, b) = self.pair(lo);
        Some(quantile_from(a, b, g))
    }

    /// Split full block `b` into two halves (the upper one becomes block `b + 1`).
    fn split(&mut self, b: usize) {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                let id = (self.slots.len() / CAP) as u32;
                self.slots.resize(self.slots.len() + CAP, 0.0);
                id
            }
        };
        let s = self.start(b);
        self.slots
            .copy_within(s + Self::HALF..s + CAP, id as usize * CAP);
        let upper_max = self.maxs[b];
        self.lens[b] = Self::HALF;
        self.maxs[b] = self.slots[s + Self::HALF - 1];
        self.ids.insert(b + 1, id);
        self.lens.insert(b + 1, CAP - Self::HALF);
        self.maxs.insert(b + 1, upper_max);
    }

    /// Drop emptied block `b` (a sole block stays, empty).
    fn drop_block(&mut self, b: usize) {
        if self.ids.len() == 1 {
            self.maxs[0] = f64::INFINITY;
            return;
        }
        self.free.push(self.ids.remove(b));
        self.lens.remove(b);
        self.maxs.remove(b);
    }

    /// Lay the values out again in half-full blocks.
    fn relayout(&mut self) {
        let mut all = std::mem::take(&mut self.scratch);
        all.clear();
        all.extend(self.iter());
        self.clear();
        if !all.is_empty() {
            // never more blocks than before (> len / (CAP / 4) of them), all allocated
            self.ids.clear();
            self.lens.clear();
            self.maxs.clear();
            for (k, chunk) in all.chunks(Self::HALF).enumerate() {
                self.slots[k * CAP..k * CAP + chunk.len()].copy_from_slice(chunk);
                self.ids.push(k as u32);
                self.lens.push(chunk.len());
                self.maxs.push(chunk[chunk.len() - 1]);
            }
            let allocated = (self.slots.len() / CAP) as u32;
            self.free.clear();
            self.free.extend((self.ids.len() as u32..allocated).rev());
            self.len = all.len();
        }
        self.scratch = all;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Giving memory back keeps the values and the window usable, full or empty.
    #[test]
    fn shrink_to_fit_keeps_the_values() {
        let mut w: SortedWindow<4> = SortedWindow::with_capacity(100);
        for x in [3.0, 1.0, 2.0, 5.0, 4.0, 1.0] {
            w.insert(x);
        }
        w.shrink_to_fit();
        assert_eq!(
            w.iter().collect::<Vec<_>>(),
            vec![1.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        for x in [1.0, 1.0, 2.0, 3.0, 4.0, 5.0] {
            assert!(w.remove(x));
        }
        w.shrink_to_fit();
        assert!(w.is_empty());
        w.insert(7.0);
        assert_eq!((w.len(), w.get(0)), (1, 7.0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(i32),
        /// Remove the value at this (wrapped) rank of the reference, or an absent value.
        Remove(usize),
        RemoveAbsent(i32),
        Replace(usize, i32),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (-12i32..12).prop_map(Op::Insert),
            3 => any::<usize>().prop_map(Op::Remove),
            1 => (-14i32..14).prop_map(Op::RemoveAbsent),
            6 => (any::<usize>(), -12i32..12).prop_map(|(k, x)| Op::Replace(k, x)),
            1 => Just(Op::Clear),
        ]
    }

    /// Apply `ops` to a window and to a plain sorted `Vec` (the reference) and compare every
    /// order statistic and quantile after each.
    fn check_against_vec<const CAP: usize>(ops: &[Op]) -> std::result::Result<(), TestCaseError> {
        let mut w = SortedWindow::<CAP>::new();
        let mut v: Vec<f64> = Vec::new();
        for op in ops {
            match *op {
                Op::Insert(x) => {
                    let x = f64::from(x) / 4.0;
                    w.insert(x);
                    let at = v.partition_point(|&y| y < x);
                    v.insert(at, x);
                }
                Op::Remove(k) if !v.is_empty() => {
                    let x = v.remove(k % v.len());
                    prop_assert!(w.remove(x));
                }
                Op::Remove(_) => prop_assert!(!w.remove(1.0)),
                Op::RemoveAbsent(x) => {
                    // odd eighths are never inserted
                    prop_assert!(!w.remove(f64::from(2 * x + 1) / 8.0));
                }
                Op::Replace(k, x) if !v.is_empty() => {
                    let old = v.remove(k % v.len());
                    let x = f64::from(x) / 4.0;
                    prop_assert!(w.replace(old, x));
                    let at = v.partition_point(|&y| y < x);
                    v.insert(at, x);
                }
                Op::Replace(..) => prop_assert!(!w.replace(1.0, 2.0)),
                Op::Clear => {
                    w.clear();
                    v.clear();
                }
            }
            prop_assert_eq!(w.len(), v.len());
            prop_assert_eq!(w.iter().collect::<Vec<_>>(), v.clone());
            for k in 0..v.len() {
                let next = v[(k + 1).min(v.len() - 1)];
                prop_assert_eq!(w.pair(k), (v[k], next));
            }
            for c in [0.0, 0.37, 0.5, 0.95, 0.99, 1.0] {
                let want = (!v.is_empty()).then(|| {
                    let (lo, g) = quantile_position(v.len(), c, QuantileMethod::Linear);
                    quantile_from(v[lo], v[(lo + 1).min(v.len() - 1)], g)
                });
                prop_assert_eq!(
                    w.quantile_linear(c).map(f64::to_bits),
                    want.map(f64::to_bits)
                );
            }
            // the layout's invariants: blocks in order, lengths and maxima right
            prop_assert!(!w.ids.is_empty());
            prop_assert_eq!(w.lens.iter().sum::<usize>(), w.len());
            for b in 0..w.ids.len() {
                let blk = w.block(b);
                prop_assert!(blk.len() <= CAP);
                prop_assert!(!blk.is_empty() || w.ids.len() == 1);
                if let Some(&last) = blk.last() {
                    prop_assert_eq!(w.maxs[b], last);
                }
            }
        }
        Ok(())
    }

    proptest! {
        /// Random inserts, removals, replacements and clears, tiny blocks (every split, drop
        /// and relayout path), against a plain sorted Vec.
        #[test]
        fn small_blocks_hold_what_a_sorted_vec_holds(ops in prop::collection::vec(op(), 0..300)) {
            check_against_vec::<2>(&ops)?;
            check_against_vec::<4>(&ops)?;
        }

        /// The same with the default block size.
        #[test]
        fn default_blocks_hold_what_a_sorted_vec_holds(ops in prop::collection::vec(op(), 0..400)) {
            check_against_vec::<64>(&ops)?;
        }

        /// A moving window as the engine drives it (fill to `w`, then slide; restarts), on
        /// continuous values: every quantile the same bits as numpy's on the sorted window.
        #[test]
        fn sliding_window_quantiles_equal_the_sorted_windows(
            xs in prop::collection::vec(-1.0f64..1.0, 1..1200),
            w in 1usize..300,
            restart in 0usize..1200,
        ) {
            let mut sw = SortedWindow::<64>::with_capacity(w);
            let mut start = 0;
            for (t, &x) in xs.iter().enumerate() {
                if t == restart {
                    sw.clear();
                    start = t;
                }
                let x = loss_of(x);
                if t - start >= w {
                    prop_assert!(sw.replace(loss_of(xs[t - w]), x));
                } else {
                    sw.insert(x);
                }
                let lo = start.max((t + 1).saturating_sub(w));
                let mut v: Vec<f64> = xs[lo..=t].iter().map(|&r| loss_of(r)).collect();
                v.sort_by(f64::total_cmp);
                prop_assert_eq!(sw.len(), v.len());
                for c in [0.9, 0.95, 0.99] {
                    let (k, g) = quantile_position(v.len(), c, QuantileMethod::Linear);
                    let want = quantile_from(v[k], v[(k + 1).min(v.len() - 1)], g);
                    prop_assert_eq!(sw.quantile_linear(c).map(f64::to_bits), Some(want.to_bits()));
                }
            }
        }
    }

    #[test]
    fn loss_of_zero_is_positive_zero() {
        assert_eq!(loss_of(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(loss_of(-0.0).to_bits(), 0.0f64.to_bits());
    }
}
