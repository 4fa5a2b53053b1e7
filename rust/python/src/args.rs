//! One mechanism for the bindings' argument conversions: each Python argument is rebound, under
//! its own name, to its core value, and a bad value raises the error naming that argument (its
//! name is the field). The conversions themselves live in `convert`.
//!
//! ```ignore
//! args!(float price, sigma);             // price: f64, sigma: f64
//! args!(count window);                   // window: usize
//! args!(py, slice returns, sigma);       // returns: &[f64], zero-copy, layout checked
//! optional!(float min_scale = 0.5);      // Option<&PyAny> (None or absent) -> f64 default
//! optional!(float hedge_ratio, df);      // Option<&PyAny> -> Option<f64>
//! ```

/// Rebind required arguments: `args!(float a, b)`, `args!(count n)`, `args!(py, slice x, y)`.
macro_rules! args {
    ($py:ident, slice $($name:ident),+ $(,)?) => {$(
        let $name = $crate::convert::f64_array(stringify!($name), $name)?;
        let $name = $crate::convert::slice($py, stringify!($name), &$name)?;
    )+};
    ($kind:ident $($name:ident),+ $(,)?) => {$(
        let $name = $crate::convert::$kind(stringify!($name), $name)?;
    )+};
}

/// Rebind optional arguments (absent or Python None): to a default, `optional!(float a = 1.0)`,
/// or to an `Option`, `optional!(float a, b)`.
macro_rules! optional {
    ($kind:ident $($name:ident = $default:expr),+ $(,)?) => {$(
        let $name = match $name.filter(|v| !v.is_none()) {
            Some(v) => $crate::convert::$kind(stringify!($name), v)?,
            None => $default,
        };
    )+};
    ($kind:ident $($name:ident),+ $(,)?) => {$(
        let $name = $name
            .filter(|v| !v.is_none())
            .map(|v| $crate::convert::$kind(stringify!($name), v))
            .transpose()?;
    )+};
}
