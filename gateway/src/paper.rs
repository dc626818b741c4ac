//! The paper venue: our resting orders on a price-time book, filled by replayed prints;
//! marketable orders take a synthetic touch around the last print. Latency, slippage and
//! maker/taker fees come from the config. The backtester drives this same code.

use crate::engine::{Engine, EngineError, VenueMode};
use crate::increments::Grid;
use crate::order::{OrderEvent, OrderStatus, OrderType, Side, TimeInForce, VenueAction};

fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// Largest multiple of `lot` not above `quantity` (with float slack), on the lot grid.
fn floor_to_lot(quantity: f64, lot: &Grid) -> f64 {
    lot.floor(quantity, 1e-9).min(quantity).max(0.0)
}

impl Engine {
    pub(crate) fn enqueue(&mut self, now_ms: i64, handle: u64, action: VenueAction) {
        let latency = i64::try_from(self.config.paper.latency_ms).unwrap_or(i64::MAX);
        self.queue
            .push_back((now_ms.saturating_add(latency), handle, action));
        if latency == 0 {
            self.process_due(now_ms);
        }
    }

    /// Let simulated time pass: deliver due actions, expire orders, re-check breakers.
    pub fn advance(&mut self, now_ms: i64) {
        self.apply_latch();
        self.process_due(now_ms);
        self.expire_due(now_ms);
        self.evaluate_breakers(now_ms);
    }

    fn process_due(&mut self, now_ms: i64) {
        while let Some(&(at, handle, action)) = self.queue.front() {
            if at > now_ms {
                break;
            }
            self.queue.pop_front();
            match action {
                VenueAction::Arrive => self.arrive(handle, at),
                VenueAction::Modify => self.arrive_modify(handle, at),
                VenueAction::Cancel => {
                    if self
                        .orders
                        .get(&handle)
                        .is_some_and(|o| o.life.status == OrderStatus::PendingCancel)
                    {
                        self.paper_cancel_now(handle, at);
                    }
                }
            }
        }
    }

    fn arrive(&mut self, handle: u64, at: i64) {
        // A cancel sent before the order arrived is handled by the Cancel action behind it.
        if self
            .orders
            .get(&handle)
            .is_none_or(|o| o.life.status != OrderStatus::Submitted)
        {
            return;
        }
        self.transition(handle, OrderEvent::Accept, at);
        if self.orders[&handle].expire_at_ms.is_some_and(|t| t <= at) {
            self.close_unfilled(handle, OrderEvent::Expire, at);
            return;
        }
        self.place(handle, at);
    }

    fn arrive_modify(&mut self, handle: u64, at: i64) {
        if self
            .orders
            .get(&handle)
            .is_none_or(|o| o.life.status != OrderStatus::PendingUpdate)
        {
            return;
        }
        self.forget_resting(handle);
        self.apply_update(handle, at);
        self.place(handle, at);
    }

    /// Take what the touch offers, then rest the remainder or cancel it (IOC, FOK, market).
    fn place(&mut self, handle: u64, at: i64) {
        self.take_liquidity(handle, at);
        let Some(o) = self.orders.get(&handle) else {
            return;
        };
        if !o.life.status.is_open() || o.leaves <= 0.0 {
            return;
        }
        let price = o.request.price;
        let rests = o.request.order_type == OrderType::Limit && o.request.time_in_force.rests();
        let (side, leaves, i) = (o.request.side, o.leaves, o.instrument);
        match (rests, price) {
            (true, Some(price)) => {
                let ticks = self.instruments[i].tick.nearest_steps(price);
                if self.instruments[i]
                    .book
                    .add(handle, side, ticks, leaves)
                    .is_ok()
                {
                    self.remember_resting(handle, ticks);
                }
            }
            _ => {
                self.close_unfilled(handle, OrderEvent::CancelAccepted, at);
            }
        }
    }

