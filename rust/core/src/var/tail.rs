//! [`UpperTail`]: the exact largest values of a moving window, enough of them for the high
//! quantiles its owner declares; [`HighQuantiles`]: that tail, or the whole window sorted when
//! the declared quantiles need a large tail.
//!
//! numpy's 'linear' quantile at `c` of `n` values sorted ascending reads the values at
//! ascending indices `i = floor((n-1) c)` and `i + 1` (see [`mod@super::historical`]), so a read
//! needs only the top `n - i` values. A VaR reads high quantiles (0.95, 0.99), so the top
//! 5% of the window answers it: the tail holds `T`, the exact multiset of the `|T|` largest
//! values of the window, sorted, with `K <= |T| <= K'` (`K` the most top values a declared
//! read needs at the window's length, `K' = 2K + 16`) unless `T` holds the whole window.
//!
//! Values are finite with no -0.0 ([`super::sorted::loss_of`]), so `<` orders them totally
//! and equal values have equal bits: a read gives the very bits
//! [`SortedWindow::quantile_linear`] gives on the same window.
//!
//! Why the updates keep `T` the exact top (every window value not in `T` is <= `min T`):
//! - insert `x` when `x >= min T` (or `T` holds the whole window): `T + x` is the top of the
//!   new window, as every value left out is <= `min T <= x`; dropping the smallest of `T`
//!   (when `|T| > K'`) leaves the top one smaller. When `x < min T`, `T` is still the top.
//! - remove `x` (a window value) when `x >= min T`: `x` is in `T` (a value left out is
//!   <= `min T`; one equal to `min T` has the bits of the copy in `T`), and `T - x` is the top
//!   of the new window, as the values left out are unchanged and <= `min T <= min(T - x)`.
//!   When `x < min T`, `x` was left out and `T` is still the top.
//! - when `|T| < K` (removals, or `K` grew with the window), `T` is rebuilt by one scan of the
//!   window's values to `min(K', n)` values.
//!
//! Cost: an insert or removal is a binary search and a shift of at most `K'` values; a rebuild
//! O(n), at most once per `K' - K = K + 16` removals from `T`, so O(n / K) = O(1 / (1 - c))
//! amortised per slide (a constant for a fixed confidence), and far less for returns in
//! random order. A read at a declared confidence is O(1); one at any other confidence is
//! O(1) when `T` reaches it, else O(n) (exact, on a fresh copy of the window).

use super::historical::{quantile_from, quantile_position};
use super::sorted::SortedWindow;
use super::QuantileMethod;

/// Top values kept beyond twice the most a declared read needs (the slack between rebuilds).
const SLACK: usize = 16;

/// The exact largest values of a moving window of finite values (no -0.0), for its high
/// quantiles (see the module doc). The owner keeps the window's values in order and passes
/// them to every update (read only when a rebuild is due) and to reads at confidences it did
/// not declare.
#[derive(Debug, Clone)]
pub struct UpperTail {
    /// The confidences whose reads must be O(1) (each in [0, 1]; 0.95 is the 95% quantile).
    confidences: Vec<f64>,
    /// The `top.len()` largest values of the window, ascending: every value of the window not
    /// held is <= `top[0]`.
    top: Vec<f64>,
    /// Values in the window.
    len: usize,
    /// `(n, K, K')` for the window length `n` last sized for (they change only with `n`).
    sized: (usize, usize, usize),
    /// Rebuilds so far (tests bound how often they happen).
    #[cfg(test)]
    rebuilds: usize,
}

/// Equal when they declare the same confidences, hold windows of the same length and agree on
/// every top value both hold (two exact tails of the same window do; the owners compare the
/// windows themselves).
impl PartialEq for UpperTail {
    fn eq(&self, other: &Self) -> bool {
        self.confidences == other.confidences
            && self.len == other.len
            && self
                .top
                .iter()
                .rev()
                .zip(other.top.iter().rev())
                .all(|(a, b)| a == b)
    }
}

