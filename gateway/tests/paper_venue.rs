//! The paper venue and the order lifecycle through the engine: fills, partial fills, IOC
//! and FOK, price-time priority, latency, cancels racing fills, expiry, the kill switch,
//! and an external venue's reports.

mod common;

use common::*;
use gateway_core::{
    Actor, Engine, Event, GateConfig, OrderRequest, OrderStatus, Side, TimeInForce, TradingState,
    VenueMode, Verdict,
};

fn status(e: &Engine, id: &str) -> (OrderStatus, f64, f64) {
    e.order_status(id).expect("known order")
}

fn fills(e: &mut Engine) -> Vec<(String, f64, f64, f64, bool)> {
    e.drain_events()
        .into_iter()
        .filter_map(|ev| match ev {
            Event::Fill {
                order_id,
                quantity,
                price,
                fee,
                maker,
                ..
            } => Some((order_id, quantity, price, fee, maker)),
            _ => None,
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn market_orders_take_the_touch_with_spread_slippage_and_taker_fee() {
    let mut e = engine_with(|c| {
        c["paper"]["half_spread_bps"] = 10.0.into();
        c["paper"]["slippage_bps"] = 5.0.into();
    });
    let buy = market(Side::Buy, 1.0);
    e.submit(buy.clone(), T0);
    let f = fills(&mut e);
    let expected = 30_000.0 * 1.001 * 1.0005;
    assert_eq!(f.len(), 1);
    assert!(close(f[0].2, expected), "{f:?}");
    assert!(close(f[0].3, expected * 5.0 / 10_000.0));
    assert!(!f[0].4);
    assert!(close(e.ledger().cash(), 1_000_000.0 - expected - f[0].3));
    assert_eq!(status(&e, &buy.order_id), (OrderStatus::Filled, 1.0, 0.0));
}

#[test]
fn partial_fills_ioc_and_fok() {
    let mut e = engine();
    // The last print was 5 BTC: that is all the touch offers until the next print.
    let ioc = market(Side::Buy, 6.0);
    e.submit(
        OrderRequest {
            approval_token: None,
            ..ioc.clone()
        },
        T0,
    );
    let (st, filled, leaves) = status(&e, &ioc.order_id);
    // 6 BTC is above the approval threshold, so it waits instead.
    assert_eq!(
        (st, filled, leaves),
        (OrderStatus::PendingApproval, 0.0, 6.0)
    );

    let mut e = engine_with(no_approvals);
    let ioc = market(Side::Buy, 6.0);
    e.submit(ioc.clone(), T0);
    assert_eq!(status(&e, &ioc.order_id), (OrderStatus::Canceled, 5.0, 0.0));
    assert_eq!(e.ledger().account_position(BTC), 5.0);

    let mut e = engine_with(no_approvals);
    let fok = OrderRequest {
        time_in_force: TimeInForce::Fok,
        ..market(Side::Buy, 6.0)
    };
    e.submit(fok.clone(), T0);
    assert_eq!(status(&e, &fok.order_id), (OrderStatus::Canceled, 0.0, 0.0));
    assert_eq!(e.ledger().account_position(BTC), 0.0);
    let fok = OrderRequest {
        time_in_force: TimeInForce::Fok,
        ..market(Side::Buy, 4.0)
    };
    e.submit(fok.clone(), T0);
    assert_eq!(status(&e, &fok.order_id), (OrderStatus::Filled, 4.0, 0.0));

    let limit_ioc = OrderRequest {
        time_in_force: TimeInForce::Ioc,
        ..limit(Side::Buy, 0.5, 29_000.0)
    };
    e.submit(limit_ioc.clone(), T0);
    assert_eq!(
        status(&e, &limit_ioc.order_id),
        (OrderStatus::Canceled, 0.0, 0.0)
    );
}

#[test]
fn resting_orders_fill_in_price_time_priority_on_prints_that_trade_through() {
    let mut e = engine();
    let a = limit(Side::Buy, 1.0, 29_900.0);
    let b = limit(Side::Buy, 1.0, 29_900.0);
    let c = limit(Side::Buy, 1.0, 29_950.0);
    for o in [&a, &b, &c] {
        assert_eq!(e.submit(o.clone(), T0).verdict, Verdict::Accept);
        assert_eq!(status(&e, &o.order_id).0, OrderStatus::Accepted);
    }
    e.drain_events();
    // A print at our price does not prove we were reached in the queue.
    e.on_trade(BTC, T0 + 1, 29_950.0, 10.0).unwrap();
    assert!(fills(&mut e).is_empty());
    e.on_trade(BTC, T0 + 2, 29_800.0, 1.5).unwrap();
    let f = fills(&mut e);
    let got: Vec<(&str, f64, f64, bool)> =
        f.iter().map(|x| (x.0.as_str(), x.1, x.2, x.4)).collect();
    assert_eq!(
        got,
        vec![
            (c.order_id.as_str(), 1.0, 29_950.0, true),
            (a.order_id.as_str(), 0.5, 29_900.0, true)
        ]
    );
    assert_eq!(
        status(&e, &a.order_id),
        (OrderStatus::PartiallyFilled, 0.5, 0.5)
    );
    assert_eq!(status(&e, &b.order_id), (OrderStatus::Accepted, 0.0, 1.0));
    assert_eq!(e.book_depth("paper:BTC/USD").unwrap(), (1.5, 0.0));
    assert!(close(f[0].3, 29_950.0 * 1.0 / 10_000.0), "maker fee");
}

#[test]
fn modify_moves_an_order_and_loses_priority_on_a_new_price() {
    let mut e = engine();
    let a = limit(Side::Sell, 1.0, 30_100.0);
    let b = limit(Side::Sell, 1.0, 30_200.0);
    e.submit(a.clone(), T0);
    e.submit(b.clone(), T0);
    let d = e
        .modify(&b.order_id, Some(30_100.0), Some(0.5), T0)
        .unwrap();
    assert_eq!(d.verdict, Verdict::Accept);
    assert_eq!(status(&e, &b.order_id), (OrderStatus::Accepted, 0.0, 0.5));
    assert_eq!(e.open_quantities("paper:BTC/USD").unwrap(), (0.0, 1.5));
    e.drain_events();
    e.on_trade(BTC, T0 + 1, 30_200.0, 1.2).unwrap();
    let got: Vec<(String, f64)> = fills(&mut e).into_iter().map(|f| (f.0, f.1)).collect();
    assert_eq!(
        got,
        vec![(a.order_id.clone(), 1.0), (b.order_id.clone(), 0.2)]
    );
    assert!(matches!(
        e.modify(&a.order_id, Some(30_000.0), None, T0 + 2),
        Err(gateway_core::EngineError::OrderNotOpen(_))
    ));
    assert!(matches!(
        e.modify("nope", None, None, T0),
        Err(gateway_core::EngineError::OrderUnknown(_))
    ));
    assert!(e.cancel("nope", T0).is_err());
}

#[test]
fn latency_delays_arrival_and_a_fill_racing_a_cancel_is_booked() {
    let mut e = engine_with(|c| c["paper"]["latency_ms"] = 100.into());
    let o = limit(Side::Buy, 1.5, 29_900.0);
    e.submit(o.clone(), T0);
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::Submitted);
    e.advance(T0 + 99);
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::Submitted);
    e.advance(T0 + 100);
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::Accepted);
    e.cancel(&o.order_id, T0 + 200).unwrap();
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::PendingCancel);
    assert!(
        e.cancel(&o.order_id, T0 + 201).is_err(),
        "one cancel in flight"
    );
    // The market trades through before the cancel reaches the venue.
    e.on_trade(BTC, T0 + 250, 29_800.0, 0.5).unwrap();
    assert_eq!(
        status(&e, &o.order_id),
        (OrderStatus::PendingCancel, 0.5, 1.0)
    );
    assert_eq!(e.ledger().account_position(BTC), 0.5);
    e.advance(T0 + 300);
    assert_eq!(status(&e, &o.order_id), (OrderStatus::Canceled, 0.5, 0.0));
    assert_eq!(e.open_quantities("paper:BTC/USD").unwrap(), (0.0, 0.0));

    // A cancel sent before the order arrives: it never rests.
    let early = limit(Side::Buy, 1.0, 29_900.0);
    e.submit(early.clone(), T0 + 400);
    e.cancel(&early.order_id, T0 + 410).unwrap();
    e.advance(T0 + 600);
    assert_eq!(status(&e, &early.order_id).0, OrderStatus::Canceled);
    assert_eq!(e.book_depth("paper:BTC/USD").unwrap(), (0.0, 0.0));
}

