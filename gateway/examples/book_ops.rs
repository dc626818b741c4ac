//! Book operations per second: adds, cancels and executions on one price-time book, in the
//! mix a busy paper venue sees. Run: cargo run --release --example book_ops
use std::time::Instant;

use gateway_core::book::{Book, BookFill};
use gateway_core::Side;

/// A small deterministic generator, so runs are comparable without a rand dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn main() {
    let ops: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let mut rng = Lcg(42);
    let mut book = Book::new();
    let mut live: Vec<u64> = Vec::with_capacity(1 << 16);
    let mut fills: Vec<BookFill> = Vec::with_capacity(64);
    let (mut adds, mut cancels, mut executes, mut filled) = (0u64, 0u64, 0u64, 0u64);
    let mut next_id = 1u64;
    let start = Instant::now();
    for _ in 0..ops {
        let roll = rng.next() % 100;
        if roll < 50 || live.len() < 100 {
            let side = if rng.next() % 2 == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            // Bids rest below 10_000 ticks, asks above: a realistic two-sided book.
            let offset = (rng.next() % 50) as i64 + 1;
            let ticks = match side {
                Side::Buy => 10_000 - offset,
                Side::Sell => 10_000 + offset,
            };
            book.add(next_id, side, ticks, 1.0 + (rng.next() % 5) as f64)
                .expect("fresh id");
            live.push(next_id);
            next_id += 1;
            adds += 1;
        } else if roll < 85 {
            let k = (rng.next() as usize) % live.len();
            let id = live.swap_remove(k);
            if book.cancel(id).is_ok() {
                cancels += 1;
            }
        } else {
            let aggressor = if rng.next() % 2 == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            fills.clear();
            let qty = 1.0 + (rng.next() % 8) as f64;
            book.execute(aggressor, None, true, qty, &mut fills);
            filled += fills.len() as u64;
            executes += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("book_ops ops={ops} seconds={seconds:.4} ops_per_s={:.0} adds={adds} cancels={cancels} executes={executes} fills={filled} resting={}", ops as f64 / seconds, book.len());
}
