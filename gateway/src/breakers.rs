//! The hard limits that act at market speed, judged on each fill and bar as the fast path
//! hears them: the drawdown breaker (the kill switch), the daily-loss breaker (REDUCING),
//! each strategy's loss limit (that strategy HALTED), and the dead-man switch on risk's
//! heartbeat. Pure state machines: the fast path feeds them and orders the latch.
//!
//! They mirror the Python risk service's rules (agents/services/risk_service.py), which keeps
//! the analysis (VaR, volatility, correlations, the anomaly model) and may still order the
//! same moves; a second order of a move already latched changes nothing.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::bus_messages::{FillEvent, MarketBar, Side};
use crate::clock::{parse_micros, MICROS_PER_DAY};
use crate::events::TradingState;

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct BreakerLimits {
    /// Drawdown from the peak equity that trips the kill switch (0.10 = 10%).
    pub max_drawdown: f64,
    /// Loss from the day's starting equity that moves the account to REDUCING.
    pub daily_loss_limit: f64,
    /// Loss of one strategy (its fills' cash flow and its holdings at their marks) that
    /// halts it.
    pub strategy_loss_limit: f64,
}

/// What a breaker orders.
#[derive(Debug, Clone, PartialEq)]
pub enum Trip {
    Account {
        state: TradingState,
        kill: bool,
        actor: &'static str,
        reason: String,
    },
    Strategy {
        id: String,
        reason: String,
    },
}

#[derive(Debug)]
pub struct Breakers {
    limits: BreakerLimits,
    peak_equity: f64,
    last_equity: Option<f64>,
    day: i64,
    day_start_equity: f64,
    halted: bool,
    reduced: bool,
    /// Per instrument: the latest bar's stamp (an older bar never moves the mark back) and
    /// the mark.
    marks: HashMap<String, (i64, f64)>,
    cash: HashMap<String, f64>,
    held: HashMap<(String, String), f64>,
    halted_strategies: HashSet<String>,
}

impl Breakers {
    pub fn new(limits: BreakerLimits) -> Breakers {
        Breakers {
            limits,
            peak_equity: 0.0,
            last_equity: None,
            day: i64::MIN,
            day_start_equity: 0.0,
            halted: false,
            reduced: false,
            marks: HashMap::new(),
            cash: HashMap::new(),
            held: HashMap::new(),
            halted_strategies: HashSet::new(),
        }
    }

    /// A human rearmed the gate: drawdown, the day's loss and the strategies' halts count
    /// afresh from here (the positions and cash flows stay).
    pub fn rearmed(&mut self) {
        self.peak_equity = 0.0;
        self.halted = false;
        self.reduced = false;
        self.day = i64::MIN;
        self.halted_strategies.clear();
    }

    fn strategy_pnl(&self, strategy: &str) -> f64 {
        let held: f64 = self
            .held
            .iter()
            .filter(|((s, _), _)| s == strategy)
            .map(|((_, inst), q)| q * self.marks.get(inst).map_or(0.0, |m| m.1))
            .sum();
        self.cash.get(strategy).copied().unwrap_or(0.0) + held
    }

    fn judge_strategy(&mut self, strategy: &str, at_marks: bool, trips: &mut Vec<Trip>) {
        if self.halted_strategies.contains(strategy) {
            return;
        }
        let loss = -self.strategy_pnl(strategy);
        if loss > self.limits.strategy_loss_limit {
            self.halted_strategies.insert(strategy.to_string());
            let at = if at_marks { " at the latest marks" } else { "" };
            trips.push(Trip::Strategy {
                id: strategy.to_string(),
                reason: format!(
                    "strategy {strategy} lost {loss:.2} > {:.0}{at}",
                    self.limits.strategy_loss_limit
                ),
            });
        }
    }

