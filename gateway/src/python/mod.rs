//! Thin PyO3 binding: converts arguments, results and errors; holds no logic of its own.

use pyo3::buffer::PyBuffer;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::actor::Actor;
use crate::config::GateConfig;
use crate::engine::{Engine, EngineError, VenueMode};
use crate::events::{Decision, Event, TradingState, Verdict};
use crate::gate::CoreOrder;
use crate::increments;
use crate::order::{OrderRequest, OrderStatus, OrderType, RequestView, Side, TimeInForce};
use crate::reason::Reason;
use crate::replay::ReplayInput;

mod fast_path;

create_exception!(
    _core,
    GatewayError,
    PyValueError,
    "A gateway operation was refused; the message starts with its code."
);

fn gateway_err(e: EngineError) -> PyErr {
    GatewayError::new_err(e.to_string())
}

fn bad(message: String) -> PyErr {
    GatewayError::new_err(format!("BAD_ARGUMENT: {message}"))
}

fn parse_side(value: &str) -> PyResult<Side> {
    match value {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        other => Err(bad(format!("side must be 'buy' or 'sell', got {other:?}"))),
    }
}

fn parse_order_type(value: &str) -> PyResult<OrderType> {
    match value {
        "market" => Ok(OrderType::Market),
        "limit" => Ok(OrderType::Limit),
        other => Err(bad(format!(
            "order_type must be 'market' or 'limit', got {other:?}"
        ))),
    }
}

fn parse_tif(value: &str) -> PyResult<TimeInForce> {
    match value {
        "gtc" => Ok(TimeInForce::Gtc),
        "ioc" => Ok(TimeInForce::Ioc),
        "fok" => Ok(TimeInForce::Fok),
        "day" => Ok(TimeInForce::Day),
        "gtd" => Ok(TimeInForce::Gtd),
        other => Err(bad(format!(
            "time_in_force must be gtc/ioc/fok/day/gtd, got {other:?}"
        ))),
    }
}

fn trading_state(value: &str) -> PyResult<TradingState> {
    match value {
        "active" => Ok(TradingState::Active),
        "reducing" => Ok(TradingState::Reducing),
        "halted" => Ok(TradingState::Halted),
        other => Err(bad(format!(
            "trading state must be active/reducing/halted, got {other:?}"
        ))),
    }
}

fn side_code(value: Side) -> &'static str {
    match value {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn decision(d: &Decision) -> (&'static str, Vec<&'static str>) {
    (d.verdict.code(), d.reasons.codes())
}

/// `gateway.decisions.GateDecision`, `tuple.__new__` and the verdict members, looked up once:
/// the typed check hands back the desk's own decision type without a Python frame.
struct DecisionTypes {
    new: Py<PyAny>,
    class: Py<PyAny>,
    accept: Py<PyAny>,
    deny: Py<PyAny>,
    needs_approval: Py<PyAny>,
}

static DECISION_TYPES: PyOnceLock<DecisionTypes> = PyOnceLock::new();

impl DecisionTypes {
    fn get(py: Python<'_>) -> PyResult<&DecisionTypes> {
        DECISION_TYPES.get_or_try_init(py, || {
            let module = py.import("gateway.decisions")?;
            let verdict = module.getattr("Verdict")?;
            let member = |name: &str| verdict.getattr(name).map(Bound::unbind);
            Ok(DecisionTypes {
                new: py.get_type::<PyTuple>().getattr("__new__")?.unbind(),
                class: module.getattr("GateDecision")?.unbind(),
                accept: member("ACCEPT")?,
                deny: member("DENY")?,
                needs_approval: member("NEEDS_APPROVAL")?,
            })
        })
    }

    fn make<'py>(
        &self,
        py: Python<'py>,
        order_id: Bound<'py, PyAny>,
        d: &Decision,
        limits_version: &Py<PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let verdict = match d.verdict {
            Verdict::Accept => &self.accept,
            Verdict::Deny => &self.deny,
            Verdict::NeedsApproval => &self.needs_approval,
        };
        let codes = PyTuple::new(py, d.reasons.codes())?;
        let fields = (order_id, verdict.bind(py), codes, limits_version.bind(py));
        self.new.bind(py).call1((self.class.bind(py), fields))
    }
}

