//! Gate limits: a frozen, typed configuration. Python validates it with pydantic first;
//! this side validates it again so the crate never trusts its caller, and errors name the
//! field (`instruments[2].tick: must be finite and > 0`).

use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLimits {
    /// `venue:symbol`, the key orders use.
    pub id: String,
    pub tick: f64,
    pub lot: f64,
    pub min_quantity: f64,
    pub max_quantity: f64,
    #[serde(default)]
    pub min_notional: f64,
    pub max_notional: f64,
    /// Largest absolute position the account may hold, in units, counting open orders.
    pub max_position: f64,
    #[serde(default = "yes")]
    pub tradable: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StrategyLimits {
    /// A risk class, and also a strategy of that id the engine starts with (`manual`).
    pub id: String,
    /// Largest absolute position value per instrument for each strategy of this class,
    /// counting open orders.
    pub max_position_notional: f64,
    /// The strategy kinds (`ts_momentum`, `vol_target`, ...) that trade under this class; a
    /// kind is in at most one class.
    #[serde(default)]
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MarginMode {
    /// Buys need cash; no short positions.
    Cash,
    /// Initial margin = exposure / leverage, against equity.
    Margin,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub max: u32,
    pub window_ms: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PaperVenueConfig {
    /// Simulated time between sending an action and the venue acting on it.
    #[serde(default)]
    pub latency_ms: u64,
    /// Extra price concession on taker fills, in basis points.
    #[serde(default)]
    pub slippage_bps: f64,
    /// Half the synthetic bid/ask spread around the last trade, in basis points.
    #[serde(default = "one")]
    pub half_spread_bps: f64,
    /// Units available at the synthetic touch: a fraction of the last print's size.
    #[serde(default = "one")]
    pub liquidity_fraction: f64,
    #[serde(default)]
    pub maker_fee_bps: f64,
    #[serde(default)]
    pub taker_fee_bps: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Recorded with every decision so an audit can say which limits applied.
    pub limits_version: String,
    pub account_id: String,
    pub starting_cash: f64,
    pub margin_mode: MarginMode,
    #[serde(default = "one")]
    pub leverage: f64,
    pub max_order_notional: f64,
    /// Orders above this notional need a human approval token.
    pub approval_notional: f64,
    /// Orders above this notional need the token of two distinct humans.
    pub dual_approval_notional: f64,
    /// How long an approval request waits for its answers, and a token lives.
    pub approval_ttl_ms: u64,
    /// The longest `approval_ttl_ms` this gate accepts.
    pub approval_ttl_max_ms: u64,
    pub collar_bps: f64,
    pub max_reference_age_ms: u64,
    pub max_gross_exposure: f64,
    pub max_net_exposure: f64,
    /// Loss from the day's opening equity that moves the account to REDUCING.
    pub daily_loss_limit: f64,
    /// Fall from peak equity, as a fraction, that moves the account to REDUCING.
    pub max_drawdown: f64,
    pub submit_rate: RateLimit,
    pub modify_rate: RateLimit,
    pub instruments: Vec<InstrumentLimits>,
    pub strategies: Vec<StrategyLimits>,
    #[serde(default)]
    pub restricted: Vec<String>,
    pub paper: PaperVenueConfig,
}

fn yes() -> bool {
    true
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(field: impl Into<String>, message: &str) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.to_string(),
    }
}

fn positive(field: String, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(err(field, "must be finite and > 0"))
    }
}

/// A tick or lot: positive, and within what the exact grid test can divide by.
fn grid(field: String, value: f64) -> Result<(), ConfigError> {
    positive(field.clone(), value)?;
    crate::increments::check_increment(value).map_err(|e| err(field, &e.to_string()))
}

fn non_negative(field: String, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(err(field, "must be finite and >= 0"))
    }
}

