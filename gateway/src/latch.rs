//! The fast path's hold on the gate. A breaker, the kill switch or the dead-man switch running
//! on a Rust thread orders the gate safer through the latch: the order is in force for the
//! very next check, without waiting for whoever owns the engine (Python, holding its lock
//! through a PM turn). The engine takes the orders into its own state, events and journal the
//! next time it is called (`Engine::apply_latch`); until then its checks read both.
//!
//! A latch only ever makes the desk safer. Lifting it is a human rearm (`Engine::rearm`), or,
//! for a REDUCING account, the same explicit state change that lifts the engine's own.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::events::TradingState;

/// What a fast-path thread ordered, kept until the engine applies it.
#[derive(Debug, Clone, PartialEq)]
pub struct LatchOrder {
    /// None: the account; Some(id): one strategy (which only halts).
    pub strategy: Option<String>,
    pub state: TradingState,
    /// Cancel every open order too (the kill switch).
    pub kill: bool,
    pub actor: String,
    pub reason: String,
    pub ts_ms: i64,
}

#[derive(Default)]
struct Held {
    halted_strategies: HashSet<String>,
    pending: Vec<LatchOrder>,
}

#[derive(Default)]
pub struct Latch {
    /// 0 nothing ordered, 1 REDUCING, 2 HALTED.
    account: AtomicU8,
    any_strategy: AtomicBool,
    /// Bumped on every order that took effect, so a watcher knows when to apply.
    moves: AtomicU64,
    /// Bumped on every human rearm, so the breakers start their count afresh.
    rearms: AtomicU64,
    held: Mutex<Held>,
    moved: Condvar,
}

fn level(state: TradingState) -> u8 {
    match state {
        TradingState::Active => 0,
        TradingState::Reducing => 1,
        TradingState::Halted => 2,
    }
}

fn state_of(level: u8) -> TradingState {
    match level {
        0 => TradingState::Active,
        1 => TradingState::Reducing,
        _ => TradingState::Halted,
    }
}

impl Latch {
    fn held(&self) -> MutexGuard<'_, Held> {
        // A thread that panicked while holding it left plain data behind: still usable.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Order the gate safer. Returns whether it changed anything (an account already
    /// HALTED, or a strategy already halted, takes nothing new).
    pub fn order(&self, order: LatchOrder) -> bool {
        let mut held = self.held();
        let changed = match &order.strategy {
            None => {
                let wanted = level(order.state);
                let before = self.account.fetch_max(wanted, Ordering::AcqRel);
                wanted > before
            }
            Some(id) => {
                if order.state != TradingState::Halted {
                    return false;
                }
                let fresh = held.halted_strategies.insert(id.clone());
                self.any_strategy.store(true, Ordering::Release);
                fresh
            }
        };
        if changed {
            held.pending.push(order);
            self.moves.fetch_add(1, Ordering::AcqRel);
            self.moved.notify_all();
        }
        changed
    }

    /// The account state the latch holds the gate to (ACTIVE: none).
    pub fn account(&self) -> TradingState {
        state_of(self.account.load(Ordering::Acquire))
    }

    pub fn strategy_halted(&self, strategy_id: &str) -> bool {
        self.any_strategy.load(Ordering::Acquire)
            && self.held().halted_strategies.contains(strategy_id)
    }

    pub fn moves(&self) -> u64 {
        self.moves.load(Ordering::Acquire)
    }

    pub fn rearms(&self) -> u64 {
        self.rearms.load(Ordering::Acquire)
    }

    /// The orders not yet applied, oldest first.
    pub fn take(&self) -> Vec<LatchOrder> {
        std::mem::take(&mut self.held().pending)
    }

    /// A human rearm: the orders still pending (applied, then lifted, by the caller) and a
    /// clear latch, in one step so that no order can fall between the two.
    pub fn rearm(&self) -> Vec<LatchOrder> {
        let mut held = self.held();
        let pending = std::mem::take(&mut held.pending);
        held.halted_strategies.clear();
        self.any_strategy.store(false, Ordering::Release);
        self.account.store(0, Ordering::Release);
        self.rearms.fetch_add(1, Ordering::AcqRel);
        pending
    }

    /// An explicit move of a REDUCING account back to ACTIVE lifts a latched REDUCING too
    /// (never a HALTED one).
    pub fn lift_reducing(&self) {
        let _held = self.held();
        let _ = self
            .account
            .compare_exchange(1, 0, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Block until the latch has moved past `seen` moves, or `timeout`; returns the count.
    pub fn wait_moved(&self, seen: u64, timeout: Duration) -> u64 {
        let held = self.held();
        let (_held, _) = self
            .moved
            .wait_timeout_while(held, timeout, |_| self.moves() <= seen)
            .unwrap_or_else(|e| e.into_inner());
        self.moves()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(state: TradingState, kill: bool) -> LatchOrder {
        LatchOrder {
            strategy: None,
            state,
            kill,
            actor: "risk".into(),
            reason: "test".into(),
            ts_ms: 1,
        }
    }

    #[test]
    fn only_safer_orders_take_effect() {
        let latch = Latch::default();
        assert!(latch.order(account(TradingState::Reducing, false)));
        assert!(latch.order(account(TradingState::Halted, true)));
        assert!(!latch.order(account(TradingState::Reducing, false)));
        assert!(!latch.order(account(TradingState::Halted, true)));
        assert_eq!(latch.account(), TradingState::Halted);
        assert_eq!(latch.moves(), 2);
        assert_eq!(latch.take().len(), 2);
        assert!(latch.take().is_empty());
    }

    #[test]
    fn a_strategy_halts_once_and_a_rearm_clears_everything() {
        let latch = Latch::default();
        let halt = LatchOrder {
            strategy: Some("momo".into()),
            state: TradingState::Halted,
            ..account(TradingState::Halted, false)
        };
        assert!(latch.order(halt.clone()));
        assert!(!latch.order(halt));
        assert!(latch.strategy_halted("momo"));
        assert!(!latch.strategy_halted("other"));
        assert_eq!(latch.rearm().len(), 1);
        assert!(!latch.strategy_halted("momo"));
        assert_eq!(latch.account(), TradingState::Active);
        assert_eq!(latch.rearms(), 1);
    }

    #[test]
    fn lifting_reducing_never_lifts_a_halt() {
        let latch = Latch::default();
        latch.order(account(TradingState::Reducing, false));
        latch.lift_reducing();
        assert_eq!(latch.account(), TradingState::Active);
        latch.order(account(TradingState::Halted, true));
        latch.lift_reducing();
        assert_eq!(latch.account(), TradingState::Halted);
    }

    #[test]
    fn a_waiter_wakes_on_a_move() {
        let latch = std::sync::Arc::new(Latch::default());
        let other = latch.clone();
        let waiter = std::thread::spawn(move || other.wait_moved(0, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        latch.order(account(TradingState::Halted, true));
        assert_eq!(waiter.join().unwrap(), 1);
        assert_eq!(latch.wait_moved(1, Duration::from_millis(1)), 1);
    }
}
