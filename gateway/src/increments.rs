//! Price and quantity grids: tick sizes and lot sizes.

use std::fmt;

/// Why a value could not be checked against an increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrementError {
    /// The value is NaN or infinite.
    ValueNotFinite,
    /// The increment is NaN, infinite, zero or negative.
    IncrementNotPositive,
}

impl IncrementError {
    /// Stable reason code, as the gate reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::ValueNotFinite => "VALUE_NOT_FINITE",
            Self::IncrementNotPositive => "INCREMENT_NOT_POSITIVE",
        }
    }
}

impl fmt::Display for IncrementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ValueNotFinite => write!(f, "{}: value must be a finite number", self.code()),
            Self::IncrementNotPositive => {
                write!(f, "{}: increment must be finite and > 0", self.code())
            }
        }
    }
}

impl std::error::Error for IncrementError {}

/// Relative tolerance for "on the grid": prices arrive as binary floats, so 0.3 / 0.1 is
/// 2.9999999999999996 and must still count as three ticks.
const RELATIVE_TOLERANCE: f64 = 1e-9;

/// Whether `value` is a whole multiple of `increment` (a price on tick, a quantity on lot).
pub fn is_on_increment(value: f64, increment: f64) -> Result<bool, IncrementError> {
    if !value.is_finite() {
        return Err(IncrementError::ValueNotFinite);
    }
    if !increment.is_finite() || increment <= 0.0 {
        return Err(IncrementError::IncrementNotPositive);
    }
    let steps = value / increment;
    if !steps.is_finite() {
        // value / increment overflowed: far beyond any grid we could represent exactly.
        return Ok(false);
    }
    let nearest = steps.round();
    Ok((steps - nearest).abs() <= RELATIVE_TOLERANCE * nearest.abs().max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_on_the_grid_are_accepted_despite_binary_rounding() {
        assert_eq!(is_on_increment(0.3, 0.1), Ok(true));
        assert_eq!(is_on_increment(101.25, 0.25), Ok(true));
        assert_eq!(is_on_increment(0.0, 0.01), Ok(true));
        assert_eq!(is_on_increment(-4.5, 0.5), Ok(true));
        assert_eq!(is_on_increment(65_432.1, 0.1), Ok(true));
    }

    #[test]
    fn values_off_the_grid_are_refused() {
        assert_eq!(is_on_increment(101.26, 0.25), Ok(false));
        assert_eq!(is_on_increment(0.015, 0.01), Ok(false));
        assert_eq!(is_on_increment(1.0000001, 1.0), Ok(false));
    }

    #[test]
    fn non_finite_values_and_bad_increments_are_errors() {
        assert_eq!(is_on_increment(f64::NAN, 0.1), Err(IncrementError::ValueNotFinite));
        assert_eq!(is_on_increment(f64::INFINITY, 0.1), Err(IncrementError::ValueNotFinite));
        assert_eq!(is_on_increment(1.0, 0.0), Err(IncrementError::IncrementNotPositive));
        assert_eq!(is_on_increment(1.0, -0.1), Err(IncrementError::IncrementNotPositive));
        assert_eq!(is_on_increment(1.0, f64::NAN), Err(IncrementError::IncrementNotPositive));
    }

    #[test]
    fn overflowing_ratio_is_off_grid_not_a_panic() {
        assert_eq!(is_on_increment(f64::MAX, f64::MIN_POSITIVE), Ok(false));
    }

    #[test]
    fn errors_carry_stable_codes() {
        assert_eq!(IncrementError::ValueNotFinite.code(), "VALUE_NOT_FINITE");
        assert!(IncrementError::IncrementNotPositive.to_string().starts_with("INCREMENT_NOT_POSITIVE"));
    }
}
