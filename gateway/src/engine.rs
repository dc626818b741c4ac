//! The engine: the gate's state, the orders and their lifecycles, the ledger, the kill
//! switch, and the events everything emits. Orders reach a venue only through `submit`,
//! which runs the gate first.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::actor::Actor;
use crate::approval::ApprovalKey;
use crate::book::{Book, IdMap};
use crate::bus_messages::{BusMessage, OrderEvent as OrderMessage};
use crate::clock::{format_micros, now_micros};
use crate::config::GateConfig;
use crate::events::{Action, Event, Verdict};
pub use crate::events::{Decision, TradingState};
use crate::increments::Grid;
use crate::latch::{Latch, LatchOrder};

/// Called with every fill the engine books, as the bus would carry it (the fast path's
/// breakers: crate::fast_path). Runs inside the engine's call, so it must not block.
pub type FillWatch = Arc<dyn Fn(&crate::bus_messages::FillEvent) + Send + Sync>;

/// Where the engine's fills and order decisions go as bus messages (the fast path's
/// publisher), a batch at each drain, with the trace the drain is given.
pub type BusOut = Arc<dyn Fn(Vec<BusMessage>) + Send + Sync>;
use crate::ledger::Ledger;
use crate::order::{
    Lifecycle, OrderEvent, OrderRequest, OrderStatus, OrderType, RequestView, Side, TimeInForce,
    VenueAction,
};
use crate::reason::{Reason, ReasonSet};

/// Where accepted orders go: the in-process paper venue, or an external venue whose
/// adapter reports acks, fills and cancels back through `venue_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueMode {
    Paper,
    External,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    OrderUnknown(String),
    OrderNotOpen(String),
    Transition(String),
    NotApprovable(String),
    BadArgument(String),
    RearmRefused(String),
    /// `add_strategy` with an id the engine already trades under.
    StrategyExists(String),
    /// `add_strategy` naming a risk class the limits do not list.
    RiskClassUnknown(String),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::OrderUnknown(id) => write!(f, "ORDER_UNKNOWN: no order {id}"),
            EngineError::OrderNotOpen(id) => write!(f, "ORDER_NOT_OPEN: order {id} is not open"),
            EngineError::Transition(msg) => f.write_str(msg),
            EngineError::NotApprovable(id) => {
                write!(f, "NOT_APPROVABLE: order {id} is not waiting for approval")
            }
            EngineError::BadArgument(msg) => write!(f, "BAD_ARGUMENT: {msg}"),
            EngineError::RearmRefused(msg) => write!(f, "REARM_REFUSED: {msg}"),
            EngineError::StrategyExists(id) => {
                write!(f, "STRATEGY_EXISTS: strategy {id:?} is already registered")
            }
            EngineError::RiskClassUnknown(class) => write!(
                f,
                "RISK_CLASS_UNKNOWN: the limits list no risk class {class:?}"
            ),
        }
    }
}

impl std::error::Error for EngineError {}

pub(crate) struct InstrumentState {
    pub restricted: bool,
    pub venue_up: bool,
    pub reference: Option<f64>,
    pub reference_ms: i64,
    /// Size of the last print: what the paper venue offers at its synthetic touch.
    pub last_size: f64,
    pub touch_left: [f64; 2],
    pub open_buy: f64,
    pub open_sell: f64,
    /// Our own resting limit prices (ticks -> count), for self-trade prevention.
    pub own_bids: BTreeMap<i64, u32>,
    pub own_asks: BTreeMap<i64, u32>,
    pub book: Book,
    /// The tick and lot grids, read once: the gate checks every order against them.
    pub tick: Grid,
    pub lot: Grid,
}

pub(crate) struct OrderRecord {
    pub request: OrderRequest,
    pub strategy: usize,
    pub instrument: usize,
    pub life: Lifecycle,
    pub filled: f64,
    pub leaves: f64,
    /// Price used to value the open quantity: the limit, or the reference at submit.
    pub basis_price: f64,
    pub expire_at_ms: Option<i64>,
    pub fills: u32,
    pub resting_ticks: Option<i64>,
    pub pending_update: Option<(f64, f64)>,
}

/// A strategy the gate trades under: one per risk class from the limits (the class's own
/// bucket, e.g. `manual`), and one per strategy registered at run time (`add_strategy`).
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyEntry {
    pub id: String,
    /// Index of its risk class in the limits' `strategies`.
    pub class: usize,
    /// The class's limit, read once.
    pub max_position_notional: f64,
}

/// The longest strategy id `add_strategy` takes (the limits' own ids are held to the same).
pub const MAX_STRATEGY_ID_LEN: usize = 64;

pub(crate) struct RestoredOrder {
    pub client_order_id: String,
    pub status: OrderStatus,
    pub filled: f64,
}

pub struct Engine {
    pub(crate) config: GateConfig,
    pub(crate) mode: VenueMode,
    pub(crate) key: ApprovalKey,
    pub(crate) instrument_index: HashMap<String, usize>,
    pub(crate) strategy_index: HashMap<String, usize>,
    /// Indexed like `strategy_states`: who each strategy is and the limit it trades under.
    pub(crate) strategies: Vec<StrategyEntry>,
    pub(crate) instruments: Vec<InstrumentState>,
    pub(crate) strategy_states: Vec<TradingState>,
    /// Per strategy * n_instruments + instrument: (open buy units, open sell units).
    pub(crate) strategy_open: Vec<(f64, f64)>,
    pub(crate) account_state: TradingState,
    pub(crate) daily_breaker: bool,
    pub(crate) drawdown_breaker: bool,
    pub(crate) day: i64,
    pub(crate) day_start_equity: f64,
    pub(crate) peak_equity: f64,
    pub(crate) open_buy_notional: f64,
    pub(crate) exposure: ExposureCache,
    pub(crate) submits: VecDeque<i64>,
    pub(crate) modifies: VecDeque<i64>,
    pub(crate) client_ids: HashSet<String>,
    pub(crate) handles: HashMap<String, u64>,
    /// Orders an earlier run booked (`restore_order`), by order id. Closed records only,
    /// kept apart from `orders` so nothing that walks open orders can meet them.
    pub(crate) restored: HashMap<String, RestoredOrder>,
    pub(crate) orders: IdMap<OrderRecord>,
    pub(crate) next_handle: u64,
    pub(crate) ledger: Ledger,
    pub(crate) queue: VecDeque<(i64, u64, VenueAction)>,
    /// (expiry, handle) of paper orders with a GTD or DAY expiry.
    pub(crate) expiries: BTreeSet<(i64, u64)>,
    pub(crate) events: Vec<Event>,
    /// What the fast path's threads ordered (crate::latch): read by every check, applied to
    /// the state above on the next call.
    pub(crate) latch: Arc<Latch>,
    pub(crate) fill_watch: Option<FillWatch>,
    pub(crate) bus_out: Option<BusOut>,
    /// Messages for `bus_out`, sent at the next drain.
    pub(crate) pending_bus: Vec<BusMessage>,
}

