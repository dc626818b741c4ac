//! The pre-trade gate: every check, each with a stable reason code. A check reads the
//! engine's state and never changes it, so a denial leaves everything as it was.

use std::collections::VecDeque;

use crate::config::{MarginMode, RateLimit};
use crate::engine::Engine;
use crate::events::{Decision, TradingState, Verdict};
use crate::order::{OrderRequest, OrderStatus, OrderType, RequestView, Side, TimeInForce};
use crate::reason::{Reason, ReasonSet};

/// An order with its ids already resolved to indices: what the hot path and the batch API
/// check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoreOrder {
    pub instrument: usize,
    pub strategy: usize,
    pub side: Side,
    pub order_type: OrderType,
    pub price: Option<f64>,
    pub quantity: f64,
    pub time_in_force: TimeInForce,
    pub expire_at_ms: Option<i64>,
    pub reduce_only: bool,
}

/// The open quantity a modify replaces, left out of the sums it is checked against.
#[derive(Debug, Clone, Copy, Default)]
struct Own {
    leaves: f64,
    basis: f64,
}

const EPS: f64 = 1e-9;

pub fn verdict(reasons: ReasonSet) -> Verdict {
    if reasons.is_empty() {
        Verdict::Accept
    } else if reasons.without(Reason::ApprovalRequired).is_empty() {
        Verdict::NeedsApproval
    } else {
        Verdict::Deny
    }
}

/// Whether `o` only moves `position` toward zero and never through it, counting the open
/// orders on its side (`open_buy`, `open_sell`) as filled: a sell from a long, or a buy into
/// a short, of no more than is left. Nothing reduces a flat position.
fn only_reduces(o: &CoreOrder, position: f64, open_buy: f64, open_sell: f64) -> bool {
    match o.side {
        Side::Sell => position > 0.0 && o.quantity + open_sell <= position * (1.0 + EPS),
        Side::Buy => position < 0.0 && o.quantity + open_buy <= -position * (1.0 + EPS),
    }
}

fn within_rate(window: &VecDeque<i64>, limit: RateLimit, now_ms: i64) -> bool {
    let since = now_ms.saturating_sub(i64::try_from(limit.window_ms).unwrap_or(i64::MAX));
    let (a, b) = window.as_slices();
    let recent =
        a.len() - a.partition_point(|&t| t <= since) + b.len() - b.partition_point(|&t| t <= since);
    recent < limit.max as usize
}

/// Checks that need no instrument: they run even when the instrument is unknown, so the
/// decision lists every failure.
fn basic_checks(o: &CoreOrder, now_ms: i64, r: &mut ReasonSet) {
    match (o.order_type, o.price) {
        (OrderType::Limit, None) => r.insert(Reason::PriceMissing),
        (OrderType::Limit, Some(p)) if !p.is_finite() => r.insert(Reason::PriceNotFinite),
        (OrderType::Limit, Some(p)) if p <= 0.0 => r.insert(Reason::PriceNotPositive),
        (OrderType::Market, Some(_)) => r.insert(Reason::PriceNotAllowed),
        _ => {}
    }
    if !o.quantity.is_finite() {
        r.insert(Reason::QuantityNotFinite);
    } else if o.quantity <= 0.0 {
        r.insert(Reason::QuantityNotPositive);
    }
    match (o.time_in_force, o.expire_at_ms) {
        (TimeInForce::Gtd, None) => r.insert(Reason::ExpiryMissing),
        (TimeInForce::Gtd, Some(t)) if t <= now_ms => r.insert(Reason::ExpiryInPast),
        (TimeInForce::Gtd, Some(_)) => {}
        (_, Some(_)) => r.insert(Reason::ExpiryNotAllowed),
        _ => {}
    }
    if o.order_type == OrderType::Market
        && matches!(o.time_in_force, TimeInForce::Gtd | TimeInForce::Day)
    {
        r.insert(Reason::TimeInForceInvalid);
    }
}

