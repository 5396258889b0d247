//! The address a request came from: the peer, or, behind a trusted proxy, the client it
//! forwarded for. The server's first middleware decides and stores it; everything that limits
//! or records by address reads it here.

use std::net::IpAddr;

use actix_web::{HttpMessage, HttpRequest};

/// The client's address as the server decided it (set in the request's extensions); `None`
/// when the connection has no peer address. Kept as an address, and written out only by what
/// needs it as text (a limit's counter, an audit event), not on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

/// The request's client address, or the peer's when no middleware decided one; an
/// IPv4-mapped address (an IPv4 peer of a dual-stack listener) as its IPv4 address.
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    let address = match request.extensions().get::<ClientAddress>() {
        Some(ClientAddress(address)) => *address,
        None => request.peer_addr().map(|a| a.ip()),
    };
    address.map(|address| address.to_canonical())
}

/// [`client_ip`] as text: `unknown` without one.
pub fn client_address(request: &HttpRequest) -> String {
    client_ip(request).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The address a request counts against in rate limits (docs/security.md, "Bounds"): IPv4 as
/// it is (an IPv4-mapped address included, see [`client_ip`]), IPv6 by its /64 (one
/// customer's allocation: a host picks any address inside it at will).
pub fn rate_limit_address(request: &HttpRequest) -> String {
    match client_ip(request) {
        Some(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::HttpMessage;
    use actix_web::test::TestRequest;

    use super::*;

    fn limited(address: &str) -> String {
        let request = TestRequest::default().to_http_request();
        request.extensions_mut().insert(ClientAddress(address.parse().ok()));
        rate_limit_address(&request)
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        assert_eq!(limited("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(limited("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(limited("2001:db8:1:3::1"), limited("2001:db8:1:2::1"));
        assert_eq!(limited("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(limited("198.51.100.7"), "198.51.100.7");
    }
}