/// Worst-case exposures (every open order filled), valued at reference prices; rebuilt on
/// every change so a check is O(1) in the number of instruments.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExposureCache {
    pub gross: f64,
    pub net_long: f64,
    pub net_short: f64,
}

pub(crate) const DAY_MS: i64 = 86_400_000;

/// A fill's figures, from a venue or a restored record: finite, and a positive size and price.
fn check_fill(quantity: f64, price: f64, fee: f64) -> Result<(), EngineError> {
    if quantity.is_finite() && quantity > 0.0 && price.is_finite() && price > 0.0 && fee.is_finite()
    {
        Ok(())
    } else {
        Err(EngineError::BadArgument(
            "fill quantity and price must be finite and > 0".into(),
        ))
    }
}

impl Engine {
    pub fn new(config: GateConfig, mode: VenueMode) -> Result<Engine, String> {
        config.validate().map_err(|e| e.to_string())?;
        let key = ApprovalKey::generate()?;
        Ok(Engine::with_key(config, mode, key))
    }

    pub(crate) fn with_key(config: GateConfig, mode: VenueMode, key: ApprovalKey) -> Engine {
        let restricted: HashSet<&str> = config.restricted.iter().map(String::as_str).collect();
        let instruments = config
            .instruments
            .iter()
            .map(|i| InstrumentState {
                restricted: restricted.contains(i.id.as_str()),
                venue_up: true,
                reference: None,
                reference_ms: 0,
                last_size: 0.0,
                touch_left: [0.0; 2],
                open_buy: 0.0,
                open_sell: 0.0,
                own_bids: BTreeMap::new(),
                own_asks: BTreeMap::new(),
                book: Book::new(),
                tick: Grid::new(i.tick),
                lot: Grid::new(i.lot),
            })
            .collect();
        let n_s = config.strategies.len();
        let n_i = config.instruments.len();
        Engine {
            instrument_index: config
                .instruments
                .iter()
                .enumerate()
                .map(|(k, i)| (i.id.clone(), k))
                .collect(),
            strategy_index: config
                .strategies
                .iter()
                .enumerate()
                .map(|(k, s)| (s.id.clone(), k))
                .collect(),
            strategies: config
                .strategies
                .iter()
                .enumerate()
                .map(|(k, s)| StrategyEntry {
                    id: s.id.clone(),
                    class: k,
                    max_position_notional: s.max_position_notional,
                })
                .collect(),
            instruments,
            strategy_states: vec![TradingState::Active; n_s],
            strategy_open: vec![(0.0, 0.0); n_s * n_i],
            account_state: TradingState::Active,
            daily_breaker: false,
            drawdown_breaker: false,
            day: i64::MIN,
            day_start_equity: config.starting_cash,
            peak_equity: config.starting_cash,
            open_buy_notional: 0.0,
            exposure: ExposureCache::default(),
            submits: VecDeque::new(),
            modifies: VecDeque::new(),
            client_ids: HashSet::new(),
            handles: HashMap::new(),
            restored: HashMap::new(),
            orders: IdMap::default(),
            next_handle: 1,
            ledger: Ledger::new(n_s, n_i, config.starting_cash),
            queue: VecDeque::new(),
            expiries: BTreeSet::new(),
            events: Vec::new(),
            latch: Arc::new(Latch::default()),
            fill_watch: None,
            bus_out: None,
            pending_bus: Vec::new(),
            key,
            mode,
            config,
        }
    }

    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// The account's state in force: the engine's own, or what the latch holds it to.
    pub fn account_state(&self) -> TradingState {
        match (self.account_state, self.latch.account()) {
            (TradingState::Halted, _) | (_, TradingState::Halted) => TradingState::Halted,
            (TradingState::Reducing, _) | (_, TradingState::Reducing) => TradingState::Reducing,
            _ => TradingState::Active,
        }
    }

    pub fn strategy_state(&self, strategy_id: &str) -> Option<TradingState> {
        self.strategy_index.get(strategy_id).map(|&s| {
            if self.latch.strategy_halted(strategy_id) {
                TradingState::Halted
            } else {
                self.strategy_states[s]
            }
        })
    }

    /// Whether strategy `s` is halted, by the engine or the latch.
    pub(crate) fn strategy_halted(&self, s: usize) -> bool {
        self.strategy_states[s] == TradingState::Halted
            || self.latch.strategy_halted(&self.strategies[s].id)
    }

    /// Hand every fill this engine books to `watch` (None: to no one).
    pub fn watch_fills(&mut self, watch: Option<FillWatch>) {
        self.fill_watch = watch;
    }

    /// Send every fill and submit decision to `out` as bus messages (None: keep them).
    pub fn publish_through(&mut self, out: Option<BusOut>) {
        self.bus_out = out;
    }

    /// The latch the fast path orders this engine through.
    pub fn latch(&self) -> Arc<Latch> {
        self.latch.clone()
    }

    /// Take what the latch ordered into the engine's own state: the kill switch cancels open
    /// orders here, and each move becomes a trading-state event marked `announced` (the
    /// fast path already told the bus).
    pub fn apply_latch(&mut self) {
        if self.latch.moves() == 0 {
            return;
        }
        for order in self.latch.take() {
            self.apply_latch_order(order);
        }
    }