impl Engine {
    /// Every check that needs the instrument and the engine's state. Returns the reasons
    /// and the order's notional (0 when it cannot be valued).
    fn instrument_checks(
        &self,
        o: &CoreOrder,
        own: Own,
        equity: f64,
        rate: (&VecDeque<i64>, RateLimit, Reason),
        now_ms: i64,
        r: &mut ReasonSet,
    ) -> f64 {
        let cfg = &self.config;
        let limits = &cfg.instruments[o.instrument];
        let inst = &self.instruments[o.instrument];
        if !limits.tradable {
            r.insert(Reason::InstrumentNotTradable);
        }
        if inst.restricted {
            r.insert(Reason::InstrumentRestricted);
        }
        if !inst.venue_up {
            r.insert(Reason::VenueDown);
        }
        if self.account_state() == TradingState::Halted {
            r.insert(Reason::TradingHalted);
        }
        if self.strategy_halted(o.strategy) {
            r.insert(Reason::StrategyHalted);
        }
        let price_ok = match o.price {
            Some(p) if p.is_finite() && p > 0.0 => {
                if inst.tick.contains(p) != Ok(true) {
                    r.insert(Reason::PriceNotOnTick);
                }
                true
            }
            Some(_) => false,
            None => o.order_type == OrderType::Market,
        };
        let qty_ok = o.quantity.is_finite() && o.quantity > 0.0;
        if qty_ok {
            if inst.lot.contains(o.quantity) != Ok(true) {
                r.insert(Reason::QuantityNotOnLot);
            }
            // Exact: float order is decimal order for shortest round-trip decimals, and a
            // slack here would let through sizes the exact lot check is meant to hold to.
            if o.quantity < limits.min_quantity {
                r.insert(Reason::QuantityBelowMin);
            }
            if o.quantity > limits.max_quantity {
                r.insert(Reason::QuantityAboveMax);
            }
        }
        let reference = match inst.reference {
            None => {
                r.insert(Reason::ReferencePriceMissing);
                None
            }
            Some(reference) => {
                if now_ms.saturating_sub(inst.reference_ms)
                    > i64::try_from(cfg.max_reference_age_ms).unwrap_or(i64::MAX)
                {
                    r.insert(Reason::ReferencePriceStale);
                }
                Some(reference)
            }
        };
        if let (Some(reference), Some(p), true) = (reference, o.price, price_ok) {
            if ((p / reference - 1.0).abs() * 10_000.0) > cfg.collar_bps {
                r.insert(Reason::PriceOutsideCollar);
            }
        }
        if !within_rate(rate.0, rate.1, now_ms) {
            r.insert(rate.2);
        }
        match o.side {
            Side::Buy => {
                if let Some(&ask) = inst.own_asks.keys().next() {
                    if o.order_type == OrderType::Market
                        || o.price.is_some_and(|p| inst.tick.nearest_steps(p) >= ask)
                    {
                        r.insert(Reason::SelfTrade);
                    }
                }
            }
            Side::Sell => {
                if let Some(&bid) = inst.own_bids.keys().next_back() {
                    if o.order_type == OrderType::Market
                        || o.price.is_some_and(|p| inst.tick.nearest_steps(p) <= bid)
                    {
                        r.insert(Reason::SelfTrade);
                    }
                }
            }
        }
        let basis = if o.order_type == OrderType::Limit {
            o.price.filter(|_| price_ok)
        } else {
            reference
        };
        let (Some(basis), Some(reference), true) = (basis, reference, qty_ok) else {
            return 0.0;
        };
        let notional = o.quantity * basis;
        if notional < limits.min_notional * (1.0 - EPS) {
            r.insert(Reason::NotionalBelowMin);
        }
        if notional > limits.max_notional * (1.0 + EPS) {
            r.insert(Reason::NotionalAboveMax);
        }
        if notional > cfg.max_order_notional * (1.0 + EPS) {
            r.insert(Reason::NotionalExceedsMaxPerOrder);
        }
        self.exposure_checks(o, own, equity, basis, reference, notional, r);
        notional
    }

