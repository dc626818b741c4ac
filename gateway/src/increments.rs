//! Price and quantity grids: tick sizes and lot sizes, decided exactly.
//!
//! A price or quantity arrives as a binary float, but the desk means the decimal a person
//! typed (`30000.01`, `0.00012345`). Each float is read as its shortest round-trip decimal
//! (what Rust's `{}` and Python's `repr` print) and the grid test is exact integer
//! arithmetic on those decimals, so `Decimal(repr(x)) % Decimal(repr(inc)) == 0` in Python
//! and this module agree at any magnitude. A float tolerance cannot: it has to grow with the
//! number of steps, and at ten million on a 0.01 tick it lets half a tick through.

use std::fmt::{self, Write};

/// Why a value could not be checked against an increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrementError {
    /// The value is NaN or infinite.
    ValueNotFinite,
    /// The increment is NaN, infinite, zero or negative.
    IncrementNotPositive,
    /// The increment's digits, as an integer, do not fit the exact arithmetic (about 1e37).
    IncrementTooLarge,
}

impl IncrementError {
    /// Stable reason code, as the gate reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::ValueNotFinite => "VALUE_NOT_FINITE",
            Self::IncrementNotPositive => "INCREMENT_NOT_POSITIVE",
            Self::IncrementTooLarge => "INCREMENT_TOO_LARGE",
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
            Self::IncrementTooLarge => {
                write!(
                    f,
                    "{}: increment has more than 37 integer digits",
                    self.code()
                )
            }
        }
    }
}

impl std::error::Error for IncrementError {}

/// Room for the longest `{}` of a finite f64: 309 integer digits (f64::MAX), or "0." and
/// 324 fraction digits (the smallest subnormal), with margin.
const MAX_LEN: usize = 400;

/// The increment's integer must leave room for one more digit in `r * 10 + d`.
const MAX_MODULUS: u128 = (u128::MAX - 9) / 10;

/// The shortest round-trip decimal of a finite, non-negative f64, on the stack: the hot
/// path checks two of these per order and must not allocate.
struct ShortestDecimal {
    bytes: [u8; MAX_LEN],
    len: usize,
    /// Digits after the decimal point (never with trailing zeros: the form is shortest).
    frac: usize,
}

impl Write for ShortestDecimal {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl ShortestDecimal {
    /// `x` must be finite; its sign is dropped (a grid is symmetric about zero).
    fn of(x: f64) -> ShortestDecimal {
        let mut d = ShortestDecimal {
            bytes: [0; MAX_LEN],
            len: 0,
            frac: 0,
        };
        // Display of a finite f64 is digits with at most one '.', never an exponent, and
        // always fits MAX_LEN; should either ever change, the digits below stay the digits.
        let _ = write!(d, "{}", x.abs());
        d.frac = d
            .text()
            .iter()
            .position(|&b| b == b'.')
            .map_or(0, |p| d.len - p - 1);
        d
    }

    fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Every digit, integer part then fraction, as 0..=9.
    fn digits(&self) -> impl Iterator<Item = u8> + '_ {
        self.text()
            .iter()
            .filter(|b| b.is_ascii_digit())
            .map(|b| b - b'0')
    }

    /// The digits as one integer (the decimal times 10^frac); None past `MAX_MODULUS`.
    fn mantissa(&self) -> Option<u128> {
        self.digits().try_fold(0u128, |m, d| {
            m.checked_mul(10)?
                .checked_add(u128::from(d))
                .filter(|&m| m <= MAX_MODULUS)
        })
    }
}

/// Bound on the fast path's products (count times the step's digits): at most 10^14, so a
/// candidate on the grid has at most 15 significant digits (any decimal with at most 15 is
/// the shortest form of the float it parses to) and fits an f64's 53-bit integer range.
const FAST_LIMIT: u64 = 100_000_000_000_000;

/// Powers of ten an f64 holds exactly: dividing an exact integer by one is then correctly
/// rounded, which is what parsing the decimal would give.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A price or quantity grid (a tick or a lot size), with its step read once as a decimal:
/// `mantissa / 10^frac`. The engine keeps one per instrument side so the hot path formats
/// nothing for the step, and (through the fast path) usually nothing for the value either.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    step: f64,
    mantissa: u128,
    frac: usize,
    error: Option<IncrementError>,
    /// For the fast path: the mantissa, 10^frac, the step count below which
    /// count * mantissa stays at most FAST_LIMIT, and 1 / step. None when the step's digits
    /// are too many.
    fast: Option<(u64, f64, f64, f64)>,
}

