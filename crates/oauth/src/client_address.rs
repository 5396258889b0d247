//! The address a request came from: the peer, or, behind a trusted proxy, the client it
//! forwarded for. The server's first middleware decides and stores it; everything that limits
//! or records by address reads it here.

use actix_web::{HttpMessage, HttpRequest};

/// The client's address as the server decided it (set in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

/// The request's client address, or the peer's when no middleware decided one.
pub fn client_address(request: &HttpRequest) -> String {
    if let Some(address) = request.extensions().get::<ClientAddress>() {
        return address.0.clone();
    }
    request.peer_addr().map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}
