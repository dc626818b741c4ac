//! The fast path's latch on a real engine: a move ordered from another thread is in force for
//! the next check without any call on the engine, the next call takes it into the engine
//! (the kill switch cancels resting orders, the event is marked as already told), only a
//! human rearm lifts it, and every booked fill reaches the fill watch.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use gateway_core::{Actor, Event, LatchOrder, OrderStatus, Reason, Side, TradingState, Verdict};

fn order(state: TradingState, strategy: Option<&str>, kill: bool) -> LatchOrder {
    LatchOrder {
        strategy: strategy.map(String::from),
        state,
        kill,
        actor: "breaker".into(),
        reason: "drawdown 10.1% >= 10%".into(),
        ts_ms: T0 + 5,
    }
}

fn states(events: &[Event]) -> Vec<(String, TradingState, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TradingState {
                scope,
                state,
                announced,
                ..
            } => Some((scope.clone(), *state, *announced)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_latched_kill_is_in_force_at_once_and_applied_on_the_next_call() {
    let mut e = engine_with(no_approvals);
    let resting = limit(Side::Buy, 0.1, 29_000.0);
    let id = resting.order_id.clone();
    assert_eq!(e.submit(resting, T0).verdict, Verdict::Accept);
    e.drain_events();
    let latch = e.latch();
    // Another thread orders the halt; the engine is not called.
    std::thread::spawn(move || assert!(latch.order(order(TradingState::Halted, None, true))))
        .join()
        .unwrap();
    let decision = e.check(&limit(Side::Buy, 0.1, 29_000.0), T0 + 10);
    assert_eq!(decision.verdict, Verdict::Deny);
    assert!(decision.reasons.contains(Reason::TradingHalted));
    assert_eq!(e.account_state(), TradingState::Halted);
    // Not applied yet: the resting order still rests until the engine is next called.
    assert_eq!(e.order_status(&id).unwrap().0, OrderStatus::Accepted);
    let events = e.drain_events();
    assert_eq!(
        states(&events),
        vec![("account:paper".into(), TradingState::Halted, true)]
    );
    assert_eq!(e.order_status(&id).unwrap().0, OrderStatus::Canceled);
    // A rearm by an agent is refused and leaves the latch; a named human lifts both.
    assert!(e
        .rearm(&Actor::parse("agent:risk").unwrap(), "x", T0 + 20)
        .is_err());
    assert_eq!(e.account_state(), TradingState::Halted);
    e.rearm(&Actor::parse("human:alice").unwrap(), "reviewed", T0 + 30)
        .unwrap();
    assert_eq!(e.account_state(), TradingState::Active);
    assert_eq!(
        e.check(&limit(Side::Buy, 0.1, 29_000.0), T0 + 40).verdict,
        Verdict::Accept
    );
}

#[test]
fn a_latched_strategy_halt_refuses_that_strategy_alone() {
    let mut e = engine_with(no_approvals);
    e.latch()
        .order(order(TradingState::Halted, Some("momentum"), false));
    let halted = e.check(&limit(Side::Buy, 0.1, 29_000.0), T0);
    assert!(halted.reasons.contains(Reason::StrategyHalted));
    let other = gateway_core::OrderRequest {
        strategy_id: "mean_reversion".into(),
        ..limit(Side::Buy, 0.1, 29_000.0)
    };
    assert_eq!(e.check(&other, T0).verdict, Verdict::Accept);
    assert_eq!(e.strategy_state("momentum"), Some(TradingState::Halted));
    assert_eq!(
        states(&e.drain_events()),
        vec![("strategy:momentum".into(), TradingState::Halted, true)]
    );
}

#[test]
fn a_latched_reduce_is_lifted_by_an_explicit_active_but_a_halt_is_not() {
    let mut e = engine_with(no_approvals);
    e.latch().order(order(TradingState::Reducing, None, false));
    assert!(e
        .check(&limit(Side::Buy, 0.1, 29_000.0), T0)
        .reasons
        .contains(Reason::ReducingOnly));
    e.set_trading_state(None, TradingState::Active, "deadman", "risk is back", T0)
        .unwrap();
    assert_eq!(e.account_state(), TradingState::Active);
    e.latch().order(order(TradingState::Halted, None, true));
    assert!(e
        .set_trading_state(None, TradingState::Active, "deadman", "no", T0)
        .is_err());
    assert_eq!(e.account_state(), TradingState::Halted);
}

#[test]
fn every_booked_fill_reaches_the_fill_watch() {
    let mut e = engine_with(no_approvals);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    e.watch_fills(Some(Arc::new(move |fill| {
        sink.lock().unwrap().push(fill.clone())
    })));
    let buy = market(Side::Buy, 0.5);
    let id = buy.order_id.clone();
    assert_eq!(e.submit(buy, T0).verdict, Verdict::Accept);
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty());
    let total: f64 = seen.iter().map(|f| f.quantity).sum();
    assert!((total - 0.5).abs() < 1e-9, "{seen:?}");
    assert!(seen
        .iter()
        .all(|f| f.order_id == id && f.strategy_id == "momentum"));
    assert!((seen.last().unwrap().position_after - 0.5).abs() < 1e-9);
    assert!(seen.last().unwrap().equity > 0.0);
}
