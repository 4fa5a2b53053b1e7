//! Typed errors of the core. Every message names the field, the value given and the rule.

use std::fmt;

/// What went wrong, in a form the bindings map onto the Python `GridHedgeError` family.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An input broke a rule: `field` is the argument (or config key), `value` what was given.
    #[error("{field}: {rule} (got {value})")]
    InvalidInput {
        field: String,
        value: String,
        rule: String,
    },
    /// The inputs were valid but the computation has no finite answer (singular matrix,
    /// no convergence, overflow).
    #[error("{what}: {detail}")]
    Numerical { what: String, detail: String },
}

/// Result of every fallible core function.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An `InvalidInput` error; `value` is rendered with `Display`.
    pub fn invalid(
        field: impl Into<String>,
        value: impl fmt::Display,
        rule: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            field: field.into(),
            value: value.to_string(),
            rule: rule.into(),
        }
    }

    /// A `Numerical` error.
    pub fn numerical(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Numerical {
            what: what.into(),
            detail: detail.into(),
        }
    }
}

/// Checks shared by every module: finite, positive, in an open interval.
pub mod check {
    use super::{Error, Result};

    /// `x` must be finite (not NaN, not ±inf).
    pub fn finite(field: &str, x: f64) -> Result<f64> {
        if x.is_finite() {
            Ok(x)
        } else {
            Err(Error::invalid(field, x, "must be a finite number"))
        }
    }

    /// `x` must be finite and > 0.
    pub fn positive(field: &str, x: f64) -> Result<f64> {
        finite(field, x)?;
        if x > 0.0 {
            Ok(x)
        } else {
            Err(Error::invalid(field, x, "must be > 0"))
        }
    }

    /// `x` must be finite and >= 0.
    pub fn non_negative(field: &str, x: f64) -> Result<f64> {
        finite(field, x)?;
        if x >= 0.0 {
            Ok(x)
        } else {
            Err(Error::invalid(field, x, "must be >= 0"))
        }
    }

    /// `x` must lie in the open interval (lo, hi).
    pub fn open_interval(field: &str, x: f64, lo: f64, hi: f64) -> Result<f64> {
        finite(field, x)?;
        if x > lo && x < hi {
            Ok(x)
        } else {
            Err(Error::invalid(
                field,
                x,
                format!("must be > {lo} and < {hi}"),
            ))
        }
    }

    /// An integer count must lie in [lo, hi].
    pub fn count_in(field: &str, n: usize, lo: usize, hi: usize) -> Result<usize> {
        if (lo..=hi).contains(&n) {
            Ok(n)
        } else {
            Err(Error::invalid(
                field,
                n,
                format!("must be between {lo} and {hi}"),
            ))
        }
    }
}