#[test]
fn day_orders_expire_at_midnight_utc() {
    let mut e = engine();
    let o = OrderRequest {
        time_in_force: TimeInForce::Day,
        ..limit(Side::Buy, 1.0, 29_900.0)
    };
    e.submit(o.clone(), T0);
    let midnight = (T0 / 86_400_000 + 1) * 86_400_000;
    e.advance(midnight - 1);
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::Accepted);
    e.advance(midnight);
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::Expired);
}

#[test]
fn kill_switch_cancels_everything_and_halts_until_a_human_rearms() {
    let mut e = engine_with(|c| c["paper"]["latency_ms"] = 50.into());
    let resting = limit(Side::Buy, 1.0, 29_900.0);
    let in_flight = limit(Side::Sell, 1.0, 30_200.0);
    let pending = limit(Side::Buy, 2.0, 29_900.0);
    e.submit(resting.clone(), T0);
    e.advance(T0 + 50);
    e.submit(in_flight.clone(), T0 + 60);
    e.submit(pending.clone(), T0 + 60);
    assert_eq!(
        status(&e, &pending.order_id).0,
        OrderStatus::PendingApproval
    );
    e.drain_events();
    let canceled = e.kill("pm:alice", "runaway strategy", T0 + 70);
    assert_eq!(canceled.len(), 3);
    assert_eq!(status(&e, &resting.order_id).0, OrderStatus::Canceled);
    assert_eq!(status(&e, &in_flight.order_id).0, OrderStatus::Canceled);
    assert_eq!(status(&e, &pending.order_id).0, OrderStatus::Denied);
    assert_eq!(e.account_state(), TradingState::Halted);
    assert!(e.open_order_ids().is_empty());
    assert_eq!(e.book_depth("paper:BTC/USD").unwrap(), (0.0, 0.0));
    let halted = e.drain_events().into_iter().any(|ev| {
        matches!(ev, Event::TradingState { state: TradingState::Halted, ref actor, ref reason, .. } if actor == "pm:alice" && reason == "runaway strategy")
    });
    assert!(halted);
    e.advance(T0 + 500);
    assert_eq!(
        e.submit(limit(Side::Buy, 0.1, 29_900.0), T0 + 500)
            .reasons
            .codes(),
        vec!["TRADING_HALTED"]
    );
    assert!(e
        .rearm(&Actor::Human(String::new()), "because", T0 + 600)
        .is_err());
    assert!(e
        .rearm(&Actor::Agent("pm".into()), "because", T0 + 600)
        .is_err());
    assert!(e
        .rearm(&Actor::Human("alice".into()), " ", T0 + 600)
        .is_err());
    assert_eq!(e.account_state(), TradingState::Halted);
    e.rearm(
        &Actor::Human("alice".into()),
        "fixed the strategy",
        T0 + 600,
    )
    .unwrap();
    assert_eq!(e.account_state(), TradingState::Active);
    assert_eq!(
        e.submit(limit(Side::Buy, 0.1, 29_900.0), T0 + 600).verdict,
        Verdict::Accept
    );
}

