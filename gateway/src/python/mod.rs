//! Thin PyO3 binding: converts arguments and errors, holds no logic of its own.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::increments;

/// Whether `value` is a whole multiple of `increment` (price on tick, quantity on lot).
#[pyfunction]
fn is_on_increment(value: f64, increment: f64) -> PyResult<bool> {
    increments::is_on_increment(value, increment).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(is_on_increment, m)?)?;
    Ok(())
}