/// A UUID's canonical text (8-4-4-4-12 lowercase hex), as Python's `str(uuid)` writes it; on
/// the stack, as a check reads it once.
fn uuid_text(value: u128) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'-'; 36];
    let mut at = 0;
    for k in 0..32 {
        if matches!(k, 8 | 12 | 16 | 20) {
            at += 1;
        }
        text[at] = HEX[((value >> (124 - 4 * k)) & 0xf) as usize];
        at += 1;
    }
    text
}

/// "venue:symbol" as the gate keys instruments: on the stack when it fits (a check makes one
/// per call, and an allocation is a tenth of the check).
enum InstrumentKey {
    Stack([u8; 64], usize),
    Heap(String),
}

impl InstrumentKey {
    fn of(venue: &str, symbol: &str) -> Self {
        let len = venue.len() + 1 + symbol.len();
        if len > 64 {
            return InstrumentKey::Heap(format!("{venue}:{symbol}"));
        }
        let mut buf = [0u8; 64];
        buf[..venue.len()].copy_from_slice(venue.as_bytes());
        buf[venue.len()] = b':';
        buf[venue.len() + 1..len].copy_from_slice(symbol.as_bytes());
        InstrumentKey::Stack(buf, len)
    }

    fn as_str(&self) -> PyResult<&str> {
        match self {
            InstrumentKey::Stack(buf, len) => text(&buf[..*len]),
            InstrumentKey::Heap(joined) => Ok(joined),
        }
    }
}

fn text(bytes: &[u8]) -> PyResult<&str> {
    std::str::from_utf8(bytes).map_err(|e| bad(e.to_string()))
}

/// A validated order model's fields, read in place: its text stays in the Python strings
/// until the gate reads it, so a check copies none of it.
struct ModelFields<'py> {
    id: Bound<'py, PyAny>,
    order_id: [u8; 36],
    client_order_id: Bound<'py, PyAny>,
    account_id: Bound<'py, PyAny>,
    strategy_id: Bound<'py, PyAny>,
    venue: Bound<'py, PyAny>,
    symbol: Bound<'py, PyAny>,
    side: Side,
    order_type: OrderType,
    time_in_force: TimeInForce,
    quantity: f64,
    price: Option<f64>,
    expire_at_ms: Option<i64>,
    reduce_only: bool,
}

impl<'py> ModelFields<'py> {
    fn read(order: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = order.py();
        // A pydantic model keeps its fields in its instance dict; reading them there is
        // several times cheaper than an attribute lookup from C.
        let values = order
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let field = |name: &Bound<'py, pyo3::types::PyString>| {
            values
                .get_item(name)?
                .ok_or_else(|| bad(format!("not an order model: no field {name}")))
        };
        let id = field(intern!(py, "order_id"))?;
        let id_bits: u128 = id.getattr(intern!(py, "int"))?.extract()?;
        let expire_at = field(intern!(py, "expire_at"))?;
        let expire_at_ms = if expire_at.is_none() {
            None
        } else {
            // As Python's int(ts.timestamp() * 1000): truncated toward zero.
            let seconds: f64 = expire_at
                .call_method0(intern!(py, "timestamp"))?
                .extract()?;
            Some((seconds * 1000.0) as i64)
        };
        Ok(ModelFields {
            id,
            order_id: uuid_text(id_bits),
            client_order_id: field(intern!(py, "client_order_id"))?,
            account_id: field(intern!(py, "account_id"))?,
            strategy_id: field(intern!(py, "strategy_id"))?,
            venue: field(intern!(py, "venue_id"))?,
            symbol: field(intern!(py, "symbol"))?,
            side: parse_side(field(intern!(py, "side"))?.extract()?)?,
            order_type: parse_order_type(field(intern!(py, "order_type"))?.extract()?)?,
            time_in_force: parse_tif(field(intern!(py, "time_in_force"))?.extract()?)?,
            quantity: field(intern!(py, "quantity"))?.extract()?,
            price: field(intern!(py, "limit_price"))?.extract()?,
            expire_at_ms,
            reduce_only: field(intern!(py, "reduce_only"))?.extract()?,
        })
    }

    fn instrument_id(&self) -> PyResult<InstrumentKey> {
        Ok(InstrumentKey::of(
            self.venue.extract()?,
            self.symbol.extract()?,
        ))
    }

    fn view<'a>(&'a self, instrument_id: &'a str) -> PyResult<RequestView<'a>> {
        Ok(RequestView {
            order_id: text(&self.order_id)?,
            client_order_id: self.client_order_id.extract()?,
            account_id: self.account_id.extract()?,
            strategy_id: self.strategy_id.extract()?,
            instrument_id,
            side: self.side,
            order_type: self.order_type,
            quantity: self.quantity,
            price: self.price,
            time_in_force: self.time_in_force,
            expire_at_ms: self.expire_at_ms,
            reduce_only: self.reduce_only,
            approval_token: None,
        })
    }
}

