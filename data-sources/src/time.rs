//! [`Timestamp`]: Unix seconds (UTC) with the few textual forms the upstream formats use.
//!
//! The civil-date arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (proleptic Gregorian calendar, valid for every `i64` day count); no time zones, no leap
//! seconds.

use std::fmt;

const SECS_PER_DAY: i64 = 86_400;

/// A point in time as whole seconds since 1970-01-01T00:00:00Z.
///
/// ```
/// use ipsieve_sources::Timestamp;
///
/// let t = Timestamp::parse_date_time("2024-03-12 08:10:51").unwrap();
/// assert_eq!(t, Timestamp(1_710_231_051));
/// assert_eq!(t.to_string(), "2024-03-12T08:10:51Z");
/// assert_eq!(Timestamp::parse_date("1970-01-02"), Some(Timestamp(86_400)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses a `YYYY-MM-DD` date (midnight UTC).
    ///
    /// Returns `None` unless the text is exactly a four-digit year, a two-digit month and a
    /// two-digit day that exist in the proleptic Gregorian calendar. Never panics.
    pub fn parse_date(text: &str) -> Option<Timestamp> {
        let days = parse_ymd(text)?;
        Some(Timestamp(days * SECS_PER_DAY))
    }

    /// Parses `YYYY-MM-DD HH:MM:SS` (UTC).
    ///
    /// Also accepted, for the ISO forms some publishers use: `T` instead of the space,
    /// fractional seconds (ignored: the time is truncated to the second) and a trailing `Z`.
    /// Returns `None` for anything else, including leap seconds and other time zones. Never
    /// panics.
    pub fn parse_date_time(text: &str) -> Option<Timestamp> {
        let date = text.get(..10)?;
        let rest = text.get(10..)?;
        let rest = rest.strip_prefix([' ', 'T'])?;
        let rest = rest.strip_suffix('Z').unwrap_or(rest);
        let time = match rest.split_once('.') {
            Some((time, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => {
                time
            }
            Some(_) => return None,
            None => rest,
        };
        Timestamp::from_parts(date, time, b':')
    }

    /// A date token (`YYYY-MM-DD`) and a time token (`HH:MM:SS` with `sep` between the fields),
    /// as they come out of a whitespace-split line.
    pub(crate) fn from_parts(date: &str, time: &str, sep: u8) -> Option<Timestamp> {
        let days = parse_ymd(date)?;
        let secs = parse_hms(time, sep)?;
        Some(Timestamp(days * SECS_PER_DAY + secs))
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`; years outside 0..=9999 print with as many digits as they need.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(SECS_PER_DAY);
        let secs = self.0.rem_euclid(SECS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Exactly `n` ASCII digits as a number.
fn digits(text: &str, n: usize) -> Option<i64> {
    if text.len() != n || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        text.bytes()
            .fold(0, |acc, b| acc * 10 + i64::from(b - b'0')),
    )
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
fn parse_ymd(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(text.get(0..4)?, 4)?;
    let m = digits(text.get(5..7)?, 2)?;
    let d = digits(text.get(8..10)?, 2)?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Seconds since midnight of `HH<sep>MM<sep>SS`.
fn parse_hms(text: &str, sep: u8) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 8 || b[2] != sep || b[5] != sep {
        return None;
    }
    let h = digits(text.get(0..2)?, 2)?;
    let m = digits(text.get(3..5)?, 2)?;
    let s = digits(text.get(6..8)?, 2)?;
    (h < 24 && m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12, day 1..=31).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // 0..=399
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146096
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]; total for every `i64` produced by `div_euclid(86_400)`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365
    let mp = (5 * doy + 2) / 153; // 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        for days in -146_097..146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        let _ = Timestamp(i64::MAX).to_string();
        let _ = Timestamp(i64::MIN).to_string();
    }
}
