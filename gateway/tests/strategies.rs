//! Strategies registered at run time: each trades under its own id, with the position limit
//! of its risk class (a `strategies` entry of the limits) and a trading state of its own.

mod common;

use common::*;
use gateway_core::{Engine, EngineError, Event, OrderRequest, Side, TradingState, Verdict};

fn eth(strategy_id: &str, side: Side, quantity: f64) -> OrderRequest {
    OrderRequest {
        strategy_id: strategy_id.into(),
        instrument_id: "paper:ETH/USD".into(),
        ..market(side, quantity)
    }
}

fn verdict(e: &mut Engine, order: OrderRequest) -> (Verdict, Vec<&'static str>) {
    let d = e.submit(order, T0);
    (d.verdict, d.reasons.codes())
}

#[test]
fn a_registered_strategy_takes_its_class_position_limit() {
    let mut e = engine_with(no_approvals);
    // A print large enough for every order below to fill in full.
    e.on_trade(ETH, T0, 2_000.0, 1_000.0).unwrap();
    assert_eq!(e.add_strategy("vt-1", "mean_reversion", T0), Ok(2));
    assert_eq!(e.add_strategy("vt-2", "momentum", T0), Ok(3));
    assert_eq!(e.risk_class("vt-1"), Some("mean_reversion"));
    assert_eq!(e.strategies()[3].max_position_notional, 300_000.0);
    // mean_reversion allows 100,000 per instrument: 60 ETH at 2,000 is over, 40 is within.
    let (v, codes) = verdict(&mut e, eth("vt-1", Side::Buy, 60.0));
    assert_eq!(v, Verdict::Deny);
    assert_eq!(codes, vec!["POSITION_LIMIT_STRATEGY"]);
    assert_eq!(
        verdict(&mut e, eth("vt-1", Side::Buy, 40.0)).0,
        Verdict::Accept
    );
    // The class's own bucket and the other strategy of the class have limits of their own.
    assert_eq!(
        verdict(&mut e, eth("mean_reversion", Side::Buy, 40.0)).0,
        Verdict::Accept
    );
    // momentum's class allows 300,000: 60 ETH is within.
    assert_eq!(
        verdict(&mut e, eth("vt-2", Side::Buy, 60.0)).0,
        Verdict::Accept
    );
    let s = e.strategy_index("vt-1").unwrap();
    let i = e.instrument_index("paper:ETH/USD").unwrap();
    assert_eq!(e.ledger().position(s, i).quantity, 40.0);
    let s = e.strategy_index("vt-2").unwrap();
    assert_eq!(e.ledger().position(s, i).quantity, 60.0);
    assert_eq!(e.ledger().account_position(i), 140.0);
}

#[test]
fn each_strategy_has_its_own_trading_state() {
    let mut e = engine_with(no_approvals);
    e.add_strategy("vt-1", "momentum", T0).unwrap();
    e.add_strategy("vt-2", "momentum", T0).unwrap();
    assert_eq!(e.strategy_state("vt-1"), Some(TradingState::Active));
    e.set_trading_state(Some("vt-1"), TradingState::Halted, "risk", "decay", T0)
        .unwrap();
    let (v, codes) = verdict(&mut e, eth("vt-1", Side::Buy, 1.0));
    assert_eq!(v, Verdict::Deny);
    assert!(codes.contains(&"STRATEGY_HALTED"), "{codes:?}");
    assert_eq!(
        verdict(&mut e, eth("vt-2", Side::Buy, 1.0)).0,
        Verdict::Accept
    );
    assert_eq!(e.strategy_state("momentum"), Some(TradingState::Active));
    let scopes: Vec<String> = e
        .drain_events()
        .into_iter()
        .filter_map(|ev| match ev {
            Event::TradingState { scope, .. } => Some(scope),
            _ => None,
        })
        .collect();
    assert_eq!(scopes, vec!["strategy:vt-1"]);
}

#[test]
fn a_duplicate_id_or_an_unknown_class_is_refused() {
    let mut e = engine();
    e.add_strategy("vt-1", "momentum", T0).unwrap();
    let added: Vec<Event> = e.drain_events();
    assert_eq!(
        added,
        vec![Event::StrategyAdded {
            strategy_id: "vt-1".into(),
            risk_class: "momentum".into(),
            max_position_notional: 300_000.0,
            ts_ms: T0,
        }]
    );
    assert_eq!(
        e.add_strategy("vt-1", "mean_reversion", T0),
        Err(EngineError::StrategyExists("vt-1".into()))
    );
    // A class's own id is a strategy too.
    assert_eq!(
        e.add_strategy("momentum", "momentum", T0),
        Err(EngineError::StrategyExists("momentum".into()))
    );
    let err = e.add_strategy("vt-3", "nope", T0).unwrap_err();
    assert_eq!(err, EngineError::RiskClassUnknown("nope".into()));
    assert!(err.to_string().starts_with("RISK_CLASS_UNKNOWN"), "{err}");
    for bad in ["", " ", "a b", "-x", "x\"y", &"x".repeat(65)] {
        assert!(matches!(
            e.add_strategy(bad, "momentum", T0),
            Err(EngineError::BadArgument(_))
        ));
    }
    assert!(e.drain_events().is_empty());
    assert_eq!(e.risk_class("vt-1"), Some("momentum"));
    assert_eq!(e.strategies().len(), 3);
}

#[test]
fn fills_are_restored_under_a_strategy_registered_first() {
    let mut e = engine();
    assert!(e
        .restore_fill("vt-1", "paper:BTC/USD", Side::Buy, 1.0, 30_000.0, 1.0)
        .is_err());
    e.add_strategy("vt-1", "momentum", T0).unwrap();
    e.restore_fill("vt-1", "paper:BTC/USD", Side::Buy, 1.0, 30_000.0, 1.0)
        .unwrap();
    let s = e.strategy_index("vt-1").unwrap();
    assert_eq!(e.ledger().position(s, BTC).quantity, 1.0);
    assert_eq!(e.ledger().position(0, BTC).quantity, 0.0);
    // Registered after orders were taken, a strategy still starts with empty books.
    e.submit(market(Side::Buy, 0.1), T0);
    e.add_strategy("vt-2", "mean_reversion", T0).unwrap();
    let s = e.strategy_index("vt-2").unwrap();
    assert_eq!(e.ledger().position(s, BTC).quantity, 0.0);
    assert_eq!(e.ledger().position(0, BTC).quantity, 0.1);
}
