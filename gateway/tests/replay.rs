//! Event-driven replay of target weights through the gate and paper venue.

mod common;

use common::*;
use gateway_core::replay::ReplayInput;
use gateway_core::{Engine, GateConfig, VenueMode};

fn engine(edit: impl FnOnce(&mut serde_json::Value)) -> Engine {
    let json = config_json(|c| {
        no_approvals(c);
        c["max_order_notional"] = 1e9.into();
        c["instruments"][0]["max_notional"] = 1e9.into();
        c["instruments"][0]["max_quantity"] = 1e6.into();
        c["instruments"][0]["max_position"] = 1e6.into();
        c["strategies"][0]["max_position_notional"] = 1e9.into();
        c["max_gross_exposure"] = 1e9.into();
        c["max_net_exposure"] = 1e9.into();
        c["max_reference_age_ms"] = 10_000_000_000u64.into();
        c["paper"]["maker_fee_bps"] = 0.0.into();
        c["paper"]["taker_fee_bps"] = 10.0.into();
        c["paper"]["slippage_bps"] = 5.0.into();
        // Fills at the bar's open plus slippage only: no synthetic spread.
        c["paper"]["half_spread_bps"] = 0.0.into();
        edit(c);
    });
    Engine::new(GateConfig::from_json(&json).unwrap(), VenueMode::Paper).unwrap()
}

struct Bars {
    ts: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

fn bars() -> Bars {
    let open = vec![100.0, 101.0, 103.0, 102.0, 104.0, 106.0];
    let close = vec![101.0, 103.0, 102.0, 104.0, 106.0, 105.0];
    Bars {
        ts: (0..6).map(|k| T0 + k * 60_000).collect(),
        high: open
            .iter()
            .zip(&close)
            .map(|(o, c): (&f64, &f64)| o.max(*c) + 1.0)
            .collect(),
        low: open
            .iter()
            .zip(&close)
            .map(|(o, c): (&f64, &f64)| o.min(*c) - 1.0)
            .collect(),
        volume: vec![1e6; 6],
        open,
        close,
    }
}

fn input<'a>(b: &'a Bars, weights: &'a [f64], instrument: &'a str) -> ReplayInput<'a> {
    ReplayInput {
        instrument_id: instrument,
        strategy_id: "momentum",
        ts_ms: &b.ts,
        open: &b.open,
        high: &b.high,
        low: &b.low,
        close: &b.close,
        volume: &b.volume,
        weights,
        interval_ms: 60_000,
        rebalance_band: 0.0,
    }
}

#[test]
fn weights_trade_at_the_next_open_with_slippage_and_fees() {
    let mut e = engine(|c| c["starting_cash"] = 100_000.0.into());
    let b = bars();
    let weights = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
    let out = e
        .replay_targets(&input(&b, &weights, "paper:BTC/USD"))
        .unwrap();
    assert_eq!(out.orders, 2);
    assert_eq!(out.denied, 0);
    assert_eq!(out.position[0], 0.0);
    // Decided at bar 0's close, bought at bar 1's open (101) plus 5 bps slippage.
    let price = 101.0 * 1.0005;
    let units = (100_000.0 / (price * 1.001) / 0.001_f64).floor() * 0.001;
    assert!(
        (out.position[1] - units).abs() < 1e-9,
        "{} vs {units}",
        out.position[1]
    );
    let cash_after = 100_000.0 - units * price * 1.001;
    assert!((out.equity[1] - (cash_after + units * 103.0)).abs() < 1e-6);
    assert!((out.position[3] - units).abs() < 1e-9);
    assert_eq!(out.position[4], 0.0, "sold at bar 4's open");
    let sell = 104.0 * (1.0 - 0.0005);
    let final_cash = cash_after + units * sell * (1.0 - 0.001);
    assert!((out.equity[5] - final_cash).abs() < 1e-6);
}

#[test]
fn denials_show_in_the_result() {
    let mut e = engine(|c| c["instruments"][0]["max_position"] = 100.0.into());
    let b = bars();
    let out = e
        .replay_targets(&input(&b, &[1.0; 6], "paper:BTC/USD"))
        .unwrap();
    assert_eq!((out.orders, out.denied), (1, 1));
    assert_eq!(
        out.denial_reasons.codes(),
        vec!["POSITION_LIMIT_INSTRUMENT"]
    );
    assert!(out.position.iter().all(|&p| p == 0.0));
    assert!(out.equity.iter().all(|&q| q == 1_000_000.0));
}

#[test]
fn bad_input_is_refused() {
    let mut e = engine(|_| {});
    let mut b = bars();
    assert!(e
        .replay_targets(&input(&b, &[1.0; 5], "paper:BTC/USD"))
        .is_err());
    assert!(e
        .replay_targets(&input(&b, &[1.0; 6], "paper:NOPE"))
        .is_err());
    b.high[2] = 50.0;
    assert!(e
        .replay_targets(&input(&b, &[1.0; 6], "paper:BTC/USD"))
        .is_err());
}