    pub fn on_fill(&mut self, fill: &FillEvent) -> Vec<Trip> {
        let mut trips = Vec::new();
        let signed = match fill.side {
            Side::Buy => fill.quantity,
            Side::Sell => -fill.quantity,
        };
        let strategy = fill.strategy_id.as_str();
        *self.cash.entry(strategy.to_string()).or_insert(0.0) -= signed * fill.price + fill.fee;
        *self
            .held
            .entry((strategy.to_string(), fill.instrument.clone()))
            .or_insert(0.0) += signed;
        let stamp = self.marks.get(&fill.instrument).map_or(i64::MIN, |m| m.0);
        self.marks
            .insert(fill.instrument.clone(), (stamp, fill.price));

        let equity = fill.equity;
        self.peak_equity = self.peak_equity.max(equity);
        let drawdown = if self.peak_equity > 0.0 {
            1.0 - equity / self.peak_equity
        } else {
            0.0
        };
        if drawdown >= self.limits.max_drawdown && !self.halted {
            self.halted = true;
            trips.push(Trip::Account {
                state: TradingState::Halted,
                kill: true,
                actor: "breaker",
                reason: format!(
                    "drawdown {:.1}% >= {:.0}%",
                    drawdown * 100.0,
                    self.limits.max_drawdown * 100.0
                ),
            });
        }

        let day = parse_micros(&fill.ts).map_or(self.day, |t| t.div_euclid(MICROS_PER_DAY));
        if day != self.day {
            self.day = day;
            self.day_start_equity = self.last_equity.unwrap_or(equity);
            self.reduced = false;
        }
        self.last_equity = Some(equity);
        let lost = self.day_start_equity - equity;
        if lost >= self.limits.daily_loss_limit && !self.reduced && !self.halted {
            self.reduced = true;
            trips.push(Trip::Account {
                state: TradingState::Reducing,
                kill: false,
                actor: "breaker",
                reason: format!(
                    "daily loss {lost:.2} >= {:.0}",
                    self.limits.daily_loss_limit
                ),
            });
        }
        self.judge_strategy(strategy, false, &mut trips);
        trips
    }

    /// A bar marks every strategy's holding in its instrument; a fall can take one past its
    /// loss limit between fills.
    pub fn on_bar(&mut self, bar: &MarketBar) -> Vec<Trip> {
        let mut trips = Vec::new();
        let Some(stamp) = parse_micros(&bar.bar_ts) else {
            return trips;
        };
        let latest = self.marks.get(&bar.instrument).map_or(i64::MIN, |m| m.0);
        if stamp < latest {
            return trips;
        }
        self.marks
            .insert(bar.instrument.clone(), (stamp, bar.close));
        let holders: Vec<String> = self
            .held
            .iter()
            .filter(|((_, inst), q)| inst == &bar.instrument && **q != 0.0)
            .map(|((s, _), _)| s.clone())
            .collect();
        for strategy in holders {
            self.judge_strategy(&strategy, true, &mut trips);
        }
        trips
    }
}

/// Risk's heartbeat, watched: silent for `reduce_after`, the account goes REDUCING; for
/// `halt_after`, HALTED. It arms at the first heartbeat and never lifts what it ordered.
#[derive(Debug)]
pub struct DeadMan {
    reduce_after: Duration,
    halt_after: Duration,
    last: Option<Instant>,
    level: u8,
}

impl DeadMan {
    pub fn new(reduce_after: Duration, halt_after: Duration) -> DeadMan {
        DeadMan {
            reduce_after,
            halt_after,
            last: None,
            level: 0,
        }
    }

    pub fn heard(&mut self, now: Instant) {
        self.last = Some(now);
    }

    /// A human rearmed: the silence counts from now.
    pub fn rearmed(&mut self, now: Instant) {
        self.level = 0;
        if self.last.is_some() {
            self.last = Some(now);
        }
    }

    pub fn armed(&self) -> bool {
        self.last.is_some()
    }

