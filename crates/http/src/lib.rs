//! HTTP pieces shared by every layer (the OAuth endpoints, the management API, the server's
//! middleware): none of them knows OAuth or the management API, so each layer may use them
//! without depending on another. docs/architecture.md draws the arrows.

pub mod bearer;
pub mod body;
pub mod cache_guard;
pub mod client_address;
pub mod endpoint;
pub mod html_page;
pub mod methods;
pub mod rate_limit_headers;
