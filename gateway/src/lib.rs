//! QuantDesk gateway core: the pre-trade gate, order state machine, paper venue and ledger.
//!
//! The crate is pure Rust and tested with `cargo test`; the PyO3 binding lives in
//! [`python`] behind the `python` feature so the core never depends on an interpreter.
#![forbid(unsafe_code)]

pub mod actor;
pub mod approval;
pub mod book;
pub mod breakers;
pub mod bus_messages;
#[cfg(feature = "bus")]
pub mod bus_probe;
pub mod clock;
pub mod config;
pub mod engine;
pub mod events;
#[cfg(feature = "bus")]
pub mod fast_path;
pub mod gate;
pub mod increments;
pub mod latch;
pub mod ledger;
pub mod order;
pub mod paper;
pub mod reason;
pub mod replay;

#[cfg(feature = "python")]
mod python;

pub use actor::{Actor, ActorError};
pub use config::{ConfigError, GateConfig};
pub use engine::{Engine, EngineError, StrategyEntry, VenueMode};
pub use events::{Action, Decision, Event, TradingState, Verdict};
pub use increments::{is_on_increment, IncrementError};
pub use latch::{Latch, LatchOrder};
pub use order::{OrderRequest, OrderStatus, OrderType, Side, TimeInForce};
pub use reason::{Reason, ReasonSet};