    pub fn judge(&mut self, now: Instant) -> Option<Trip> {
        let silent = now.saturating_duration_since(self.last?);
        let (state, level) = if silent > self.halt_after && self.level < 2 {
            (TradingState::Halted, 2)
        } else if silent > self.reduce_after && self.level < 1 {
            (TradingState::Reducing, 1)
        } else {
            return None;
        };
        self.level = level;
        Some(Trip::Account {
            state,
            kill: false,
            actor: "deadman",
            reason: format!("risk silent {:.1} s", silent.as_secs_f64()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BreakerLimits = BreakerLimits {
        max_drawdown: 0.10,
        daily_loss_limit: 50_000.0,
        strategy_loss_limit: 1_000.0,
    };

    fn fill(strategy: &str, side: Side, qty: f64, price: f64, equity: f64, ts: &str) -> FillEvent {
        FillEvent {
            ts: ts.into(),
            trace_id: "t".into(),
            order_id: "o".into(),
            strategy_id: strategy.into(),
            instrument: "x:BTC/USD".into(),
            side,
            quantity: qty,
            price,
            fee: 0.0,
            position_after: 0.0,
            equity,
        }
    }

    const DAY1: &str = "2026-12-03T10:00:00Z";

    #[test]
    fn drawdown_kills_once_until_rearmed() {
        let mut b = Breakers::new(LIMITS);
        assert!(b
            .on_fill(&fill("s", Side::Buy, 1.0, 100.0, 1_000_000.0, DAY1))
            .is_empty());
        let trips = b.on_fill(&fill("s", Side::Sell, 1.0, 100.0, 899_000.0, DAY1));
        assert!(matches!(
            trips[0],
            Trip::Account {
                state: TradingState::Halted,
                kill: true,
                ..
            }
        ));
        assert!(b
            .on_fill(&fill("s", Side::Buy, 1.0, 100.0, 800_000.0, DAY1))
            .iter()
            .all(|t| !matches!(t, Trip::Account { kill: true, .. })));
        b.rearmed();
        assert!(b
            .on_fill(&fill("s", Side::Sell, 1.0, 100.0, 800_000.0, DAY1))
            .is_empty());
    }

    #[test]
    fn the_days_loss_reduces_and_a_new_day_starts_from_the_last_equity() {
        let mut b = Breakers::new(BreakerLimits {
            max_drawdown: 0.5,
            ..LIMITS
        });
        b.on_fill(&fill("s", Side::Buy, 1.0, 100.0, 1_000_000.0, DAY1));
        let trips = b.on_fill(&fill("s", Side::Sell, 1.0, 100.0, 949_000.0, DAY1));
        assert!(matches!(
            trips[0],
            Trip::Account {
                state: TradingState::Reducing,
                kill: false,
                ..
            }
        ));
        let next = "2026-12-04T00:00:01Z";
        assert!(b
            .on_fill(&fill("s", Side::Buy, 1.0, 100.0, 940_000.0, next))
            .is_empty());
        assert_eq!(
            b.on_fill(&fill("s", Side::Buy, 1.0, 100.0, 899_000.0, next))
                .len(),
            1
        );
    }

    #[test]
    fn a_strategy_halts_on_its_fills_or_at_the_marks() {
        let mut b = Breakers::new(LIMITS);
        assert!(b
            .on_fill(&fill("momo", Side::Buy, 100.0, 100.0, 1e6, DAY1))
            .is_empty());
        let bar = |close: f64, ts: &str| MarketBar {
            ts: DAY1.into(),
            trace_id: "b".into(),
            instrument: "x:BTC/USD".into(),
            interval: "1m".into(),
            bar_ts: ts.into(),
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
            source: crate::bus_messages::BarSource::Stream,
        };
        assert!(b.on_bar(&bar(95.0, "2026-12-03T10:01:00Z")).is_empty());
        // An older bar never moves the mark back.
        assert!(b.on_bar(&bar(1.0, "2026-12-03T10:00:00Z")).is_empty());
        let trips = b.on_bar(&bar(89.0, "2026-12-03T10:02:00Z"));
        assert_eq!(trips.len(), 1);
        assert!(matches!(&trips[0], Trip::Strategy { id, .. } if id == "momo"));
        assert!(b.on_bar(&bar(50.0, "2026-12-03T10:03:00Z")).is_empty());
        let mut fresh = Breakers::new(LIMITS);
        fresh.on_fill(&fill("q", Side::Buy, 100.0, 100.0, 1e6, DAY1));
        let trips = fresh.on_fill(&fill("q", Side::Sell, 100.0, 89.0, 1e6, DAY1));
        assert!(matches!(&trips[0], Trip::Strategy { id, .. } if id == "q"));
    }

    #[test]
    fn the_dead_man_arms_at_the_first_heartbeat_and_steps_down_once() {
        let mut d = DeadMan::new(Duration::from_millis(100), Duration::from_millis(300));
        let t0 = Instant::now();
        assert_eq!(d.judge(t0 + Duration::from_secs(10)), None);
        d.heard(t0);
        assert_eq!(d.judge(t0 + Duration::from_millis(50)), None);
        let reduce = d.judge(t0 + Duration::from_millis(150)).unwrap();
        assert!(matches!(
            reduce,
            Trip::Account {
                state: TradingState::Reducing,
                actor: "deadman",
                ..
            }
        ));
        assert_eq!(d.judge(t0 + Duration::from_millis(200)), None);
        let halt = d.judge(t0 + Duration::from_millis(301)).unwrap();
        assert!(matches!(
            halt,
            Trip::Account {
                state: TradingState::Halted,
                ..
            }
        ));
        assert_eq!(d.judge(t0 + Duration::from_secs(5)), None);
        // A heartbeat after the trip does not lift it; a human rearm restarts the count.
        d.heard(t0 + Duration::from_secs(5));
        assert_eq!(d.judge(t0 + Duration::from_secs(10)), None);
        d.rearmed(t0 + Duration::from_secs(10));
        assert!(d.judge(t0 + Duration::from_millis(10_150)).is_some());
    }
}