    fn apply_latch_order(&mut self, order: LatchOrder) {
        match &order.strategy {
            None if order.kill => {
                self.kill_as(&order.actor, &order.reason, order.ts_ms, true);
            }
            None => {
                if order.state == TradingState::Halted || self.account_state == TradingState::Active
                {
                    self.change_account_state(
                        order.state,
                        &order.actor,
                        &order.reason,
                        order.ts_ms,
                        true,
                    );
                }
            }
            Some(id) => {
                if let Some(&s) = self.strategy_index.get(id) {
                    let state = TradingState::Halted;
                    self.change_strategy_state(
                        s,
                        state,
                        &order.actor,
                        &order.reason,
                        order.ts_ms,
                        true,
                    );
                }
            }
        }
    }

    pub fn instrument_index(&self, id: &str) -> Option<usize> {
        self.instrument_index.get(id).copied()
    }

    pub fn strategy_index(&self, id: &str) -> Option<usize> {
        self.strategy_index.get(id).copied()
    }

    /// Every strategy the gate trades under, by index.
    pub fn strategies(&self) -> &[StrategyEntry] {
        &self.strategies
    }

    /// The risk class (its id in the limits) a strategy trades under.
    pub fn risk_class(&self, strategy_id: &str) -> Option<&str> {
        let s = self.strategy_index(strategy_id)?;
        Some(self.config.strategies[self.strategies[s].class].id.as_str())
    }

