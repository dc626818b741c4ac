//! A price-time priority book of resting orders for one instrument. Prices are integer
//! ticks so levels compare exactly.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::order::Side;

/// Order handles are dense integers the engine assigns: a multiplicative hash spreads them
/// without SipHash's cost on the hot path.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resting {
    pub id: u64,
    pub side: Side,
    pub ticks: i64,
    pub leaves: f64,
}

/// One execution of a resting order against an aggressor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BookFill {
    pub id: u64,
    pub ticks: i64,
    pub quantity: f64,
    pub leaves: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookError {
    DuplicateId(u64),
    UnknownId(u64),
    BadQuantity,
}

impl std::fmt::Display for BookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BookError::DuplicateId(id) => write!(f, "order {id} is already on the book"),
            BookError::UnknownId(id) => write!(f, "order {id} is not on the book"),
            BookError::BadQuantity => write!(f, "quantity must be finite and > 0"),
        }
    }
}

impl std::error::Error for BookError {}

#[derive(Default)]
pub struct Book {
    bids: BTreeMap<i64, VecDeque<u64>>,
    asks: BTreeMap<i64, VecDeque<u64>>,
    orders: IdMap<Resting>,
}

impl Book {
    pub fn new() -> Book {
        Book::default()
    }

    pub fn len(&self) -> usize {
        self.orders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<&Resting> {
        self.orders.get(&id)
    }

    pub fn best_bid(&self) -> Option<i64> {
        self.bids.keys().next_back().copied()
    }

    pub fn best_ask(&self) -> Option<i64> {
        self.asks.keys().next().copied()
    }

    /// Resting quantity on one side, summed over levels.
    pub fn depth(&self, side: Side) -> f64 {
        self.orders
            .values()
            .filter(|o| o.side == side)
            .map(|o| o.leaves)
            .sum()
    }

    fn levels(&mut self, side: Side) -> &mut BTreeMap<i64, VecDeque<u64>> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    pub fn add(&mut self, id: u64, side: Side, ticks: i64, quantity: f64) -> Result<(), BookError> {
        if !(quantity.is_finite() && quantity > 0.0) {
            return Err(BookError::BadQuantity);
        }
        if self.orders.contains_key(&id) {
            return Err(BookError::DuplicateId(id));
        }
        self.orders.insert(
            id,
            Resting {
                id,
                side,
                ticks,
                leaves: quantity,
            },
        );
        self.levels(side).entry(ticks).or_default().push_back(id);
        Ok(())
    }

    fn unlink(&mut self, resting: &Resting) {
        let levels = self.levels(resting.side);
        if let Some(queue) = levels.get_mut(&resting.ticks) {
            if let Some(pos) = queue.iter().position(|&x| x == resting.id) {
                queue.remove(pos);
            }
            if queue.is_empty() {
                levels.remove(&resting.ticks);
            }
        }
    }

    pub fn cancel(&mut self, id: u64) -> Result<Resting, BookError> {
        let resting = self.orders.remove(&id).ok_or(BookError::UnknownId(id))?;
        self.unlink(&resting);
        Ok(resting)
    }

    /// Change price or quantity. A lower quantity at the same price keeps time priority;
    /// a new price or a larger quantity goes to the back of its level, as at most venues.
    pub fn modify(&mut self, id: u64, ticks: i64, quantity: f64) -> Result<(), BookError> {
        if !(quantity.is_finite() && quantity > 0.0) {
            return Err(BookError::BadQuantity);
        }
        let current = *self.orders.get(&id).ok_or(BookError::UnknownId(id))?;
        if ticks == current.ticks && quantity <= current.leaves {
            if let Some(o) = self.orders.get_mut(&id) {
                o.leaves = quantity;
            }
            return Ok(());
        }
        self.cancel(id)?;
        self.add(id, current.side, ticks, quantity)
    }

    /// Fill resting orders on the side opposite `aggressor`, best price first and oldest
    /// first within a price, up to `quantity`. `limit` bounds the prices the aggressor takes
    /// (None: any price); `inclusive` false means only prices strictly better than `limit`.
    pub fn execute(
        &mut self,
        aggressor: Side,
        limit: Option<i64>,
        inclusive: bool,
        quantity: f64,
        out: &mut Vec<BookFill>,
    ) -> f64 {
        let mut remaining = quantity;
        while remaining > 0.0 {
            let level = match aggressor {
                Side::Buy => self.asks.keys().next().copied(),
                Side::Sell => self.bids.keys().next_back().copied(),
            };
            let Some(ticks) = level else { break };
            if let Some(limit) = limit {
                let takes = match (aggressor, inclusive) {
                    (Side::Buy, true) => ticks <= limit,
                    (Side::Buy, false) => ticks < limit,
                    (Side::Sell, true) => ticks >= limit,
                    (Side::Sell, false) => ticks > limit,
                };
                if !takes {
                    break;
                }
            }
            let resting_side = aggressor.opposite();
            let Some(&id) = self
                .levels(resting_side)
                .get(&ticks)
                .and_then(|q| q.front())
            else {
                break;
            };
            let Some(order) = self.orders.get_mut(&id) else {
                break;
            };
            let quantity = order.leaves.min(remaining);
            order.leaves -= quantity;
            remaining -= quantity;
            let leaves = order.leaves;
            out.push(BookFill {
                id,
                ticks,
                quantity,
                leaves,
            });
            if leaves <= 0.0 {
                let done = self.orders.remove(&id).expect("present above");
                self.unlink(&done);
            }
        }
        quantity - remaining
    }

    /// Ids resting on `side` in priority order (best price, then oldest).
    pub fn queue(&self, side: Side) -> Vec<u64> {
        match side {
            Side::Buy => self
                .bids
                .values()
                .rev()
                .flat_map(|q| q.iter().copied())
                .collect(),
            Side::Sell => self.asks.values().flat_map(|q| q.iter().copied()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_then_time_priority() {
        let mut book = Book::new();
        book.add(1, Side::Buy, 100, 1.0).unwrap();
        book.add(2, Side::Buy, 101, 1.0).unwrap();
        book.add(3, Side::Buy, 101, 1.0).unwrap();
        book.add(4, Side::Sell, 105, 2.0).unwrap();
        assert_eq!(book.queue(Side::Buy), vec![2, 3, 1]);
        assert_eq!((book.best_bid(), book.best_ask()), (Some(101), Some(105)));
        let mut fills = Vec::new();
        let done = book.execute(Side::Sell, Some(100), true, 2.5, &mut fills);
        assert_eq!(done, 2.5);
        let ids: Vec<u64> = fills.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![2, 3, 1]);
        assert_eq!(fills[2].quantity, 0.5);
        assert_eq!(book.get(1).unwrap().leaves, 0.5);
        assert_eq!(book.len(), 2);
    }

    #[test]
    fn limit_and_strictness_bound_what_is_taken() {
        let mut book = Book::new();
        book.add(1, Side::Sell, 105, 1.0).unwrap();
        book.add(2, Side::Sell, 106, 1.0).unwrap();
        let mut fills = Vec::new();
        assert_eq!(
            book.execute(Side::Buy, Some(105), false, 5.0, &mut fills),
            0.0
        );
        assert_eq!(
            book.execute(Side::Buy, Some(105), true, 5.0, &mut fills),
            1.0
        );
        assert_eq!(book.execute(Side::Buy, None, true, 5.0, &mut fills), 1.0);
        assert!(book.is_empty());
        assert_eq!(book.best_ask(), None);
    }

    #[test]
    fn modify_keeps_priority_only_for_a_smaller_quantity_at_the_same_price() {
        let mut book = Book::new();
        for id in 1..=3 {
            book.add(id, Side::Sell, 105, 2.0).unwrap();
        }
        book.modify(1, 105, 1.0).unwrap();
        assert_eq!(book.queue(Side::Sell), vec![1, 2, 3]);
        book.modify(1, 105, 3.0).unwrap();
        assert_eq!(book.queue(Side::Sell), vec![2, 3, 1]);
        book.modify(2, 104, 2.0).unwrap();
        assert_eq!(book.queue(Side::Sell), vec![2, 3, 1]);
        assert_eq!(book.best_ask(), Some(104));
    }

    #[test]
    fn errors_leave_the_book_unchanged() {
        let mut book = Book::new();
        book.add(1, Side::Buy, 100, 1.0).unwrap();
        assert_eq!(
            book.add(1, Side::Buy, 99, 1.0),
            Err(BookError::DuplicateId(1))
        );
        assert_eq!(
            book.add(2, Side::Buy, 99, f64::NAN),
            Err(BookError::BadQuantity)
        );
        assert_eq!(
            book.add(2, Side::Buy, 99, -1.0),
            Err(BookError::BadQuantity)
        );
        assert_eq!(book.cancel(9), Err(BookError::UnknownId(9)));
        assert_eq!(book.modify(1, 100, 0.0), Err(BookError::BadQuantity));
        assert_eq!(book.queue(Side::Buy), vec![1]);
        assert_eq!(book.get(1).unwrap().leaves, 1.0);
        book.cancel(1).unwrap();
        assert!(book.is_empty() && book.best_bid().is_none());
    }
}
