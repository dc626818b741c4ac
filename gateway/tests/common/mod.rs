//! Shared fixtures: the shared limits file, an order builder, an engine with reference prices
//! set.
#![allow(dead_code)]

use gateway_core::{Engine, GateConfig, OrderRequest, OrderType, Side, TimeInForce, VenueMode};

pub const T0: i64 = 1_700_000_000_000;
pub const BTC: usize = 0;
pub const ETH: usize = 1;

/// The gate's test limits: one file, also read by `config.rs`'s unit tests and by the Python
/// tests (`tests/gateway_fixtures.py`). A test that needs other values edits its own copy
/// through `config_json`/`engine_with`, in the test.
pub const LIMITS_JSON: &str = include_str!("../fixtures/limits.json");

/// The shared limits with `edit` applied, as JSON text.
pub fn config_json(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut json: serde_json::Value =
        serde_json::from_str(LIMITS_JSON).expect("fixtures/limits.json is JSON");
    edit(&mut json);
    json.to_string()
}

/// No order needs a human: both approval thresholds beyond any order's notional.
pub fn no_approvals(config: &mut serde_json::Value) {
    config["approval_notional"] = 1e12.into();
    config["dual_approval_notional"] = 1e12.into();
}

pub fn engine_with(edit: impl FnOnce(&mut serde_json::Value)) -> Engine {
    let config = GateConfig::from_json(&config_json(edit)).expect("valid config");
    let mut engine = Engine::new(config, VenueMode::Paper).expect("engine");
    engine.on_trade(BTC, T0, 30_000.0, 5.0).unwrap();
    engine.on_trade(ETH, T0, 2_000.0, 100.0).unwrap();
    engine.drain_events();
    engine
}

pub fn engine() -> Engine {
    engine_with(|_| {})
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub fn limit(side: Side, quantity: f64, price: f64) -> OrderRequest {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    OrderRequest {
        order_id: format!("o-{n}"),
        client_order_id: format!("c-{n}"),
        account_id: "paper".into(),
        strategy_id: "momentum".into(),
        instrument_id: "paper:BTC/USD".into(),
        side,
        order_type: OrderType::Limit,
        quantity,
        price: Some(price),
        time_in_force: TimeInForce::Gtc,
        expire_at_ms: None,
        reduce_only: false,
        approval_token: None,
    }
}

pub fn market(side: Side, quantity: f64) -> OrderRequest {
    OrderRequest {
        order_type: OrderType::Market,
        price: None,
        time_in_force: TimeInForce::Ioc,
        ..limit(side, quantity, 1.0)
    }
}
