//! What the engine emits: every decision, status change, fill, approval and trading-state
//! change, in order. Python drains them in batches into the audit log.

use crate::order::{OrderStatus, Side};
use crate::reason::ReasonSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TradingState {
    Active,
    Reducing,
    Halted,
}

impl TradingState {
    pub fn code(self) -> &'static str {
        match self {
            TradingState::Active => "active",
            TradingState::Reducing => "reducing",
            TradingState::Halted => "halted",
        }
    }
}

/// The gate's answer to one order: the verdict and every failed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub reasons: ReasonSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Accept,
    Deny,
    NeedsApproval,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Deny => "DENY",
            Verdict::NeedsApproval => "NEEDS_APPROVAL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Submit,
    Modify,
    Cancel,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Modify => "modify",
            Action::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Decision {
        order_id: String,
        strategy_id: String,
        action: Action,
        verdict: Verdict,
        reasons: ReasonSet,
        ts_ms: i64,
    },
    OrderStatus {
        order_id: String,
        strategy_id: String,
        status: OrderStatus,
        filled: f64,
        leaves: f64,
        ts_ms: i64,
    },
    Fill {
        fill_id: String,
        order_id: String,
        strategy_id: String,
        instrument_id: String,
        side: Side,
        quantity: f64,
        price: f64,
        fee: f64,
        maker: bool,
        ts_ms: i64,
    },
    Approval {
        order_id: String,
        strategy_id: String,
        approver: String,
        approved: bool,
        expires_ms: i64,
        ts_ms: i64,
    },
    TradingState {
        scope: String,
        state: TradingState,
        actor: String,
        reason: String,
        ts_ms: i64,
        /// Already on the bus: the fast path told it when it ordered the move.
        announced: bool,
    },
    /// A re-arm the engine refused (an agent, a service, or text that names no actor):
    /// `actor` as it was given, `reason` why it was refused, `requested_reason` the one given.
    RearmRefused {
        scope: String,
        actor: String,
        reason: String,
        requested_reason: String,
        ts_ms: i64,
    },
    /// A strategy registered to trade under its own id, with its risk class's limit.
    StrategyAdded {
        strategy_id: String,
        risk_class: String,
        max_position_notional: f64,
        ts_ms: i64,
    },
    /// Something that should not happen did (an illegal transition a venue reported).
    Error {
        order_id: String,
        message: String,
        ts_ms: i64,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Decision { .. } => "gate.decision",
            Event::OrderStatus { .. } => "order.status",
            Event::Fill { .. } => "order.fill",
            Event::Approval { .. } => "order.approval",
            Event::TradingState { .. } => "gate.trading_state",
            Event::RearmRefused { .. } => "rearm.refused",
            Event::StrategyAdded { .. } => "gate.strategy_added",
            Event::Error { .. } => "gate.error",
        }
    }
}
