//! Orders and their state machine (NautilusTrader's order states, without emulation).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for buys, -1 for sells: the sign an execution gives a position.
    #[inline]
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }

    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderType {
    Market,
    Limit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    Gtc,
    Ioc,
    Fok,
    Day,
    Gtd,
}

impl TimeInForce {
    /// Whether an unfilled remainder may rest on the book.
    pub fn rests(self) -> bool {
        matches!(self, TimeInForce::Gtc | TimeInForce::Day | TimeInForce::Gtd)
    }
}

/// What a strategy asks for; the gate decides on it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub order_id: String,
    pub client_order_id: String,
    pub account_id: String,
    pub strategy_id: String,
    pub instrument_id: String,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: f64,
    /// Limit price; None for market orders.
    pub price: Option<f64>,
    pub time_in_force: TimeInForce,
    /// GTD expiry, epoch milliseconds.
    pub expire_at_ms: Option<i64>,
    pub reduce_only: bool,
    pub approval_token: Option<String>,
}

impl OrderRequest {
    /// The request as the gate reads it.
    pub fn view(&self) -> RequestView<'_> {
        RequestView {
            order_id: &self.order_id,
            client_order_id: &self.client_order_id,
            account_id: &self.account_id,
            strategy_id: &self.strategy_id,
            instrument_id: &self.instrument_id,
            side: self.side,
            order_type: self.order_type,
            quantity: self.quantity,
            price: self.price,
            time_in_force: self.time_in_force,
            expire_at_ms: self.expire_at_ms,
            reduce_only: self.reduce_only,
            approval_token: self.approval_token.as_deref(),
        }
    }
}

/// An order request whose text is borrowed: the gate checks an order where it lives (an
/// owned request, or a Python order model read in place) without copying its strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestView<'a> {
    pub order_id: &'a str,
    pub client_order_id: &'a str,
    pub account_id: &'a str,
    pub strategy_id: &'a str,
    pub instrument_id: &'a str,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: f64,
    pub price: Option<f64>,
    pub time_in_force: TimeInForce,
    pub expire_at_ms: Option<i64>,
    pub reduce_only: bool,
    pub approval_token: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Initialized,
    Denied,
    PendingApproval,
    Submitted,
    Accepted,
    Rejected,
    PartiallyFilled,
    Filled,
    PendingUpdate,
    PendingCancel,
    Canceled,
    Expired,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 12] = [
        OrderStatus::Initialized,
        OrderStatus::Denied,
        OrderStatus::PendingApproval,
        OrderStatus::Submitted,
        OrderStatus::Accepted,
        OrderStatus::Rejected,
        OrderStatus::PartiallyFilled,
        OrderStatus::Filled,
        OrderStatus::PendingUpdate,
        OrderStatus::PendingCancel,
        OrderStatus::Canceled,
        OrderStatus::Expired,
    ];

    /// The status whose `code` is `code` ("filled", "partially_filled", ...).
    pub fn from_code(code: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            OrderStatus::Initialized => "initialized",
            OrderStatus::Denied => "denied",
            OrderStatus::PendingApproval => "pending_approval",
            OrderStatus::Submitted => "submitted",
            OrderStatus::Accepted => "accepted",
            OrderStatus::Rejected => "rejected",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::PendingUpdate => "pending_update",
            OrderStatus::PendingCancel => "pending_cancel",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Denied
                | OrderStatus::Rejected
                | OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Expired
        )
    }

    /// Live at the venue (or on its way there): counts toward exposure and can be canceled.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::Submitted
                | OrderStatus::Accepted
                | OrderStatus::PartiallyFilled
                | OrderStatus::PendingUpdate
                | OrderStatus::PendingCancel
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderEvent {
    Deny,
    RequireApproval,
    Submit,
    Accept,
    Reject,
    /// An execution; `leaves` is what remains open after it.
    Fill {
        leaves: f64,
    },
    RequestUpdate,
    UpdateAccepted,
    UpdateRejected,
    RequestCancel,
    CancelAccepted,
    CancelRejected,
    Expire,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TransitionError {
    pub from: OrderStatus,
    pub event: OrderEvent,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ILLEGAL_TRANSITION: {:?} is not allowed from {}",
            self.event, self.from
        )
    }
}

