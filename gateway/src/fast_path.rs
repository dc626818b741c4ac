//! The safety fast path on the bus, in Rust: a Zenoh session of the gateway's own that hears
//! fills, bars, risk's commands and risk's heartbeats, runs the breakers and the dead-man
//! switch on them, and orders the gate through its latch, in Zenoh's callback, with no
//! Python on the way. Each move is then told on the bus (an alert and a `StateChange`, as
//! the Python gateway tells its own) from a publisher thread, and a heartbeat goes out on
//! `desk/health/fast-path`.
//!
//! Key space and messages are `core.bus`'s (crate::bus_messages).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Deserialize;
use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::qos::CongestionControl;
use zenoh::sample::Sample;
use zenoh::{Session, Wait};

use crate::breakers::{BreakerLimits, Breakers, DeadMan, Trip};
use crate::bus_messages::{
    decode, encode, new_trace_id, Alert, BusMessage, Heartbeat, RiskAction, Severity, StateChange,
};
use crate::clock::{format_micros, now_micros};
use crate::engine::{BusOut, FillWatch};
use crate::events::TradingState;
use crate::latch::{Latch, LatchOrder};

pub const FILLS: &str = "desk/fills/*";
pub const MARKET_DATA: &str = "desk/md/**";
pub const RISK_COMMANDS: &str = "desk/risk/commands";
pub const RISK_HEALTH: &str = "desk/health/risk";
pub const AGENT: &str = "fast-path";
/// Orders whose fills the engine handed over in process, remembered so that the same fills
/// heard again on the bus (execution publishes them) are not counted twice.
const OWN_ORDERS_KEPT: usize = 100_000;