#[test]
fn bars_replay_as_prints_and_bad_bars_are_refused_without_change() {
    let mut e = engine();
    let o = limit(Side::Buy, 1.0, 29_500.0);
    e.submit(o.clone(), T0);
    let before = (e.open_order_ids(), e.ledger().cash());
    for bad in [
        (30_000.0, f64::NAN, 29_000.0, 29_800.0, 10.0),
        (30_000.0, 29_900.0, 29_000.0, 29_800.0, 10.0),
        (30_000.0, 31_000.0, 29_000.0, 29_800.0, -1.0),
        (30_000.0, 31_000.0, 0.0, 29_800.0, 1.0),
    ] {
        assert!(e
            .on_bar(BTC, T0 + 60_000, 60_000, bad.0, bad.1, bad.2, bad.3, bad.4)
            .is_err());
    }
    assert!(e.on_trade(BTC, T0, f64::INFINITY, 1.0).is_err());
    assert!(e.on_trade(BTC, T0, 30_000.0, f64::NAN).is_err());
    assert!(e.on_trade(99, T0, 30_000.0, 1.0).is_err());
    assert_eq!((e.open_order_ids(), e.ledger().cash()), before);
    // Down bar: open, high, low, close. The low trades through our bid.
    e.on_bar(
        BTC,
        T0 + 60_000,
        60_000,
        30_000.0,
        30_100.0,
        29_000.0,
        29_800.0,
        8.0,
    )
    .unwrap();
    assert_eq!(status(&e, &o.order_id), (OrderStatus::Filled, 1.0, 0.0));
    assert!(close(e.ledger().position(0, BTC).average_price, 29_500.0));
}