impl Grid {
    /// A grid of `step`. An unusable step (not finite, <= 0, or too many integer digits)
    /// makes a grid every check of which returns that error.
    pub fn new(step: f64) -> Grid {
        let mut grid = Grid {
            step,
            mantissa: 1,
            frac: 0,
            error: None,
            fast: None,
        };
        if !step.is_finite() || step <= 0.0 {
            grid.error = Some(IncrementError::IncrementNotPositive);
            return grid;
        }
        let decimal = ShortestDecimal::of(step);
        match decimal.mantissa() {
            Some(m) => (grid.mantissa, grid.frac) = (m, decimal.frac),
            None => grid.error = Some(IncrementError::IncrementTooLarge),
        }
        let mantissa = u64::try_from(grid.mantissa)
            .ok()
            .filter(|&m| m < FAST_LIMIT && grid.error.is_none());
        if let (Some(m), Some(&scale)) = (mantissa, EXACT_POW10.get(grid.frac)) {
            grid.fast = Some((m, scale, (FAST_LIMIT / m) as f64, 1.0 / step));
        }
        grid
    }

    pub fn step(&self) -> f64 {
        self.step
    }

    /// Whether the step can serve as a grid at all.
    pub fn check(&self) -> Result<(), IncrementError> {
        self.error.map_or(Ok(()), Err)
    }

    /// `|value| / step` when it divides exactly (saturating at u128::MAX), else None.
    fn divide(&self, value: f64) -> Result<Option<u128>, IncrementError> {
        if !value.is_finite() {
            return Err(IncrementError::ValueNotFinite);
        }
        self.check()?;
        let value = value.abs();
        if let Some((mantissa, scale, max_k, inverse)) = self.fast {
            // The only multiple `value` can be is the nearest one, k: `value * inverse` is
            // within 6e-16 relative of the exact quotient, far inside half a step here. When
            // k * mantissa is at most FAST_LIMIT that multiple has at most 14 significant
            // digits, so it is `value`'s shortest
            // decimal exactly when it parses to `value`; parsing such a decimal is one
            // correctly rounded division. Larger counts take the digit-by-digit path.
            let q = value * inverse;
            if q < max_k {
                // Round half up by truncation: q + 0.5 is exact below 2^52, and `as` is one
                // instruction where `round` is a libm call on the hot path.
                let k = (q + 0.5) as u64;
                // k <= max_k, so n <= FAST_LIMIT: at most 15 digits, well inside 2^53.
                let n = k * mantissa;
                return Ok((n as f64 / scale == value).then_some(u128::from(k)));
            }
        }
        Ok(self.divide_digits(value))
    }

    /// Long division on the shortest decimals themselves: exact for any magnitude.
    fn divide_digits(&self, value: f64) -> Option<u128> {
        let v = ShortestDecimal::of(value);
        // Every multiple of the step has at most `frac` fraction digits; a shortest decimal
        // has no trailing zeros, so more digits than that cannot be on the grid.
        if v.frac > self.frac {
            return None;
        }
        // Both scaled to `frac` decimals: v's digits then (frac - v.frac) zeros, divided by
        // the step's digits as an integer. The remainder stays below the divisor, so u128
        // never overflows however many digits v has.
        let scaled = v.digits().chain(std::iter::repeat_n(0, self.frac - v.frac));
        let (mut remainder, mut quotient) = (0u128, 0u128);
        for digit in scaled {
            let r = remainder * 10 + u128::from(digit);
            quotient = quotient
                .saturating_mul(10)
                .saturating_add(r / self.mantissa);
            remainder = r % self.mantissa;
        }
        (remainder == 0).then_some(quotient)
    }

    /// Whether `value` is a whole multiple of the step, exactly, taking each float as its
    /// shortest round-trip decimal.
    pub fn contains(&self, value: f64) -> Result<bool, IncrementError> {
        self.divide(value).map(|q| q.is_some())
    }

    /// How many steps make `value`, exactly: Some when it is on the grid and the count fits
    /// an i64 (with `value`'s sign), else None.
    pub fn exact_steps(&self, value: f64) -> Option<i64> {
        let steps = i64::try_from(self.divide(value).ok()??).ok()?;
        Some(if value < 0.0 { -steps } else { steps })
    }