    /// Register a strategy to trade under its own id, with the limits of risk class
    /// `class_id` (a `strategies` entry of the limits) and a trading state of its own, ACTIVE.
    /// Its positions, fills and PnL are its own from then on. Refused for an id already
    /// registered (a class's own id included) or a class the limits do not list. Recorded
    /// as a `gate.strategy_added` event. Returns the strategy's index.
    pub fn add_strategy(
        &mut self,
        strategy_id: &str,
        class_id: &str,
        now_ms: i64,
    ) -> Result<usize, EngineError> {
        // As the desk's identifiers: ASCII letters and digits first, then also `_.:/-`.
        let well_formed = strategy_id.len() <= MAX_STRATEGY_ID_LEN
            && strategy_id
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && strategy_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:/-".contains(c));
        if !well_formed {
            return Err(EngineError::BadArgument(format!(
                "a strategy id is 1 to {MAX_STRATEGY_ID_LEN} of A-Z a-z 0-9 _ . : / -, \
                 starting with a letter or digit, got {strategy_id:?}"
            )));
        }
        if self.strategy_index.contains_key(strategy_id) {
            return Err(EngineError::StrategyExists(strategy_id.to_string()));
        }
        let class = self
            .config
            .strategies
            .iter()
            .position(|c| c.id == class_id)
            .ok_or_else(|| EngineError::RiskClassUnknown(class_id.to_string()))?;
        let max_position_notional = self.config.strategies[class].max_position_notional;
        let s = self.strategies.len();
        self.strategies.push(StrategyEntry {
            id: strategy_id.to_string(),
            class,
            max_position_notional,
        });
        self.strategy_index.insert(strategy_id.to_string(), s);
        self.strategy_states.push(TradingState::Active);
        let n_i = self.instruments.len();
        self.strategy_open
            .extend(std::iter::repeat_n((0.0, 0.0), n_i));
        self.ledger.add_strategy();
        self.events.push(Event::StrategyAdded {
            strategy_id: strategy_id.to_string(),
            risk_class: class_id.to_string(),
            max_position_notional,
            ts_ms: now_ms,
        });
        Ok(s)
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn drain_events(&mut self) -> Vec<Event> {
        self.drain_events_traced(None)
    }

    /// `drain_events`, and the fills and decisions since the last drain sent to `bus_out`
    /// under `trace` (the caller's request; None: each its own).
    pub fn drain_events_traced(&mut self, trace: Option<&str>) -> Vec<Event> {
        self.apply_latch();
        if !self.pending_bus.is_empty() {
            let mut batch = std::mem::take(&mut self.pending_bus);
            let stamp = format_micros(now_micros());
            for message in &mut batch {
                let trace_id = trace
                    .map(|t| t.chars().take(64).collect())
                    .unwrap_or_else(crate::bus_messages::new_trace_id);
                match message {
                    BusMessage::Fill(m) => (m.ts, m.trace_id) = (stamp.clone(), trace_id),
                    BusMessage::Order(m) => (m.ts, m.trace_id) = (stamp.clone(), trace_id),
                    _ => {}
                }
            }
            if let Some(out) = &self.bus_out {
                out(batch);
            }
        }
        std::mem::take(&mut self.events)
    }

    pub fn marks(&self) -> Vec<Option<f64>> {
        self.instruments.iter().map(|i| i.reference).collect()
    }

    pub fn equity(&self) -> f64 {
        self.ledger.equity_with(|i| self.instruments[i].reference)
    }

    pub fn order_status(&self, order_id: &str) -> Option<(OrderStatus, f64, f64)> {
        if let Some(r) = self.restored.get(order_id) {
            return Some((r.status, r.filled, 0.0));
        }
        let handle = self.handles.get(order_id)?;
        self.orders
            .get(handle)
            .map(|o| (o.life.status, o.filled, o.leaves))
    }

    pub fn open_order_ids(&self) -> Vec<String> {
        let mut open: Vec<(u64, String)> = self
            .orders
            .iter()
            .filter(|(_, o)| o.life.status.is_open())
            .map(|(h, o)| (*h, o.request.order_id.clone()))
            .collect();
        open.sort();
        open.into_iter().map(|(_, id)| id).collect()
    }

    /// Our resting quantity on the paper book for one instrument, per side.
    pub fn book_depth(&self, instrument_id: &str) -> Option<(f64, f64)> {
        let inst = &self.instruments[self.instrument_index(instrument_id)?];
        Some((inst.book.depth(Side::Buy), inst.book.depth(Side::Sell)))
    }

    pub fn open_quantities(&self, instrument_id: &str) -> Option<(f64, f64)> {
        let inst = &self.instruments[self.instrument_index(instrument_id)?];
        Some((inst.open_buy, inst.open_sell))
    }

    // ----- reference prices and venue status -------------------------------------------

    /// A reference (mark) price from market data; also re-values exposure and breakers.
    pub fn set_reference(
        &mut self,
        instrument: usize,
        price: f64,
        now_ms: i64,
    ) -> Result<(), EngineError> {
        if !(price.is_finite() && price > 0.0) {
            return Err(EngineError::BadArgument(format!(
                "reference price must be finite and > 0, got {price}"
            )));
        }
        let inst = self
            .instruments
            .get_mut(instrument)
            .ok_or_else(|| EngineError::BadArgument("instrument index".into()))?;
        inst.reference = Some(price);
        inst.reference_ms = now_ms;
        self.rebuild_exposure();
        self.evaluate_breakers(now_ms);
        Ok(())
    }

    pub fn set_venue_up(&mut self, instrument: usize, up: bool) {
        if let Some(inst) = self.instruments.get_mut(instrument) {
            inst.venue_up = up;
        }
    }

    // ----- submit / modify / cancel -----------------------------------------------------

    /// Run the gate and, on ACCEPT, send the order on. NEEDS_APPROVAL parks the order in
    /// PENDING_APPROVAL; DENY changes nothing but the event log.
    pub fn submit(&mut self, request: OrderRequest, now_ms: i64) -> Decision {
        self.apply_latch();
        let decision = self.check(&request, now_ms);
        let pending = self.handles.get(&request.order_id).copied();
        if self.bus_out.is_some() && request.quantity.is_finite() && request.quantity > 0.0 {
            self.pending_bus.push(BusMessage::Order(OrderMessage {
                ts: String::new(),
                trace_id: String::new(),
                order_id: request.order_id.clone(),
                strategy_id: request.strategy_id.clone(),
                instrument: request.instrument_id.clone(),
                side: request.side.into(),
                quantity: request.quantity,
                verdict: decision.verdict.code().into(),
                reasons: decision
                    .reasons
                    .codes()
                    .into_iter()
                    .map(String::from)
                    .collect(),
            }));
        }
        self.events.push(Event::Decision {
            order_id: request.order_id.clone(),
            strategy_id: request.strategy_id.clone(),
            action: Action::Submit,
            verdict: decision.verdict,
            reasons: decision.reasons,
            ts_ms: now_ms,
        });
        match decision.verdict {
            Verdict::Deny => {}
            Verdict::NeedsApproval => {
                if pending.is_none() {
                    let handle = self.insert_record(request, now_ms);
                    self.transition(handle, OrderEvent::RequireApproval, now_ms);
                }
            }
            Verdict::Accept => {
                let handle = match pending {
                    Some(h) => h,
                    None => self.insert_record(request, now_ms),
                };
                self.open(handle, now_ms);
            }
        }
        decision
    }

    fn insert_record(&mut self, request: OrderRequest, now_ms: i64) -> u64 {
        let instrument = self.instrument_index[&request.instrument_id];
        let strategy = self.strategy_index[&request.strategy_id];
        let basis_price = request
            .price
            .or(self.instruments[instrument].reference)
            .unwrap_or(0.0);
        let expire_at_ms = match request.time_in_force {
            TimeInForce::Gtd => request.expire_at_ms,
            TimeInForce::Day => Some((now_ms.div_euclid(DAY_MS) + 1) * DAY_MS),
            _ => None,
        };
        let handle = self.next_handle;
        self.next_handle += 1;
        self.client_ids.insert(request.client_order_id.clone());
        self.handles.insert(request.order_id.clone(), handle);
        let leaves = request.quantity;
        if let Some(at) = expire_at_ms {
            self.expiries.insert((at, handle));
        }
        self.orders.insert(
            handle,
            OrderRecord {
                request,
                strategy,
                instrument,
                life: Lifecycle::default(),
                filled: 0.0,
                leaves,
                basis_price,
                expire_at_ms,
                fills: 0,
                resting_ticks: None,
                pending_update: None,
            },
        );
        handle
    }

    fn open(&mut self, handle: u64, now_ms: i64) {
        self.submits.push_back(now_ms);
        self.transition(handle, OrderEvent::Submit, now_ms);
        self.add_open(handle, 1.0);
        if self.mode == VenueMode::Paper {
            self.enqueue(now_ms, handle, VenueAction::Arrive);
        }
    }

    /// Add (sign 1) or remove (sign -1) an order's open quantity from the exposure sums.
    pub(crate) fn add_open(&mut self, handle: u64, sign: f64) {
        let Some(o) = self.orders.get(&handle) else {
            return;
        };
        let (side, leaves, basis, s, i) = (
            o.request.side,
            o.leaves,
            o.basis_price,
            o.strategy,
            o.instrument,
        );
        let n_i = self.instruments.len();
        let inst = &mut self.instruments[i];
        let slot = &mut self.strategy_open[s * n_i + i];
        match side {
            Side::Buy => {
                inst.open_buy = (inst.open_buy + sign * leaves).max(0.0);
                slot.0 = (slot.0 + sign * leaves).max(0.0);
                self.open_buy_notional = (self.open_buy_notional + sign * leaves * basis).max(0.0);
            }
            Side::Sell => {
                inst.open_sell = (inst.open_sell + sign * leaves).max(0.0);
                slot.1 = (slot.1 + sign * leaves).max(0.0);
            }
        }
        self.rebuild_exposure();
    }

    pub(crate) fn rebuild_exposure(&mut self) {
        let mut cache = ExposureCache::default();
        for (i, inst) in self.instruments.iter().enumerate() {
            let Some(reference) = inst.reference else {
                continue;
            };
            let position = self.ledger.account_position(i);
            let long = position + inst.open_buy;
            let short = position - inst.open_sell;
            cache.gross += long.abs().max(short.abs()) * reference;
            cache.net_long += long * reference;
            cache.net_short += short * reference;
        }
        self.exposure = cache;
    }

    /// Record a lifecycle event; an illegal one is reported, never applied.
    pub(crate) fn transition(&mut self, handle: u64, event: OrderEvent, now_ms: i64) -> bool {
        let Some(o) = self.orders.get_mut(&handle) else {
            return false;
        };
        match o.life.apply(event) {
            Ok(status) => {
                self.events.push(Event::OrderStatus {
                    order_id: o.request.order_id.clone(),
                    strategy_id: o.request.strategy_id.clone(),
                    status,
                    filled: o.filled,
                    leaves: o.leaves,
                    ts_ms: now_ms,
                });
                true
            }
            Err(e) => {
                self.events.push(Event::Error {
                    order_id: o.request.order_id.clone(),
                    message: e.to_string(),
                    ts_ms: now_ms,
                });
                false
            }
        }
    }

    fn handle_of(&self, order_id: &str) -> Result<u64, EngineError> {
        if self.restored.contains_key(order_id) {
            // Known, but closed: its venue went with the process that sent it.
            return Err(EngineError::OrderNotOpen(order_id.to_string()));
        }
        self.handles
            .get(order_id)
            .copied()
            .ok_or_else(|| EngineError::OrderUnknown(order_id.to_string()))
    }

    /// Ask to change an open order's price and/or quantity. The gate checks the changed
    /// order as if it were new (without double-counting its own open quantity).
    pub fn modify(
        &mut self,
        order_id: &str,
        price: Option<f64>,
        quantity: Option<f64>,
        now_ms: i64,
    ) -> Result<Decision, EngineError> {
        self.apply_latch();
        let handle = self.handle_of(order_id)?;
        let o = &self.orders[&handle];
        if !matches!(
            o.life.status,
            OrderStatus::Accepted | OrderStatus::PartiallyFilled
        ) {
            return Err(EngineError::OrderNotOpen(order_id.to_string()));
        }
        let mut changed = o.request.clone();
        if let Some(p) = price {
            changed.price = Some(p);
        }
        let new_leaves = quantity.unwrap_or(o.leaves);
        changed.quantity = new_leaves;
        let decision = self.check_modify(handle, &changed, now_ms);
        self.events.push(Event::Decision {
            order_id: order_id.to_string(),
            strategy_id: changed.strategy_id.clone(),
            action: Action::Modify,
            verdict: decision.verdict,
            reasons: decision.reasons,
            ts_ms: now_ms,
        });
        if decision.verdict == Verdict::Accept {
            self.modifies.push_back(now_ms);
            self.transition(handle, OrderEvent::RequestUpdate, now_ms);
            let target_price = changed.price.unwrap_or(self.orders[&handle].basis_price);
            if let Some(o) = self.orders.get_mut(&handle) {
                o.pending_update = Some((target_price, new_leaves));
            }
            if self.mode == VenueMode::Paper {
                self.enqueue(now_ms, handle, VenueAction::Modify);
            }
        }
        Ok(decision)
    }

    /// Cancels always pass the gate, HALTED included: they only ever reduce risk.
    pub fn cancel(&mut self, order_id: &str, now_ms: i64) -> Result<(), EngineError> {
        let handle = self.handle_of(order_id)?;
        let status = self.orders[&handle].life.status;
        if status == OrderStatus::PendingApproval {
            self.transition(handle, OrderEvent::Deny, now_ms);
            return Ok(());
        }
        if !status.is_open() || status == OrderStatus::PendingCancel {
            return Err(EngineError::OrderNotOpen(order_id.to_string()));
        }
        self.events.push(Event::Decision {
            order_id: order_id.to_string(),
            strategy_id: self.orders[&handle].request.strategy_id.clone(),
            action: Action::Cancel,
            verdict: Verdict::Accept,
            reasons: ReasonSet::EMPTY,
            ts_ms: now_ms,
        });
        self.transition(handle, OrderEvent::RequestCancel, now_ms);
        if self.mode == VenueMode::Paper {
            self.enqueue(now_ms, handle, VenueAction::Cancel);
        }
        Ok(())
    }

    // ----- approval ---------------------------------------------------------------------

    /// Mint an approval token for an order waiting in PENDING_APPROVAL, naming the distinct
    /// humans who approved it; it lives `approval_ttl_ms`. Only the approval step (a human in
    /// Slack, the web page or the CLI) calls this; it is recorded. The gate counts the names
    /// when the token comes back, so a token with too few is refused there.
    pub fn approve(
        &mut self,
        order_id: &str,
        approvers: &[String],
        now_ms: i64,
    ) -> Result<String, EngineError> {
        self.apply_latch();
        let approvers = crate::approval::distinct(approvers).map_err(EngineError::BadArgument)?;
        let handle = self.handle_of(order_id)?;
        let o = &self.orders[&handle];
        if o.life.status != OrderStatus::PendingApproval {
            return Err(EngineError::NotApprovable(order_id.to_string()));
        }
        let ttl_ms = i64::try_from(self.config.approval_ttl_ms).unwrap_or(i64::MAX);
        let expires = now_ms.saturating_add(ttl_ms);
        let token = self.key.mint(&o.request, &approvers, expires);
        self.events.push(Event::Approval {
            order_id: order_id.to_string(),
            strategy_id: o.request.strategy_id.clone(),
            approver: approvers.join(", "),
            approved: true,
            expires_ms: expires,
            ts_ms: now_ms,
        });
        Ok(token)
    }

    /// What an order waiting for approval needs, valued now: how many distinct approvers
    /// the gate will require, and the notional it counts them by.
    pub fn approval_need(&self, order_id: &str, now_ms: i64) -> Result<(usize, f64), EngineError> {
        let request = self
            .pending_request(order_id)
            .ok_or_else(|| EngineError::NotApprovable(order_id.to_string()))?;
        let (_, notional) = self.check_valued(
            RequestView {
                approval_token: None,
                ..request.view()
            },
            now_ms,
        );
        Ok((self.approvers_for(notional), notional))
    }

    /// A human refused the order, or nobody answered in time: the order is denied with
    /// `APPROVAL_REFUSED` or `APPROVAL_EXPIRED`, recorded as the gate's decision.
    pub fn refuse_approval(
        &mut self,
        order_id: &str,
        approver: &str,
        expired: bool,
        now_ms: i64,
    ) -> Result<Decision, EngineError> {
        let handle = self.handle_of(order_id)?;
        if self.orders[&handle].life.status != OrderStatus::PendingApproval {
            return Err(EngineError::NotApprovable(order_id.to_string()));
        }
        let strategy_id = self.orders[&handle].request.strategy_id.clone();
        let reasons: ReasonSet = [if expired {
            Reason::ApprovalExpired
        } else {
            Reason::ApprovalRefused
        }]
        .into_iter()
        .collect();
        self.events.push(Event::Approval {
            order_id: order_id.to_string(),
            strategy_id: strategy_id.clone(),
            approver: approver.to_string(),
            approved: false,
            expires_ms: now_ms,
            ts_ms: now_ms,
        });
        self.events.push(Event::Decision {
            order_id: order_id.to_string(),
            strategy_id,
            action: Action::Submit,
            verdict: Verdict::Deny,
            reasons,
            ts_ms: now_ms,
        });
        self.transition(handle, OrderEvent::Deny, now_ms);
        Ok(Decision {
            verdict: Verdict::Deny,
            reasons,
        })
    }

    pub fn pending_request(&self, order_id: &str) -> Option<OrderRequest> {
        let handle = self.handles.get(order_id)?;
        let o = self.orders.get(handle)?;
        (o.life.status == OrderStatus::PendingApproval).then(|| o.request.clone())
    }

    // ----- trading states and the kill switch -------------------------------------------

    fn set_account_state(&mut self, state: TradingState, actor: &str, reason: &str, now_ms: i64) {
        self.change_account_state(state, actor, reason, now_ms, false);
    }

    fn change_account_state(
        &mut self,
        state: TradingState,
        actor: &str,
        reason: &str,
        now_ms: i64,
        announced: bool,
    ) {
        if self.account_state != state {
            self.account_state = state;
            self.events.push(Event::TradingState {
                scope: format!("account:{}", self.config.account_id),
                state,
                actor: actor.to_string(),
                reason: reason.to_string(),
                ts_ms: now_ms,
                announced,
            });
        }
    }

    /// Move the account or a strategy between ACTIVE and REDUCING, or to HALTED. Leaving
    /// HALTED is `rearm`'s job alone.
    pub fn set_trading_state(
        &mut self,
        strategy_id: Option<&str>,
        state: TradingState,
        actor: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), EngineError> {
        if actor.trim().is_empty() || reason.trim().is_empty() {
            return Err(EngineError::BadArgument(
                "a trading-state change needs an actor and a reason".into(),
            ));
        }
        self.apply_latch();
        match strategy_id {
            None => {
                if self.account_state == TradingState::Halted && state != TradingState::Halted {
                    return Err(EngineError::BadArgument(
                        "the account is HALTED: only rearm can lift it".into(),
                    ));
                }
                if state == TradingState::Active {
                    self.latch.lift_reducing();
                }
                self.set_account_state(state, actor, reason, now_ms);
            }
            Some(id) => {
                let s = self
                    .strategy_index(id)
                    .ok_or_else(|| EngineError::BadArgument(format!("unknown strategy {id}")))?;
                if self.strategy_states[s] == TradingState::Halted && state != TradingState::Halted
                {
                    return Err(EngineError::BadArgument(format!(
                        "strategy {id} is HALTED: only rearm can lift it"
                    )));
                }
                self.change_strategy_state(s, state, actor, reason, now_ms, false);
            }
        }
        Ok(())
    }

    fn change_strategy_state(
        &mut self,
        s: usize,
        state: TradingState,
        actor: &str,
        reason: &str,
        now_ms: i64,
        announced: bool,
    ) {
        if self.strategy_states[s] != state {
            self.strategy_states[s] = state;
            self.events.push(Event::TradingState {
                scope: format!("strategy:{}", self.strategies[s].id),
                state,
                actor: actor.to_string(),
                reason: reason.to_string(),
                ts_ms: now_ms,
                announced,
            });
        }
    }

    /// Cancel every open order and HALT the account, in one call. Returns the canceled
    /// order ids; with an external venue they are PENDING_CANCEL until the venue confirms.
    pub fn kill(&mut self, actor: &str, reason: &str, now_ms: i64) -> Vec<String> {
        self.apply_latch();
        self.kill_as(actor, reason, now_ms, false)
    }

    fn kill_as(&mut self, actor: &str, reason: &str, now_ms: i64, announced: bool) -> Vec<String> {
        let actor = if actor.trim().is_empty() {
            "unknown"
        } else {
            actor
        };
        self.change_account_state(TradingState::Halted, actor, reason, now_ms, announced);
        let mut handles: Vec<u64> = self
            .orders
            .iter()
            .filter(|(_, o)| {
                o.life.status.is_open() || o.life.status == OrderStatus::PendingApproval
            })
            .map(|(h, _)| *h)
            .collect();
        handles.sort_unstable();
        let mut canceled = Vec::new();
        for handle in handles {
            let status = self.orders[&handle].life.status;
            canceled.push(self.orders[&handle].request.order_id.clone());
            if status == OrderStatus::PendingApproval {
                self.transition(handle, OrderEvent::Deny, now_ms);
                continue;
            }
            if status != OrderStatus::PendingCancel {
                self.transition(handle, OrderEvent::RequestCancel, now_ms);
            }
            if self.mode == VenueMode::Paper {
                self.paper_cancel_now(handle, now_ms);
            }
        }
        if self.mode == VenueMode::Paper {
            self.queue.clear();
        }
        canceled
    }

    /// Lift HALTED or REDUCING back to ACTIVE: an explicit, recorded human action. The
    /// engine decides who may: anyone but a human with a name is refused, with a
    /// `rearm.refused` event, so no caller's own check is what stands between an agent and a
    /// live desk.
    pub fn rearm(&mut self, actor: &Actor, reason: &str, now_ms: i64) -> Result<(), EngineError> {
        self.apply_latch();
        if !actor.is_named_human() {
            let why = match actor {
                Actor::Human(_) => actor.validate().err().map_or_else(String::new, |e| e.0),
                _ => format!(
                    "only a named human (human:<name>) may rearm, not the {} {:?}",
                    actor.kind(),
                    actor.name()
                ),
            };
            return Err(self.refuse_rearm(&actor.to_string(), &why, reason, now_ms));
        }
        if reason.trim().is_empty() {
            return Err(EngineError::BadArgument("rearming needs a reason".into()));
        }
        let actor = actor.to_string();
        for order in self.latch.rearm() {
            self.apply_latch_order(order);
        }
        self.daily_breaker = false;
        self.drawdown_breaker = false;
        let equity = self.equity();
        self.peak_equity = equity;
        self.day_start_equity = equity;
        self.set_account_state(TradingState::Active, &actor, reason, now_ms);
        for s in 0..self.strategy_states.len() {
            self.change_strategy_state(s, TradingState::Active, &actor, reason, now_ms, false);
        }
        Ok(())
    }

    /// Record a refused re-arm and return the error to raise. `actor` is the text as given
    /// (the binding calls this for text that does not parse as an actor); the event carries
    /// it cut to the audit log's `MAX_ACTOR_LEN` with control characters replaced, so a
    /// hostile name can neither break the audit row nor hide in it.
    pub fn refuse_rearm(
        &mut self,
        actor: &str,
        why: &str,
        requested_reason: &str,
        now_ms: i64,
    ) -> EngineError {
        let mut shown: String = actor
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .take(crate::actor::MAX_ACTOR_LEN)
            .collect();
        if shown.trim().is_empty() {
            shown = "unknown".into();
        }
        self.events.push(Event::RearmRefused {
            scope: format!("account:{}", self.config.account_id),
            actor: shown,
            reason: why.to_string(),
            requested_reason: requested_reason.to_string(),
            ts_ms: now_ms,
        });
        EngineError::RearmRefused(why.to_string())
    }

    /// Daily loss and drawdown breakers: either trips the account to REDUCING.
    pub(crate) fn evaluate_breakers(&mut self, now_ms: i64) {
        let equity = self.equity();
        let day = now_ms.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.day_start_equity = equity;
            self.daily_breaker = false;
        }
        self.peak_equity = self.peak_equity.max(equity);
        if !self.daily_breaker && self.day_start_equity - equity >= self.config.daily_loss_limit {
            self.daily_breaker = true;
            if self.account_state == TradingState::Active {
                self.set_account_state(
                    TradingState::Reducing,
                    "gate",
                    Reason::DailyLossLimit.code(),
                    now_ms,
                );
            }
        }
        if !self.drawdown_breaker
            && self.peak_equity > 0.0
            && (self.peak_equity - equity) / self.peak_equity >= self.config.max_drawdown
        {
            self.drawdown_breaker = true;
            if self.account_state == TradingState::Active {
                self.set_account_state(
                    TradingState::Reducing,
                    "gate",
                    Reason::DrawdownBreaker.code(),
                    now_ms,
                );
            }
        }
    }

