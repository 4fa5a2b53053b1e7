//! Binding of `gridhedge_core::garch`: `garch_fit` (a `GarchResult`) and `garch_simulate`.

use std::str::FromStr;

use gridhedge_core::garch::{self, Dist, GarchFit, GarchParams};
use numpy::{PyArray, PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert;
use crate::errors::{run, to_pyerr};

/// A fitted constant-mean GARCH(1,1), in the units of `scale * returns`.
#[pyclass(name = "GarchResult", module = "gridhedge", frozen)]
pub struct PyGarchResult {
    inner: GarchFit,
    conditional_variance: Py<PyArray1<f64>>,
    cov: Py<PyArray2<f64>>,
}

impl PyGarchResult {
    fn named<'py>(&self, py: Python<'py>, values: &[f64]) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, v) in self.inner.names.iter().zip(values) {
            d.set_item(*name, *v)?;
        }
        Ok(d)
    }
}

#[pymethods]
impl PyGarchResult {
    #[getter]
    fn dist(&self) -> &'static str {
        self.inner.dist.as_str()
    }
    #[getter]
    fn scale(&self) -> f64 {
        self.inner.scale
    }
    #[getter]
    fn nobs(&self) -> usize {
        self.inner.nobs
    }
    #[getter]
    fn mu(&self) -> f64 {
        self.inner.params.mu
    }
    #[getter]
    fn omega(&self) -> f64 {
        self.inner.params.omega
    }
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.params.alpha
    }
    #[getter]
    fn beta(&self) -> f64 {
        self.inner.params.beta
    }
    #[getter]
    fn nu(&self) -> Option<f64> {
        self.inner.params.nu
    }
    #[getter]
    fn param_names(&self) -> Vec<&'static str> {
        self.inner.names.clone()
    }
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.inner.params;
        let mut v = vec![p.mu, p.omega, p.alpha, p.beta];
        v.extend(p.nu);
        self.named(py, &v)
    }
    #[getter]
    fn std_errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.named(py, &self.inner.std_errors)
    }
    #[getter]
    fn std_errors_nonrobust<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.named(py, &self.inner.std_errors_nonrobust)
    }
    #[getter]
    fn cov<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.cov.bind(py).clone()
    }
    #[getter]
    fn loglik(&self) -> f64 {
        self.inner.loglik
    }
    #[getter]
    fn conditional_variance<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.conditional_variance.bind(py).clone()
    }
    #[getter]
    fn conditional_volatility<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let v = self.inner.conditional_variance.iter().map(|x| x.sqrt());
        PyArray::from_iter(py, v)
    }
    #[getter]
    fn backcast(&self) -> f64 {
        self.inner.backcast
    }
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations
    }
    #[getter]
    fn gradient_max(&self) -> f64 {
        self.inner.gradient_max
    }
    #[getter]
    fn converged(&self) -> bool {
        true
    }
    #[getter]
    fn persistence(&self) -> f64 {
        self.inner.params.persistence()
    }
    #[getter]
    fn unconditional_variance(&self) -> f64 {
        self.inner.params.unconditional_variance()
    }

    /// Variance forecasts for the next `horizon` bars.
    fn forecast<'py>(
        &self,
        py: Python<'py>,
        horizon: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        args!(count horizon);
        let v = run(py, || self.inner.forecast(horizon))?;
        Ok(PyArray::from_vec(py, v))
    }

    fn __repr__(&self) -> String {
        let p = &self.inner.params;
        let nu = p.nu.map(|v| format!(", nu={v}")).unwrap_or_default();
        format!(
            "GarchResult(dist='{}', mu={}, omega={}, alpha={}, beta={}{nu}, \
             loglik={:.6}, nobs={})",
            self.inner.dist.as_str(),
            p.mu,
            p.omega,
            p.alpha,
            p.beta,
            self.inner.loglik,
            self.inner.nobs
        )
    }
}

/// Fit a constant-mean GARCH(1,1) by maximum likelihood.
#[pyfunction]
#[pyo3(signature = (returns, dist = None, scale = None, nan_policy = None))]
pub fn garch_fit(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    dist: Option<&Bound<'_, PyAny>>,
    scale: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGarchResult> {
    let policy = convert::nan_policy(nan_policy)?;
    let dist = match dist {
        None => Dist::Normal,
        Some(d) => Dist::from_str(&convert::text("dist", d)?).map_err(|e| to_pyerr(py, e))?,
    };
    optional!(float scale = 1.0);
    args!(py, slice returns);
    let inner = run(py, || garch::fit(returns, dist, scale, policy))?;
    let k = inner.names.len();
    let conditional_variance = PyArray::from_vec(py, inner.conditional_variance.clone()).unbind();
    let cov = PyArray::from_vec(py, inner.cov.clone())
        .reshape([k, k])?
        .unbind();
    Ok(PyGarchResult {
        inner,
        conditional_variance,
        cov,
    })
}

/// Simulate a GARCH(1,1) path with a seeded ChaCha8 generator.
#[pyfunction]
#[pyo3(signature = (nobs, mu, omega, alpha, beta, nu = None, burn = None, seed = None))]
#[allow(clippy::too_many_arguments)]
pub fn garch_simulate<'py>(
    py: Python<'py>,
    nobs: &Bound<'py, PyAny>,
    mu: &Bound<'py, PyAny>,
    omega: &Bound<'py, PyAny>,
    alpha: &Bound<'py, PyAny>,
    beta: &Bound<'py, PyAny>,
    nu: Option<&Bound<'py, PyAny>>,
    burn: Option<&Bound<'py, PyAny>>,
    seed: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    args!(float mu, omega, alpha, beta);
    optional!(float nu);
    let params = GarchParams {
        mu,
        omega,
        alpha,
        beta,
        nu,
    };
    args!(count nobs);
    optional!(count burn = 500, seed = 0);
    let seed = u64::try_from(seed)
        .map_err(|_| crate::errors::invalid(py, "seed", "too large", "must fit in 64 bits"))?;
    let v = run(py, || garch::simulate(&params, nobs, burn, seed))?;
    Ok(PyArray::from_vec(py, v))
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGarchResult>()?;
    m.add_function(wrap_pyfunction!(garch_fit, m)?)?;
    m.add_function(wrap_pyfunction!(garch_simulate, m)?)?;
    Ok(())
}
