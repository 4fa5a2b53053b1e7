//! Input checks shared by every function that takes a series (returns, prices, candles):
//! minimum length, matching lengths, finite values or an explicit NaN policy, windows and
//! confidence levels. Errors name the field, the value and the rule.

use std::borrow::Cow;
use std::str::FromStr;

use crate::error::{Error, Result};

/// What to do with NaN or ±inf in an input series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NanPolicy {
    /// Any non-finite value is an error naming its position (the default).
    #[default]
    Raise,
    /// Non-finite values are removed before computing; results refer to the remaining values.
    Omit,
}

impl FromStr for NanPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "raise" => Ok(NanPolicy::Raise),
            "omit" => Ok(NanPolicy::Omit),
            _ => Err(Error::invalid(
                "nan_policy",
                format!("{s:?}"),
                "must be 'raise' or 'omit'",
            )),
        }
    }
}

/// `x` with at least `min_len` values, all finite (or with non-finite values removed under
/// [`NanPolicy::Omit`]; `min_len` then applies to what remains).
pub fn finite_series<'a>(
    field: &str,
    x: &'a [f64],
    min_len: usize,
    policy: NanPolicy,
) -> Result<Cow<'a, [f64]>> {
    let clean: Cow<'a, [f64]> = match x.iter().position(|v| !v.is_finite()) {
        None => Cow::Borrowed(x),
        Some(i) => match policy {
            NanPolicy::Raise => {
                return Err(Error::invalid(
                    format!("{field}[{i}]"),
                    x[i],
                    "must be finite (pass nan_policy='omit' to drop NaN and inf)",
                ))
            }
            NanPolicy::Omit => Cow::Owned(x.iter().copied().filter(|v| v.is_finite()).collect()),
        },
    };
    if clean.len() < min_len {
        return Err(Error::invalid(
            field,
            format!("{} value(s)", clean.len()),
            format!("must hold at least {min_len} finite value(s)"),
        ));
    }
    Ok(clean)
}

/// Two series that must be the same length.
pub fn same_len(field_a: &str, a: usize, field_b: &str, b: usize) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::invalid(
            field_b,
            format!("length {b}"),
            format!("must have the same length as {field_a} ({a})"),
        ))
    }
}

/// A rolling window: at least `min` and at most the series length `len`.
pub fn window(field: &str, window: usize, min: usize, len: usize) -> Result<usize> {
    if window < min {
        return Err(Error::invalid(field, window, format!("must be >= {min}")));
    }
    if window > len {
        return Err(Error::invalid(
            field,
            window,
            format!("must be <= the series length ({len})"),
        ));
    }
    Ok(window)
}

/// A confidence level in the open interval (0, 1): 0.95 means the 95% loss quantile.
pub fn confidence(field: &str, c: f64) -> Result<f64> {
    if c.is_finite() && c > 0.0 && c < 1.0 {
        Ok(c)
    } else {
        Err(Error::invalid(
            field,
            c,
            "must be > 0 and < 1 (0.95 means the 95% loss quantile)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raise_names_the_position_and_omit_drops() {
        let x = [1.0, f64::NAN, 3.0];
        let e = finite_series("returns", &x, 1, NanPolicy::Raise).expect_err("NaN");
        assert!(e.to_string().starts_with("returns[1]"));
        let clean = finite_series("returns", &x, 1, NanPolicy::Omit).expect("omit");
        assert_eq!(&*clean, &[1.0, 3.0]);
        assert!(finite_series("returns", &x, 3, NanPolicy::Omit).is_err());
    }

    #[test]
    fn windows_and_confidence() {
        assert!(window("window", 0, 1, 10).is_err());
        assert!(window("window", 11, 1, 10).is_err());
        assert_eq!(window("window", 10, 1, 10), Ok(10));
        assert!(confidence("confidence", 1.0).is_err());
        assert!(confidence("confidence", f64::NAN).is_err());
        assert_eq!(confidence("confidence", 0.95), Ok(0.95));
    }
}