#[test]
fn an_external_venue_reports_back_through_the_same_state_machine() {
    let config = GateConfig::from_json(&config_json(|_| {})).unwrap();
    let mut e = Engine::new(config, VenueMode::External).unwrap();
    e.set_reference(BTC, 30_000.0, T0).unwrap();
    let o = limit(Side::Buy, 1.0, 29_900.0);
    e.submit(o.clone(), T0);
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::Submitted);
    assert_eq!(
        e.venue_report(&o.order_id, "accepted", T0 + 1).unwrap(),
        OrderStatus::Accepted
    );
    let h = e.handle(&o.order_id).unwrap();
    e.book_fill(h, 0.4, 29_900.0, 1.0, true, T0 + 2).unwrap();
    assert!(
        e.book_fill(h, 0.7, 29_900.0, 1.0, true, T0 + 2).is_err(),
        "overfill refused"
    );
    assert!(e
        .book_fill(h, f64::NAN, 29_900.0, 1.0, true, T0 + 2)
        .is_err());
    e.cancel(&o.order_id, T0 + 3).unwrap();
    assert_eq!(
        e.venue_report(&o.order_id, "cancel_rejected", T0 + 4)
            .unwrap(),
        OrderStatus::PartiallyFilled
    );
    assert!(e.venue_report(&o.order_id, "accepted", T0 + 5).is_err());
    assert!(e.venue_report(&o.order_id, "bogus", T0 + 5).is_err());
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::PartiallyFilled);
    let canceled = e.kill("ops:bob", "venue incident", T0 + 6);
    assert_eq!(canceled, vec![o.order_id.clone()]);
    assert_eq!(status(&e, &o.order_id).0, OrderStatus::PendingCancel);
    assert_eq!(
        e.venue_report(&o.order_id, "canceled", T0 + 7).unwrap(),
        OrderStatus::Canceled
    );
    assert_eq!(e.open_quantities("paper:BTC/USD").unwrap(), (0.0, 0.0));
    assert!(close(e.ledger().account_position(BTC), 0.4));
}

#[test]
fn restored_fills_rebuild_positions_cash_and_pnl_and_only_on_a_fresh_engine() {
    let mut live = engine();
    let buy = market(Side::Buy, 1.0);
    live.submit(buy.clone(), T0);
    live.submit(market(Side::Sell, 0.4), T0 + 1);
    let booked = fills(&mut live);
    assert_eq!(booked.len(), 2);

    let mut restarted = engine();
    for (k, (_, quantity, price, fee, _)) in booked.iter().enumerate() {
        let side = if k == 0 { Side::Buy } else { Side::Sell };
        restarted
            .restore_fill(
                &buy.strategy_id,
                &buy.instrument_id,
                side,
                *quantity,
                *price,
                *fee,
            )
            .unwrap();
    }
    assert!(close(restarted.ledger().cash(), live.ledger().cash()));
    let (s, i) = (
        restarted.strategy_index(&buy.strategy_id).unwrap(),
        restarted.instrument_index(&buy.instrument_id).unwrap(),
    );
    let (was, now) = (
        live.ledger().position(s, i),
        restarted.ledger().position(s, i),
    );
    assert!(close(now.quantity, 0.6) && close(now.quantity, was.quantity));
    assert!(close(now.realized_pnl, was.realized_pnl) && close(now.fees, was.fees));
    assert!(restarted
        .restore_fill("nope", &buy.instrument_id, Side::Buy, 1.0, 1.0, 0.0)
        .is_err());
    assert!(restarted
        .restore_fill(
            &buy.strategy_id,
            &buy.instrument_id,
            Side::Buy,
            f64::NAN,
            1.0,
            0.0
        )
        .is_err());
    restarted.submit(market(Side::Buy, 0.1), T0 + 2);
    assert!(restarted
        .restore_fill(
            &buy.strategy_id,
            &buy.instrument_id,
            Side::Buy,
            1.0,
            30_000.0,
            0.0
        )
        .is_err());
}
