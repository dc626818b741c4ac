//! Two engine duties a restart and an operator lean on: only a named human lifts a halt
//! (the engine decides, and records a refusal), and orders an earlier run booked are known
//! again without being open.

mod common;

use common::*;
use gateway_core::{Actor, Engine, EngineError, Event, OrderStatus, Side, TradingState, Verdict};

fn halted() -> Engine {
    let mut e = engine();
    e.kill("agent:risk", "drawdown", T0);
    e.drain_events();
    e
}

fn refusals(e: &mut Engine) -> Vec<(String, String, String)> {
    e.drain_events()
        .into_iter()
        .filter_map(|ev| match ev {
            Event::RearmRefused {
                actor,
                reason,
                requested_reason,
                ..
            } => Some((actor, reason, requested_reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn agents_and_services_cannot_rearm_and_the_refusal_is_recorded() {
    let mut e = halted();
    for actor in [
        Actor::Agent("risk".into()),
        Actor::Service("execution".into()),
        Actor::Human(String::new()),
        Actor::Human(" bob".into()),
    ] {
        let err = e.rearm(&actor, "looks fine", T0 + 1).unwrap_err();
        assert!(
            matches!(err, EngineError::RearmRefused(_)),
            "{actor}: {err}"
        );
        assert!(err.to_string().starts_with("REARM_REFUSED: "), "{err}");
        assert_eq!(
            e.account_state(),
            TradingState::Halted,
            "{actor} lifted the halt"
        );
        let seen = refusals(&mut e);
        assert_eq!(seen.len(), 1, "{actor}: one refusal event");
        assert_eq!(
            seen[0].0,
            if actor.name().is_empty() {
                "human:".to_string()
            } else {
                actor.to_string()
            }
        );
        assert_eq!(seen[0].2, "looks fine");
    }
    assert!(refusals(&mut e).is_empty());
    assert_eq!(
        e.submit(limit(Side::Buy, 0.1, 29_900.0), T0 + 2)
            .reasons
            .codes(),
        vec!["TRADING_HALTED"]
    );
    e.rearm(&Actor::Human("alice".into()), "root cause fixed", T0 + 3)
        .unwrap();
    assert_eq!(e.account_state(), TradingState::Active);
    let states: Vec<_> = e
        .drain_events()
        .into_iter()
        .filter_map(|ev| match ev {
            Event::TradingState { state, actor, .. } => Some((state, actor)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![(TradingState::Active, "human:alice".to_string())]
    );
}

#[test]
fn a_refused_actor_text_is_recorded_safely() {
    let mut e = halted();
    let hostile = format!("risk-agent\n{}", "x".repeat(200));
    let err = e.refuse_rearm(&hostile, "not an actor", "please", T0);
    assert_eq!(err.to_string(), "REARM_REFUSED: not an actor");
    let seen = refusals(&mut e);
    assert_eq!(seen[0].0.chars().count(), 64);
    assert!(seen[0].0.starts_with("risk-agent?x"));
    e.refuse_rearm("", "not an actor", "please", T0);
    assert_eq!(refusals(&mut e)[0].0, "unknown");
}

#[test]
fn restored_orders_are_known_closed_and_never_sent_again() {
    let mut e = engine();
    e.restore_order("o-old-1", "c-old-1", OrderStatus::Filled, 0.5)
        .unwrap();
    e.restore_order("o-old-2", "c-old-2", OrderStatus::Accepted, 0.0)
        .unwrap();
    e.restore_order("o-old-3", "c-old-3", OrderStatus::PartiallyFilled, 0.2)
        .unwrap();
    // The same order again (a state log read oldest first) keeps the latest state.
    e.restore_order("o-old-3", "c-old-3", OrderStatus::Canceled, 0.3)
        .unwrap();
    assert!(e
        .restore_order("o-old-3", "c-other", OrderStatus::Filled, 0.3)
        .is_err());
    assert!(e
        .restore_order("o-new", "c-old-1", OrderStatus::Filled, 0.3)
        .is_err());
    assert!(e
        .restore_order("o-x", "c-x", OrderStatus::Filled, f64::NAN)
        .is_err());
    assert!(e
        .restore_order("o-x", "c-x", OrderStatus::Filled, -1.0)
        .is_err());
    assert!(e
        .restore_order("", "c-x", OrderStatus::Filled, 1.0)
        .is_err());

    assert_eq!(
        e.order_status("o-old-1"),
        Some((OrderStatus::Filled, 0.5, 0.0))
    );
    assert_eq!(
        e.order_status("o-old-2"),
        Some((OrderStatus::Accepted, 0.0, 0.0))
    );
    assert_eq!(
        e.order_status("o-old-3"),
        Some((OrderStatus::Canceled, 0.3, 0.0))
    );
    // Not open: nothing to cancel, no open quantity, no exposure.
    assert!(e.open_order_ids().is_empty());
    assert_eq!(e.open_quantities("paper:BTC/USD").unwrap(), (0.0, 0.0));
    assert!(matches!(
        e.cancel("o-old-2", T0),
        Err(EngineError::OrderNotOpen(_))
    ));
    assert!(matches!(
        e.modify("o-old-2", Some(29_000.0), None, T0),
        Err(EngineError::OrderNotOpen(_))
    ));
    assert!(e.kill("human:alice", "drill", T0).is_empty());
    e.rearm(&Actor::Human("alice".into()), "drill over", T0)
        .unwrap();

    // Reusing either id is a duplicate; nothing reaches the venue.
    let mut same_id = limit(Side::Buy, 0.1, 29_900.0);
    same_id.order_id = "o-old-2".into();
    let mut same_client = limit(Side::Buy, 0.1, 29_900.0);
    same_client.client_order_id = "c-old-1".into();
    for order in [same_id, same_client] {
        let d = e.submit(order, T0 + 1);
        assert_eq!(
            (d.verdict, d.reasons.codes()),
            (Verdict::Deny, vec!["DUPLICATE_CLIENT_ORDER_ID"])
        );
    }
    assert_eq!(
        e.order_status("o-old-2"),
        Some((OrderStatus::Accepted, 0.0, 0.0))
    );
    assert_eq!(e.book_depth("paper:BTC/USD").unwrap(), (0.0, 0.0));
    assert!(e.open_order_ids().is_empty());

    // Only before the first order, like restore_fill.
    assert_eq!(
        e.submit(limit(Side::Buy, 0.1, 29_900.0), T0 + 2).verdict,
        Verdict::Accept
    );
    let err = e
        .restore_order("o-late", "c-late", OrderStatus::Filled, 1.0)
        .unwrap_err();
    assert!(err.to_string().contains("before the first order"), "{err}");
    assert_eq!(e.order_status("o-late"), None);
}
