//! The bus's messages as `core.bus.messages` defines them, for the Rust side of the bus: the
//! same compact JSON, the same `type` tags, the same fields and the same bounds. A message
//! that does not decode, or breaks a bound the Python model holds, is refused here as the
//! Python side refuses it, so neither side acts on what the other would drop.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::{format_micros, now_micros, parse_micros};

fn now_ts() -> String {
    format_micros(now_micros())
}

/// A fresh trace id: 32 hex digits, like Python's `uuid4().hex`.
pub fn new_trace_id() -> String {
    let mut bytes = [0u8; 16];
    // The OS's generator failing is not something a trace id can recover from; a fixed id
    // still keeps the message valid.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ok_str() -> String {
    "ok".into()
}
fn manual() -> String {
    "manual".into()
}
fn unknown() -> String {
    "unknown".into()
}
fn account() -> String {
    "account".into()
}
fn risk() -> String {
    "risk".into()
}
fn half() -> f64 {
    0.5
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl From<crate::order::Side> for Side {
    fn from(side: crate::order::Side) -> Side {
        match side {
            crate::order::Side::Buy => Side::Buy,
            crate::order::Side::Sell => Side::Sell,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub agent: String,
    pub seq: u64,
    pub pid: u64,
    #[serde(default = "ok_str")]
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderEvent {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub order_id: String,
    pub strategy_id: String,
    pub instrument: String,
    pub side: Side,
    pub quantity: f64,
    pub verdict: String,
    #[serde(default)]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FillEvent {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub order_id: String,
    pub strategy_id: String,
    pub instrument: String,
    pub side: Side,
    pub quantity: f64,
    pub price: f64,
    pub fee: f64,
    pub position_after: f64,
    pub equity: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BarSource {
    Gate,
    Stream,
}

fn gate_source() -> BarSource {
    BarSource::Gate
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketBar {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub instrument: String,
    pub interval: String,
    pub bar_ts: String,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    #[serde(default = "gate_source")]
    pub source: BarSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskAction {
    Reduce,
    HaltStrategy,
    KillSwitch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskCommand {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub action: RiskAction,
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default)]
    pub strategy_id: Option<String>,
    #[serde(default = "half")]
    pub fraction: f64,
    pub reason: String,
    #[serde(default = "risk")]
    pub issued_by: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub severity: Severity,
    pub source: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub side: Side,
    pub quantity: f64,
    pub symbol: String,
    #[serde(default)]
    pub limit_price: Option<f64>,
    #[serde(default = "manual")]
    pub strategy_id: String,
    pub requested_by: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlAction {
    State,
    Health,
    Rearm,
    Marks,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub action: ControlAction,
    #[serde(default = "unknown")]
    pub actor: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateName {
    Active,
    Reducing,
    Halted,
}

impl From<crate::events::TradingState> for StateName {
    fn from(state: crate::events::TradingState) -> StateName {
        match state {
            crate::events::TradingState::Active => StateName::Active,
            crate::events::TradingState::Reducing => StateName::Reducing,
            crate::events::TradingState::Halted => StateName::Halted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    #[serde(default = "account")]
    pub scope: String,
    pub state: StateName,
    pub actor: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmUsage {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub model: String,
    #[serde(default)]
    pub prompt_version: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestRequest {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub datasets: Vec<String>,
    pub requested_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    #[serde(default = "now_ts")]
    pub ts: String,
    #[serde(default = "new_trace_id")]
    pub trace_id: String,
    pub ok: bool,
    #[serde(default)]
    pub body: Map<String, Value>,
    #[serde(default)]
    pub error: Option<String>,
}

/// Every message the desk sends, tagged by `type` as the Python union is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusMessage {
    Heartbeat(Heartbeat),
    Order(OrderEvent),
    Fill(FillEvent),
    Bar(MarketBar),
    RiskCommand(RiskCommand),
    Alert(Alert),
    OrderRequest(OrderRequest),
    Control(Control),
    StateChange(StateChange),
    LlmUsage(LlmUsage),
    #[serde(rename = "ingest")]
    Ingest(IngestRequest),
    Reply(Reply),
}

/// A refused message: what bound it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

struct Bounds(Vec<String>);

impl Bounds {
    fn text(&mut self, name: &str, value: &str, min: usize, max: usize) -> &mut Self {
        let n = value.chars().count();
        if n < min || n > max {
            self.0
                .push(format!("{name}: {n} characters, not {min}..={max}"));
        }
        self
    }
    fn number(&mut self, name: &str, value: f64, ok: bool) -> &mut Self {
        if !value.is_finite() || !ok {
            self.0.push(format!("{name}: {value} is out of bounds"));
        }
        self
    }
    fn stamp(&mut self, name: &str, value: &str) -> &mut Self {
        if parse_micros(value).is_none() {
            self.0.push(format!("{name}: {value:?} is not a timestamp"));
        }
        self
    }
    fn done(&mut self) -> Result<(), Malformed> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Malformed(self.0.join("; ")))
        }
    }
}

impl BusMessage {
    pub fn ts(&self) -> &str {
        match self {
            BusMessage::Heartbeat(m) => &m.ts,
            BusMessage::Order(m) => &m.ts,
            BusMessage::Fill(m) => &m.ts,
            BusMessage::Bar(m) => &m.ts,
            BusMessage::RiskCommand(m) => &m.ts,
            BusMessage::Alert(m) => &m.ts,
            BusMessage::OrderRequest(m) => &m.ts,
            BusMessage::Control(m) => &m.ts,
            BusMessage::StateChange(m) => &m.ts,
            BusMessage::LlmUsage(m) => &m.ts,
            BusMessage::Ingest(m) => &m.ts,
            BusMessage::Reply(m) => &m.ts,
        }
    }

    pub fn trace_id(&self) -> &str {
        match self {
            BusMessage::Heartbeat(m) => &m.trace_id,
            BusMessage::Order(m) => &m.trace_id,
            BusMessage::Fill(m) => &m.trace_id,
            BusMessage::Bar(m) => &m.trace_id,
            BusMessage::RiskCommand(m) => &m.trace_id,
            BusMessage::Alert(m) => &m.trace_id,
            BusMessage::OrderRequest(m) => &m.trace_id,
            BusMessage::Control(m) => &m.trace_id,
            BusMessage::StateChange(m) => &m.trace_id,
            BusMessage::LlmUsage(m) => &m.trace_id,
            BusMessage::Ingest(m) => &m.trace_id,
            BusMessage::Reply(m) => &m.trace_id,
        }
    }

    /// The bounds `core.bus.messages` puts on each field.
    pub fn validate(&self) -> Result<(), Malformed> {
        let mut b = Bounds(Vec::new());
        b.stamp("ts", self.ts())
            .text("trace_id", self.trace_id(), 0, 64);
        match self {
            BusMessage::Heartbeat(m) => b.text("agent", &m.agent, 1, 64),
            BusMessage::Order(m) => b.number("quantity", m.quantity, m.quantity > 0.0),
            BusMessage::Fill(m) => b
                .number("quantity", m.quantity, m.quantity > 0.0)
                .number("price", m.price, m.price > 0.0)
                .number("fee", m.fee, m.fee >= 0.0)
                .number("position_after", m.position_after, true)
                .number("equity", m.equity, true),
            BusMessage::Bar(m) => b
                .text("instrument", &m.instrument, 3, 80)
                .text("interval", &m.interval, 1, 8)
                .stamp("bar_ts", &m.bar_ts)
                .number("open", m.open, m.open > 0.0)
                .number("high", m.high, m.high > 0.0)
                .number("low", m.low, m.low > 0.0)
                .number("close", m.close, m.close > 0.0)
                .number("volume", m.volume, m.volume >= 0.0),
            BusMessage::RiskCommand(m) => b
                .number(
                    "fraction",
                    m.fraction,
                    m.fraction > 0.0 && m.fraction <= 1.0,
                )
                .text("reason", &m.reason, 1, 500),
            BusMessage::Alert(m) => b.text("text", &m.text, 1, 2000),
            BusMessage::OrderRequest(m) => {
                b.number("quantity", m.quantity, m.quantity > 0.0)
                    .text("symbol", &m.symbol, 1, 32)
                    .text("requested_by", &m.requested_by, 1, 64);
                if let Some(p) = m.limit_price {
                    b.number("limit_price", p, p > 0.0);
                }
                &mut b
            }
            BusMessage::Control(m) => b
                .text("actor", &m.actor, 0, 64)
                .text("reason", &m.reason, 0, 500),
            BusMessage::StateChange(m) => b
                .text("scope", &m.scope, 0, 80)
                .text("actor", &m.actor, 1, 64)
                .text("reason", &m.reason, 0, 500),
            BusMessage::LlmUsage(m) => b
                .text("model", &m.model, 1, 120)
                .text("prompt_version", &m.prompt_version, 0, 120)
                .number("cost_usd", m.cost_usd, m.cost_usd >= 0.0)
                .number("latency_ms", m.latency_ms, m.latency_ms >= 0.0),
            BusMessage::Ingest(m) => {
                if m.datasets.is_empty() || m.datasets.len() > 20 {
                    b.0.push(format!("datasets: {} items, not 1..=20", m.datasets.len()));
                }
                b.text("requested_by", &m.requested_by, 1, 64)
            }
            BusMessage::Reply(_) => &mut b,
        }
        .done()
    }
}

/// Decode and check a payload, as `core.bus.messages.decode` does.
pub fn decode(payload: &[u8]) -> Result<BusMessage, Malformed> {
    let message: BusMessage =
        serde_json::from_slice(payload).map_err(|e| Malformed(e.to_string()))?;
    message.validate()?;
    Ok(message)
}

pub fn encode(message: &BusMessage) -> Vec<u8> {
    // Serialising these plain structs cannot fail (no maps with non-string keys).
    serde_json::to_vec(message).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILL: &str = r#"{"ts":"2026-12-03T12:00:00.123456Z","trace_id":"abc","type":"fill","order_id":"o1","strategy_id":"momo","instrument":"bitstamp:BTC/USD","side":"buy","quantity":1.0,"price":20000.0,"fee":0.0,"position_after":1.0,"equity":1000000.0}"#;

    #[test]
    fn a_python_fill_decodes_and_round_trips() {
        let message = decode(FILL.as_bytes()).unwrap();
        let BusMessage::Fill(fill) = &message else {
            panic!("not a fill: {message:?}");
        };
        assert_eq!(fill.side, Side::Buy);
        assert_eq!(fill.equity, 1_000_000.0);
        assert_eq!(decode(&encode(&message)).unwrap(), message);
    }

    #[test]
    fn what_python_refuses_is_refused() {
        for bad in [
            FILL.replace(r#""quantity":1.0"#, r#""quantity":-1.0"#),
            FILL.replace(r#""price":20000.0"#, r#""price":0"#),
            FILL.replace(r#""side":"buy""#, r#""side":"hold""#),
            FILL.replace(r#""type":"fill""#, r#""type":"nonsense""#),
            FILL.replace(r#""equity":1000000.0"#, r#""equity":1000000.0,"extra":1"#),
            FILL.replace("2026-12-03T12:00:00.123456Z", "yesterday"),
            FILL.replace(r#""abc""#, &format!("{:?}", "x".repeat(65))),
            FILL.replace(r#""price":20000.0"#, r#""price":1e999"#),
            "not json".to_string(),
        ] {
            assert!(decode(bad.as_bytes()).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn defaults_fill_in_as_python_does() {
        let command =
            decode(br#"{"type":"risk_command","action":"kill_switch","reason":"r"}"#).unwrap();
        let BusMessage::RiskCommand(c) = command else {
            panic!()
        };
        assert_eq!((c.fraction, c.issued_by.as_str()), (0.5, "risk"));
        assert_eq!(c.trace_id.len(), 32);
        assert!(parse_micros(&c.ts).is_some());
    }
}
