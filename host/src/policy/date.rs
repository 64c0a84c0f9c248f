//! Calendar dates for waiver expiry (UTC, proleptic Gregorian), without a
//! date library: parse `YYYY-MM-DD`, today's date, day arithmetic.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

impl Date {
    /// Parse `YYYY-MM-DD`, rejecting impossible dates (2027-02-30).
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        // Digits only: `parse::<i64>` alone would take `+027` or `-027`.
        let digits = [0, 1, 2, 3, 5, 6, 8, 9];
        if b.len() != 10
            || b[4] != b'-'
            || b[7] != b'-'
            || !digits.iter().all(|&i| b[i].is_ascii_digit())
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date {
            days: days_from_civil(y, m, d),
        })
    }

    /// Today in UTC, or `PORTCULLIS_TODAY` (`YYYY-MM-DD`) when set, so runs
    /// can be reproduced.
    pub fn today() -> Result<Date, String> {
        if let Some(v) = std::env::var_os("PORTCULLIS_TODAY") {
            let v = v.to_string_lossy();
            return Date::parse(&v)
                .ok_or_else(|| format!("PORTCULLIS_TODAY `{v}` is not a YYYY-MM-DD date"));
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(Date {
            days: (secs / 86_400) as i64,
        })
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        Date { days }
    }

    pub fn days_until(self, later: Date) -> i64 {
        later.days - self.days
    }

    fn civil(self) -> (i64, i64, i64) {
        let z = self.days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Seconds since 1970-01-01T00:00:00Z of an RFC 3339 UTC timestamp,
/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (the fraction is dropped), as
/// Sigstore's trusted roots write them.
pub fn unix_seconds(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let days = Date::parse(date)?.days;
    let time = time.strip_suffix('Z')?;
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = hms.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let v = hms.get(r)?;
        v.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| v.parse().ok())?
    };
    let (h, m, sec) = (num(0..2)?, num(3..5)?, num(6..8)?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(days * 86_400 + h * 3_600 + m * 60 + sec)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_timestamps_in_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2021-01-12T11:53:27Z"), Some(1_610_452_407));
        assert_eq!(
            unix_seconds("2022-12-31T23:59:59.999Z"),
            Some(1_672_531_199)
        );
        for bad in [
            "2021-01-12",
            "2021-01-12T11:53:27",
            "2021-01-12T11:53:27+01:00",
            "2021-01-12T24:00:00Z",
            "2021-01-12T1:53:27Z",
            "2021-01-12T11:53:27.Z",
            "2021-02-30T11:53:27Z",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn parse_print_and_count() {
        let d = Date::parse("2027-03-31").expect("date");
        assert_eq!(d.to_string(), "2027-03-31");
        assert_eq!(Date::parse("1970-01-01").expect("epoch").days, 0);
        assert_eq!(
            Date::parse("2028-02-29").expect("leap").to_string(),
            "2028-02-29"
        );
        for bad in [
            "+027-03-31",
            "-027-03-31",
            "2027-+3-31",
            "2027-02-29",
            "2027-13-01",
            "2027-04-31",
            "27-03-31",
            "2027/03/31",
            "2027-03-31T00:00:00",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
        let a = Date::parse("2026-12-25").expect("a");
        assert_eq!(a.days_until(Date::parse("2027-01-08").expect("b")), 14);
    }
}