/// An order as it crosses into the engine: parsed and checked for form once, when made.
#[pyclass(frozen, name = "OrderRequest", module = "gateway._core")]
struct PyOrderRequest {
    inner: OrderRequest,
}

#[pymethods]
impl PyOrderRequest {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (*, order_id, client_order_id, account_id, strategy_id, instrument_id, side, order_type, quantity, price=None, time_in_force="gtc", expire_at_ms=None, reduce_only=false))]
    fn new(
        order_id: String,
        client_order_id: String,
        account_id: String,
        strategy_id: String,
        instrument_id: String,
        side: &str,
        order_type: &str,
        quantity: f64,
        price: Option<f64>,
        time_in_force: &str,
        expire_at_ms: Option<i64>,
        reduce_only: bool,
    ) -> PyResult<Self> {
        Ok(PyOrderRequest {
            inner: OrderRequest {
                order_id,
                client_order_id,
                account_id,
                strategy_id,
                instrument_id,
                side: parse_side(side)?,
                order_type: parse_order_type(order_type)?,
                quantity,
                price,
                time_in_force: parse_tif(time_in_force)?,
                expire_at_ms,
                reduce_only,
                approval_token: None,
            },
        })
    }

    /// The request for a validated order model (`core.models.trading.Order`: `order_id` a
    /// UUID, `venue_id` and `symbol`, the enums as their string values), read in one call:
    /// building it keyword by keyword from Python costs several times the gate's check.
    #[staticmethod]
    fn of_order(order: &Bound<'_, PyAny>) -> PyResult<Self> {
        let fields = ModelFields::read(order)?;
        let instrument_id = fields.instrument_id()?;
        let view = fields.view(instrument_id.as_str()?)?;
        Ok(PyOrderRequest {
            inner: OrderRequest {
                order_id: view.order_id.to_owned(),
                client_order_id: view.client_order_id.to_owned(),
                account_id: view.account_id.to_owned(),
                strategy_id: view.strategy_id.to_owned(),
                side: view.side,
                order_type: view.order_type,
                quantity: view.quantity,
                price: view.price,
                time_in_force: view.time_in_force,
                expire_at_ms: view.expire_at_ms,
                reduce_only: view.reduce_only,
                approval_token: None,
                instrument_id: view.instrument_id.to_owned(),
            },
        })
    }

    #[getter]
    fn order_id(&self) -> &str {
        &self.inner.order_id
    }

    #[getter]
    fn instrument_id(&self) -> &str {
        &self.inner.instrument_id
    }

    #[getter]
    fn strategy_id(&self) -> &str {
        &self.inner.strategy_id
    }

    #[getter]
    fn side(&self) -> &'static str {
        side_code(self.inner.side)
    }

    #[getter]
    fn quantity(&self) -> f64 {
        self.inner.quantity
    }

    #[getter]
    fn price(&self) -> Option<f64> {
        self.inner.price
    }

    fn __repr__(&self) -> String {
        let o = &self.inner;
        format!(
            "OrderRequest({} {} {} {:?} @ {:?})",
            o.order_id,
            side_code(o.side),
            o.quantity,
            o.instrument_id,
            o.price
        )
    }
}

/// The gateway engine: gate, orders, paper venue (or an external venue's reports), ledger.
#[pyclass(name = "Engine", module = "gateway._core")]
struct Engine_ {
    inner: Engine,
    limits_version: Py<PyString>,
}

