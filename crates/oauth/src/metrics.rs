//! The authorization server's own metrics, registered in the process's Prometheus registry
//! (which `/metrics` exposes).

use std::sync::LazyLock;

use prometheus::{IntCounterVec, register_int_counter_vec};

/// Access tokens issued, by grant type.
pub static TOKENS_ISSUED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!("tollbooth_tokens_issued_total", "Access tokens issued, by grant type.", &["grant"])
        .expect("the metric is registered once")
});

pub fn token_issued(grant: &str) {
    TOKENS_ISSUED.with_label_values(&[grant]).inc();
}
