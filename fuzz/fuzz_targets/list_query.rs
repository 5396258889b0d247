//! The list query of every `/api/v1` list (docs/api.md, "Pagination"): `limit`, `order`,
//! `after`/`before` cursors and filters, from the query string as given.
#![no_main]

use actix_web::http::Uri;
use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use tollbooth_resource::pagination::{MAX_LIMIT, page_request_filtered};
use tollbooth_storage::ids;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let uri = format!("/api/v1/audit_logs?{query}");
    // A target no HTTP parser lets through never reaches the handler.
    if Uri::try_from(uri.as_str()).is_err() {
        return;
    }
    let request = TestRequest::get().uri(&uri).to_http_request();
    if let Ok((page, filters)) = page_request_filtered::<ids::AuditEvent>(&request, &["action", "actor_id"]) {
        assert!((1..=MAX_LIMIT).contains(&page.limit));
        assert!(filters.len() <= 2);
    }
});