    fn take_liquidity(&mut self, handle: u64, at: i64) {
        let o = &self.orders[&handle];
        let (side, i, leaves, limit, tif) = (
            o.request.side,
            o.instrument,
            o.leaves,
            o.request.price,
            o.request.time_in_force,
        );
        let Some(reference) = self.instruments[i].reference else {
            return;
        };
        let paper = self.config.paper;
        let half = paper.half_spread_bps / 10_000.0;
        let slip = paper.slippage_bps / 10_000.0;
        let (touch, fill_price) = match side {
            Side::Buy => (
                reference * (1.0 + half),
                reference * (1.0 + half) * (1.0 + slip),
            ),
            Side::Sell => (
                reference * (1.0 - half),
                reference * (1.0 - half) * (1.0 - slip),
            ),
        };
        let marketable = match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(p)) => p >= touch,
            (Side::Sell, Some(p)) => p <= touch,
        };
        if !marketable {
            return;
        }
        // A limit order never fills beyond its limit, slippage or not.
        let price = match (side, limit) {
            (Side::Buy, Some(p)) => fill_price.min(p),
            (Side::Sell, Some(p)) => fill_price.max(p),
            (_, None) => fill_price,
        };
        let lot = self.instruments[i].lot;
        let available = floor_to_lot(self.instruments[i].touch_left[side_index(side)], &lot);
        if tif == TimeInForce::Fok && available < leaves * (1.0 - 1e-9) {
            self.close_unfilled(handle, OrderEvent::CancelAccepted, at);
            return;
        }
        let quantity = leaves.min(available);
        if quantity <= 0.0 {
            return;
        }
        let fee = quantity * price * paper.taker_fee_bps / 10_000.0;
        if self
            .book_fill(handle, quantity, price, fee, false, at)
            .is_ok()
        {
            self.instruments[i].touch_left[side_index(side)] -= quantity;
        }
    }

    pub(crate) fn paper_cancel_now(&mut self, handle: u64, now_ms: i64) {
        self.forget_resting(handle);
        if self
            .orders
            .get(&handle)
            .is_some_and(|o| o.life.status.is_open())
        {
            self.close_unfilled(handle, OrderEvent::CancelAccepted, now_ms);
        }
    }

    fn expire_due(&mut self, now_ms: i64) {
        while let Some(&(at, handle)) = self.expiries.first() {
            if at > now_ms {
                break;
            }
            self.expiries.pop_first();
            let expirable = self.orders.get(&handle).is_some_and(|o| {
                matches!(
                    o.life.status,
                    OrderStatus::Submitted
                        | OrderStatus::Accepted
                        | OrderStatus::PartiallyFilled
                        | OrderStatus::PendingUpdate
                )
            });
            if expirable && self.mode == VenueMode::Paper {
                self.forget_resting(handle);
                self.close_unfilled(handle, OrderEvent::Expire, at);
            }
        }
    }

    /// A print from market data: the new reference price, fills for our resting orders it
    /// trades through (strictly: a touch does not prove our place in the queue was reached).
    pub fn on_trade(
        &mut self,
        instrument: usize,
        ts_ms: i64,
        price: f64,
        size: f64,
    ) -> Result<(), EngineError> {
        if instrument >= self.instruments.len() {
            return Err(EngineError::BadArgument(format!(
                "no instrument index {instrument}"
            )));
        }
        if !(price.is_finite() && price > 0.0 && size.is_finite() && size >= 0.0) {
            return Err(EngineError::BadArgument(format!(
                "a print needs a finite price > 0 and size >= 0, got {price} x {size}"
            )));
        }
        self.apply_latch();
        self.process_due(ts_ms);
        let offered = size * self.config.paper.liquidity_fraction;
        let (tick, lot) = (
            self.instruments[instrument].tick,
            self.instruments[instrument].lot,
        );
        {
            let inst = &mut self.instruments[instrument];
            inst.reference = Some(price);
            inst.reference_ms = ts_ms;
            inst.last_size = size;
            inst.touch_left = [offered; 2];
        }
        if self.mode == VenueMode::Paper {
            let ticks = tick.nearest_steps(price);
            let mut fills = Vec::new();
            let budget = floor_to_lot(offered, &lot);
            let used = self.instruments[instrument].book.execute(
                Side::Sell,
                Some(ticks),
                false,
                budget,
                &mut fills,
            );
            self.instruments[instrument].book.execute(
                Side::Buy,
                Some(ticks),
                false,
                budget - used,
                &mut fills,
            );
            let maker = self.config.paper.maker_fee_bps / 10_000.0;
            for fill in fills {
                // The level's own decimal (30000.01), not ticks * tick (30000.010000000002).
                let fill_price = tick.at(fill.ticks);
                // Subtracting lots in binary floats leaves dust (1.2 - 1.0 = 0.19999...):
                // report fills on the lot grid.
                let snapped = lot.at((fill.quantity / lot.step()).round() as i64);
                let quantity = if (snapped - fill.quantity).abs() <= lot.step() * 1e-6 {
                    snapped
                } else {
                    fill.quantity
                };
                // The book already took the quantity off; the engine books it.
                let _ = self.book_fill(
                    fill.id,
                    quantity,
                    fill_price,
                    quantity * fill_price * maker,
                    true,
                    ts_ms,
                );
            }
            self.expire_due(ts_ms);
        }
        self.rebuild_exposure();
        self.evaluate_breakers(ts_ms);
        Ok(())
    }

    /// Replay a bar as four prints (open, the nearer extreme, the other, close) spread over
    /// the bar, each with a quarter of its volume.
    #[allow(clippy::too_many_arguments)]
    pub fn on_bar(
        &mut self,
        instrument: usize,
        ts_ms: i64,
        interval_ms: i64,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Result<(), EngineError> {
        let finite = [open, high, low, close, volume]
            .iter()
            .all(|v| v.is_finite());
        if !finite
            || low <= 0.0
            || high < open.max(close)
            || low > open.min(close)
            || volume < 0.0
            || interval_ms <= 0
        {
            return Err(EngineError::BadArgument(format!(
                "not a valid bar: o={open} h={high} l={low} c={close} v={volume} interval={interval_ms}"
            )));
        }
        let path = if close >= open {
            [open, low, high, close]
        } else {
            [open, high, low, close]
        };
        let step = interval_ms / 4;
        for (k, price) in path.into_iter().enumerate() {
            let at = ts_ms + step * k as i64 + if k == 3 { step - 1 } else { 0 };
            self.on_trade(instrument, at, price, volume / 4.0)?;
        }
        Ok(())
    }
}
