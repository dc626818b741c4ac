//! One test per gate check: each shows the reason code, and that a denial changes nothing.

mod common;

use common::*;
use gateway_core::{
    Engine, OrderRequest, OrderStatus, OrderType, Side, TimeInForce, TradingState, Verdict,
};

#[derive(Debug, PartialEq)]
struct Snapshot {
    open: Vec<String>,
    cash: String,
    state: TradingState,
    btc_open: (f64, f64),
    equity: String,
}

fn snapshot(e: &Engine) -> Snapshot {
    Snapshot {
        open: e.open_order_ids(),
        cash: format!("{:.9}", e.ledger().cash()),
        state: e.account_state(),
        btc_open: e.open_quantities("paper:BTC/USD").unwrap(),
        equity: format!("{:.9}", e.equity()),
    }
}

/// Submit and expect a denial carrying `code`; the engine must be unchanged afterwards.
fn denied(e: &mut Engine, order: OrderRequest, now: i64, code: &str) -> Vec<&'static str> {
    let before = snapshot(e);
    let decision = e.submit(order, now);
    let codes = decision.reasons.codes();
    assert_eq!(
        decision.verdict,
        Verdict::Deny,
        "expected a denial with {code}, got {codes:?}"
    );
    assert!(codes.contains(&code), "{code} not in {codes:?}");
    assert_eq!(snapshot(e), before, "a denial changed the engine");
    codes
}

fn accepted(e: &mut Engine, order: OrderRequest, now: i64) -> String {
    let id = order.order_id.clone();
    let decision = e.submit(order, now);
    assert_eq!(
        decision.verdict,
        Verdict::Accept,
        "{:?}",
        decision.reasons.codes()
    );
    id
}

#[test]
fn identity_checks() {
    // Two instruments only this test trades: DOGE is listed but not tradable, XRP is
    // restricted.
    let mut e = engine_with(|c| {
        let instruments = c["instruments"].as_array_mut().unwrap();
        instruments.push(serde_json::json!({
            "id": "paper:DOGE/USD", "tick": 0.0001, "lot": 1.0, "min_quantity": 1.0,
            "max_quantity": 1e6, "max_notional": 100_000.0, "max_position": 1e6,
            "tradable": false
        }));
        instruments.push(serde_json::json!({
            "id": "paper:XRP/USD", "tick": 0.0001, "lot": 1.0, "min_quantity": 1.0,
            "max_quantity": 1e6, "max_notional": 100_000.0, "max_position": 1e6
        }));
        c["restricted"] = serde_json::json!(["paper:XRP/USD"]);
    });
    e.on_trade(2, T0, 0.1, 1e6).unwrap();
    e.on_trade(3, T0, 0.5, 1e6).unwrap();
    e.drain_events();
    let o = |f: fn(&mut OrderRequest)| {
        let mut order = limit(Side::Buy, 0.1, 30_000.0);
        f(&mut order);
        order
    };
    denied(
        &mut e,
        o(|o| o.instrument_id = "paper:NOPE/USD".into()),
        T0,
        "INSTRUMENT_UNKNOWN",
    );
    denied(
        &mut e,
        o(|o| o.strategy_id = "ghost".into()),
        T0,
        "STRATEGY_UNKNOWN",
    );
    denied(
        &mut e,
        o(|o| o.account_id = "other".into()),
        T0,
        "ACCOUNT_MISMATCH",
    );
    let doge = o(|o| {
        o.instrument_id = "paper:DOGE/USD".into();
        o.quantity = 10.0;
        o.price = Some(0.1);
    });
    denied(&mut e, doge, T0, "INSTRUMENT_NOT_TRADABLE");
    let xrp = o(|o| {
        o.instrument_id = "paper:XRP/USD".into();
        o.quantity = 10.0;
        o.price = Some(0.5);
    });
    denied(&mut e, xrp, T0, "INSTRUMENT_RESTRICTED");
    e.set_venue_up(BTC, false);
    denied(&mut e, o(|_| {}), T0, "VENUE_DOWN");
    e.set_venue_up(BTC, true);
    accepted(&mut e, o(|_| {}), T0);
}