/// The most top values of `n` sorted values a 'linear' read at any of `confidences` needs:
/// `n - floor((n-1) c)` (0 for no values).
fn needed(n: usize, confidences: &[f64]) -> usize {
    confidences
        .iter()
        .map(|&c| n - quantile_position(n, c, QuantileMethod::Linear).0)
        .max()
        .unwrap_or(0)
        .min(n)
}

/// numpy's 'linear' quantile at `c` of `values` (any order), exact; None when empty.
fn quantile_of(values: impl IntoIterator<Item = f64>, c: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return None;
    }
    let (i, g) = quantile_position(v.len(), c, QuantileMethod::Linear);
    let (_, lo, above) = v.select_nth_unstable_by(i, f64::total_cmp);
    let lo = *lo;
    let hi = above.iter().copied().reduce(f64::min).unwrap_or(lo);
    Some(quantile_from(lo, hi, g))
}

impl UpperTail {
    /// An empty window whose reads at `confidences` (each in [0, 1]) are O(1).
    pub fn new(confidences: &[f64]) -> Self {
        UpperTail {
            confidences: confidences.to_vec(),
            top: Vec::new(),
            len: 0,
            sized: (0, 0, SLACK),
            #[cfg(test)]
            rebuilds: 0,
        }
    }

    /// Values in the window.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget every value (the memory is kept for reuse).
    pub fn clear(&mut self) {
        self.top.clear();
        self.len = 0;
    }

    /// Give back the memory not in use (a rebuild's scan leaves room for a whole window).
    pub fn shrink_to_fit(&mut self) {
        self.top.shrink_to_fit();
    }

    /// `K`, the most top values a declared read needs at the window's length, and the most
    /// held before the smallest is dropped, `K' = 2K + 16`.
    fn sizes(&mut self) -> (usize, usize) {
        if self.sized.0 != self.len {
            let need = needed(self.len, &self.confidences);
            self.sized = (self.len, need, 2 * need + SLACK);
        }
        (self.sized.1, self.sized.2)
    }

    /// `T` holds every value of the window.
    fn holds_all(&self) -> bool {
        self.top.len() == self.len
    }

    /// `x` entered the window (`len` counts it already).
    fn put(&mut self, x: f64, held_all: bool) {
        if held_all || self.top.first().is_some_and(|&m| x >= m) {
            let at = self.top.partition_point(|&y| y < x);
            self.top.insert(at, x);
            let excess = self.top.len().saturating_sub(self.sizes().1);
            self.top.drain(..excess);
        }
    }

    /// `x`, a value of the window, left it (`len` counts it no more).
    fn take(&mut self, x: f64) {
        if self.top.first().is_some_and(|&m| x >= m) {
            let at = self.top.partition_point(|&y| y < x);
            let held = self.top.get(at) == Some(&x);
            debug_assert!(held, "a window value >= the tail's smallest is in the tail");
            if held {
                self.top.remove(at);
            }
        }
    }

    /// Rebuild `T` from `window` (the window's values, any order) when a declared read could
    /// not be answered from it.
    fn refill(&mut self, window: impl IntoIterator<Item = f64>) {
        if self.top.len() >= self.sizes().0 {
            return;
        }
        self.top.clear();
        self.top.extend(window);
        debug_assert_eq!(
            self.top.len(),
            self.len,
            "the window passed is the window held"
        );
        self.len = self.top.len();
        let cut = self.len.saturating_sub(self.sizes().1);
        if cut > 0 {
            self.top.select_nth_unstable_by(cut, f64::total_cmp);
            self.top.drain(..cut);
        }
        self.top.sort_unstable_by(f64::total_cmp);
        #[cfg(test)]
        {
            self.rebuilds += 1;
        }
    }

    /// `x` (finite, no -0.0) entered the window; `window` yields the window's values after it.
    pub fn insert(&mut self, x: f64, window: impl IntoIterator<Item = f64>) {
        let held_all = self.holds_all();
        self.len += 1;
        self.put(x, held_all);
        self.refill(window);
    }