    /// The grid index of `value`: exact for a value on the grid (so two prices share a book
    /// level exactly when they are the same decimal), else the nearest by float division (a
    /// market print need not be on the grid). Saturates at the i64 range.
    pub fn nearest_steps(&self, value: f64) -> i64 {
        // `as` saturates (and maps NaN to 0): a price that far out never meets a real level.
        self.exact_steps(value)
            .unwrap_or_else(|| (value / self.step).round() as i64)
    }

    /// `steps` steps as the f64 nearest the exact decimal product: 3 lots of 0.1 is 0.3,
    /// not 0.30000000000000004, so what the desk computes on the grid stays on the grid.
    pub fn at(&self, steps: i64) -> f64 {
        if self.error.is_some() {
            return steps as f64 * self.step;
        }
        let sign = if steps < 0 { -1.0 } else { 1.0 };
        let n = u128::from(steps.unsigned_abs()).checked_mul(self.mantissa);
        match (n, self.fast) {
            // An exact integer over an exact power of ten: one correctly rounded division.
            (Some(n), Some((_, scale, _, _))) if n < 1 << 53 => sign * (n as f64 / scale),
            // Otherwise parse the exact product (Rust's float parsing rounds to nearest).
            (Some(n), _) => format!("{n}e-{}", self.frac)
                .parse::<f64>()
                .map_or(steps as f64 * self.step, |x| sign * x),
            (None, _) => steps as f64 * self.step,
        }
    }

    /// `floor(value / step * (1 + slack))` steps, on the grid as `at` makes them. `slack`
    /// counts a size computed in floats as whole steps once it is that close to the next
    /// one (1.2 / 0.4 = 2.9999999999999996 is three lots); the result may then exceed
    /// `value` by that much, as the float formula it replaces did.
    pub fn floor(&self, value: f64, slack: f64) -> f64 {
        let steps = (value / self.step * (1.0 + slack)).floor();
        if steps.is_finite() && steps.abs() < 9.0e18 {
            self.at(steps as i64)
        } else {
            steps * self.step
        }
    }
}

/// Whether `increment` can serve as a tick or lot: finite, > 0, and small enough in digits
/// for the exact test. Config validation calls this so a bad grid is refused at load.
pub fn check_increment(increment: f64) -> Result<(), IncrementError> {
    Grid::new(increment).check()
}

