//! QuantDesk gateway core: the pre-trade gate, order state machine and paper venue.
//!
//! The crate is pure Rust and tested with `cargo test`; the PyO3 binding lives in
//! [`python`] behind the `python` feature so the core never depends on an interpreter.
#![forbid(unsafe_code)]

pub mod increments;

#[cfg(feature = "python")]
mod python;

pub use increments::{is_on_increment, IncrementError};
