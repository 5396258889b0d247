//! Timestamps in answers: RFC 3339 UTC strings (SPEC §1).

use chrono::{NaiveDateTime, SecondsFormat};
use serde::Serializer;

pub fn format(at: &NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn serialize<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(at))
}

pub fn option<S: Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serializer.serialize_str(&format(at)),
        None => serializer.serialize_none(),
    }
}