impl std::error::Error for TransitionError {}

/// An order's lifecycle state. `prior` is the state a pending update or cancel returns to
/// when the venue refuses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifecycle {
    pub status: OrderStatus,
    pub prior: Option<OrderStatus>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            status: OrderStatus::Initialized,
            prior: None,
        }
    }
}

impl Lifecycle {
    /// Apply an event; an illegal one is an error and leaves the state as it was.
    pub fn apply(&mut self, event: OrderEvent) -> Result<OrderStatus, TransitionError> {
        use OrderEvent as E;
        use OrderStatus as S;
        let illegal = TransitionError {
            from: self.status,
            event,
        };
        let filled_or_partial = |leaves: f64| {
            if leaves > 0.0 {
                S::PartiallyFilled
            } else {
                S::Filled
            }
        };
        let (status, prior) = match (self.status, event) {
            (S::Initialized, E::Deny) | (S::PendingApproval, E::Deny) => (S::Denied, None),
            (S::Initialized, E::RequireApproval) => (S::PendingApproval, None),
            (S::Initialized, E::Submit) | (S::PendingApproval, E::Submit) => (S::Submitted, None),
            (S::Submitted, E::Accept) => (S::Accepted, None),
            (S::Submitted, E::Reject) => (S::Rejected, None),
            (S::Submitted | S::Accepted | S::PartiallyFilled, E::Fill { leaves }) => {
                (filled_or_partial(leaves), None)
            }
            // A fill that lands while an update or cancel is in flight is booked; if the
            // request is later refused the order returns to the state the fill implies.
            (S::PendingUpdate | S::PendingCancel, E::Fill { leaves }) => {
                if leaves > 0.0 {
                    (self.status, Some(S::PartiallyFilled))
                } else {
                    (S::Filled, None)
                }
            }
            (S::Accepted | S::PartiallyFilled, E::RequestUpdate) => {
                (S::PendingUpdate, Some(self.status))
            }
            (S::Submitted | S::Accepted | S::PartiallyFilled, E::RequestCancel) => {
                (S::PendingCancel, Some(self.status))
            }
            (S::PendingUpdate, E::RequestCancel) => (S::PendingCancel, self.prior),
            (S::PendingUpdate, E::UpdateAccepted | E::UpdateRejected)
            | (S::PendingCancel, E::CancelRejected) => match self.prior {
                Some(prior) => (prior, None),
                None => return Err(illegal),
            },
            (
                S::Submitted
                | S::Accepted
                | S::PartiallyFilled
                | S::PendingUpdate
                | S::PendingCancel,
                E::CancelAccepted,
            ) => (S::Canceled, None),
            (S::Submitted | S::Accepted | S::PartiallyFilled | S::PendingUpdate, E::Expire) => {
                (S::Expired, None)
            }
            _ => return Err(illegal),
        };
        self.status = status;
        self.prior = prior;
        Ok(status)
    }
}

