//! Event-driven replay: a strategy's target weights, bar by bar, through the same gate,
//! paper venue and ledger that paper trading uses. The loop lives here because a Python
//! loop cannot reach hundreds of thousands of bars a second.
//!
//! Fill model (shared with the vectorised backtester): the weight decided at bar t's close
//! is traded at bar t+1's open, as a market order against the paper venue's touch around
//! the open print; then the bar's high, low and close are replayed as prints.

use crate::engine::{Engine, EngineError};
use crate::events::Verdict;
use crate::increments::Grid;
use crate::order::{OrderRequest, OrderType, Side, TimeInForce};
use crate::reason::ReasonSet;

/// One bar series for one instrument and strategy.
pub struct ReplayInput<'a> {
    pub instrument_id: &'a str,
    pub strategy_id: &'a str,
    pub ts_ms: &'a [i64],
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub volume: &'a [f64],
    /// Target weight (fraction of equity, signed) decided at each bar's close.
    pub weights: &'a [f64],
    pub interval_ms: i64,
    /// Trade only when the target weight moves by more than this from the last traded one.
    pub rebalance_band: f64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReplayOutput {
    /// Equity at each bar's close.
    pub equity: Vec<f64>,
    /// Units held at each bar's close.
    pub position: Vec<f64>,
    pub orders: u64,
    pub denied: u64,
    pub needs_approval: u64,
    /// Union of every denial's reasons.
    pub denial_reasons: ReasonSet,
}

/// Units to hold for `weight`. A flip or a close sizes from the equity left after closing
/// the current position (close-then-open, as backtesting.py does); the Python vectorised
/// backtester (`tools/research/fill_model.py`) uses the same formula.
#[allow(clippy::too_many_arguments)]
pub fn target_units(
    weight: f64,
    cash: f64,
    position: f64,
    open: f64,
    buy_px: f64,
    sell_px: f64,
    fee: f64,
    lot: &Grid,
) -> f64 {
    let mut basis = cash + position * open;
    let flips = position != 0.0 && (weight == 0.0 || (weight > 0.0) != (position > 0.0));
    if flips {
        let px = if position > 0.0 { sell_px } else { buy_px };
        basis = cash + position * px - position.abs() * px * fee;
    }
    if weight == 0.0 {
        return 0.0;
    }
    let new_px = if weight > 0.0 { buy_px } else { sell_px };
    // On the lot grid exactly (3 lots of 0.1 is 0.3): the gate's lot check is exact.
    let units = lot.floor(weight.abs() * basis / (new_px * (1.0 + fee)), 1e-12);
    if weight > 0.0 {
        units
    } else {
        -units
    }
}

impl Engine {
    pub fn replay_targets(&mut self, input: &ReplayInput<'_>) -> Result<ReplayOutput, EngineError> {
        let n = input.ts_ms.len();
        let lengths = [
            input.open.len(),
            input.high.len(),
            input.low.len(),
            input.close.len(),
            input.volume.len(),
            input.weights.len(),
        ];
        if lengths.iter().any(|&m| m != n) {
            return Err(EngineError::BadArgument(
                "replay arrays must all have the same length".into(),
            ));
        }
        if input.interval_ms <= 0
            || !(input.rebalance_band.is_finite() && input.rebalance_band >= 0.0)
        {
            return Err(EngineError::BadArgument(
                "interval_ms must be > 0 and rebalance_band >= 0".into(),
            ));
        }
        let instrument = self.instrument_index(input.instrument_id).ok_or_else(|| {
            EngineError::BadArgument(format!("unknown instrument {}", input.instrument_id))
        })?;
        let strategy = self.strategy_index(input.strategy_id).ok_or_else(|| {
            EngineError::BadArgument(format!("unknown strategy {}", input.strategy_id))
        })?;
        let lot = self.instruments[instrument].lot;
        let fee = self.config.paper.taker_fee_bps / 10_000.0;
        let half = self.config.paper.half_spread_bps / 10_000.0;
        let slip = self.config.paper.slippage_bps / 10_000.0;
        let account_id = self.config.account_id.clone();
        let mut out = ReplayOutput {
            equity: Vec::with_capacity(n),
            position: Vec::with_capacity(n),
            ..ReplayOutput::default()
        };
        let mut traded_weight = 0.0_f64;
        let quarter = input.interval_ms / 4;
        for t in 0..n {
            let (ts, o, h, l, c, v) = (
                input.ts_ms[t],
                input.open[t],
                input.high[t],
                input.low[t],
                input.close[t],
                input.volume[t],
            );
            let valid = [o, h, l, c, v].iter().all(|x| x.is_finite())
                && l > 0.0
                && h >= o.max(c)
                && l <= o.min(c)
                && v >= 0.0;
            if !valid {
                return Err(EngineError::BadArgument(format!(
                    "bar {t} is not a valid bar: o={o} h={h} l={l} c={c} v={v}"
                )));
            }
            self.on_trade(instrument, ts, o, v / 4.0)?;
            let (buy_px, sell_px) = (
                o * (1.0 + half) * (1.0 + slip),
                o * (1.0 - half) * (1.0 - slip),
            );
            let wanted = if t > 0 { input.weights[t - 1] } else { 0.0 };
            let wanted = if wanted.is_finite() { wanted } else { 0.0 };
            if (wanted - traded_weight).abs() > input.rebalance_band && (t > 0) {
                let current = self.ledger.position(strategy, instrument).quantity;
                let target = target_units(
                    wanted,
                    self.ledger.cash(),
                    current,
                    o,
                    buy_px,
                    sell_px,
                    fee,
                    &lot,
                );
                let delta = target - current;
                if delta.abs() >= lot.step() * (1.0 - 1e-9) {
                    let side = if delta > 0.0 { Side::Buy } else { Side::Sell };
                    out.orders += 1;
                    let id = format!("{}-{}-{t}", input.strategy_id, self.next_handle);
                    let request = OrderRequest {
                        order_id: id.clone(),
                        client_order_id: id,
                        account_id: account_id.clone(),
                        strategy_id: input.strategy_id.to_string(),
                        instrument_id: input.instrument_id.to_string(),
                        side,
                        order_type: OrderType::Market,
                        // A difference of two grid values in floats can miss the grid
                        // (0.3 - 0.1 = 0.19999999999999998); the order is whole lots.
                        quantity: lot.at((delta.abs() / lot.step()).round() as i64),
                        price: None,
                        time_in_force: TimeInForce::Ioc,
                        expire_at_ms: None,
                        reduce_only: false,
                        approval_token: None,
                    };
                    let decision = self.submit(request, ts);
                    match decision.verdict {
                        Verdict::Accept => {}
                        Verdict::Deny => {
                            out.denied += 1;
                            out.denial_reasons.0 |= decision.reasons.0;
                        }
                        Verdict::NeedsApproval => out.needs_approval += 1,
                    }
                }
                // A denied rebalance is retried only when the target moves again.
                traded_weight = wanted;
            }
            let (first, second) = if c >= o { (l, h) } else { (h, l) };
            self.on_trade(instrument, ts + quarter, first, v / 4.0)?;
            self.on_trade(instrument, ts + 2 * quarter, second, v / 4.0)?;
            self.on_trade(instrument, ts + input.interval_ms - 1, c, v / 4.0)?;
            out.equity.push(self.equity());
            out.position
                .push(self.ledger.position(strategy, instrument).quantity);
            // Events are for the audit trail of live and paper runs; a backtest keeps counts.
            self.events.clear();
        }
        Ok(out)
    }
}