    /// `x`, a value of the window, left it; `window` yields the window's values after it.
    pub fn remove(&mut self, x: f64, window: impl IntoIterator<Item = f64>) {
        self.len = self.len.saturating_sub(1);
        self.take(x);
        self.refill(window);
    }

    /// `old`, a value of the window, left it and `new` entered (a slide); `window` yields the
    /// window's values after it.
    pub fn replace(&mut self, old: f64, new: f64, window: impl IntoIterator<Item = f64>) {
        let held_all = self.holds_all();
        self.take(old);
        self.put(new, held_all);
        self.refill(window);
    }

    /// numpy's 'linear' quantile at `c` in [0, 1] of the window, bit for bit
    /// [`SortedWindow::quantile_linear`]; None when empty. `window` (the window's values, any
    /// order) is read only when `T` does not reach the quantile (`c` not declared).
    pub fn quantile_linear(&self, c: f64, window: impl IntoIterator<Item = f64>) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        let (i, g) = quantile_position(self.len, c, QuantileMethod::Linear);
        let left_out = self.len - self.top.len();
        match i.checked_sub(left_out).map(|k| (self.top.get(k), k)) {
            Some((Some(&lo), k)) => {
                let hi = self.top.get(k + 1).copied().unwrap_or(lo);
                Some(quantile_from(lo, hi, g))
            }
            _ => quantile_of(window, c),
        }
    }
}

/// High quantiles of a moving window: an [`UpperTail`] when the declared confidences need at
/// most an eighth of the window's capacity, else the whole window in a [`SortedWindow`]
/// (O(W / 64 + 64) a slide, any quantile O(1)). Same updates and reads as [`UpperTail`];
/// the `SortedWindow` never reads the `window` arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum HighQuantiles {
    Tail(UpperTail),
    Sorted(SortedWindow),
}

impl HighQuantiles {
    /// An empty window of at most `capacity` values whose reads at `confidences` (each in
    /// [0, 1]) are O(1).
    pub fn new(capacity: usize, confidences: &[f64]) -> Self {
        if 8 * needed(capacity, confidences) > capacity {
            HighQuantiles::Sorted(SortedWindow::with_capacity(capacity))
        } else {
            HighQuantiles::Tail(UpperTail::new(confidences))
        }
    }

    /// [`HighQuantiles::new`] holding the values of `window` (any order).
    pub fn from_window(
        capacity: usize,
        confidences: &[f64],
        window: impl IntoIterator<Item = f64>,
    ) -> Self {
        let mut q = Self::new(capacity, confidences);
        match &mut q {
            HighQuantiles::Sorted(s) => window.into_iter().for_each(|x| s.insert(x)),
            HighQuantiles::Tail(t) => {
                let values: Vec<f64> = window.into_iter().collect();
                t.len = values.len();
                t.refill(values);
            }
        }
        q
    }