    #[allow(clippy::too_many_arguments)]
    fn exposure_checks(
        &self,
        o: &CoreOrder,
        own: Own,
        equity: f64,
        basis: f64,
        reference: f64,
        notional: f64,
        r: &mut ReasonSet,
    ) {
        let cfg = &self.config;
        let inst = &self.instruments[o.instrument];
        let (own_buy, own_sell) = match o.side {
            Side::Buy => (own.leaves, 0.0),
            Side::Sell => (0.0, own.leaves),
        };
        let (buy, sell) = match o.side {
            Side::Buy => (o.quantity, 0.0),
            Side::Sell => (0.0, o.quantity),
        };
        // Worst case per instrument: every open order on one side fills.
        let worst = |pos: f64, ob: f64, os: f64| (pos + ob).abs().max((pos - os).abs());
        let pos = self.ledger.account_position(o.instrument);
        let (ob, os) = (inst.open_buy - own_buy, inst.open_sell - own_sell);
        let now_worst = worst(pos, inst.open_buy, inst.open_sell);
        let after_worst = worst(pos, ob + buy, os + sell);
        let increases = after_worst > now_worst * (1.0 + EPS) + EPS;

        if after_worst > cfg.instruments[o.instrument].max_position * (1.0 + EPS) && increases {
            r.insert(Reason::PositionLimitInstrument);
        }
        let n_i = self.instruments.len();
        let (sob, sos) = self.strategy_open[o.strategy * n_i + o.instrument];
        let spos = self.ledger.position(o.strategy, o.instrument).quantity;
        let s_now = worst(spos, sob, sos);
        let s_after = worst(spos, sob - own_buy + buy, sos - own_sell + sell);
        let s_increases = s_after > s_now * (1.0 + EPS) + EPS;
        if s_after * basis > self.strategies[o.strategy].max_position_notional * (1.0 + EPS)
            && s_increases
        {
            r.insert(Reason::PositionLimitStrategy);
        }
        let gross_after = self.exposure.gross + (after_worst - now_worst) * reference;
        if gross_after > cfg.max_gross_exposure * (1.0 + EPS) && increases {
            r.insert(Reason::GrossExposureLimit);
        }
        let net_long = self.exposure.net_long + (buy - own_buy) * reference;
        let net_short = self.exposure.net_short - (sell - own_sell) * reference;
        let net_now = self
            .exposure
            .net_long
            .abs()
            .max(self.exposure.net_short.abs());
        let net_after = net_long.abs().max(net_short.abs());
        if net_after > cfg.max_net_exposure * (1.0 + EPS) && net_after > net_now * (1.0 + EPS) + EPS
        {
            r.insert(Reason::NetExposureLimit);
        }
        match cfg.margin_mode {
            MarginMode::Cash => match o.side {
                Side::Buy => {
                    let fee = notional * cfg.paper.taker_fee_bps / 10_000.0;
                    let committed = self.open_buy_notional - own.leaves * own.basis;
                    if committed + notional + fee > self.ledger.cash() * (1.0 + EPS) {
                        r.insert(Reason::InsufficientCash);
                    }
                }
                Side::Sell => {
                    if pos - os - sell < -EPS * o.quantity.max(1.0) {
                        r.insert(Reason::ShortNotAllowed);
                    }
                }
            },
            MarginMode::Margin => {
                if increases && gross_after / cfg.leverage > equity * (1.0 + EPS) {
                    r.insert(Reason::InsufficientMargin);
                }
            }
        }
        // REDUCING, a tripped breaker and the reduce-only flag all ask the same of an order:
        // that it only moves a position toward zero. Worst-case size is not that test: long 2,
        // a sell of 3 leaves |-1| < 2 yet opens a short, and the desk could swing back and
        // forth while meant to be reducing.
        let reduces = only_reduces(o, pos, ob, os);
        if !reduces {
            if self.daily_breaker {
                r.insert(Reason::DailyLossLimit);
            }
            if self.drawdown_breaker {
                r.insert(Reason::DrawdownBreaker);
            }
            if self.account_state() == TradingState::Reducing {
                r.insert(Reason::ReducingOnly);
            }
            if o.reduce_only {
                r.insert(Reason::ReduceOnlyWouldIncrease);
            }
        }
        // A strategy in REDUCING answers for its own position, whatever the account holds.
        if self.strategy_states[o.strategy] == TradingState::Reducing
            && !only_reduces(o, spos, sob - own_buy, sos - own_sell)
        {
            r.insert(Reason::ReducingOnly);
        }
    }