    // ----- fills and venue reports --------------------------------------------------------

    /// Book an execution against an order (paper or external venue).
    pub fn book_fill(
        &mut self,
        handle: u64,
        quantity: f64,
        price: f64,
        fee: f64,
        maker: bool,
        now_ms: i64,
    ) -> Result<(), EngineError> {
        check_fill(quantity, price, fee)?;
        let o = self
            .orders
            .get(&handle)
            .ok_or_else(|| EngineError::OrderUnknown(handle.to_string()))?;
        if !o.life.status.is_open() {
            return Err(EngineError::OrderNotOpen(o.request.order_id.clone()));
        }
        if quantity > o.leaves * (1.0 + 1e-9) {
            return Err(EngineError::BadArgument(format!(
                "fill of {quantity} exceeds the {} left open",
                o.leaves
            )));
        }
        let dust = self.config.instruments[o.instrument].lot * 1e-6;
        self.add_open(handle, -1.0);
        let o = self.orders.get_mut(&handle).expect("checked above");
        let quantity = quantity.min(o.leaves);
        o.filled += quantity;
        o.leaves -= quantity;
        // Float subtraction leaves dust below any lot: that is a complete fill.
        if o.leaves < dust {
            o.leaves = 0.0;
        }
        o.fills += 1;
        let fill_id = format!("{}-{}", o.request.order_id, o.fills);
        let (s, i, side, leaves) = (o.strategy, o.instrument, o.request.side, o.leaves);
        let order_id = o.request.order_id.clone();
        let strategy_id = o.request.strategy_id.clone();
        self.ledger.book_fill(s, i, side, quantity, price, fee);
        self.add_open(handle, 1.0);
        self.events.push(Event::Fill {
            fill_id,
            order_id: order_id.clone(),
            strategy_id,
            instrument_id: self.config.instruments[i].id.clone(),
            side,
            quantity,
            price,
            fee,
            maker,
            ts_ms: now_ms,
        });
        self.transition(handle, OrderEvent::Fill { leaves }, now_ms);
        if leaves == 0.0 {
            self.forget_resting(handle);
        }
        self.evaluate_breakers(now_ms);
        if self.fill_watch.is_some() || self.bus_out.is_some() {
            let seen = self.fill_seen(order_id, (s, i, side), quantity, price, fee, now_ms);
            if let Some(watch) = self.fill_watch.clone() {
                watch(&seen);
            }
            if self.bus_out.is_some() {
                self.pending_bus.push(BusMessage::Fill(seen));
            }
        }
        Ok(())
    }

