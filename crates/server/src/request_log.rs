//! The first thing every request meets: who it comes from (the peer, or behind a trusted
//! proxy the client it forwarded for), its request id (a trusted proxy's, or a new one), the
//! HTTPS requirement, and one log line with its id, method, route, status, latency and tenant;
//! never its headers or body. Every response carries `X-Request-Id`.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use tollbooth_http::client_address::ClientAddress;
use tollbooth_resource::auth::Principal;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the edge of the server believes and requires.
#[derive(Debug, Clone, Default)]
pub struct RequestPolicy {
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub require_https: bool,
}

/// Whether `address` is in one of `ranges`. An IPv4 peer of a dual-stack listener arrives as
/// `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2): an IPv4 address matches a range written in either
/// form, so `10.0.0.0/8` and `::ffff:10.0.0.0/104` list the same proxies.
pub(crate) fn in_ranges(ranges: &[ipnet::IpNet], address: IpAddr) -> bool {
    let canonical = address.to_canonical();
    let mapped = match canonical {
        IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        IpAddr::V6(_) => None,
    };
    ranges.iter().any(|net| net.contains(&canonical) || mapped.is_some_and(|mapped| net.contains(&mapped)))
}

impl RequestPolicy {
    fn trusts(&self, address: IpAddr) -> bool {
        in_ranges(&self.trusted_proxies, address)
    }

    /// The client of a request from `peer`: behind trusted proxies, the right-most address of
    /// `X-Forwarded-For` that is not itself a trusted proxy (the left ones are the client's to forge);
    /// an IPv4-mapped address as its IPv4 address.
    fn client_address(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        // Right to left; a hop that is not an address (`unknown`, `ip:port`) ends the walk at the
        // last trusted hop, as everything left of it may be the client's own words.
        let mut client = peer;
        for hop in forwarded_for.into_iter().flat_map(|list| list.split(',').rev()) {
            match hop.trim().parse::<IpAddr>().map(|address| address.to_canonical()) {
                Ok(address) if self.trusts(address) => client = address,
                Ok(address) => return Some(address),
                Err(_) => break,
            }
        }
        Some(client)
    }
}

/// A request id a proxy may pass on: 1 to 128 characters, letters, digits, `-`, `_`, `.`.
fn acceptable_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn header<'a>(request: &'a ServiceRequest, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

pub async fn request_context(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let default_policy = RequestPolicy::default();
    let policy = request.app_data::<web::Data<RequestPolicy>>().map_or(&default_policy, |policy| policy.get_ref());
    let peer = request.peer_addr().map(|a| a.ip());
    let from_trusted_proxy = peer.is_some_and(|p| policy.trusts(p));
    // Only a trusted proxy's X-Forwarded-For is read. RFC 9110 §5.3: several header lines are
    // one list, in order; a proxy that appends a new line rather than extending the last must
    // not let the client's own line win.
    let forwarded_for = if from_trusted_proxy {
        request.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect()
    } else {
        Vec::new()
    };
    let forwarded_for = forwarded_for.join(",");
    let client = policy.client_address(peer, Some(forwarded_for.as_str()).filter(|list| !list.is_empty()));
    let require_https = policy.require_https;
    request.extensions_mut().insert(ClientAddress(client));
    let request_id = header(&request, "x-request-id")
        .filter(|id| from_trusted_proxy && acceptable_request_id(id))
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned);
    let span = tracing::info_span!("request", request_id = %request_id);
    let method = request.method().clone();
    let started = Instant::now();

    // The listener's own TLS, or a trusted proxy's word; actix's connection_info() would
    // believe anyone's X-Forwarded-Proto.
    let https = request.app_config().secure()
        || from_trusted_proxy && header(&request, "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let probe = matches!(request.path(), "/healthz" | "/readyz");
    let mut response = if require_https && !https && !probe {
        // docs/configuration.md: plain HTTP is refused when HTTPS is required.
        let refusal = HttpResponse::Forbidden()
            .json(serde_json::json!({ "error": "https_required", "message": "This server requires HTTPS." }));
        request.into_response(refusal)
    } else {
        next.call(request).instrument(span.clone()).await?.map_into_boxed_body()
    };

    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if https {
        // RFC 6797: browsers keep to HTTPS for this host from now on.
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    crate::metrics::record_request(&route, response.status(), latency_ms / 1000.0);
    if tracing::enabled!(tracing::Level::INFO) {
        let tenant = response.request().extensions().get::<Principal>().and_then(|p| p.tenant_id.clone());
        tracing::info!(
            parent: &span,
            method = %method,
            route = %route,
            status = response.status().as_u16(),
            latency_ms = format_args!("{latency_ms:.3}"),
            tenant = tenant.as_deref().unwrap_or("-"),
            "request"
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let policy = RequestPolicy { trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()], require_https: false };
        let proxy = Some("10.1.2.3".parse().unwrap());
        let stranger = Some("203.0.113.9".parse().unwrap());
        let client = |peer, forwarded_for| policy.client_address(peer, forwarded_for).map(|ip| ip.to_string());
        assert_eq!(client(proxy, Some("198.51.100.7")).as_deref(), Some("198.51.100.7"));
        assert_eq!(client(proxy, Some("1.1.1.1, 198.51.100.7, 10.9.9.9")).as_deref(), Some("198.51.100.7"));
        assert_eq!(client(proxy, None).as_deref(), Some("10.1.2.3"));
        assert_eq!(client(stranger, Some("198.51.100.7")).as_deref(), Some("203.0.113.9"));
        assert_eq!(
            client(proxy, Some("198.51.100.7, unknown")).as_deref(),
            Some("10.1.2.3"),
            "no forged hop past junk"
        );
        assert_eq!(client(None, Some("198.51.100.7")), None, "no peer, no address");
        // An IPv4 proxy or client on a dual-stack listener (`::ffff:a.b.c.d`).
        let mapped_proxy = Some("::ffff:10.1.2.3".parse().unwrap());
        assert_eq!(client(mapped_proxy, Some("198.51.100.7")).as_deref(), Some("198.51.100.7"));
        assert_eq!(client(mapped_proxy, Some("::ffff:198.51.100.7")).as_deref(), Some("198.51.100.7"));
        assert_eq!(client(Some("::ffff:203.0.113.9".parse().unwrap()), None).as_deref(), Some("203.0.113.9"));
        // A range written in the mapped form lists the same proxies.
        let mapped_policy =
            RequestPolicy { trusted_proxies: vec!["::ffff:10.0.0.0/104".parse().unwrap()], require_https: false };
        for peer in ["10.1.2.3", "::ffff:10.1.2.3"] {
            let forwarded = mapped_policy.client_address(Some(peer.parse().unwrap()), Some("198.51.100.7"));
            assert_eq!(forwarded.map(|ip| ip.to_string()).as_deref(), Some("198.51.100.7"), "{peer}");
        }
        assert!(
            !in_ranges(&["10.0.0.0/8".parse().unwrap()], "::10.1.2.3".parse().unwrap()),
            "IPv4-compatible is not mapped"
        );
    }
}