    fn approval_checks(
        &self,
        request: RequestView<'_>,
        notional: f64,
        now_ms: i64,
        r: &mut ReasonSet,
    ) {
        match request.approval_token {
            Some(token) => match self.key.verify_view(request, token, now_ms) {
                Ok(approvers) if approvers < self.approvers_for(notional) => {
                    r.insert(Reason::ApprovalTooFewApprovers)
                }
                Ok(_) => {}
                Err(reason) => r.insert(reason),
            },
            None => {
                if notional > self.config.approval_notional {
                    r.insert(Reason::ApprovalRequired);
                }
            }
        }
    }

    /// How many distinct humans must approve an order of this notional (0: none).
    pub fn approvers_for(&self, notional: f64) -> usize {
        if notional > self.config.dual_approval_notional {
            2
        } else {
            usize::from(notional > self.config.approval_notional)
        }
    }

    /// Decide on a new order. Pure: the engine is unchanged whatever the answer.
    pub fn check(&self, request: &OrderRequest, now_ms: i64) -> Decision {
        self.check_valued(request.view(), now_ms).0
    }

    /// [`Engine::check`] for a borrowed request.
    pub fn check_view(&self, request: RequestView<'_>, now_ms: i64) -> Decision {
        self.check_valued(request, now_ms).0
    }

    /// The decision on a new order, and its notional as the gate values it (0 when it
    /// cannot be valued).
    pub(crate) fn check_valued(&self, request: RequestView<'_>, now_ms: i64) -> (Decision, f64) {
        let mut r = ReasonSet::EMPTY;
        let instrument = self.instrument_index.get(request.instrument_id).copied();
        let strategy = self.strategy_index.get(request.strategy_id).copied();
        if instrument.is_none() {
            r.insert(Reason::InstrumentUnknown);
        }
        if strategy.is_none() {
            r.insert(Reason::StrategyUnknown);
        }
        if request.account_id != self.config.account_id {
            r.insert(Reason::AccountMismatch);
        }
        match self
            .handles
            .get(request.order_id)
            .and_then(|h| self.orders.get(h))
        {
            Some(pending) if pending.life.status == OrderStatus::PendingApproval => {
                // The same order resubmitted with its approval token: equal in all but that.
                let stored = RequestView {
                    approval_token: request.approval_token,
                    ..pending.request.view()
                };
                if stored != request {
                    r.insert(Reason::DuplicateClientOrderId);
                }
            }
            Some(_) => r.insert(Reason::DuplicateClientOrderId),
            None => {
                if self.client_ids.contains(request.client_order_id)
                    || self.restored.contains_key(request.order_id)
                {
                    r.insert(Reason::DuplicateClientOrderId);
                }
            }
        }
        let core = CoreOrder {
            instrument: instrument.unwrap_or(0),
            strategy: strategy.unwrap_or(0),
            side: request.side,
            order_type: request.order_type,
            price: request.price,
            quantity: request.quantity,
            time_in_force: request.time_in_force,
            expire_at_ms: request.expire_at_ms,
            reduce_only: request.reduce_only,
        };
        basic_checks(&core, now_ms, &mut r);
        let mut notional = 0.0;
        if instrument.is_some() && strategy.is_some() {
            let rate = (
                &self.submits,
                self.config.submit_rate,
                Reason::SubmitRateExceeded,
            );
            notional = self.instrument_checks(
                &core,
                Own::default(),
                self.equity_for_checks(),
                rate,
                now_ms,
                &mut r,
            );
            self.approval_checks(request, notional, now_ms, &mut r);
        }
        (
            Decision {
                verdict: verdict(r),
                reasons: r,
            },
            notional,
        )
    }