impl Engine_ {
    fn instrument(&self, instrument_id: &str) -> PyResult<usize> {
        self.inner
            .instrument_index(instrument_id)
            .ok_or_else(|| bad(format!("unknown instrument {instrument_id:?}")))
    }
}

#[pymethods]
impl Engine_ {
    #[new]
    #[pyo3(signature = (config_json, external = false))]
    fn new(py: Python<'_>, config_json: &str, external: bool) -> PyResult<Self> {
        let config =
            GateConfig::from_json(config_json).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let mode = if external {
            VenueMode::External
        } else {
            VenueMode::Paper
        };
        let limits_version = PyString::new(py, &config.limits_version).unbind();
        Ok(Engine_ {
            inner: Engine::new(config, mode).map_err(PyValueError::new_err)?,
            limits_version,
        })
    }

    #[getter]
    fn limits_version(&self) -> String {
        self.inner.config().limits_version.clone()
    }

    #[getter]
    fn account_id(&self) -> String {
        self.inner.config().account_id.clone()
    }

    fn instrument_index(&self, instrument_id: &str) -> Option<usize> {
        self.inner.instrument_index(instrument_id)
    }

    fn strategy_index(&self, strategy_id: &str) -> Option<usize> {
        self.inner.strategy_index(strategy_id)
    }

    /// Register a strategy under its own id with risk class `risk_class`'s limits; returns
    /// its index. GatewayError STRATEGY_EXISTS or RISK_CLASS_UNKNOWN when refused.
    fn add_strategy(
        &mut self,
        strategy_id: &str,
        risk_class: &str,
        now_ms: i64,
    ) -> PyResult<usize> {
        self.inner
            .add_strategy(strategy_id, risk_class, now_ms)
            .map_err(gateway_err)
    }

