//! Positions, cash, realised and unrealised PnL and fees, per strategy and for the account.
//! Average-cost accounting; one settlement currency.

use crate::order::Side;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PositionBook {
    /// Signed units: short < 0.
    pub quantity: f64,
    pub average_price: f64,
    pub realized_pnl: f64,
    pub fees: f64,
}

impl PositionBook {
    pub fn unrealized(&self, mark: f64) -> f64 {
        (mark - self.average_price) * self.quantity
    }

    /// Book one execution; returns the PnL it realised.
    fn apply(&mut self, side: Side, quantity: f64, price: f64, fee: f64) -> f64 {
        let signed = side.sign() * quantity;
        let mut realized = 0.0;
        if self.quantity == 0.0 || self.quantity.signum() == signed.signum() {
            let total = self.quantity + signed;
            self.average_price =
                (self.average_price * self.quantity.abs() + price * quantity) / total.abs();
            self.quantity = total;
        } else {
            let closing = quantity.min(self.quantity.abs());
            realized = (price - self.average_price) * closing * self.quantity.signum();
            let total = self.quantity + signed;
            if total.abs() < 1e-12 {
                self.quantity = 0.0;
                self.average_price = 0.0;
            } else if total.signum() == self.quantity.signum() {
                self.quantity = total;
            } else {
                // Flipped through zero: the remainder opens at this price.
                self.quantity = total;
                self.average_price = price;
            }
        }
        self.realized_pnl += realized;
        self.fees += fee;
        realized
    }
}

pub struct Ledger {
    n_instruments: usize,
    starting_cash: f64,
    cash: f64,
    /// Indexed by strategy * n_instruments + instrument.
    by_strategy: Vec<PositionBook>,
    /// Account position per instrument (the sum over strategies).
    by_instrument: Vec<f64>,
}

impl Ledger {
    pub fn new(n_strategies: usize, n_instruments: usize, starting_cash: f64) -> Ledger {
        Ledger {
            n_instruments,
            starting_cash,
            cash: starting_cash,
            by_strategy: vec![PositionBook::default(); n_strategies * n_instruments],
            by_instrument: vec![0.0; n_instruments],
        }
    }

    /// Room for one more strategy (its books start empty), after those it has.
    pub fn add_strategy(&mut self) {
        let n = self.by_strategy.len() + self.n_instruments;
        self.by_strategy.resize(n, PositionBook::default());
    }

    pub fn cash(&self) -> f64 {
        self.cash
    }

    pub fn starting_cash(&self) -> f64 {
        self.starting_cash
    }

    #[inline]
    pub fn position(&self, strategy: usize, instrument: usize) -> &PositionBook {
        &self.by_strategy[strategy * self.n_instruments + instrument]
    }

    #[inline]
    pub fn account_position(&self, instrument: usize) -> f64 {
        self.by_instrument[instrument]
    }

    pub fn book_fill(
        &mut self,
        strategy: usize,
        instrument: usize,
        side: Side,
        quantity: f64,
        price: f64,
        fee: f64,
    ) -> f64 {
        self.cash -= side.sign() * quantity * price + fee;
        self.by_instrument[instrument] += side.sign() * quantity;
        if self.by_instrument[instrument].abs() < 1e-12 {
            self.by_instrument[instrument] = 0.0;
        }
        self.by_strategy[strategy * self.n_instruments + instrument]
            .apply(side, quantity, price, fee)
    }

    /// Cash plus every position at `marks` (missing marks value a position at its cost).
    pub fn equity(&self, marks: &[Option<f64>]) -> f64 {
        self.equity_with(|i| marks[i])
    }

    /// As `equity`, with marks looked up per instrument (no allocation on the hot path).
    pub fn equity_with(&self, mark: impl Fn(usize) -> Option<f64>) -> f64 {
        let mut equity = self.cash;
        for (k, p) in self.by_strategy.iter().enumerate() {
            if p.quantity != 0.0 {
                equity += p.quantity * mark(k % self.n_instruments).unwrap_or(p.average_price);
            }
        }
        equity
    }

    pub fn totals(&self) -> (f64, f64) {
        self.by_strategy
            .iter()
            .fold((0.0, 0.0), |(r, f), p| (r + p.realized_pnl, f + p.fees))
    }

    /// (strategy, instrument, position) for every non-empty position book.
    pub fn positions(&self) -> impl Iterator<Item = (usize, usize, &PositionBook)> {
        self.by_strategy
            .iter()
            .enumerate()
            .filter(|(_, p)| p.quantity != 0.0 || p.realized_pnl != 0.0 || p.fees != 0.0)
            .map(move |(k, p)| (k / self.n_instruments, k % self.n_instruments, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn round_trip_realises_pnl_net_of_fees() {
        let mut ledger = Ledger::new(1, 1, 10_000.0);
        ledger.book_fill(0, 0, Side::Buy, 2.0, 100.0, 1.0);
        ledger.book_fill(0, 0, Side::Buy, 2.0, 110.0, 1.0);
        let p = *ledger.position(0, 0);
        assert!(close(p.quantity, 4.0) && close(p.average_price, 105.0));
        assert!(close(p.unrealized(120.0), 60.0));
        let realized = ledger.book_fill(0, 0, Side::Sell, 3.0, 120.0, 1.0);
        assert!(close(realized, 45.0));
        let realized = ledger.book_fill(0, 0, Side::Sell, 1.0, 100.0, 1.0);
        assert!(close(realized, -5.0));
        let p = *ledger.position(0, 0);
        assert!(close(p.quantity, 0.0) && close(p.realized_pnl, 40.0) && close(p.fees, 4.0));
        assert!(close(ledger.cash(), 10_000.0 + 40.0 - 4.0));
    }

    #[test]
    fn flipping_through_zero_opens_the_remainder_at_the_fill_price() {
        let mut ledger = Ledger::new(2, 1, 0.0);
        ledger.book_fill(1, 0, Side::Buy, 1.0, 100.0, 0.0);
        let realized = ledger.book_fill(1, 0, Side::Sell, 3.0, 90.0, 0.0);
        assert!(close(realized, -10.0));
        let p = *ledger.position(1, 0);
        assert!(close(p.quantity, -2.0) && close(p.average_price, 90.0));
        assert!(close(ledger.account_position(0), -2.0));
        assert!(close(ledger.position(0, 0).quantity, 0.0));
    }

    #[test]
    fn cash_plus_cost_equals_start_plus_realised_minus_fees() {
        let mut ledger = Ledger::new(2, 2, 1_000.0);
        let fills = [
            (0, 0, Side::Buy, 1.5, 10.0, 0.1),
            (1, 1, Side::Sell, 2.0, 20.0, 0.2),
            (0, 0, Side::Sell, 3.0, 12.0, 0.3),
            (1, 1, Side::Buy, 0.5, 18.0, 0.05),
            (0, 1, Side::Buy, 4.0, 19.0, 0.4),
        ];
        for (s, i, side, q, p, f) in fills {
            ledger.book_fill(s, i, side, q, p, f);
            let cost: f64 = ledger
                .positions()
                .map(|(_, _, b)| b.quantity * b.average_price)
                .sum();
            let (realized, fees) = ledger.totals();
            assert!(close(ledger.cash() + cost, 1_000.0 + realized - fees));
        }
        let marks = [Some(11.0), Some(21.0)];
        let upnl: f64 = ledger
            .positions()
            .map(|(_, i, b)| b.unrealized(marks[i].unwrap()))
            .sum();
        let (realized, fees) = ledger.totals();
        assert!(close(
            ledger.equity(&marks),
            1_000.0 + realized + upnl - fees
        ));
    }
}
