//! Timestamps in answers: RFC 3339 UTC strings with milliseconds (docs/api.md).

use chrono::{Datelike, NaiveDateTime, SecondsFormat, Timelike};
use serde::Serializer;

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`
const LENGTH: usize = 24;

/// What [`write`] leaves to chrono.
fn by_chrono(at: &NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Writes `at` as chrono's `to_rfc3339_opts(Millis, true)` would, without its formatting
/// machinery or an allocation (a list answer formats two per object); `None` for what only
/// chrono formats: years outside 0–9999 and leap seconds.
fn write<'a>(at: &NaiveDateTime, buffer: &'a mut [u8; LENGTH]) -> Option<&'a str> {
    let year = u32::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
    let nanosecond = at.nanosecond();
    if nanosecond >= 1_000_000_000 {
        return None;
    }
    let fields = [
        (0, 4, year),
        (5, 2, at.month()),
        (8, 2, at.day()),
        (11, 2, at.hour()),
        (14, 2, at.minute()),
        (17, 2, at.second()),
        (20, 3, nanosecond / 1_000_000),
    ];
    *buffer = *b"0000-00-00T00:00:00.000Z";
    for (start, width, mut value) in fields {
        for digit in buffer[start..start + width].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    std::str::from_utf8(buffer).ok()
}

pub fn serialize<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0; LENGTH];
    match write(at, &mut buffer) {
        Some(text) => serializer.serialize_str(text),
        None => serializer.serialize_str(&by_chrono(at)),
    }
}

pub fn option<S: Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};

    use super::*;

    /// What an answer carries for `at`.
    fn format(at: &NaiveDateTime) -> String {
        serialize(at, serde_json::value::Serializer).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn formats_as_chrono_does() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..10_000 {
            // xorshift: timestamps spread over years 0 to 9999, with sub-millisecond parts.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let seconds = (seed % 315_537_897_600) as i64 - 62_167_219_200;
            let at = DateTime::from_timestamp(seconds, (seed % 1_000_000_000) as u32).unwrap().naive_utc();
            assert_eq!(format(&at), by_chrono(&at), "{at:?}");
        }
    }

    #[test]
    fn leaves_what_it_cannot_write_to_chrono() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_milli_opt(23, 59, 59, 1_500).unwrap();
        let far = NaiveDate::from_ymd_opt(12_345, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
        let before_zero = NaiveDate::from_ymd_opt(-1, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
        for at in [leap, far, before_zero] {
            assert_eq!(format(&at), by_chrono(&at));
        }
    }
}