#[test]
fn bad_prices_and_quantities_are_denied_never_panic() {
    let mut e = engine();
    for (price, code) in [
        (f64::NAN, "PRICE_NOT_FINITE"),
        (f64::INFINITY, "PRICE_NOT_FINITE"),
        (f64::NEG_INFINITY, "PRICE_NOT_FINITE"),
        (0.0, "PRICE_NOT_POSITIVE"),
        (-30_000.0, "PRICE_NOT_POSITIVE"),
        (30_000.3, "PRICE_NOT_ON_TICK"),
        (1e308, "PRICE_OUTSIDE_COLLAR"),
    ] {
        denied(&mut e, limit(Side::Buy, 0.1, price), T0, code);
    }
    for (qty, code) in [
        (f64::NAN, "QUANTITY_NOT_FINITE"),
        (f64::INFINITY, "QUANTITY_NOT_FINITE"),
        (0.0, "QUANTITY_NOT_POSITIVE"),
        (-1.0, "QUANTITY_NOT_POSITIVE"),
        (0.0015, "QUANTITY_NOT_ON_LOT"),
        (0.0005, "QUANTITY_BELOW_MIN"),
        (11.0, "QUANTITY_ABOVE_MAX"),
        (1e300, "NOTIONAL_EXCEEDS_MAX_PER_ORDER"),
    ] {
        denied(&mut e, limit(Side::Sell, qty, 30_000.0), T0, code);
    }
    let mut no_price = limit(Side::Buy, 0.1, 30_000.0);
    no_price.price = None;
    denied(&mut e, no_price, T0, "PRICE_MISSING");
    let mut priced_market = market(Side::Buy, 0.1);
    priced_market.price = Some(30_000.0);
    denied(&mut e, priced_market, T0, "PRICE_NOT_ALLOWED");
}

#[test]
fn a_decision_lists_every_failed_check() {
    let mut e = engine();
    let mut order = limit(Side::Buy, 0.0015, 30_000.3);
    order.strategy_id = "ghost".into();
    order.time_in_force = TimeInForce::Gtd;
    let codes = denied(&mut e, order, T0, "STRATEGY_UNKNOWN");
    assert_eq!(codes, vec!["STRATEGY_UNKNOWN", "EXPIRY_MISSING"]);
    let mut order = limit(Side::Buy, 0.0015, 30_000.3);
    order.time_in_force = TimeInForce::Gtd;
    let codes = denied(&mut e, order, T0, "PRICE_NOT_ON_TICK");
    assert_eq!(
        codes,
        vec!["PRICE_NOT_ON_TICK", "QUANTITY_NOT_ON_LOT", "EXPIRY_MISSING"]
    );
}

#[test]
fn notional_limits() {
    let mut e = engine_with(|c| c["instruments"][0]["min_notional"] = 100.0.into());
    denied(
        &mut e,
        limit(Side::Buy, 0.003, 30_000.0),
        T0,
        "NOTIONAL_BELOW_MIN",
    );
    let codes = denied(
        &mut e,
        limit(Side::Buy, 7.0, 30_000.0),
        T0,
        "NOTIONAL_EXCEEDS_MAX_PER_ORDER",
    );
    assert!(!codes.contains(&"NOTIONAL_ABOVE_MAX"));
    let mut eth = limit(Side::Buy, 160.0, 2_000.0);
    eth.instrument_id = "paper:ETH/USD".into();
    denied(&mut e, eth, T0, "NOTIONAL_ABOVE_MAX");
}

