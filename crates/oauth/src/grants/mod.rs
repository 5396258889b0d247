//! The grants of the token endpoint, one module each (RFC 6749 §4.1.3, §4.4, §6). A grant
//! takes the client the endpoint authenticated and the request's values, and returns the
//! token response or the RFC 6749 §5.2 error. Grants never call each other: what two share
//! lives below them (`issue`, `policy`, `oxide`).

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

/// The grant types this server issues tokens for; discovery advertises exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [GrantType; 3] =
        [GrantType::AuthorizationCode, GrantType::ClientCredentials, GrantType::RefreshToken];

    /// The `grant_type` value (and a client's `grant_types` entry).
    pub const fn name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant| grant.name() == name)
    }
}

/// The names of every supported grant type.
pub fn supported() -> Vec<&'static str> {
    GrantType::ALL.iter().map(|grant| grant.name()).collect()
}