/// What the paper venue does next with an order it holds, after its simulated latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VenueAction {
    Arrive,
    Modify,
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderEvent as E;
    use OrderStatus as S;

    fn run(events: &[OrderEvent]) -> Result<Lifecycle, TransitionError> {
        let mut life = Lifecycle::default();
        for e in events {
            life.apply(*e)?;
        }
        Ok(life)
    }

    #[test]
    fn happy_paths() {
        assert_eq!(run(&[E::Deny]).unwrap().status, S::Denied);
        assert_eq!(
            run(&[E::RequireApproval, E::Submit, E::Accept])
                .unwrap()
                .status,
            S::Accepted
        );
        assert_eq!(
            run(&[E::RequireApproval, E::Deny]).unwrap().status,
            S::Denied
        );
        assert_eq!(run(&[E::Submit, E::Reject]).unwrap().status, S::Rejected);
        let partial = run(&[E::Submit, E::Accept, E::Fill { leaves: 1.0 }]).unwrap();
        assert_eq!(partial.status, S::PartiallyFilled);
        let full = run(&[
            E::Submit,
            E::Accept,
            E::Fill { leaves: 1.0 },
            E::Fill { leaves: 0.0 },
        ]);
        assert_eq!(full.unwrap().status, S::Filled);
        assert_eq!(
            run(&[E::Submit, E::Fill { leaves: 0.0 }]).unwrap().status,
            S::Filled
        );
        assert_eq!(
            run(&[E::Submit, E::Accept, E::Expire]).unwrap().status,
            S::Expired
        );
        assert_eq!(
            run(&[E::Submit, E::CancelAccepted]).unwrap().status,
            S::Canceled
        );
    }

    #[test]
    fn failed_modify_and_cancel_restore_the_prior_state() {
        let life = run(&[E::Submit, E::Accept, E::RequestUpdate, E::UpdateRejected]).unwrap();
        assert_eq!(life.status, S::Accepted);
        let life = run(&[
            E::Submit,
            E::Accept,
            E::Fill { leaves: 2.0 },
            E::RequestCancel,
            E::CancelRejected,
        ])
        .unwrap();
        assert_eq!(life.status, S::PartiallyFilled);
        let life = run(&[E::Submit, E::Accept, E::RequestUpdate, E::UpdateAccepted]).unwrap();
        assert_eq!(life.status, S::Accepted);
    }

    #[test]
    fn fill_after_cancel_request_is_booked() {
        let life = run(&[
            E::Submit,
            E::Accept,
            E::RequestCancel,
            E::Fill { leaves: 1.0 },
        ])
        .unwrap();
        assert_eq!(life.status, S::PendingCancel);
        let mut after = life;
        assert_eq!(after.apply(E::CancelRejected).unwrap(), S::PartiallyFilled);
        let mut canceled = life;
        assert_eq!(canceled.apply(E::CancelAccepted).unwrap(), S::Canceled);
        let done = run(&[
            E::Submit,
            E::Accept,
            E::RequestCancel,
            E::Fill { leaves: 0.0 },
        ])
        .unwrap();
        assert_eq!(done.status, S::Filled);
        let upd = run(&[
            E::Submit,
            E::Accept,
            E::RequestUpdate,
            E::Fill { leaves: 3.0 },
            E::UpdateAccepted,
        ]);
        assert_eq!(upd.unwrap().status, S::PartiallyFilled);
    }

    #[test]
    fn illegal_transitions_are_errors_and_change_nothing() {
        let terminal = [
            run(&[E::Deny]).unwrap(),
            run(&[E::Submit, E::Reject]).unwrap(),
            run(&[E::Submit, E::Fill { leaves: 0.0 }]).unwrap(),
            run(&[E::Submit, E::CancelAccepted]).unwrap(),
            run(&[E::Submit, E::Expire]).unwrap(),
        ];
        let every = [
            E::Deny,
            E::RequireApproval,
            E::Submit,
            E::Accept,
            E::Reject,
            E::Fill { leaves: 0.0 },
            E::RequestUpdate,
            E::UpdateAccepted,
            E::UpdateRejected,
            E::RequestCancel,
            E::CancelAccepted,
            E::CancelRejected,
            E::Expire,
        ];
        for life in terminal {
            assert!(life.status.is_terminal());
            for event in every {
                let mut copy = life;
                assert!(copy.apply(event).is_err(), "{event:?} from {}", life.status);
                assert_eq!(copy, life);
            }
        }
        assert!(run(&[E::Accept]).is_err());
        assert!(run(&[E::Submit, E::RequestUpdate]).is_err());
        assert!(run(&[E::Submit, E::Accept, E::CancelRejected]).is_err());
        assert!(run(&[E::RequireApproval, E::Accept]).is_err());
        let err = run(&[E::Submit, E::Accept, E::UpdateAccepted]).unwrap_err();
        assert_eq!(err.from, S::Accepted);
        assert!(err.to_string().starts_with("ILLEGAL_TRANSITION"));
    }

    #[test]
    fn open_and_terminal_partition_the_live_states() {
        for s in [
            S::Submitted,
            S::Accepted,
            S::PartiallyFilled,
            S::PendingUpdate,
            S::PendingCancel,
        ] {
            assert!(s.is_open() && !s.is_terminal());
        }
        for s in [S::Initialized, S::PendingApproval] {
            assert!(!s.is_open() && !s.is_terminal());
        }
    }
}