impl GateConfig {
    /// Parse JSON and validate; the error names the offending field.
    pub fn from_json(text: &str) -> Result<GateConfig, ConfigError> {
        let config: GateConfig =
            serde_json::from_str(text).map_err(|e| err("<json>", &e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.limits_version.trim().is_empty() {
            return Err(err("limits_version", "must not be empty"));
        }
        if self.account_id.trim().is_empty() {
            return Err(err("account_id", "must not be empty"));
        }
        non_negative("starting_cash".into(), self.starting_cash)?;
        positive("leverage".into(), self.leverage)?;
        if self.margin_mode == MarginMode::Cash && self.leverage != 1.0 {
            return Err(err("leverage", "must be 1 in cash mode"));
        }
        for (name, value) in [
            ("max_order_notional", self.max_order_notional),
            ("approval_notional", self.approval_notional),
            ("collar_bps", self.collar_bps),
            ("max_gross_exposure", self.max_gross_exposure),
            ("max_net_exposure", self.max_net_exposure),
            ("daily_loss_limit", self.daily_loss_limit),
        ] {
            positive(name.into(), value)?;
        }
        if !(self.max_drawdown.is_finite() && self.max_drawdown > 0.0 && self.max_drawdown <= 1.0) {
            return Err(err("max_drawdown", "must be in (0, 1]"));
        }
        if self.dual_approval_notional.is_nan()
            || self.dual_approval_notional < self.approval_notional
        {
            return Err(err(
                "dual_approval_notional",
                "must be >= approval_notional",
            ));
        }
        if self.approval_ttl_max_ms == 0 {
            return Err(err("approval_ttl_max_ms", "must be > 0"));
        }
        if self.approval_ttl_ms == 0 || self.approval_ttl_ms > self.approval_ttl_max_ms {
            return Err(err("approval_ttl_ms", "must be in 1..=approval_ttl_max_ms"));
        }
        if self.max_reference_age_ms == 0 {
            return Err(err("max_reference_age_ms", "must be > 0"));
        }
        for (name, rate) in [
            ("submit_rate", self.submit_rate),
            ("modify_rate", self.modify_rate),
        ] {
            if rate.max == 0 {
                return Err(err(format!("{name}.max"), "must be > 0"));
            }
            if rate.window_ms == 0 {
                return Err(err(format!("{name}.window_ms"), "must be > 0"));
            }
        }
        let paper = &self.paper;
        for (name, value) in [
            ("slippage_bps", paper.slippage_bps),
            ("half_spread_bps", paper.half_spread_bps),
            ("maker_fee_bps", paper.maker_fee_bps),
            ("taker_fee_bps", paper.taker_fee_bps),
        ] {
            non_negative(format!("paper.{name}"), value)?;
        }
        positive("paper.liquidity_fraction".into(), paper.liquidity_fraction)?;
        if self.instruments.is_empty() {
            return Err(err("instruments", "must list at least one instrument"));
        }
        let mut ids = HashSet::new();
        for (i, inst) in self.instruments.iter().enumerate() {
            let at = |f: &str| format!("instruments[{i}].{f}");
            if inst
                .id
                .split_once(':')
                .is_none_or(|(v, s)| v.is_empty() || s.is_empty())
            {
                return Err(err(at("id"), "must be 'venue:symbol'"));
            }
            if !ids.insert(inst.id.as_str()) {
                return Err(err(at("id"), "is listed twice"));
            }
            grid(at("tick"), inst.tick)?;
            grid(at("lot"), inst.lot)?;
            positive(at("min_quantity"), inst.min_quantity)?;
            positive(at("max_quantity"), inst.max_quantity)?;
            if inst.max_quantity < inst.min_quantity {
                return Err(err(at("max_quantity"), "must be >= min_quantity"));
            }
            non_negative(at("min_notional"), inst.min_notional)?;
            positive(at("max_notional"), inst.max_notional)?;
            if inst.max_notional < inst.min_notional {
                return Err(err(at("max_notional"), "must be >= min_notional"));
            }
            positive(at("max_position"), inst.max_position)?;
        }
        if self.strategies.is_empty() {
            return Err(err("strategies", "must list at least one strategy"));
        }
        let mut strategy_ids = HashSet::new();
        let mut kinds = HashSet::new();
        for (i, strategy) in self.strategies.iter().enumerate() {
            if strategy.id.trim().is_empty() {
                return Err(err(format!("strategies[{i}].id"), "must not be empty"));
            }
            if !strategy_ids.insert(strategy.id.as_str()) {
                return Err(err(format!("strategies[{i}].id"), "is listed twice"));
            }
            positive(
                format!("strategies[{i}].max_position_notional"),
                strategy.max_position_notional,
            )?;
            for (k, kind) in strategy.kinds.iter().enumerate() {
                let at = format!("strategies[{i}].kinds[{k}]");
                if kind.trim().is_empty() {
                    return Err(err(at, "must not be empty"));
                }
                if !kinds.insert(kind.as_str()) {
                    return Err(err(at, "is in more than one risk class"));
                }
            }
        }
        Ok(())
    }

    /// The risk class (a `strategies` entry) that strategies of `kind` trade under, if one
    /// lists it.
    pub fn risk_class_of_kind(&self, kind: &str) -> Option<&StrategyLimits> {
        self.strategies
            .iter()
            .find(|s| s.kinds.iter().any(|k| k == kind))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// The gate's test limits: one file, shared with the integration tests
    /// (`tests/common/mod.rs`) and the Python tests (`tests/gateway_fixtures.py`). A test that
    /// needs other values edits its own copy with `edited`, in the test.
    pub const SAMPLE_JSON: &str = include_str!("../tests/fixtures/limits.json");

    pub fn sample() -> GateConfig {
        GateConfig::from_json(SAMPLE_JSON).expect("sample config is valid")
    }

    /// The shared limits with `edit` applied, parsed and validated.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<GateConfig, ConfigError> {
        let mut json: serde_json::Value = serde_json::from_str(SAMPLE_JSON).unwrap();
        edit(&mut json);
        GateConfig::from_json(&json.to_string())
    }

    #[test]
    fn sample_is_valid() {
        let config = sample();
        let ids: Vec<&str> = config.instruments.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["paper:BTC/USD", "paper:ETH/USD"]);
        assert_eq!(config.strategies.len(), 2);
    }

    #[test]
    fn errors_name_the_field() {
        let e = edited(|c| c["instruments"][1]["tick"] = json!(0.0)).unwrap_err();
        assert_eq!(e.field, "instruments[1].tick");
        let e = edited(|c| c["instruments"][0]["lot"] = json!(1e38)).unwrap_err();
        assert_eq!(e.field, "instruments[0].lot");
        assert!(e.message.starts_with("INCREMENT_TOO_LARGE"), "{e}");
        let e = edited(|c| c["max_drawdown"] = json!(1.5)).unwrap_err();
        assert_eq!(e.field, "max_drawdown");
        let e = edited(|c| c["submit_rate"]["max"] = json!(0)).unwrap_err();
        assert_eq!(e.field, "submit_rate.max");
        let e = edited(|c| c["instruments"][0]["id"] = json!("BTC")).unwrap_err();
        assert_eq!(e.field, "instruments[0].id");
        let e = edited(|c| c["leverage"] = json!(-1.0)).unwrap_err();
        assert_eq!(e.field, "leverage");
        let e = edited(|c| c["dual_approval_notional"] = json!(10_000.0)).unwrap_err();
        assert_eq!(e.field, "dual_approval_notional");
        let e = edited(|c| c["approval_ttl_ms"] = json!(600_001)).unwrap_err();
        assert_eq!(e.field, "approval_ttl_ms");
        let e = edited(|c| c["surprise"] = json!(1)).unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
        let e = edited(|c| {
            c["strategies"][0]["kinds"] = json!(["ts_momentum", "sma_cross"]);
            c["strategies"][1]["kinds"] = json!(["mean_reversion", "sma_cross"]);
        })
        .unwrap_err();
        assert_eq!(e.field, "strategies[1].kinds[1]");
        assert!(e.message.contains("more than one risk class"), "{e}");
        let e = edited(|c| c["strategies"][1]["kinds"] = json!([" "])).unwrap_err();
        assert_eq!(e.field, "strategies[1].kinds[0]");
    }

    #[test]
    fn kinds_map_to_their_risk_class() {
        // The shared limits list no kinds: no kind has a class.
        assert!(sample().risk_class_of_kind("sma_cross").is_none());
        let config =
            edited(|c| c["strategies"][0]["kinds"] = json!(["ts_momentum", "sma_cross"])).unwrap();
        let class = config.risk_class_of_kind("sma_cross").expect("listed");
        assert_eq!(class.id, "momentum");
        assert!(config.risk_class_of_kind("donchian").is_none());
    }
}