    /// A booked fill as the bus carries it (core.bus FillEvent), for the fill watch.
    fn fill_seen(
        &self,
        order_id: String,
        (strategy, instrument, side): (usize, usize, Side),
        quantity: f64,
        price: f64,
        fee: f64,
        now_ms: i64,
    ) -> crate::bus_messages::FillEvent {
        crate::bus_messages::FillEvent {
            ts: crate::clock::format_micros(now_ms.saturating_mul(1000)),
            trace_id: order_id.chars().take(64).collect(),
            order_id,
            strategy_id: self.strategies[strategy].id.clone(),
            instrument: self.config.instruments[instrument].id.clone(),
            side: side.into(),
            quantity,
            price,
            fee,
            position_after: self.ledger.account_position(instrument),
            equity: self.equity(),
        }
    }

    /// Book a fill from an earlier run of this account (read back from the fills table) so a
    /// restarted gateway holds the same positions, cash, realised PnL and fees. Only on an
    /// engine that has taken no order yet: history replayed after new orders would count twice.
    pub fn restore_fill(
        &mut self,
        strategy_id: &str,
        instrument_id: &str,
        side: Side,
        quantity: f64,
        price: f64,
        fee: f64,
    ) -> Result<(), EngineError> {
        if !self.orders.is_empty() {
            return Err(EngineError::BadArgument(
                "fills are restored only before the first order".into(),
            ));
        }
        check_fill(quantity, price, fee)?;
        let s = self
            .strategy_index(strategy_id)
            .ok_or_else(|| EngineError::BadArgument(format!("unknown strategy {strategy_id:?}")))?;
        let i = self.instrument_index(instrument_id).ok_or_else(|| {
            EngineError::BadArgument(format!("unknown instrument {instrument_id:?}"))
        })?;
        self.ledger.book_fill(s, i, side, quantity, price, fee);
        Ok(())
    }