    /// Values in the window.
    pub fn len(&self) -> usize {
        match self {
            HighQuantiles::Tail(t) => t.len(),
            HighQuantiles::Sorted(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forget every value (the memory is kept for reuse).
    pub fn clear(&mut self) {
        match self {
            HighQuantiles::Tail(t) => t.clear(),
            HighQuantiles::Sorted(s) => s.clear(),
        }
    }

    /// Give back the memory not in use.
    pub fn shrink_to_fit(&mut self) {
        match self {
            HighQuantiles::Tail(t) => t.shrink_to_fit(),
            HighQuantiles::Sorted(s) => s.shrink_to_fit(),
        }
    }

    /// `x` (finite, no -0.0) entered the window; `window` yields the window's values after it.
    pub fn insert(&mut self, x: f64, window: impl IntoIterator<Item = f64>) {
        match self {
            HighQuantiles::Tail(t) => t.insert(x, window),
            HighQuantiles::Sorted(s) => s.insert(x),
        }
    }

    /// `x`, a value of the window, left it; `window` yields the window's values after it.
    pub fn remove(&mut self, x: f64, window: impl IntoIterator<Item = f64>) {
        match self {
            HighQuantiles::Tail(t) => t.remove(x, window),
            HighQuantiles::Sorted(s) => {
                let held = s.remove(x);
                debug_assert!(held, "the leaving value is in the window");
            }
        }
    }

    /// `old`, a value of the window, left it and `new` entered; `window` yields the window's
    /// values after it.
    pub fn replace(&mut self, old: f64, new: f64, window: impl IntoIterator<Item = f64>) {
        match self {
            HighQuantiles::Tail(t) => t.replace(old, new, window),
            HighQuantiles::Sorted(s) => {
                let held = s.replace(old, new);
                debug_assert!(held, "the leaving value is in the window");
            }
        }
    }

    /// numpy's 'linear' quantile at `c` in [0, 1] of the window, bit for bit
    /// [`SortedWindow::quantile_linear`]; None when empty. `window` (the window's values) is
    /// read only by a tail at a confidence it did not declare.
    pub fn quantile_linear(&self, c: f64, window: impl IntoIterator<Item = f64>) -> Option<f64> {
        match self {
            HighQuantiles::Tail(t) => t.quantile_linear(c, window),
            HighQuantiles::Sorted(s) => s.quantile_linear(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    /// numpy's 'linear' quantile of `window` by sorting a copy (the reference).
    fn reference(window: &VecDeque<f64>, c: f64) -> Option<f64> {
        let mut v: Vec<f64> = window.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| {
            let (i, g) = quantile_position(v.len(), c, QuantileMethod::Linear);
            quantile_from(v[i], v[(i + 1).min(v.len() - 1)], g)
        })
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A value enters; the oldest leaves once the window is full.
        Push(i32),
        /// The oldest value leaves (the window shrinks).
        Pop,
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            30 => (-6i32..6).prop_map(Op::Push),
            2 => Just(Op::Pop),
            1 => Just(Op::Clear),
        ]
    }

    fn confidence() -> impl Strategy<Value = f64> {
        prop_oneof![0.5f64..0.999, Just(0.95), Just(0.99)]
    }

    /// Drive a tail and the whole-or-tail switch like an owner, checking after each op that
    /// the tail is the exact top of the window, large enough for the declared reads, and that
    /// every read (declared or not) has the reference's bits.
    fn check(
        ops: &[Op],
        w: usize,
        declared: &[f64],
        other: f64,
    ) -> std::result::Result<(), TestCaseError> {
        let mut tail = UpperTail::new(declared);
        let mut high = HighQuantiles::new(w, declared);
        let mut window: VecDeque<f64> = VecDeque::new();
        for op in ops {
            match *op {
                Op::Push(x) => {
                    let x = f64::from(x) / 4.0;
                    window.push_back(x);
                    if window.len() > w {
                        let old = window.pop_front().expect("full");
                        tail.replace(old, x, window.iter().copied());
                        high.replace(old, x, window.iter().copied());
                    } else {
                        tail.insert(x, window.iter().copied());
                        high.insert(x, window.iter().copied());
                    }
                }
                Op::Pop => {
                    if let Some(old) = window.pop_front() {
                        tail.remove(old, window.iter().copied());
                        high.remove(old, window.iter().copied());
                    }
                }
                Op::Clear => {
                    window.clear();
                    tail.clear();
                    high.clear();
                }
            }
            let mut sorted: Vec<f64> = window.iter().copied().collect();
            sorted.sort_by(f64::total_cmp);
            prop_assert_eq!(tail.len(), window.len());
            prop_assert_eq!(high.len(), window.len());
            prop_assert_eq!(&tail.top[..], &sorted[sorted.len() - tail.top.len()..]);
            prop_assert!(tail.top.len() >= needed(window.len(), declared));
            let most = 2 * needed(w.max(window.len()), declared) + SLACK;
            prop_assert!(tail.top.len() <= most);
            let undeclared = [other, 0.0, 0.5, 0.9, 0.95, 0.99, 1.0];
            for &c in declared.iter().chain(&undeclared) {
                let want = reference(&window, c).map(f64::to_bits);
                let got = tail.quantile_linear(c, window.iter().copied());
                prop_assert_eq!(got.map(f64::to_bits), want, "tail at {}", c);
                let got = high.quantile_linear(c, window.iter().copied());
                prop_assert_eq!(got.map(f64::to_bits), want, "switch at {}", c);
            }
        }
        Ok(())
    }

    proptest! {
        /// Slides over windows of 1..300 values drawn from 12 (many duplicates), with the
        /// window shrinking and restarting now and then: every quantile is the sorted copy's.
        #[test]
        fn tail_quantiles_equal_the_sorted_windows(
            ops in prop::collection::vec(op(), 0..1500),
            w in 1usize..300,
            declared in prop::collection::vec(confidence(), 1..4),
            other in 0.0f64..1.0,
        ) {
            check(&ops, w, &declared, other)?;
        }

        /// Continuous values, as the engine's losses: the policy's confidences.
        #[test]
        fn continuous_values_give_the_sorted_windows_quantiles(
            xs in prop::collection::vec(-1.0f64..1.0, 1..1500),
            w in 1usize..300,
        ) {
            let declared = [0.95, 0.99];
            let mut tail = UpperTail::new(&declared);
            let mut window = VecDeque::new();
            for &x in &xs {
                let x = super::super::sorted::loss_of(x);
                window.push_back(x);
                if window.len() > w {
                    let old = window.pop_front().expect("full");
                    tail.replace(old, x, window.iter().copied());
                } else {
                    tail.insert(x, window.iter().copied());
                }
                for c in [0.95, 0.99, 0.5] {
                    let want = reference(&window, c).map(f64::to_bits);
                    prop_assert_eq!(tail.quantile_linear(c, window.iter().copied()).map(f64::to_bits), want);
                }
            }
        }
    }

    /// The worst order for the tail (losses falling: every leaving value is the window's
    /// largest, every entering one its smallest) rebuilds once per `K + 16` slides.
    #[test]
    fn falling_values_rebuild_once_per_slack() {
        let (w, slides) = (500, 10_000);
        let declared = [0.95, 0.99];
        let mut tail = UpperTail::new(&declared);
        let mut window = VecDeque::new();
        for t in 0..w + slides {
            let x = -(t as f64);
            window.push_back(x);
            if window.len() > w {
                let old = window.pop_front().expect("full");
                tail.replace(old, x, window.iter().copied());
            } else {
                tail.insert(x, window.iter().copied());
            }
        }
        let k = needed(w, &declared);
        assert_eq!(k, 26);
        assert!(
            tail.rebuilds <= slides / (k + SLACK) + 2,
            "{}",
            tail.rebuilds
        );
    }

    /// Confidences needing more than an eighth of the window keep the whole window sorted.
    #[test]
    fn a_large_tail_keeps_the_sorted_window() {
        assert!(matches!(
            HighQuantiles::new(500, &[0.95, 0.99]),
            HighQuantiles::Tail(_)
        ));
        assert!(matches!(
            HighQuantiles::new(500, &[0.5, 0.95]),
            HighQuantiles::Sorted(_)
        ));
        assert!(matches!(
            HighQuantiles::new(2, &[0.99]),
            HighQuantiles::Sorted(_)
        ));
    }

    /// A window rebuilt from its values reads as the one fed value by value.
    #[test]
    fn from_window_reads_as_fed() {
        let values: Vec<f64> = (0..400).map(|k| f64::from((k * 37) % 101)).collect();
        let mut fed = HighQuantiles::new(400, &[0.95]);
        for (k, &x) in values.iter().enumerate() {
            fed.insert(x, values[..=k].iter().copied());
        }
        let built = HighQuantiles::from_window(400, &[0.95], values.iter().copied());
        assert_eq!(built.len(), 400);
        for c in [0.95, 0.99, 0.5] {
            assert_eq!(
                built.quantile_linear(c, values.iter().copied()),
                fed.quantile_linear(c, values.iter().copied())
            );
        }
    }
}