/// Where a session of ours sits on the bus, as `core.bus.session.config` takes it.
#[derive(Debug, Clone, Deserialize)]
pub struct BusEndpoints {
    /// "peer" or "client".
    pub mode: String,
    #[serde(default)]
    pub listen: Vec<String>,
    #[serde(default)]
    pub connect: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FastPathConfig {
    pub bus: BusEndpoints,
    /// Whose health key the state changes go out on ("execution").
    pub source: String,
    pub limits: BreakerLimits,
    pub deadman_reduce_after_s: f64,
    pub deadman_halt_after_s: f64,
    pub heartbeat_interval_s: f64,
}

fn segment(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn json(value: &str) -> String {
    serde_json::Value::String(value.into()).to_string()
}

fn zenoh_config(config: &BusEndpoints) -> Result<zenoh::Config, String> {
    let mut conf = zenoh::Config::default();
    let list = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let set = |conf: &mut zenoh::Config, key: &str, value: &str| {
        conf.insert_json5(key, value)
            .map_err(|e| format!("bus config {key}: {e}"))
    };
    set(&mut conf, "mode", &json(&config.mode))?;
    if config.mode != "client" {
        set(&mut conf, "listen/endpoints", &list(&config.listen))?;
    }
    set(&mut conf, "connect/endpoints", &list(&config.connect))?;
    // As core.bus: no multicast announcement on the LAN.
    set(&mut conf, "scouting/multicast/enabled", "false")?;
    Ok(conf)
}

pub fn open_session(endpoints: &BusEndpoints) -> Result<Session, String> {
    zenoh::open(zenoh_config(endpoints)?)
        .wait()
        .map_err(|e| format!("the bus could not open ({}): {e}", endpoints.mode))
}

/// Counters the Python side reads (`FastPath.stats`).
#[derive(Default)]
pub struct Stats {
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    /// Fills the engine handed over in process (and not counted again from the bus).
    pub own_fills: AtomicU64,
    pub trips: AtomicU64,
    pub published: AtomicU64,
    pub publish_failed: AtomicU64,
    /// Wall-clock microseconds at which the latest move was put in force.
    pub last_in_force_us: AtomicI64,
}

#[derive(Default)]
struct OwnOrders {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl OwnOrders {
    fn remember(&mut self, id: &str) {
        if self.ids.insert(id.to_string()) {
            self.order.push_back(id.to_string());
            if self.order.len() > OWN_ORDERS_KEPT {
                if let Some(old) = self.order.pop_front() {
                    self.ids.remove(&old);
                }
            }
        }
    }
}

struct Core {
    latch: Arc<Latch>,
    own: Mutex<OwnOrders>,
    closed: AtomicBool,
    breakers: Mutex<Breakers>,
    deadman: Mutex<DeadMan>,
    rearms_seen: AtomicU64,
    out: Mutex<Sender<(String, BusMessage)>>,
    source: String,
    stats: Arc<Stats>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Core {
    /// A human rearm since we last looked: the breakers and the dead-man count afresh.
    fn catch_up_rearms(&self) {
        let rearms = self.latch.rearms();
        if self.rearms_seen.swap(rearms, Ordering::AcqRel) != rearms {
            lock(&self.breakers).rearmed();
            lock(&self.deadman).rearmed(Instant::now());
        }
    }

    fn send(&self, key: String, message: BusMessage) {
        // The publisher thread is gone only when the fast path is closing.
        let _ = lock(&self.out).send((key, message));
    }

    /// Put a trip in force through the latch, then tell the bus (only if it moved anything).
    fn trip(&self, trip: Trip, trace_id: &str) {
        let (order, scope) = match trip {
            Trip::Account {
                state,
                kill,
                actor,
                reason,
            } => (
                LatchOrder {
                    strategy: None,
                    state,
                    kill,
                    actor: actor.into(),
                    reason,
                    ts_ms: now_micros() / 1000,
                },
                "account".to_string(),
            ),
            Trip::Strategy { id, reason } => (
                LatchOrder {
                    strategy: Some(id.clone()),
                    state: TradingState::Halted,
                    kill: false,
                    actor: "breaker".into(),
                    reason,
                    ts_ms: now_micros() / 1000,
                },
                format!("strategy:{id}"),
            ),
        };
        self.order(order, scope, trace_id);
    }

    fn order(&self, order: LatchOrder, scope: String, trace_id: &str) {
        let (state, actor, reason) = (order.state, order.actor.clone(), order.reason.clone());
        if !self.latch.order(order) {
            return;
        }
        let in_force = now_micros();
        self.stats
            .last_in_force_us
            .store(in_force, Ordering::Release);
        self.stats.trips.fetch_add(1, Ordering::AcqRel);
        let account = scope == "account";
        let severity = if account {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let text = if account {
            format!("gate {}: {reason}", state.code())
        } else {
            format!(
                "strategy {} {}: {reason}",
                scope.trim_start_matches("strategy:"),
                state.code()
            )
        };
        let trace_id: String = trace_id.chars().take(64).collect();
        let alert = Alert {
            ts: format_micros(in_force),
            trace_id: trace_id.clone(),
            severity,
            source: self.source.clone(),
            text: text.chars().take(2000).collect(),
        };
        let severity_key = if account { "critical" } else { "warning" };
        self.send(
            format!("desk/alerts/{severity_key}"),
            BusMessage::Alert(alert),
        );
        let change = StateChange {
            ts: format_micros(in_force),
            trace_id,
            scope: scope.chars().take(80).collect(),
            state: state.into(),
            actor: actor.chars().take(64).collect(),
            reason: reason.chars().take(500).collect(),
        };
        self.send(
            format!("desk/health/{}", segment(&self.source)),
            BusMessage::StateChange(change),
        );
    }

    /// A fill the engine just booked, before its call returns: judged here, no bus between.
    fn own_fill(&self, fill: &crate::bus_messages::FillEvent) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        lock(&self.own).remember(&fill.order_id);
        self.stats.own_fills.fetch_add(1, Ordering::AcqRel);
        self.catch_up_rearms();
        let trips = lock(&self.breakers).on_fill(fill);
        self.trip_all(trips, &fill.trace_id);
    }

    fn trip_all(&self, trips: Vec<Trip>, trace_id: &str) {
        for trip in trips {
            self.trip(trip, trace_id);
        }
    }

    fn heard(&self, sample: &Sample) {
        let payload = sample.payload().to_bytes();
        let message = match decode(&payload) {
            Ok(m) => m,
            Err(_) => {
                self.stats.dropped.fetch_add(1, Ordering::AcqRel);
                return;
            }
        };
        self.stats.received.fetch_add(1, Ordering::AcqRel);
        self.catch_up_rearms();
        match &message {
            BusMessage::Fill(fill) => {
                if lock(&self.own).ids.contains(&fill.order_id) {
                    return;
                }
                let trips = lock(&self.breakers).on_fill(fill);
                self.trip_all(trips, &fill.trace_id);
            }
            BusMessage::Bar(bar) => {
                let trips = lock(&self.breakers).on_bar(bar);
                self.trip_all(trips, &bar.trace_id);
            }
            BusMessage::RiskCommand(command) => {
                let strategy = match command.action {
                    RiskAction::KillSwitch => None,
                    RiskAction::HaltStrategy => match &command.strategy_id {
                        Some(id) => Some(id.clone()),
                        None => return,
                    },
                    // Reducing sends orders: Python's execution service does it.
                    RiskAction::Reduce => return,
                };
                let scope = strategy
                    .as_ref()
                    .map_or_else(|| "account".to_string(), |id| format!("strategy:{id}"));
                let order = LatchOrder {
                    kill: strategy.is_none(),
                    strategy,
                    state: TradingState::Halted,
                    actor: command.issued_by.clone(),
                    reason: command.reason.clone(),
                    ts_ms: now_micros() / 1000,
                };
                self.order(order, scope, &command.trace_id);
            }
            BusMessage::Heartbeat(beat) if beat.agent == "risk" => {
                lock(&self.deadman).heard(Instant::now());
            }
            _ => {}
        }
    }
}

pub struct FastPath {
    session: Session,
    subscribers: Vec<Subscriber<()>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    core: Arc<Core>,
}

fn publisher_loop(session: Session, rx: Receiver<(String, BusMessage)>, stats: Arc<Stats>) {
    let mut publishers: HashMap<String, Publisher<'static>> = HashMap::new();
    while let Ok((key, message)) = rx.recv() {
        if !publishers.contains_key(&key) {
            match session
                .declare_publisher(key.clone())
                .congestion_control(CongestionControl::Block)
                .express(true)
                .wait()
            {
                Ok(p) => {
                    publishers.insert(key.clone(), p);
                }
                Err(_) => {
                    stats.publish_failed.fetch_add(1, Ordering::AcqRel);
                    continue;
                }
            }
        }
        let sent = publishers
            .get(&key)
            .map(|p| p.put(encode(&message)).wait().is_ok());
        let counter = if sent == Some(true) {
            &stats.published
        } else {
            &stats.publish_failed
        };
        counter.fetch_add(1, Ordering::AcqRel);
    }
    for (_, publisher) in publishers {
        let _ = publisher.undeclare().wait();
    }
}

fn timer_loop(core: Arc<Core>, stop: Arc<AtomicBool>, beat_every: Duration) {
    let mut next_beat = Instant::now();
    let mut seq = 0u64;
    let pid = u64::from(std::process::id());
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        core.catch_up_rearms();
        let trip = lock(&core.deadman).judge(now);
        if let Some(trip) = trip {
            core.trip(trip, &new_trace_id());
        }
        if now >= next_beat {
            next_beat = now + beat_every;
            let beat = Heartbeat {
                ts: format_micros(now_micros()),
                trace_id: new_trace_id(),
                agent: AGENT.into(),
                seq,
                pid,
                // What the latch holds the gate to; the gate's own state is execution's.
                state: match core.latch.account() {
                    TradingState::Active => "ok".into(),
                    held => format!("latched {}", held.code()),
                },
            };
            core.send(format!("desk/health/{AGENT}"), BusMessage::Heartbeat(beat));
            seq += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn seconds(value: f64, name: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("{name}: {value} is not a duration"))
}

impl FastPath {
    pub fn start(latch: Arc<Latch>, config: FastPathConfig) -> Result<FastPath, String> {
        let reduce_after = seconds(config.deadman_reduce_after_s, "deadman_reduce_after_s")?;
        let halt_after = seconds(config.deadman_halt_after_s, "deadman_halt_after_s")?;
        let beat_every = seconds(config.heartbeat_interval_s, "heartbeat_interval_s")?;
        let session = open_session(&config.bus)?;
        let (tx, rx) = channel();
        let stats = Arc::new(Stats::default());
        let core = Arc::new(Core {
            own: Mutex::new(OwnOrders::default()),
            closed: AtomicBool::new(false),
            rearms_seen: AtomicU64::new(latch.rearms()),
            latch,
            breakers: Mutex::new(Breakers::new(config.limits)),
            deadman: Mutex::new(DeadMan::new(reduce_after, halt_after)),
            out: Mutex::new(tx),
            source: config.source.clone(),
            stats: stats.clone(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let mut subscribers = Vec::new();
        for key in [FILLS, MARKET_DATA, RISK_COMMANDS, RISK_HEALTH] {
            let core = core.clone();
            let subscriber = session
                .declare_subscriber(key)
                .callback(move |sample| core.heard(&sample))
                .wait()
                .map_err(|e| format!("the fast path could not subscribe to {key}: {e}"))?;
            subscribers.push(subscriber);
        }
        let publishing = {
            let session = session.clone();
            std::thread::Builder::new()
                .name("fast-path-publish".into())
                .spawn(move || publisher_loop(session, rx, stats))
                .map_err(|e| e.to_string())?
        };
        let timing = {
            let (core, stop) = (core.clone(), stop.clone());
            std::thread::Builder::new()
                .name("fast-path-timer".into())
                .spawn(move || timer_loop(core, stop, beat_every))
                .map_err(|e| e.to_string())?
        };
        Ok(FastPath {
            session,
            subscribers,
            stop,
            threads: vec![timing, publishing],
            core,
        })
    }

    pub fn stats(&self) -> &Stats {
        &self.core.stats
    }

    /// Where the engine sends its fills and decisions (`Engine::publish_through`): out on
    /// `desk/fills/{strategy}` and `desk/orders/{strategy}` from the publisher thread, after
    /// whatever trip they caused.
    pub fn bus_out(&self) -> BusOut {
        let core = self.core.clone();
        Arc::new(move |batch| {
            if core.closed.load(Ordering::Acquire) {
                return;
            }
            for message in batch {
                let key = match &message {
                    BusMessage::Fill(m) => format!("desk/fills/{}", segment(&m.strategy_id)),
                    BusMessage::Order(m) => format!("desk/orders/{}", segment(&m.strategy_id)),
                    _ => continue,
                };
                core.send(key, message);
            }
        })
    }

    /// What the engine calls with each fill it books (`Engine::watch_fills`).
    pub fn fill_watch(&self) -> FillWatch {
        let core = self.core.clone();
        Arc::new(move |fill| core.own_fill(fill))
    }

    pub fn deadman_armed(&self) -> bool {
        lock(&self.core.deadman).armed()
    }

    /// Stop hearing, let the publisher send what it holds, and close the session.
    pub fn close(mut self) {
        self.core.closed.store(true, Ordering::Release);
        for subscriber in self.subscribers.drain(..) {
            let _ = subscriber.undeclare().wait();
        }
        self.stop.store(true, Ordering::Release);
        let mut threads = std::mem::take(&mut self.threads).into_iter();
        if let Some(timer) = threads.next() {
            let _ = timer.join();
        }
        // The subscribers' callbacks and the timer held the only senders besides this one.
        let (dead, _) = channel();
        drop(std::mem::replace(&mut *lock(&self.core.out), dead));
        for thread in threads {
            let _ = thread.join();
        }
        let _ = self.session.close().wait();
    }
}
