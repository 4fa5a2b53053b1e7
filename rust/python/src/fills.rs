//! Binding of `gridhedge_core::fills`.

use pyo3::prelude::*;

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
