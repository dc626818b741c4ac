//! The fast path and the bus probe for Python: start, read, wait and close; no logic here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use super::Engine_;
use crate::bus_probe::{ping, Echo};
use crate::fast_path::{BusEndpoints, FastPath, FastPathConfig};
use crate::latch::Latch;

fn config<T: serde::de::DeserializeOwned>(text: &str) -> PyResult<T> {
    serde_json::from_str(text).map_err(|e| PyValueError::new_err(format!("bad config: {e}")))
}

fn timeout(seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| PyValueError::new_err(format!("not a timeout: {seconds}")))
}

/// The engine's safety fast path on the bus (src/fast_path.rs), running on Rust threads.
#[pyclass(name = "FastPathNode", module = "gateway._core")]
pub(super) struct FastPathNode {
    node: Mutex<Option<FastPath>>,
    latch: Arc<Latch>,
}

#[pymethods]
impl FastPathNode {
    #[new]
    fn new(py: Python<'_>, mut engine: PyRefMut<'_, Engine_>, config_json: &str) -> PyResult<Self> {
        let config: FastPathConfig = config(config_json)?;
        let latch = engine.inner.latch();
        let shared = latch.clone();
        let node = py
            .detach(move || FastPath::start(shared, config))
            .map_err(PyRuntimeError::new_err)?;
        // The engine's own fills reach the breakers inside its call, before any bus.
        engine.inner.watch_fills(Some(node.fill_watch()));
        // And they, with its order decisions, go out on the bus from Rust.
        engine.inner.publish_through(Some(node.bus_out()));
        Ok(FastPathNode {
            node: Mutex::new(Some(node)),
            latch,
        })
    }

    /// Block (without the GIL) until the latch has moved more than `seen` times, or
    /// `timeout_s`; returns how many times it has moved.
    fn wait_moved(&self, py: Python<'_>, seen: u64, timeout_s: f64) -> PyResult<u64> {
        let wait = timeout(timeout_s)?;
        let latch = self.latch.clone();
        Ok(py.detach(move || latch.wait_moved(seen, wait)))
    }

    /// received, dropped, own_fills, trips, published, publish_failed, last_in_force_us, deadman_armed.
    fn stats(&self) -> Vec<(&'static str, i64)> {
        let guard = self.node.lock().unwrap_or_else(|e| e.into_inner());
        let Some(node) = guard.as_ref() else {
            return Vec::new();
        };
        let s = node.stats();
        let n = |a: &std::sync::atomic::AtomicU64| {
            i64::try_from(a.load(std::sync::atomic::Ordering::Acquire)).unwrap_or(i64::MAX)
        };
        vec![
            ("received", n(&s.received)),
            ("dropped", n(&s.dropped)),
            ("own_fills", n(&s.own_fills)),
            ("trips", n(&s.trips)),
            ("published", n(&s.published)),
            ("publish_failed", n(&s.publish_failed)),
            (
                "last_in_force_us",
                s.last_in_force_us
                    .load(std::sync::atomic::Ordering::Acquire),
            ),
            ("deadman_armed", i64::from(node.deadman_armed())),
        ]
    }

    /// Stop; what is queued for the bus goes out first. Closing twice is a no-op.
    fn close(&self, py: Python<'_>) {
        let node = self.node.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(node) = node {
            py.detach(move || node.close());
        }
    }
}

/// An echo on the bus in Rust, for the latency benchmark.
#[pyclass(name = "BusEcho", module = "gateway._core")]
pub(super) struct BusEcho {
    echo: Mutex<Option<Echo>>,
}

#[pymethods]
impl BusEcho {
    #[new]
    fn new(py: Python<'_>, endpoints_json: &str, ping_key: &str, pong_key: &str) -> PyResult<Self> {
        let endpoints: BusEndpoints = config(endpoints_json)?;
        let (ping_key, pong_key) = (ping_key.to_string(), pong_key.to_string());
        let echo = py
            .detach(move || Echo::start(&endpoints, &ping_key, &pong_key))
            .map_err(PyRuntimeError::new_err)?;
        Ok(BusEcho {
            echo: Mutex::new(Some(echo)),
        })
    }

    fn close(&self, py: Python<'_>) {
        let echo = self.echo.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(echo) = echo {
            py.detach(move || echo.close());
        }
    }
}

/// Round trips timed in Rust (seconds each): heartbeats out on `ping_key`, echoes back.
#[pyfunction]
#[pyo3(signature = (endpoints_json, ping_key, pong_key, rounds, warmup = 500, settle_s = 1.5))]
pub(super) fn bus_ping(
    py: Python<'_>,
    endpoints_json: &str,
    ping_key: &str,
    pong_key: &str,
    rounds: usize,
    warmup: usize,
    settle_s: f64,
) -> PyResult<Vec<f64>> {
    let endpoints: BusEndpoints = config(endpoints_json)?;
    let settle = timeout(settle_s)?;
    let (ping_key, pong_key) = (ping_key.to_string(), pong_key.to_string());
    py.detach(move || ping(&endpoints, &ping_key, &pong_key, rounds, warmup, settle))
        .map_err(PyRuntimeError::new_err)
}
