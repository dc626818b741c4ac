//! Shared fixtures: one config, an order builder, an engine with reference prices set.
#![allow(dead_code)]

use gateway_core::{Engine, GateConfig, OrderRequest, OrderType, Side, TimeInForce, VenueMode};

pub const T0: i64 = 1_700_000_000_000;
pub const BTC: usize = 0;
pub const ETH: usize = 1;

pub fn config_json(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut json = serde_json::json!({
        "limits_version": "test-1",
        "account_id": "paper-1",
        "starting_cash": 1_000_000.0,
        "margin_mode": "margin",
        "leverage": 2.0,
        "max_order_notional": 200_000.0,
        "approval_notional": 50_000.0,
        "dual_approval_notional": 150_000.0,
        "approval_ttl_ms": 60_000,
        "approval_ttl_max_ms": 600_000,
        "collar_bps": 500.0,
        "max_reference_age_ms": 60_000,
        "max_gross_exposure": 800_000.0,
        "max_net_exposure": 500_000.0,
        "daily_loss_limit": 50_000.0,
        "max_drawdown": 0.1,
        "submit_rate": {"max": 50, "window_ms": 1000},
        "modify_rate": {"max": 3, "window_ms": 1000},
        "instruments": [
            {"id": "paper:BTC/USD", "tick": 0.5, "lot": 0.001, "min_quantity": 0.001,
             "max_quantity": 10.0, "min_notional": 10.0, "max_notional": 300_000.0,
             "max_position": 20.0},
            {"id": "paper:ETH/USD", "tick": 0.01, "lot": 0.01, "min_quantity": 0.01,
             "max_quantity": 500.0, "max_notional": 300_000.0, "max_position": 400.0},
            {"id": "paper:DOGE/USD", "tick": 0.0001, "lot": 1.0, "min_quantity": 1.0,
             "max_quantity": 1e6, "max_notional": 100_000.0, "max_position": 1e6,
             "tradable": false},
            {"id": "paper:XRP/USD", "tick": 0.0001, "lot": 1.0, "min_quantity": 1.0,
             "max_quantity": 1e6, "max_notional": 100_000.0, "max_position": 1e6}
        ],
        "strategies": [
            {"id": "momo", "max_position_notional": 400_000.0},
            {"id": "meanrev", "max_position_notional": 100_000.0}
        ],
        "restricted": ["paper:XRP/USD"],
        "paper": {"latency_ms": 0, "slippage_bps": 0.0, "half_spread_bps": 0.0,
                  "liquidity_fraction": 1.0, "maker_fee_bps": 1.0, "taker_fee_bps": 5.0}
    });
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
    engine.on_trade(2, T0, 0.1, 1e6).unwrap();
    engine.on_trade(3, T0, 0.5, 1e6).unwrap();
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
        account_id: "paper-1".into(),
        strategy_id: "momo".into(),
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
