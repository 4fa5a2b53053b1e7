//! Core errors become the `gridhedge.GridHedgeError` family (defined in
//! `python/gridhedge/errors.py`), carrying `field`, `value` and `rule`; panics are caught at
//! the boundary and become `gridhedge.InternalError`, never a `PanicException`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use gridhedge_core::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Instantiate `gridhedge.errors.<class>(message, field=, value=, rule=)`.
fn family_error(
    py: Python<'_>,
    class: &str,
    message: String,
    field: &str,
    value: Option<&str>,
    rule: &str,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("gridhedge.errors")?.getattr(class)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("field", field)?;
        kwargs.set_item("value", value)?;
        kwargs.set_item("rule", rule)?;
        Ok(PyErr::from_value(
            cls.call((message.clone(),), Some(&kwargs))?,
        ))
    };
    build().unwrap_or_else(|e| e)
}

/// Map a core error onto the Python exception family.
pub fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::InvalidInput { field, value, rule } => family_error(
            py,
            "InvalidInputError",
            message,
            &field,
            Some(&value),
            &rule,
        ),
        Error::Numerical { what, detail } => {
            family_error(py, "NumericalError", message, &what, None, &detail)
        }
    }
}

/// An `InvalidInputError` raised by the binding itself (argument types, array layout).
pub fn invalid(py: Python<'_>, field: &str, value: impl std::fmt::Display, rule: &str) -> PyErr {
    to_pyerr(py, Error::invalid(field, value, rule))
}

/// Run core work with the GIL released, turning errors and panics into Python exceptions.
pub fn run<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: FnOnce() -> gridhedge_core::Result<T> + Send,
    T: Send,
{
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(to_pyerr(py, e)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let message =
                format!("internal error in gridhedge's core: {what} (please report this)");
            let err = family_error(py, "InternalError", message, "core", None, "must not panic");
            if err.is_instance_of::<PyRuntimeError>(py) {
                Err(err)
            } else {
                Err(PyRuntimeError::new_err(what))
            }
        }
    }
}

/// Deliberately panic inside the guard, so tests can prove no panic crosses the boundary.
#[pyfunction]
pub fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    run(py, || -> gridhedge_core::Result<()> {
        panic!("deliberate test panic")
    })
}
