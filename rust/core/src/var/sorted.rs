//! A window of values kept sorted ascending under slides (one value out, one in), for exact
//! empirical quantiles of a moving window in O(log W) searches plus a memmove of the values
//! between the two positions. Values are finite with no -0.0 ([`loss_of`] makes a return's
//! loss so), so `<` orders them totally.

/// The loss of a (finite) return, with -0.0 made 0.0 so that `<` orders the losses totally.
pub fn loss_of(r: f64) -> f64 {
    -r + 0.0
}

/// Insert finite `x` (no -0.0) into ascending `v`.
pub fn insert_sorted(v: &mut Vec<f64>, x: f64) {
    let at = v.partition_point(|&y| y < x);
    v.insert(at, x);
}

/// Replace one `old` in ascending `v` by `new` (values as for [`insert_sorted`]), shifting
/// only the values between their two positions; `v` stays sorted. `old` must be present.
pub fn replace_sorted(v: &mut [f64], old: f64, new: f64) {
    let (i, j) = partition_points(v, old, new);
    if i >= v.len() {
        return;
    }
    if new > old {
        // new goes after the values below it (j > i): shift (i, j) left by one
        v.copy_within(i + 1..j, i);
        v[j - 1] = new;
    } else {
        // j <= i: shift [j, i) right by one
        v.copy_within(j..i, j + 1);
        v[j] = new;
    }
}

/// `(v.partition_point(|y| y < a), v.partition_point(|y| y < b))` for ascending `v`: two
/// branchless binary searches interleaved in one loop, so their load latencies overlap.
fn partition_points(v: &[f64], a: f64, b: f64) -> (usize, usize) {
    if v.is_empty() {
        return (0, 0);
    }
    // compared as integers ordered like the floats (no NaN, no -0.0 here): the compiler keeps
    // integer selects branchless, and these comparisons are coin flips a branch would mispredict
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        bits ^ (((bits >> 63) as u64) >> 1) as i64
    };
    let (ka, kb) = (key(a), key(b));
    let (mut base_a, mut base_b, mut size) = (0usize, 0usize, v.len());
    while size > 1 {
        let half = size / 2;
        if key(v[base_a + half]) < ka {
            base_a += half;
        }
        if key(v[base_b + half]) < kb {
            base_b += half;
        }
        size -= half;
    }
    (
        base_a + usize::from(key(v[base_a]) < ka),
        base_b + usize::from(key(v[base_b]) < kb),
    )
}

/// Remove one `x` from ascending `v` (finite values, no -0.0).
pub fn remove_sorted(v: &mut Vec<f64>, x: f64) {
    let at = v.partition_point(|&y| y < x);
    if at < v.len() {
        v.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn partition_points_equal_the_std_ones(
            mut v in prop::collection::vec(-20i32..20, 0..70),
            a in -22i32..22,
            b in -22i32..22,
        ) {
            v.sort_unstable();
            let v: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
            let (a, b) = (f64::from(a), f64::from(b));
            prop_assert_eq!(
                partition_points(&v, a, b),
                (v.partition_point(|&y| y < a), v.partition_point(|&y| y < b))
            );
        }

        /// Sliding the sorted window by replacement equals removing then inserting.
        #[test]
        fn replace_sorted_equals_remove_then_insert(
            mut v in prop::collection::vec(-5i32..5, 1..60),
            pick in 0usize..60,
            new in -6i32..6,
        ) {
            v.sort_unstable();
            let mut a: Vec<f64> = v.iter().map(|&x| f64::from(x) / 4.0).collect();
            let mut b = a.clone();
            let old = a[pick % a.len()];
            let new = f64::from(new) / 4.0;
            replace_sorted(&mut a, old, new);
            remove_sorted(&mut b, old);
            insert_sorted(&mut b, new);
            prop_assert_eq!(a, b);
        }
    }
}