#[test]
fn reference_price_and_collar() {
    let config = gateway_core::GateConfig::from_json(&config_json(|_| {})).unwrap();
    let mut fresh = Engine::new(config, gateway_core::VenueMode::Paper).unwrap();
    denied(
        &mut fresh,
        limit(Side::Buy, 0.1, 30_000.0),
        T0,
        "REFERENCE_PRICE_MISSING",
    );
    denied(
        &mut fresh,
        market(Side::Buy, 0.1),
        T0,
        "REFERENCE_PRICE_MISSING",
    );
    let mut e = engine();
    denied(
        &mut e,
        limit(Side::Buy, 0.1, 30_000.0),
        T0 + 60_001,
        "REFERENCE_PRICE_STALE",
    );
    denied(
        &mut e,
        limit(Side::Buy, 0.1, 31_800.0),
        T0,
        "PRICE_OUTSIDE_COLLAR",
    );
    denied(
        &mut e,
        limit(Side::Sell, 0.1, 28_200.0),
        T0,
        "PRICE_OUTSIDE_COLLAR",
    );
    accepted(&mut e, limit(Side::Buy, 0.1, 31_000.0), T0);
}

#[test]
fn position_limits_per_instrument_and_strategy() {
    let mut e = engine_with(|c| c["instruments"][0]["max_position"] = 1.0.into());
    accepted(&mut e, limit(Side::Buy, 0.6, 29_000.0), T0);
    // Open orders count: 0.6 resting + 0.5 would exceed 1.0.
    denied(
        &mut e,
        limit(Side::Buy, 0.5, 29_000.0),
        T0,
        "POSITION_LIMIT_INSTRUMENT",
    );
    accepted(&mut e, limit(Side::Buy, 0.4, 29_000.0), T0);
    // The opposite side reduces the worst case: allowed.
    accepted(&mut e, limit(Side::Sell, 0.5, 31_000.0), T0);

    let mut e = engine_with(no_approvals);
    let mut eth = limit(Side::Buy, 60.0, 2_000.0);
    eth.instrument_id = "paper:ETH/USD".into();
    eth.strategy_id = "mean_reversion".into();
    denied(&mut e, eth.clone(), T0, "POSITION_LIMIT_STRATEGY");
    eth.strategy_id = "momentum".into();
    accepted(&mut e, eth, T0);
}

#[test]
fn exposure_and_margin() {
    let mut e = engine_with(|c| c["max_gross_exposure"] = 40_000.0.into());
    denied(
        &mut e,
        limit(Side::Buy, 1.5, 30_000.0),
        T0,
        "GROSS_EXPOSURE_LIMIT",
    );
    let mut e = engine_with(|c| c["max_net_exposure"] = 40_000.0.into());
    accepted(&mut e, limit(Side::Buy, 1.0, 29_000.0), T0);
    let mut eth = limit(Side::Buy, 6.0, 1_990.0);
    eth.instrument_id = "paper:ETH/USD".into();
    denied(&mut e, eth.clone(), T0, "NET_EXPOSURE_LIMIT");
    eth.side = Side::Sell;
    eth.price = Some(2_010.0);
    accepted(&mut e, eth, T0);
    let mut e = engine_with(|c| c["starting_cash"] = 10_000.0.into());
    denied(
        &mut e,
        limit(Side::Buy, 1.5, 30_000.0),
        T0,
        "INSUFFICIENT_MARGIN",
    );
    accepted(&mut e, limit(Side::Buy, 0.6, 30_000.0), T0);
}

#[test]
fn cash_accounts_need_cash_and_cannot_go_short() {
    let mut e = engine_with(|c| {
        c["margin_mode"] = "cash".into();
        c["leverage"] = 1.0.into();
        c["starting_cash"] = 10_000.0.into();
    });
    denied(
        &mut e,
        limit(Side::Buy, 0.5, 30_000.0),
        T0,
        "INSUFFICIENT_CASH",
    );
    accepted(&mut e, limit(Side::Buy, 0.2, 29_000.0), T0);
    // Open buys commit cash: 5,800 resting + 5,800 more exceeds 10,000.
    denied(
        &mut e,
        limit(Side::Buy, 0.2, 29_000.0),
        T0,
        "INSUFFICIENT_CASH",
    );
    denied(
        &mut e,
        limit(Side::Sell, 0.1, 31_000.0),
        T0,
        "SHORT_NOT_ALLOWED",
    );
}

