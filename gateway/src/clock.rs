//! Wall-clock stamps as the bus writes them: RFC 3339 in UTC with microseconds, as pydantic
//! writes an aware datetime ("2026-12-03T12:00:00.123456Z"), read in any offset it accepts.

use std::time::{SystemTime, UNIX_EPOCH};

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Milliseconds since the epoch, as Python's `time.time_ns() // 1_000_000`.
pub fn now_millis() -> i64 {
    now_micros() / 1000
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub fn format_micros(micros: i64) -> String {
    let (days, rest) = (
        micros.div_euclid(MICROS_PER_DAY),
        micros.rem_euclid(MICROS_PER_DAY),
    );
    let (y, m, d) = civil_from_days(days);
    let secs = rest / 1_000_000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        rest % 1_000_000
    )
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Microseconds since the epoch of "YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}](Z|±HH:MM)"; None for
/// anything else (a naive time has no place on the bus).
pub fn parse_micros(text: &str) -> Option<i64> {
    let text = text.as_bytes();
    if text.len() < 20 || text[4] != b'-' || text[7] != b'-' || !matches!(text[10], b'T' | b' ') {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let (y, mo, d) = (
        digits(&text[0..4])?,
        digits(&text[5..7])?,
        digits(&text[8..10])?,
    );
    if text.as_bytes()[13] != b':' || text.as_bytes()[16] != b':' {
        return None;
    }
    let (h, mi, s) = (
        digits(&text[11..13])?,
        digits(&text[14..16])?,
        digits(&text[17..19])?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut micros = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return None;
        }
        let padded = format!("{:0<6}", &fraction[..n.min(6)]);
        micros = digits(&padded)?;
        rest = &fraction[n..];
    }
    let offset_s = match rest {
        "Z" | "z" | "+00:00" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let seconds = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_s;
    Some(seconds * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_pydantic_writes_and_writes_it_back() {
        let text = "2026-12-03T12:34:56.123456Z";
        let micros = parse_micros(text).unwrap();
        assert_eq!(micros, 1_796_301_296_123_456);
        assert_eq!(format_micros(micros), text);
        assert_eq!(
            parse_micros("2026-12-03T12:34:56Z"),
            Some(1_796_301_296_000_000)
        );
        assert_eq!(
            parse_micros("2026-12-03T13:34:56.5+01:00"),
            Some(1_796_301_296_500_000)
        );
        assert_eq!(format_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            parse_micros("2000-02-29T00:00:00Z"),
            Some(951_782_400_000_000)
        );
    }

    #[test]
    fn refuses_what_is_not_an_aware_stamp() {
        for bad in [
            "2026-12-03T12:34:56",
            "2026-13-03T12:34:56Z",
            "2026-12-03T25:00:00Z",
            "yesterday at noon, roughly",
            "2026-12-03T12:34:56.Z",
            "2026-12-03T12:34:56+0100",
        ] {
            assert_eq!(parse_micros(bad), None, "{bad}");
        }
    }
}
