//! Stable reason codes for gate denials and approvals, and a set of them as a bitmask.

use std::fmt;

macro_rules! reasons {
    ($($variant:ident = $code:literal,)+) => {
        /// Why the gate denied an order or asked for approval. The string codes are stable:
        /// agents, dashboards and the audit log key on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Reason { $($variant,)+ }

        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)+];

            pub fn code(self) -> &'static str {
                match self { $(Reason::$variant => $code,)+ }
            }

            pub fn from_code(code: &str) -> Option<Reason> {
                match code { $($code => Some(Reason::$variant),)+ _ => None }
            }
        }
    };
}

reasons! {
    InstrumentUnknown = "INSTRUMENT_UNKNOWN",
    InstrumentNotTradable = "INSTRUMENT_NOT_TRADABLE",
    InstrumentRestricted = "INSTRUMENT_RESTRICTED",
    VenueDown = "VENUE_DOWN",
    StrategyUnknown = "STRATEGY_UNKNOWN",
    AccountMismatch = "ACCOUNT_MISMATCH",
    PriceNotFinite = "PRICE_NOT_FINITE",
    PriceNotPositive = "PRICE_NOT_POSITIVE",
    PriceNotOnTick = "PRICE_NOT_ON_TICK",
    PriceMissing = "PRICE_MISSING",
    PriceNotAllowed = "PRICE_NOT_ALLOWED",
    QuantityNotFinite = "QUANTITY_NOT_FINITE",
    QuantityNotPositive = "QUANTITY_NOT_POSITIVE",
    QuantityNotOnLot = "QUANTITY_NOT_ON_LOT",
    QuantityBelowMin = "QUANTITY_BELOW_MIN",
    QuantityAboveMax = "QUANTITY_ABOVE_MAX",
    NotionalBelowMin = "NOTIONAL_BELOW_MIN",
    NotionalAboveMax = "NOTIONAL_ABOVE_MAX",
    NotionalExceedsMaxPerOrder = "NOTIONAL_EXCEEDS_MAX_PER_ORDER",
    ReferencePriceMissing = "REFERENCE_PRICE_MISSING",
    ReferencePriceStale = "REFERENCE_PRICE_STALE",
    PriceOutsideCollar = "PRICE_OUTSIDE_COLLAR",
    PositionLimitInstrument = "POSITION_LIMIT_INSTRUMENT",
    PositionLimitStrategy = "POSITION_LIMIT_STRATEGY",
    GrossExposureLimit = "GROSS_EXPOSURE_LIMIT",
    NetExposureLimit = "NET_EXPOSURE_LIMIT",
    InsufficientCash = "INSUFFICIENT_CASH",
    InsufficientMargin = "INSUFFICIENT_MARGIN",
    ShortNotAllowed = "SHORT_NOT_ALLOWED",
    DailyLossLimit = "DAILY_LOSS_LIMIT",
    DrawdownBreaker = "DRAWDOWN_BREAKER",
    SubmitRateExceeded = "SUBMIT_RATE_EXCEEDED",
    ModifyRateExceeded = "MODIFY_RATE_EXCEEDED",
    DuplicateClientOrderId = "DUPLICATE_CLIENT_ORDER_ID",
    SelfTrade = "SELF_TRADE",
    TradingHalted = "TRADING_HALTED",
    StrategyHalted = "STRATEGY_HALTED",
    ReducingOnly = "REDUCING_ONLY",
    ReduceOnlyWouldIncrease = "REDUCE_ONLY_WOULD_INCREASE",
    TimeInForceInvalid = "TIME_IN_FORCE_INVALID",
    ExpiryMissing = "EXPIRY_MISSING",
    ExpiryInPast = "EXPIRY_IN_PAST",
    ExpiryNotAllowed = "EXPIRY_NOT_ALLOWED",
    ApprovalRequired = "APPROVAL_REQUIRED",
    ApprovalTokenInvalid = "APPROVAL_TOKEN_INVALID",
    ApprovalTokenExpired = "APPROVAL_TOKEN_EXPIRED",
    OrderUnknown = "ORDER_UNKNOWN",
    OrderNotOpen = "ORDER_NOT_OPEN",
    ApprovalTooFewApprovers = "APPROVAL_TOO_FEW_APPROVERS",
    ApprovalRefused = "APPROVAL_REFUSED",
    ApprovalExpired = "APPROVAL_EXPIRED",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A set of reasons as a bitmask: the batch API returns it as one u64 per order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReasonSet(pub u64);

impl ReasonSet {
    pub const EMPTY: ReasonSet = ReasonSet(0);

    #[inline]
    pub fn insert(&mut self, reason: Reason) {
        self.0 |= 1u64 << (reason as u8);
    }

    #[inline]
    pub fn contains(self, reason: Reason) -> bool {
        self.0 & (1u64 << (reason as u8)) != 0
    }

    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn without(self, reason: Reason) -> ReasonSet {
        ReasonSet(self.0 & !(1u64 << (reason as u8)))
    }

    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL
            .iter()
            .copied()
            .filter(move |r| self.contains(*r))
    }

    pub fn codes(self) -> Vec<&'static str> {
        self.iter().map(Reason::code).collect()
    }
}

impl FromIterator<Reason> for ReasonSet {
    fn from_iter<T: IntoIterator<Item = Reason>>(iter: T) -> Self {
        let mut set = ReasonSet::EMPTY;
        for reason in iter {
            set.insert(reason);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_round_trip_and_fit_the_mask() {
        assert!(Reason::ALL.len() <= 64);
        let mut seen = std::collections::HashSet::new();
        for reason in Reason::ALL {
            assert!(
                seen.insert(reason.code()),
                "duplicate code {}",
                reason.code()
            );
            assert_eq!(Reason::from_code(reason.code()), Some(*reason));
        }
        assert_eq!(Reason::from_code("NOPE"), None);
    }

    #[test]
    fn set_lists_every_member_in_declaration_order() {
        let set: ReasonSet = [Reason::SelfTrade, Reason::PriceNotOnTick]
            .into_iter()
            .collect();
        assert_eq!(set.codes(), vec!["PRICE_NOT_ON_TICK", "SELF_TRADE"]);
        assert!(set
            .without(Reason::SelfTrade)
            .contains(Reason::PriceNotOnTick));
        assert!(!set.without(Reason::SelfTrade).contains(Reason::SelfTrade));
    }
}
