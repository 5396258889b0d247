//! Client authentication (RFC 6749 §2.3), the one place that reads Basic credentials or client
//! secrets: `client_secret_basic`, `client_secret_post`, and a public client naming itself
//! (`none`) where the endpoint allows it. The token endpoint, introspection and revocation call
//! [`authenticate`] once per request; grants receive the client it returns.

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use tollbooth_storage::clients::Client;
use tollbooth_storage::ids::{self, Id};

use crate::error::OAuthError;
use crate::request::TokenParams;
use crate::state::OAuth;

/// Whether a public client (which has no secret) may name itself instead of authenticating:
/// yes at the token endpoint (the code grant proves it with PKCE) and at revocation (RFC 7009
/// §5), no at introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicClients {
    Allowed,
    Refused,
}

/// The client that made the request, by the one rule: a confidential client presents its
/// secret (or its previous one within the rotation grace period); a public client has none
/// and, where allowed, only names itself. A failure is `invalid_client` (401, with
/// `WWW-Authenticate: Basic` when Basic was used).
pub async fn authenticate(
    oauth: &OAuth,
    request: &HttpRequest,
    params: &TokenParams,
    public: PublicClients,
) -> Result<Arc<Client>, OAuthError> {
    let basic = BasicCredentials::from_request(request)?;
    let used_basic = basic.is_some();
    let (client_id, secret) = match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::invalid_request("Use one client authentication method, not two."));
        }
        (Some(basic), Some(body_id), None) if basic.client_id != body_id => {
            return Err(OAuthError::invalid_request("The client_id in the body differs from the one in Basic."));
        }
        (Some(basic), _, None) => (basic.client_id, Some(basic.secret)),
        (None, Some(id), secret) => (id.to_owned(), secret.map(str::to_owned)),
        (None, None, _) => return Err(OAuthError::invalid_client(false)),
    };
    // Every client id is one this server made: anything else is unknown without a query or a
    // cache entry.
    let client = match Id::<ids::Client>::parse(&client_id) {
        Some(id) => oauth.clients.find(&id).await?,
        None => None,
    };
    let client = client.ok_or_else(|| OAuthError::invalid_client(used_basic))?;
    let authenticated = match (secret, client.confidential) {
        (Some(secret), true) => client.accepts_secret(&oauth.hasher, &secret, tollbooth_storage::now()),
        (None, false) => public == PublicClients::Allowed,
        _ => false,
    };
    if authenticated { Ok(client) } else { Err(OAuthError::invalid_client(used_basic)) }
}

/// `client_secret_basic` credentials (RFC 6749 §2.3.1: id and secret are form-urlencoded).
#[doc(hidden)] // public for the fuzz targets (`fuzz/`) only
pub struct BasicCredentials {
    client_id: String,
    secret: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl BasicCredentials {
    /// `Ok(None)` when no Basic header was sent; a malformed one fails client authentication.
    pub fn from_request(request: &HttpRequest) -> Result<Option<Self>, OAuthError> {
        let Some(value) = request.headers().get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let value = value.to_str().map_err(|_| OAuthError::invalid_client(true))?;
        let Some((scheme, encoded)) = value.split_once(' ') else {
            return Err(OAuthError::invalid_client(true));
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(None);
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| OAuthError::invalid_client(true))?;
        let (id, secret) = decoded.split_once(':').ok_or_else(|| OAuthError::invalid_client(true))?;
        Ok(Some(BasicCredentials { client_id: form_decode(id), secret: form_decode(secret) }))
    }
}

fn form_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets never reach a log line through `{:?}`.
    #[test]
    fn debug_output_holds_no_secret() {
        let basic = BasicCredentials { client_id: "client_a".into(), secret: "cs_the-secret".into() };
        let printed = format!("{basic:?}");
        assert!(!printed.contains("the-secret") && printed.contains("client_a"));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("my%20client:se+cret%3A");
        let request = actix_web::test::TestRequest::default()
            .insert_header((header::AUTHORIZATION, format!("Basic {encoded}")))
            .to_http_request();
        let basic = BasicCredentials::from_request(&request).unwrap().unwrap();
        assert_eq!((basic.client_id.as_str(), basic.secret.as_str()), ("my client", "se cret:"));
    }
}
