//! Binding of `gridhedge_core::synthetic`.

use pyo3::prelude::*;

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
