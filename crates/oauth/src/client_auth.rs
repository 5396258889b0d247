//! Client authentication for introspection and revocation (RFC 7662 §2.1, RFC 7009 §2.1): the
//! methods of the token endpoint, `client_secret_basic` and `client_secret_post`, and for
//! revocation also a public client naming itself (`none`).

use std::sync::Arc;

use actix_web::HttpRequest;
use tollbooth_storage::clients::Client;

use crate::OAuth;
use crate::error::OAuthError;
use crate::token::{BasicCredentials, TokenParams};

/// The client that made the request. Public clients (no secret) are accepted only when
/// `allow_public`.
pub async fn authenticate_client(
    oauth: &OAuth,
    request: &HttpRequest,
    params: &TokenParams,
    allow_public: bool,
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
        (Some(basic), _, None) => {
            let secret = basic.secret().to_owned();
            (basic.client_id, Some(secret))
        }
        (None, Some(id), secret) => (id.to_owned(), secret.map(str::to_owned)),
        (None, None, _) => return Err(OAuthError::invalid_client(false)),
    };
    let client = oauth.clients.find(&client_id).await?.ok_or_else(|| OAuthError::invalid_client(used_basic))?;
    if client_authenticates(oauth, &client, secret.as_deref(), allow_public) {
        Ok(client)
    } else {
        Err(OAuthError::invalid_client(used_basic))
    }
}

/// RFC 6749 §2.3, the one rule every endpoint applies: a confidential client authenticates
/// with its secret (or its previous one within the rotation grace period); a public client
/// has no secret and, where `allow_public`, only names itself.
pub fn client_authenticates(oauth: &OAuth, client: &Client, secret: Option<&str>, allow_public: bool) -> bool {
    match (secret, client.confidential) {
        (Some(secret), true) => client.accepts_secret(&oauth.hasher, secret, tollbooth_storage::now()),
        (None, false) => allow_public,
        _ => false,
    }
}