    /// Record an order an earlier run of the desk booked, so a restarted engine answers for
    /// it: `order_status` gives `(status, filled, 0.0)`, and a submit reusing its order id or
    /// client order id is denied DUPLICATE_CLIENT_ORDER_ID, so it never reaches a venue twice.
    /// The record is closed whatever `status` says: it has no leaves, no exposure and counts
    /// in no open-order sum, and cancel or modify answer ORDER_NOT_OPEN. A status that was
    /// still open (`submitted`, `accepted`, `partially_filled`, `pending_*`) is kept as the
    /// status reported but closed all the same: the venue session that held the order went
    /// with the old process, and whatever it did since is for reconciliation with the venue
    /// to find, not for this engine to guess. Only before the first order, like
    /// `restore_fill`; restoring the same order again (same client id) replaces its record,
    /// so a state log read oldest first leaves the latest state.
    pub fn restore_order(
        &mut self,
        order_id: &str,
        client_order_id: &str,
        status: OrderStatus,
        filled: f64,
    ) -> Result<(), EngineError> {
        if !self.orders.is_empty() {
            return Err(EngineError::BadArgument(
                "orders are restored only before the first order".into(),
            ));
        }
        if order_id.is_empty() || client_order_id.is_empty() {
            return Err(EngineError::BadArgument(
                "a restored order needs its order id and client order id".into(),
            ));
        }
        if !(filled.is_finite() && filled >= 0.0) {
            return Err(EngineError::BadArgument(format!(
                "filled must be finite and >= 0, got {filled}"
            )));
        }
        // One client id per order id, both ways, as `check` holds new orders to: a client id
        // is taken only by the restored order that was sent under it.
        let same_order = match self.restored.get(order_id) {
            Some(r) => r.client_order_id == client_order_id,
            None => !self.client_ids.contains(client_order_id),
        };
        if !same_order {
            return Err(EngineError::BadArgument(format!("order {order_id} with client order id {client_order_id} conflicts with an order already restored")));
        }
        self.client_ids.insert(client_order_id.to_string());
        self.restored.insert(
            order_id.to_string(),
            RestoredOrder {
                client_order_id: client_order_id.to_string(),
                status,
                filled,
            },
        );
        Ok(())
    }