#[test]
fn daily_loss_and_drawdown_move_the_account_to_reducing() {
    let mut e = engine_with(|c| {
        no_approvals(c);
        c["max_drawdown"] = 0.05.into();
    });
    e.submit(market(Side::Buy, 5.0), T0);
    assert_eq!(e.ledger().account_position(BTC), 5.0);
    e.on_trade(BTC, T0 + 1_000, 19_000.0, 5.0).unwrap();
    assert_eq!(e.account_state(), TradingState::Reducing);
    let codes = denied(
        &mut e,
        limit(Side::Buy, 0.1, 19_000.0),
        T0 + 1_000,
        "DAILY_LOSS_LIMIT",
    );
    assert!(
        codes.contains(&"DRAWDOWN_BREAKER") && codes.contains(&"REDUCING_ONLY"),
        "{codes:?}"
    );
    accepted(&mut e, limit(Side::Sell, 1.0, 19_500.0), T0 + 1_000);
    let states: Vec<_> = e
        .drain_events()
        .into_iter()
        .filter_map(|ev| match ev {
            gateway_core::Event::TradingState {
                state,
                actor,
                reason,
                ..
            } => Some((state, actor, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![(
            TradingState::Reducing,
            "gate".to_string(),
            "DAILY_LOSS_LIMIT".to_string()
        )]
    );
}

#[test]
fn submit_and_modify_throttles_use_a_sliding_window() {
    let mut e = engine_with(|c| {
        c["submit_rate"] = serde_json::json!({"max": 2, "window_ms": 1000});
        c["modify_rate"] = serde_json::json!({"max": 3, "window_ms": 1000});
    });
    let a = accepted(&mut e, limit(Side::Buy, 0.1, 29_000.0), T0);
    accepted(&mut e, limit(Side::Buy, 0.1, 29_000.0), T0 + 500);
    denied(
        &mut e,
        limit(Side::Buy, 0.1, 29_000.0),
        T0 + 900,
        "SUBMIT_RATE_EXCEEDED",
    );
    accepted(&mut e, limit(Side::Buy, 0.1, 29_000.0), T0 + 1_001);
    for k in 0..3 {
        let d = e
            .modify(
                &a,
                Some(29_000.0 - 0.5 * f64::from(k + 1)),
                None,
                T0 + 1_100,
            )
            .unwrap();
        assert_eq!(d.verdict, Verdict::Accept, "{:?}", d.reasons.codes());
    }
    let before = snapshot(&e);
    let d = e.modify(&a, Some(28_600.0), None, T0 + 1_200).unwrap();
    assert_eq!(d.reasons.codes(), vec!["MODIFY_RATE_EXCEEDED"]);
    assert_eq!(snapshot(&e), before);
    assert_eq!(e.order_status(&a).unwrap().0, OrderStatus::Accepted);
}

#[test]
fn duplicate_client_ids_and_self_trades() {
    let mut e = engine();
    let first = limit(Side::Sell, 0.1, 30_100.0);
    let mut again = limit(Side::Sell, 0.1, 30_200.0);
    again.client_order_id.clone_from(&first.client_order_id);
    let mut same_id = limit(Side::Sell, 0.1, 30_200.0);
    same_id.order_id.clone_from(&first.order_id);
    accepted(&mut e, first, T0);
    denied(&mut e, again, T0, "DUPLICATE_CLIENT_ORDER_ID");
    denied(&mut e, same_id, T0, "DUPLICATE_CLIENT_ORDER_ID");
    denied(&mut e, limit(Side::Buy, 0.1, 30_100.0), T0, "SELF_TRADE");
    denied(&mut e, market(Side::Buy, 0.1), T0, "SELF_TRADE");
    accepted(&mut e, limit(Side::Buy, 0.1, 29_950.0), T0);
    denied(&mut e, limit(Side::Sell, 0.1, 29_950.0), T0, "SELF_TRADE");
    denied(&mut e, market(Side::Sell, 0.1), T0, "SELF_TRADE");
}

#[test]
fn halted_denies_submits_and_modifies_but_lets_cancels_through() {
    let mut e = engine();
    let resting = accepted(&mut e, limit(Side::Buy, 0.1, 29_000.0), T0);
    e.set_trading_state(None, TradingState::Halted, "risk-agent", "vol spike", T0)
        .unwrap();
    denied(
        &mut e,
        limit(Side::Buy, 0.1, 29_000.0),
        T0,
        "TRADING_HALTED",
    );
    let d = e.modify(&resting, Some(29_500.0), None, T0).unwrap();
    assert_eq!(
        (d.verdict, d.reasons.codes()),
        (Verdict::Deny, vec!["TRADING_HALTED"])
    );
    e.cancel(&resting, T0).unwrap();
    assert_eq!(e.order_status(&resting).unwrap().0, OrderStatus::Canceled);
    assert!(e
        .set_trading_state(None, TradingState::Active, "agent", "try", T0)
        .is_err());

    let mut e = engine();
    e.set_trading_state(
        Some("mean_reversion"),
        TradingState::Halted,
        "pm",
        "review",
        T0,
    )
    .unwrap();
    let mut order = limit(Side::Buy, 0.1, 29_000.0);
    order.strategy_id = "mean_reversion".into();
    denied(&mut e, order, T0, "STRATEGY_HALTED");
    accepted(&mut e, limit(Side::Buy, 0.1, 29_000.0), T0);
}

#[test]
fn reducing_and_reduce_only_never_increase_a_position() {
    let mut e = engine();
    denied(
        &mut e,
        OrderRequest {
            reduce_only: true,
            ..limit(Side::Sell, 0.1, 30_000.0)
        },
        T0,
        "REDUCE_ONLY_WOULD_INCREASE",
    );
    e.submit(market(Side::Buy, 1.0), T0);
    assert_eq!(e.ledger().account_position(BTC), 1.0);
    e.set_trading_state(
        None,
        TradingState::Reducing,
        "risk-agent",
        "limit breach",
        T0,
    )
    .unwrap();
    denied(&mut e, limit(Side::Buy, 0.1, 29_000.0), T0, "REDUCING_ONLY");
    denied(
        &mut e,
        OrderRequest {
            reduce_only: true,
            ..limit(Side::Sell, 1.5, 30_500.0)
        },
        T0,
        "REDUCE_ONLY_WOULD_INCREASE",
    );
    accepted(
        &mut e,
        OrderRequest {
            reduce_only: true,
            ..limit(Side::Sell, 0.6, 30_500.0)
        },
        T0,
    );
    // 0.6 already resting to sell: another reduce-only 0.6 would flip the position short.
    denied(
        &mut e,
        OrderRequest {
            reduce_only: true,
            ..limit(Side::Sell, 0.6, 30_500.0)
        },
        T0,
        "REDUCE_ONLY_WOULD_INCREASE",
    );
    accepted(&mut e, limit(Side::Sell, 0.4, 30_500.0), T0);

    let mut e = engine();
    e.set_trading_state(
        Some("momentum"),
        TradingState::Reducing,
        "pm",
        "drawdown",
        T0,
    )
    .unwrap();
    denied(&mut e, limit(Side::Buy, 0.1, 29_000.0), T0, "REDUCING_ONLY");
}

#[test]
fn reducing_never_takes_a_position_through_zero() {
    let mut e = engine_with(no_approvals);
    e.set_trading_state(None, TradingState::Reducing, "risk", "limit breach", T0)
        .unwrap();
    // Flat: nothing reduces, so either side would open a position.
    denied(&mut e, market(Side::Sell, 0.1), T0, "REDUCING_ONLY");
    denied(&mut e, market(Side::Buy, 0.1), T0, "REDUCING_ONLY");
    let mut e = engine_with(no_approvals);
    e.submit(market(Side::Buy, 2.0), T0);
    assert_eq!(e.ledger().account_position(BTC), 2.0);
    e.set_trading_state(None, TradingState::Reducing, "risk", "limit breach", T0)
        .unwrap();
    // Worst-case size shrinks (|2 - 3| < 2) but the position would flip short.
    denied(&mut e, market(Side::Sell, 3.0), T0, "REDUCING_ONLY");
    denied(&mut e, market(Side::Sell, 4.0), T0, "REDUCING_ONLY");
    denied(
        &mut e,
        limit(Side::Sell, 2.001, 30_500.0),
        T0,
        "REDUCING_ONLY",
    );
    // Open sells count as filled: 1.5 resting leaves room for 0.5 more, not 1.
    let resting = accepted(&mut e, limit(Side::Sell, 1.5, 30_500.0), T0);
    denied(
        &mut e,
        limit(Side::Sell, 1.0, 30_500.0),
        T0,
        "REDUCING_ONLY",
    );
    let before = snapshot(&e);
    let d = e.modify(&resting, None, Some(3.0), T0).unwrap();
    assert_eq!(
        (d.verdict, d.reasons.codes()),
        (Verdict::Deny, vec!["REDUCING_ONLY"])
    );
    assert_eq!(snapshot(&e), before);
    accepted(&mut e, limit(Side::Sell, 0.5, 30_500.0), T0);
    assert_eq!(
        e.ledger().account_position(BTC),
        2.0,
        "nothing traded through zero"
    );
}

#[test]
fn a_tripped_breaker_never_takes_a_position_through_zero() {
    let mut e = engine_with(|c| {
        no_approvals(c);
        c["max_drawdown"] = 0.05.into();
    });
    e.submit(market(Side::Buy, 5.0), T0);
    e.on_trade(BTC, T0 + 1_000, 19_000.0, 10.0).unwrap();
    assert_eq!(e.account_state(), TradingState::Reducing);
    let codes = denied(
        &mut e,
        market(Side::Sell, 10.0),
        T0 + 1_000,
        "DAILY_LOSS_LIMIT",
    );
    assert_eq!(
        codes,
        vec!["DAILY_LOSS_LIMIT", "DRAWDOWN_BREAKER", "REDUCING_ONLY"]
    );
    // Leaving REDUCING does not untrip the breakers: only a rearm does.
    e.set_trading_state(
        None,
        TradingState::Active,
        "risk",
        "looked at it",
        T0 + 1_000,
    )
    .unwrap();
    let codes = denied(
        &mut e,
        market(Side::Sell, 10.0),
        T0 + 1_000,
        "DAILY_LOSS_LIMIT",
    );
    assert_eq!(codes, vec!["DAILY_LOSS_LIMIT", "DRAWDOWN_BREAKER"]);
    accepted(&mut e, market(Side::Sell, 5.0), T0 + 1_000);
    assert_eq!(e.ledger().account_position(BTC), 0.0);
    denied(
        &mut e,
        market(Side::Sell, 0.1),
        T0 + 1_000,
        "DAILY_LOSS_LIMIT",
    );
}

#[test]
fn a_reducing_strategy_never_takes_its_own_position_through_zero() {
    let mut e = engine_with(no_approvals);
    e.submit(market(Side::Buy, 1.0), T0);
    e.submit(
        OrderRequest {
            strategy_id: "mean_reversion".into(),
            ..market(Side::Buy, 3.0)
        },
        T0,
    );
    assert_eq!(e.ledger().account_position(BTC), 4.0);
    e.set_trading_state(Some("momentum"), TradingState::Reducing, "pm", "review", T0)
        .unwrap();
    // The account stays long 2.5, but momentum would go short 0.5.
    denied(&mut e, market(Side::Sell, 1.5), T0, "REDUCING_ONLY");
    accepted(
        &mut e,
        OrderRequest {
            strategy_id: "mean_reversion".into(),
            ..market(Side::Sell, 1.5)
        },
        T0,
    );
    accepted(&mut e, market(Side::Sell, 1.0), T0);
    assert_eq!(e.ledger().position(0, BTC).quantity, 0.0);
}

#[test]
fn time_in_force_and_expiry() {
    let mut e = engine();
    let gtd = |expire: Option<i64>| OrderRequest {
        time_in_force: TimeInForce::Gtd,
        expire_at_ms: expire,
        ..limit(Side::Buy, 0.1, 29_000.0)
    };
    denied(&mut e, gtd(None), T0, "EXPIRY_MISSING");
    denied(&mut e, gtd(Some(T0)), T0, "EXPIRY_IN_PAST");
    denied(
        &mut e,
        OrderRequest {
            expire_at_ms: Some(T0 + 5),
            ..limit(Side::Buy, 0.1, 29_000.0)
        },
        T0,
        "EXPIRY_NOT_ALLOWED",
    );
    denied(
        &mut e,
        OrderRequest {
            time_in_force: TimeInForce::Gtd,
            expire_at_ms: Some(T0 + 5),
            ..market(Side::Buy, 0.1)
        },
        T0,
        "TIME_IN_FORCE_INVALID",
    );
    let id = accepted(&mut e, gtd(Some(T0 + 1_000)), T0);
    e.advance(T0 + 999);
    assert_eq!(e.order_status(&id).unwrap().0, OrderStatus::Accepted);
    e.advance(T0 + 1_000);
    assert_eq!(e.order_status(&id).unwrap().0, OrderStatus::Expired);
    assert_eq!(e.open_quantities("paper:BTC/USD").unwrap(), (0.0, 0.0));
}

#[test]
fn large_orders_need_a_token_the_gate_minted_for_exactly_that_order() {
    let mut e = engine();
    let big = limit(Side::Buy, 2.0, 29_000.0);
    let d = e.submit(big.clone(), T0);
    assert_eq!(
        (d.verdict, d.reasons.codes()),
        (Verdict::NeedsApproval, vec!["APPROVAL_REQUIRED"])
    );
    assert_eq!(
        e.order_status(&big.order_id).unwrap().0,
        OrderStatus::PendingApproval
    );
    assert!(e.open_order_ids().is_empty(), "a pending order is not live");
    assert!(e.approve(&big.order_id, &[" ".into()], T0).is_err());
    assert!(e.approve(&big.order_id, &[], T0).is_err());
    assert_eq!(e.approval_need(&big.order_id, T0).unwrap(), (1, 58_000.0));
    let token = e.approve(&big.order_id, &["alice".into()], T0).unwrap();

    let tampered = OrderRequest {
        quantity: 2.5,
        approval_token: Some(token.clone()),
        ..big.clone()
    };
    denied(&mut e, tampered, T0, "DUPLICATE_CLIENT_ORDER_ID");
    // Change the token's last character (to a different one: the key is random per process,
    // so the last character is '0' in about one run in sixteen).
    let last = if token.ends_with('0') { '1' } else { '0' };
    let forged = OrderRequest {
        approval_token: Some(format!("{}{last}", &token[..token.len() - 1])),
        ..big.clone()
    };
    denied(&mut e, forged, T0, "APPROVAL_TOKEN_INVALID");
    let late = OrderRequest {
        approval_token: Some(token.clone()),
        ..big.clone()
    };
    denied(&mut e, late, T0 + 60_000, "APPROVAL_TOKEN_EXPIRED");

    let approved = OrderRequest {
        approval_token: Some(token.clone()),
        ..big.clone()
    };
    accepted(&mut e, approved, T0 + 1_000);
    assert_eq!(
        e.order_status(&big.order_id).unwrap().0,
        OrderStatus::Accepted
    );
    // A token is for one order: another order with the same economics cannot reuse it.
    let copy = OrderRequest {
        approval_token: Some(token),
        ..limit(Side::Buy, 2.0, 29_000.0)
    };
    denied(&mut e, copy, T0 + 1_000, "APPROVAL_TOKEN_INVALID");

    let refused = limit(Side::Buy, 2.0, 30_000.0);
    e.submit(refused.clone(), T0);
    let d = e
        .refuse_approval(&refused.order_id, "bob", false, T0)
        .unwrap();
    assert_eq!(
        (d.verdict, d.reasons.codes()),
        (Verdict::Deny, vec!["APPROVAL_REFUSED"])
    );
    assert_eq!(
        e.order_status(&refused.order_id).unwrap().0,
        OrderStatus::Denied
    );
    assert!(e.approve(&refused.order_id, &["bob".into()], T0).is_err());
    let unanswered = limit(Side::Buy, 2.0, 29_500.0);
    e.submit(unanswered.clone(), T0);
    let d = e
        .refuse_approval(&unanswered.order_id, "nobody", true, T0)
        .unwrap();
    assert_eq!(d.reasons.codes(), vec!["APPROVAL_EXPIRED"]);
}

#[test]
fn above_the_dual_threshold_the_gate_refuses_a_token_with_one_approver() {
    let mut e = engine();
    // 6 BTC at 29,000 is 174,000: above dual_approval_notional (150,000).
    let big = limit(Side::Buy, 6.0, 29_000.0);
    assert_eq!(e.submit(big.clone(), T0).verdict, Verdict::NeedsApproval);
    assert_eq!(e.approval_need(&big.order_id, T0).unwrap(), (2, 174_000.0));
    for names in [
        vec!["alice".to_string()],
        vec!["alice".into(), " ALICE ".into()],
    ] {
        let token = e.approve(&big.order_id, &names, T0).unwrap();
        let once = OrderRequest {
            approval_token: Some(token),
            ..big.clone()
        };
        denied(&mut e, once, T0, "APPROVAL_TOO_FEW_APPROVERS");
        assert_eq!(
            e.order_status(&big.order_id).unwrap().0,
            OrderStatus::PendingApproval,
            "still waiting"
        );
    }
    let token = e
        .approve(&big.order_id, &["alice".into(), "bob".into()], T0)
        .unwrap();
    accepted(
        &mut e,
        OrderRequest {
            approval_token: Some(token),
            ..big.clone()
        },
        T0,
    );
    assert_eq!(
        e.order_status(&big.order_id).unwrap().0,
        OrderStatus::Accepted
    );
}

#[test]
fn batch_checks_agree_with_single_checks() {
    use gateway_core::gate::CoreOrder;
    let e = engine();
    let orders: Vec<CoreOrder> = [
        (BTC, Side::Buy, Some(30_000.0), 0.1),
        (BTC, Side::Buy, Some(f64::NAN), 0.1),
        (BTC, Side::Sell, Some(30_000.0), 2.0),
        (ETH, Side::Sell, Some(2_000.0), -1.0),
        (9, Side::Buy, Some(1.0), 1.0),
    ]
    .into_iter()
    .map(|(instrument, side, price, quantity)| CoreOrder {
        instrument,
        strategy: 0,
        side,
        order_type: OrderType::Limit,
        price,
        quantity,
        time_in_force: TimeInForce::Gtc,
        expire_at_ms: None,
        reduce_only: false,
    })
    .collect();
    let mut verdicts = vec![9u8; orders.len()];
    let mut masks = vec![0u64; orders.len()];
    e.check_batch(&orders, T0, &mut verdicts, &mut masks);
    assert_eq!(verdicts, vec![0, 1, 2, 1, 1]);
    let ids = [
        "paper:BTC/USD",
        "paper:BTC/USD",
        "paper:BTC/USD",
        "paper:ETH/USD",
        "paper:NOPE",
    ];
    for (k, o) in orders.iter().enumerate() {
        let single = OrderRequest {
            instrument_id: ids[k].into(),
            side: o.side,
            price: o.price,
            quantity: o.quantity,
            ..limit(Side::Buy, 1.0, 1.0)
        };
        assert_eq!(e.check(&single, T0).reasons.0, masks[k], "order {k}");
    }
}