    /// Decide on a change to an open order, counting it once (not old plus new).
    pub(crate) fn check_modify(
        &self,
        handle: u64,
        changed: &OrderRequest,
        now_ms: i64,
    ) -> Decision {
        let mut r = ReasonSet::EMPTY;
        let o = &self.orders[&handle];
        let core = CoreOrder {
            instrument: o.instrument,
            strategy: o.strategy,
            side: changed.side,
            order_type: changed.order_type,
            price: changed.price,
            quantity: changed.quantity,
            time_in_force: changed.time_in_force,
            expire_at_ms: None,
            reduce_only: changed.reduce_only,
        };
        basic_checks(&core, i64::MIN, &mut r);
        let own = Own {
            leaves: o.leaves,
            basis: o.basis_price,
        };
        let rate = (
            &self.modifies,
            self.config.modify_rate,
            Reason::ModifyRateExceeded,
        );
        let notional =
            self.instrument_checks(&core, own, self.equity_for_checks(), rate, now_ms, &mut r);
        if notional > self.config.approval_notional
            && notional > o.leaves * o.basis_price * (1.0 + EPS)
        {
            r.insert(Reason::ApprovalRequired);
        }
        // A modify cannot wait for approval: it is denied and a new order must be sent.
        let verdict = if r.is_empty() {
            Verdict::Accept
        } else {
            Verdict::Deny
        };
        Decision {
            verdict,
            reasons: r,
        }
    }

    fn equity_for_checks(&self) -> f64 {
        if self.config.margin_mode == MarginMode::Margin {
            self.equity()
        } else {
            0.0
        }
    }

    /// Screen many orders at once against the current state, each independently (what-if:
    /// nothing is consumed, no client ids, no rate budget). Writes a verdict (0 accept,
    /// 1 deny, 2 needs approval) and a reason bitmask per order.
    pub fn check_batch(
        &self,
        orders: &[CoreOrder],
        now_ms: i64,
        verdicts: &mut [u8],
        reasons: &mut [u64],
    ) {
        let equity = self.equity_for_checks();
        let rate = (
            &self.submits,
            self.config.submit_rate,
            Reason::SubmitRateExceeded,
        );
        let (n_i, n_s) = (self.instruments.len(), self.strategy_states.len());
        for ((o, v), m) in orders
            .iter()
            .zip(verdicts.iter_mut())
            .zip(reasons.iter_mut())
        {
            let mut r = ReasonSet::EMPTY;
            basic_checks(o, now_ms, &mut r);
            if o.instrument >= n_i {
                r.insert(Reason::InstrumentUnknown);
            }
            if o.strategy >= n_s {
                r.insert(Reason::StrategyUnknown);
            }
            if o.instrument < n_i && o.strategy < n_s {
                let notional =
                    self.instrument_checks(o, Own::default(), equity, rate, now_ms, &mut r);
                if notional > self.config.approval_notional {
                    r.insert(Reason::ApprovalRequired);
                }
            }
            *m = r.0;
            *v = match verdict(r) {
                Verdict::Accept => 0,
                Verdict::Deny => 1,
                Verdict::NeedsApproval => 2,
            };
        }
    }
}