/// Whether `value` is a whole multiple of `increment` (a price on tick, a quantity on lot),
/// exactly, taking each float as its shortest round-trip decimal.
pub fn is_on_increment(value: f64, increment: f64) -> Result<bool, IncrementError> {
    if !value.is_finite() {
        return Err(IncrementError::ValueNotFinite);
    }
    Grid::new(increment).contains(value)
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
        assert_eq!(is_on_increment(12.34567891, 1e-8), Ok(true));
        assert_eq!(is_on_increment(1e300, 5.0), Ok(true));
        assert_eq!(is_on_increment(1500.0, 500.0), Ok(true));
    }

    #[test]
    fn values_off_the_grid_are_refused() {
        assert_eq!(is_on_increment(101.26, 0.25), Ok(false));
        assert_eq!(is_on_increment(0.015, 0.01), Ok(false));
        assert_eq!(is_on_increment(1.0000001, 1.0), Ok(false));
        assert_eq!(is_on_increment(0.30000000000000004, 0.1), Ok(false));
        assert_eq!(is_on_increment(1250.0, 500.0), Ok(false));
    }

    #[test]
    fn half_ticks_far_from_zero_are_refused() {
        // The cases the relative tolerance let through (issue 15): the error allowed grew
        // with the number of steps.
        assert_eq!(is_on_increment(10_000_000.005, 0.01), Ok(false));
        assert_eq!(is_on_increment(30_000.0100001, 0.01), Ok(false));
        assert_eq!(is_on_increment(12.345678905, 1e-8), Ok(false));
        // ... while their neighbours on the grid still pass.
        assert_eq!(is_on_increment(10_000_000.01, 0.01), Ok(true));
        assert_eq!(is_on_increment(30_000.01, 0.01), Ok(true));
        assert_eq!(is_on_increment(12.34567891, 1e-8), Ok(true));
        // 1e-5 of a tick off, as the fuzz found.
        assert_eq!(is_on_increment(30_000.0000001, 0.01), Ok(false));
    }

    #[test]
    fn any_magnitude_is_decided_without_overflow() {
        assert_eq!(is_on_increment(f64::MAX, 1.0), Ok(true));
        assert_eq!(is_on_increment(f64::MAX, 7.0), Ok(false));
        assert_eq!(is_on_increment(f64::MAX, f64::MIN_POSITIVE), Ok(false));
        assert_eq!(is_on_increment(5e-324, 5e-324), Ok(true));
        assert_eq!(is_on_increment(1e-323, 5e-324), Ok(true));
        assert_eq!(is_on_increment(1.5e-323, 1e-323), Ok(false));
        assert_eq!(is_on_increment(1e-300, 1e-8), Ok(false));
    }

    #[test]
    fn non_finite_values_and_bad_increments_are_errors() {
        assert_eq!(
            is_on_increment(f64::NAN, 0.1),
            Err(IncrementError::ValueNotFinite)
        );
        assert_eq!(
            is_on_increment(f64::INFINITY, 0.1),
            Err(IncrementError::ValueNotFinite)
        );
        assert_eq!(
            is_on_increment(1.0, 0.0),
            Err(IncrementError::IncrementNotPositive)
        );
        assert_eq!(
            is_on_increment(1.0, -0.1),
            Err(IncrementError::IncrementNotPositive)
        );
        assert_eq!(
            is_on_increment(1.0, f64::NAN),
            Err(IncrementError::IncrementNotPositive)
        );
        assert_eq!(
            is_on_increment(1.0, 1e38),
            Err(IncrementError::IncrementTooLarge)
        );
        assert_eq!(check_increment(1e37), Ok(()));
        assert_eq!(check_increment(1e-300), Ok(()));
    }

    #[test]
    fn steps_are_exact_and_round_trip() {
        let (cent, half, quarter) = (Grid::new(0.01), Grid::new(0.5), Grid::new(0.25));
        assert_eq!(cent.exact_steps(30_000.01), Some(3_000_001));
        assert_eq!(half.exact_steps(-4.5), Some(-9));
        assert_eq!(cent.exact_steps(0.015), None);
        assert_eq!(
            Grid::new(1.0).exact_steps(1e300),
            None,
            "too many steps for an i64"
        );
        assert_eq!(cent.nearest_steps(30_000.004), 3_000_000);
        assert_eq!(Grid::new(0.1).at(3), 0.3);
        assert_eq!(cent.at(-3_000_001), -30_000.01);
        assert_eq!(Grid::new(1e-8).at(1_234_567_891), 12.34567891);
        // Past the fast path: the parsed product, still the nearest float.
        assert_eq!(
            cent.at(123_456_789_012_345_678),
            "1234567890123456.78".parse::<f64>().unwrap()
        );
        for k in [
            0,
            1,
            7,
            99_999,
            1_234_567,
            4_000_000_000_001,
            400_000_000_000_001,
        ] {
            assert_eq!(quarter.exact_steps(quarter.at(k)), Some(k), "{k}");
        }
        assert_eq!(Grid::new(0.4).floor(1.2, 1e-9), 1.2);
        assert_eq!(Grid::new(0.1).floor(0.35, 1e-9), 0.3);
        assert_eq!(Grid::new(0.1).floor(0.0, 1e-9), 0.0);
        assert_eq!(Grid::new(1e-8).floor(7.0, 1e-12), 7.0);
    }

    #[test]
    fn the_fast_path_and_the_digits_agree() {
        // Every value near a grid point, through both paths: the fast one must never decide
        // differently from long division on the decimals.
        for step in [
            0.01, 0.5, 1e-8, 0.25, 5.0, 0.1, 0.001, 100.0, 0.05, 1e-12, 7.5e-5,
        ] {
            let grid = Grid::new(step);
            for k in [
                0_i64,
                1,
                3,
                17,
                1_000,
                123_457,
                9_999_999,
                3_000_001,
                99_999_999_999,
            ] {
                let mut x = grid.at(k);
                for _ in 0..4 {
                    let slow = grid.divide_digits(x);
                    assert_eq!(grid.divide(x), Ok(slow), "{x} on {step}");
                    x = f64::from_bits(x.to_bits() + 1);
                }
            }
        }
    }

    #[test]
    fn errors_carry_stable_codes() {
        assert_eq!(IncrementError::ValueNotFinite.code(), "VALUE_NOT_FINITE");
        assert!(IncrementError::IncrementNotPositive
            .to_string()
            .starts_with("INCREMENT_NOT_POSITIVE"));
        assert!(IncrementError::IncrementTooLarge
            .to_string()
            .starts_with("INCREMENT_TOO_LARGE"));
    }
}