    /// Drop an order's resting price from the self-trade index.
    pub(crate) fn forget_resting(&mut self, handle: u64) {
        let Some(o) = self.orders.get_mut(&handle) else {
            return;
        };
        let Some(ticks) = o.resting_ticks.take() else {
            return;
        };
        let inst = &mut self.instruments[o.instrument];
        let own = match o.request.side {
            Side::Buy => &mut inst.own_bids,
            Side::Sell => &mut inst.own_asks,
        };
        if let Some(count) = own.get_mut(&ticks) {
            *count -= 1;
            if *count == 0 {
                own.remove(&ticks);
            }
        }
        let _ = inst.book.cancel(handle);
    }

    pub(crate) fn remember_resting(&mut self, handle: u64, ticks: i64) {
        let Some(o) = self.orders.get_mut(&handle) else {
            return;
        };
        o.resting_ticks = Some(ticks);
        let inst = &mut self.instruments[o.instrument];
        let own = match o.request.side {
            Side::Buy => &mut inst.own_bids,
            Side::Sell => &mut inst.own_asks,
        };
        *own.entry(ticks).or_insert(0) += 1;
    }

    /// Close an order without a fill (canceled, expired, rejected): its open quantity is
    /// released.
    pub(crate) fn close_unfilled(&mut self, handle: u64, event: OrderEvent, now_ms: i64) -> bool {
        if !self.transition(handle, event, now_ms) {
            return false;
        }
        self.add_open(handle, -1.0);
        if let Some(o) = self.orders.get_mut(&handle) {
            o.leaves = 0.0;
        }
        self.forget_resting(handle);
        true
    }

    /// A report from an external venue adapter. `kind`: accepted, rejected, canceled,
    /// cancel_rejected, updated, update_rejected, expired.
    pub fn venue_report(
        &mut self,
        order_id: &str,
        kind: &str,
        now_ms: i64,
    ) -> Result<OrderStatus, EngineError> {
        let handle = self.handle_of(order_id)?;
        let ok = match kind {
            "accepted" => self.transition(handle, OrderEvent::Accept, now_ms),
            "rejected" => self.close_unfilled(handle, OrderEvent::Reject, now_ms),
            "canceled" => self.close_unfilled(handle, OrderEvent::CancelAccepted, now_ms),
            "expired" => self.close_unfilled(handle, OrderEvent::Expire, now_ms),
            "cancel_rejected" => self.transition(handle, OrderEvent::CancelRejected, now_ms),
            "update_rejected" => {
                let ok = self.transition(handle, OrderEvent::UpdateRejected, now_ms);
                if let Some(o) = self.orders.get_mut(&handle) {
                    o.pending_update = None;
                }
                ok
            }
            "updated" => self.apply_update(handle, now_ms),
            other => {
                return Err(EngineError::BadArgument(format!(
                    "unknown venue report {other:?}"
                )))
            }
        };
        let status = self.orders[&handle].life.status;
        if ok {
            Ok(status)
        } else {
            Err(EngineError::Transition(format!(
                "ILLEGAL_TRANSITION: {kind} from {status}"
            )))
        }
    }

    /// The venue took an update: new price and quantity replace the old open amounts.
    pub(crate) fn apply_update(&mut self, handle: u64, now_ms: i64) -> bool {
        let Some((price, leaves)) = self.orders.get(&handle).and_then(|o| o.pending_update) else {
            return false;
        };
        if !self.transition(handle, OrderEvent::UpdateAccepted, now_ms) {
            return false;
        }
        self.add_open(handle, -1.0);
        if let Some(o) = self.orders.get_mut(&handle) {
            o.pending_update = None;
            o.request.quantity = o.filled + leaves;
            o.leaves = leaves;
            if o.request.order_type == OrderType::Limit {
                o.request.price = Some(price);
                o.basis_price = price;
            }
        }
        self.add_open(handle, 1.0);
        true
    }

    pub fn handle(&self, order_id: &str) -> Option<u64> {
        self.handles.get(order_id).copied()
    }
}
