//! Tollbooth's authorization server: the authorization and token endpoints, introspection and
//! revocation, JWT issuing and verifying, signing keys, JWKS and discovery.
//!
//! A token request reads straight down (docs/architecture.md): `token` (the endpoint: limit,
//! parse, authenticate once, dispatch) → `client_auth` → one of `grants` → `issue` → the
//! response. Below the endpoints and grants sit `request`, `limits`, `issue`, `jwt`, `keys`,
//! `policy`, `revocations` and `clients`; `oxide` is the one adapter to oxide-auth.

pub mod audience;
pub mod authorize;
pub mod client_auth;
pub mod clients;
pub mod cookies;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod introspection;
pub mod issue;
pub mod jwt;
pub mod keys;
pub mod limits;
pub mod logout;
pub mod metadata;
pub mod metrics;
pub mod oidc;
mod oxide;
pub mod pages;
pub mod password_sign_in;
pub mod policy;
pub mod request;
pub mod resources;
pub mod revocations;
mod routes;
pub mod session;
mod state;
#[cfg(test)]
mod test_support;
pub mod token;
pub mod userinfo;

pub use routes::routes;
pub use state::{OAuth, OAuthParts, OAuthSettings};