    /// (strategy id, risk class, max position notional, trading state) for every strategy
    /// the gate trades under, by index.
    fn strategies(&self) -> Vec<(String, String, f64, &'static str)> {
        let config = self.inner.config();
        self.inner
            .strategies()
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    config.strategies[s.class].id.clone(),
                    s.max_position_notional,
                    self.inner
                        .strategy_state(&s.id)
                        .map_or("active", TradingState::code),
                )
            })
            .collect()
    }

    fn check(&self, order: &PyOrderRequest, now_ms: i64) -> (&'static str, Vec<&'static str>) {
        decision(&self.inner.check(&order.inner, now_ms))
    }

    /// `check` for a validated order model (as `OrderRequest.of_order` reads it), read in
    /// place and answered as a `gateway.decisions.GateDecision`; `now_ms` None reads the wall
    /// clock here. The typed path's cost is mostly making objects: this makes the decision only.
    #[pyo3(signature = (order, now_ms = None))]
    fn decide_order<'py>(
        &self,
        order: &Bound<'py, PyAny>,
        now_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = order.py();
        let types = DecisionTypes::get(py)?;
        let fields = ModelFields::read(order)?;
        let instrument_id = fields.instrument_id()?;
        let now_ms = now_ms.unwrap_or_else(crate::clock::now_millis);
        let decided = self
            .inner
            .check_view(fields.view(instrument_id.as_str()?)?, now_ms);
        types.make(py, fields.id, &decided, &self.limits_version)
    }

    fn submit(
        &mut self,
        order: &PyOrderRequest,
        approval_token: Option<String>,
        now_ms: i64,
    ) -> (&'static str, Vec<&'static str>) {
        let request = OrderRequest {
            approval_token,
            ..order.inner.clone()
        };
        decision(&self.inner.submit(request, now_ms))
    }

    /// Screen arrays of orders (buffers: u32 instrument, u32 strategy, u8 side 0=buy 1=sell,
    /// u8 type 0=market 1=limit, f64 price (NaN for market), f64 quantity). Returns the
    /// verdicts (u8: 0 accept, 1 deny, 2 needs approval) and reason masks (u64) as bytes.
    #[allow(clippy::too_many_arguments)]
    fn check_batch<'py>(
        &self,
        py: Python<'py>,
        instrument: PyBuffer<u32>,
        strategy: PyBuffer<u32>,
        side: PyBuffer<u8>,
        order_type: PyBuffer<u8>,
        price: PyBuffer<f64>,
        quantity: PyBuffer<f64>,
        now_ms: i64,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let n = instrument.item_count();
        if [
            strategy.item_count(),
            side.item_count(),
            order_type.item_count(),
            price.item_count(),
            quantity.item_count(),
        ]
        .iter()
        .any(|&m| m != n)
        {
            return Err(bad(
                "check_batch arrays must all have the same length".into()
            ));
        }
        let (inst, strat, sides, types, prices, qtys) = (
            instrument.to_vec(py)?,
            strategy.to_vec(py)?,
            side.to_vec(py)?,
            order_type.to_vec(py)?,
            price.to_vec(py)?,
            quantity.to_vec(py)?,
        );
        let mut orders = Vec::with_capacity(n);
        for k in 0..n {
            let market = types[k] == 0;
            orders.push(CoreOrder {
                instrument: inst[k] as usize,
                strategy: strat[k] as usize,
                side: if sides[k] == 0 { Side::Buy } else { Side::Sell },
                order_type: if market {
                    OrderType::Market
                } else {
                    OrderType::Limit
                },
                price: if market && prices[k].is_nan() {
                    None
                } else {
                    Some(prices[k])
                },
                quantity: qtys[k],
                time_in_force: TimeInForce::Gtc,
                expire_at_ms: None,
                reduce_only: false,
            });
        }
        let mut verdicts = vec![0u8; n];
        let mut masks = vec![0u64; n];
        self.inner
            .check_batch(&orders, now_ms, &mut verdicts, &mut masks);
        let mask_bytes: Vec<u8> = masks.iter().flat_map(|m| m.to_ne_bytes()).collect();
        Ok((PyBytes::new(py, &verdicts), PyBytes::new(py, &mask_bytes)))
    }

    /// Replay bars and target weights through the gate and paper venue (see `replay.rs`).
    /// Returns equity and position per bar (f64 bytes) and order counts.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (instrument_id, strategy_id, ts_ms, open, high, low, close, volume, weights, interval_ms, rebalance_band = 0.0))]
    fn replay_targets<'py>(
        &mut self,
        py: Python<'py>,
        instrument_id: &str,
        strategy_id: &str,
        ts_ms: PyBuffer<i64>,
        open: PyBuffer<f64>,
        high: PyBuffer<f64>,
        low: PyBuffer<f64>,
        close: PyBuffer<f64>,
        volume: PyBuffer<f64>,
        weights: PyBuffer<f64>,
        interval_ms: i64,
        rebalance_band: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (ts, o, h, l, c, v, w) = (
            ts_ms.to_vec(py)?,
            open.to_vec(py)?,
            high.to_vec(py)?,
            low.to_vec(py)?,
            close.to_vec(py)?,
            volume.to_vec(py)?,
            weights.to_vec(py)?,
        );
        let input = ReplayInput {
            instrument_id,
            strategy_id,
            ts_ms: &ts,
            open: &o,
            high: &h,
            low: &l,
            close: &c,
            volume: &v,
            weights: &w,
            interval_ms,
            rebalance_band,
        };
        let out = self.inner.replay_targets(&input).map_err(gateway_err)?;
        let d = PyDict::new(py);
        let bytes = |xs: &[f64]| xs.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>();
        d.set_item("equity", PyBytes::new(py, &bytes(&out.equity)))?;
        d.set_item("position", PyBytes::new(py, &bytes(&out.position)))?;
        d.set_item("orders", out.orders)?;
        d.set_item("denied", out.denied)?;
        d.set_item("needs_approval", out.needs_approval)?;
        d.set_item("denial_reasons", out.denial_reasons.codes())?;
        Ok(d)
    }

    #[pyo3(signature = (order_id, price, quantity, now_ms))]
    fn modify(
        &mut self,
        order_id: &str,
        price: Option<f64>,
        quantity: Option<f64>,
        now_ms: i64,
    ) -> PyResult<(&'static str, Vec<&'static str>)> {
        self.inner
            .modify(order_id, price, quantity, now_ms)
            .map(|d| decision(&d))
            .map_err(gateway_err)
    }

    fn cancel(&mut self, order_id: &str, now_ms: i64) -> PyResult<()> {
        self.inner.cancel(order_id, now_ms).map_err(gateway_err)
    }

    fn approve(&mut self, order_id: &str, approvers: Vec<String>, now_ms: i64) -> PyResult<String> {
        self.inner
            .approve(order_id, &approvers, now_ms)
            .map_err(gateway_err)
    }

    fn approval_need(&self, order_id: &str, now_ms: i64) -> PyResult<(usize, f64)> {
        self.inner
            .approval_need(order_id, now_ms)
            .map_err(gateway_err)
    }

    fn refuse_approval(
        &mut self,
        order_id: &str,
        approver: &str,
        expired: bool,
        now_ms: i64,
    ) -> PyResult<(&'static str, Vec<&'static str>)> {
        self.inner
            .refuse_approval(order_id, approver, expired, now_ms)
            .map(|d| decision(&d))
            .map_err(gateway_err)
    }

    fn kill(&mut self, actor: &str, reason: &str, now_ms: i64) -> Vec<String> {
        self.inner.kill(actor, reason, now_ms)
    }

    /// `actor` as the desk spells it ("human:alice"); only a named human may rearm. Text
    /// that is no actor is refused and recorded like an agent's attempt.
    fn rearm(&mut self, actor: &str, reason: &str, now_ms: i64) -> PyResult<()> {
        match Actor::parse(actor) {
            Ok(actor) => self
                .inner
                .rearm(&actor, reason, now_ms)
                .map_err(gateway_err),
            Err(e) => Err(gateway_err(
                self.inner.refuse_rearm(actor, &e.0, reason, now_ms),
            )),
        }
    }

    #[pyo3(signature = (strategy_id, state, actor, reason, now_ms))]
    fn set_trading_state(
        &mut self,
        strategy_id: Option<&str>,
        state: &str,
        actor: &str,
        reason: &str,
        now_ms: i64,
    ) -> PyResult<()> {
        let state = trading_state(state)?;
        self.inner
            .set_trading_state(strategy_id, state, actor, reason, now_ms)
            .map_err(gateway_err)
    }

    #[getter]
    fn account_state(&self) -> &'static str {
        self.inner.account_state().code()
    }

    fn strategy_state(&self, strategy_id: &str) -> Option<&'static str> {
        self.inner
            .strategy_state(strategy_id)
            .map(TradingState::code)
    }

    fn set_reference(&mut self, instrument_id: &str, price: f64, now_ms: i64) -> PyResult<()> {
        let i = self.instrument(instrument_id)?;
        self.inner
            .set_reference(i, price, now_ms)
            .map_err(gateway_err)
    }

    fn set_venue_up(&mut self, instrument_id: &str, up: bool) -> PyResult<()> {
        let i = self.instrument(instrument_id)?;
        self.inner.set_venue_up(i, up);
        Ok(())
    }

    fn on_trade(&mut self, instrument_id: &str, ts_ms: i64, price: f64, size: f64) -> PyResult<()> {
        let i = self.instrument(instrument_id)?;
        self.inner
            .on_trade(i, ts_ms, price, size)
            .map_err(gateway_err)
    }

    #[allow(clippy::too_many_arguments)]
    fn on_bar(
        &mut self,
        instrument_id: &str,
        ts_ms: i64,
        interval_ms: i64,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> PyResult<()> {
        let i = self.instrument(instrument_id)?;
        self.inner
            .on_bar(i, ts_ms, interval_ms, open, high, low, close, volume)
            .map_err(gateway_err)
    }

    fn advance(&mut self, now_ms: i64) {
        self.inner.advance(now_ms);
    }

    fn venue_report(&mut self, order_id: &str, kind: &str, now_ms: i64) -> PyResult<&'static str> {
        self.inner
            .venue_report(order_id, kind, now_ms)
            .map(|s| s.code())
            .map_err(gateway_err)
    }

    #[allow(clippy::too_many_arguments)]
    fn venue_fill(
        &mut self,
        order_id: &str,
        quantity: f64,
        price: f64,
        fee: f64,
        maker: bool,
        now_ms: i64,
    ) -> PyResult<()> {
        let h = self
            .inner
            .handle(order_id)
            .ok_or_else(|| gateway_err(EngineError::OrderUnknown(order_id.to_string())))?;
        self.inner
            .book_fill(h, quantity, price, fee, maker, now_ms)
            .map_err(gateway_err)
    }

    fn restore_fill(
        &mut self,
        strategy_id: &str,
        instrument_id: &str,
        side: &str,
        quantity: f64,
        price: f64,
        fee: f64,
    ) -> PyResult<()> {
        let side = parse_side(side)?;
        self.inner
            .restore_fill(strategy_id, instrument_id, side, quantity, price, fee)
            .map_err(gateway_err)
    }

    fn restore_order(
        &mut self,
        order_id: &str,
        client_order_id: &str,
        status: &str,
        filled: f64,
    ) -> PyResult<()> {
        let status = OrderStatus::from_code(status)
            .ok_or_else(|| bad(format!("unknown order status {status:?}")))?;
        self.inner
            .restore_order(order_id, client_order_id, status, filled)
            .map_err(gateway_err)
    }

    fn order_status(&self, order_id: &str) -> Option<(&'static str, f64, f64)> {
        self.inner
            .order_status(order_id)
            .map(|(s, f, l)| (s.code(), f, l))
    }

    fn open_order_ids(&self) -> Vec<String> {
        self.inner.open_order_ids()
    }

    fn open_quantities(&self, instrument_id: &str) -> PyResult<(f64, f64)> {
        self.inner
            .open_quantities(instrument_id)
            .ok_or_else(|| bad(format!("unknown instrument {instrument_id:?}")))
    }

    fn book_depth(&self, instrument_id: &str) -> PyResult<(f64, f64)> {
        self.inner
            .book_depth(instrument_id)
            .ok_or_else(|| bad(format!("unknown instrument {instrument_id:?}")))
    }

    #[getter]
    fn cash(&self) -> f64 {
        self.inner.ledger().cash()
    }

    #[getter]
    fn equity(&self) -> f64 {
        self.inner.equity()
    }

    /// (strategy, instrument, quantity, average price, realised PnL, fees, mark or None).
    #[allow(clippy::type_complexity)]
    fn positions(&self) -> Vec<(String, String, f64, f64, f64, f64, Option<f64>)> {
        let config = self.inner.config();
        let marks = self.inner.marks();
        self.inner
            .ledger()
            .positions()
            .map(|(s, i, p)| {
                (
                    self.inner.strategies()[s].id.clone(),
                    config.instruments[i].id.clone(),
                    p.quantity,
                    p.average_price,
                    p.realized_pnl,
                    p.fees,
                    marks[i],
                )
            })
            .collect()
    }

    /// Everything that happened since the last call, oldest first, as plain dicts. The keys
    /// are interned: every order makes several events, each would allocate its key strings.
    /// With a fast path attached, the fills and order decisions since the last drain go out
    /// on the bus under `trace` (the caller's request; None: each its own).
    #[pyo3(signature = (trace = None))]
    fn drain_events<'py>(
        &mut self,
        py: Python<'py>,
        trace: Option<&str>,
    ) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for event in self.inner.drain_events_traced(trace) {
            let d = PyDict::new(py);
            d.set_item(intern!(py, "kind"), event.kind())?;
            match event {
                Event::Decision {
                    order_id,
                    strategy_id,
                    action,
                    verdict,
                    reasons,
                    ts_ms,
                } => {
                    d.set_item(intern!(py, "order_id"), order_id)?;
                    d.set_item(intern!(py, "strategy_id"), strategy_id)?;
                    d.set_item(intern!(py, "action"), action.code())?;
                    d.set_item(intern!(py, "verdict"), verdict.code())?;
                    d.set_item(intern!(py, "reason_codes"), reasons.codes())?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                }
                Event::OrderStatus {
                    order_id,
                    strategy_id,
                    status,
                    filled,
                    leaves,
                    ts_ms,
                } => {
                    d.set_item(intern!(py, "order_id"), order_id)?;
                    d.set_item(intern!(py, "strategy_id"), strategy_id)?;
                    d.set_item(intern!(py, "status"), status.code())?;
                    d.set_item(intern!(py, "filled"), filled)?;
                    d.set_item(intern!(py, "leaves"), leaves)?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                }
                Event::Fill {
                    fill_id,
                    order_id,
                    strategy_id,
                    instrument_id,
                    side,
                    quantity,
                    price,
                    fee,
                    maker,
                    ts_ms,
                } => {
                    d.set_item(intern!(py, "fill_id"), fill_id)?;
                    d.set_item(intern!(py, "order_id"), order_id)?;
                    d.set_item(intern!(py, "strategy_id"), strategy_id)?;
                    d.set_item(intern!(py, "instrument_id"), instrument_id)?;
                    d.set_item(intern!(py, "side"), side_code(side))?;
                    d.set_item(intern!(py, "quantity"), quantity)?;
                    d.set_item(intern!(py, "price"), price)?;
                    d.set_item(intern!(py, "fee"), fee)?;
                    d.set_item(
                        intern!(py, "liquidity"),
                        if maker { "maker" } else { "taker" },
                    )?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                }
                Event::Approval {
                    order_id,
                    strategy_id,
                    approver,
                    approved,
                    expires_ms,
                    ts_ms,
                } => {
                    d.set_item(intern!(py, "order_id"), order_id)?;
                    d.set_item(intern!(py, "strategy_id"), strategy_id)?;
                    d.set_item(intern!(py, "approver"), approver)?;
                    d.set_item(intern!(py, "approved"), approved)?;
                    d.set_item(intern!(py, "expires_ms"), expires_ms)?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                }
                Event::TradingState {
                    scope,
                    state,
                    actor,
                    reason,
                    ts_ms,
                    announced,
                } => {
                    d.set_item(intern!(py, "scope"), scope)?;
                    d.set_item(intern!(py, "state"), state.code())?;
                    d.set_item(intern!(py, "actor"), actor)?;
                    d.set_item(intern!(py, "reason"), reason)?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                    if announced {
                        d.set_item(intern!(py, "announced"), true)?;
                    }
                }
                Event::RearmRefused {
                    scope,
                    actor,
                    reason,
                    requested_reason,
                    ts_ms,
                } => {
                    d.set_item(intern!(py, "scope"), scope)?;
                    d.set_item(intern!(py, "actor"), actor)?;
                    d.set_item(intern!(py, "reason"), reason)?;
                    d.set_item(intern!(py, "requested_reason"), requested_reason)?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                }
                Event::StrategyAdded {
                    strategy_id,
                    risk_class,
                    max_position_notional,
                    ts_ms,
                } => {
                    d.set_item(intern!(py, "scope"), format!("strategy:{strategy_id}"))?;
                    d.set_item(intern!(py, "strategy_id"), strategy_id)?;
                    d.set_item(intern!(py, "risk_class"), risk_class)?;
                    d.set_item(intern!(py, "max_position_notional"), max_position_notional)?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                }
                Event::Error {
                    order_id,
                    message,
                    ts_ms,
                } => {
                    d.set_item(intern!(py, "order_id"), order_id)?;
                    d.set_item(intern!(py, "message"), message)?;
                    d.set_item(intern!(py, "ts_ms"), ts_ms)?;
                }
            }
            list.append(d)?;
        }
        Ok(list)
    }
}

/// Whether `value` is a whole multiple of `increment` (price on tick, quantity on lot).
#[pyfunction]
fn is_on_increment(value: f64, increment: f64) -> PyResult<bool> {
    increments::is_on_increment(value, increment).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Every reason code; a code's position is its bit in the batch API's masks.
#[pyfunction]
fn reason_codes() -> Vec<&'static str> {
    Reason::ALL.iter().map(|r| r.code()).collect()
}

/// Validate a limits config as the engine would; raises ValueError naming the field.
#[pyfunction]
fn validate_config(config_json: &str) -> PyResult<()> {
    GateConfig::from_json(config_json)
        .map(|_| ())
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("GatewayError", m.py().get_type::<GatewayError>())?;
    m.add_class::<Engine_>()?;
    m.add_class::<PyOrderRequest>()?;
    m.add_class::<fast_path::FastPathNode>()?;
    m.add_class::<fast_path::BusEcho>()?;
    m.add_function(wrap_pyfunction!(fast_path::bus_ping, m)?)?;
    m.add_function(wrap_pyfunction!(is_on_increment, m)?)?;
    m.add_function(wrap_pyfunction!(reason_codes, m)?)?;
    m.add_function(wrap_pyfunction!(validate_config, m)?)?;
    Ok(())
}
