//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client gets a token for
//! itself. Written directly, not through oxide-auth: see `crate::oxide` for why.

use tollbooth_storage::clients::Client;
use tollbooth_storage::values::ScopeSet;

use super::GrantType;
use crate::audience;
use crate::error::{OAuthError, OAuthErrorKind};
use crate::issue::{Holder, TokenIssuer, TokenResponse};
use crate::policy;

/// The request's values besides the client.
pub struct ClientCredentialsRequest<'a> {
    pub scope: Option<&'a str>,
    /// RFC 8707: the API the token is for.
    pub resource: Option<&'a str>,
}

/// A token for `client` itself (`sub` is its id) for one API (`crate::audience`): with the
/// requested scope, or, asking for none, with the client's scopes of that API.
pub fn grant(
    issuer: &TokenIssuer,
    client: &Client,
    request: &ClientCredentialsRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    if !client.confidential {
        return Err(OAuthError::new(
            OAuthErrorKind::UnauthorizedClient,
            "Public clients cannot use the client_credentials grant.",
        ));
    }
    let requested = ScopeSet::parse(request.scope.unwrap_or_default())
        .map_err(|_| OAuthError::new(OAuthErrorKind::InvalidScope, "The scope is malformed."))?;
    if !client.allows_grant(GrantType::ClientCredentials.name()) {
        return Err(OAuthError::new(
            OAuthErrorKind::UnauthorizedClient,
            "This client is not allowed the client_credentials grant.",
        ));
    }
    let audiences = issuer.audiences();
    audience::check_named(&audiences, &client.scopes, request.resource)?;
    let scope = if requested.is_empty() {
        audience::default_scope(&audiences, &client.scopes, request.resource)?
    } else {
        policy::client_scope(&client.scopes, &requested).ok_or_else(|| {
            OAuthError::new(
                OAuthErrorKind::InvalidScope,
                "The requested scope exceeds the scopes allowed for this client.",
            )
        })?
    };
    let audience = audience::for_client(&audiences, &client.scopes, &scope, request.resource)?;
    let holder = Holder {
        client,
        subject: client.id.clone(),
        scope: &scope,
        organization_id: client.organization_id.clone(),
        audience,
    };
    Ok(issuer.access_token(holder)?.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{client, issuer_for_tests, test_issuer};

    #[test]
    fn a_client_gets_what_it_asks_within_its_scopes() {
        let (keys, hasher) = issuer_for_tests();
        let issuer = test_issuer(&keys, &hasher);
        let grant = |issuer: &TokenIssuer, client: &Client, scope: Option<&str>| {
            grant(issuer, client, &ClientCredentialsRequest { scope, resource: None })
        };
        let client = client(true, &["client_credentials"], &["read", "write"]);
        assert_eq!(grant(&issuer, &client, None).unwrap().scope, "read write");
        assert_eq!(grant(&issuer, &client, Some("write")).unwrap().scope, "write");
        let refused = |client: &Client, requested| grant(&issuer, client, requested).unwrap_err().kind;
        assert_eq!(refused(&client, Some("read admin")), OAuthErrorKind::InvalidScope);
        assert_eq!(refused(&client, Some("quo\"te")), OAuthErrorKind::InvalidScope);
        let public = crate::test_support::client(false, &["client_credentials"], &["read"]);
        assert_eq!(refused(&public, None), OAuthErrorKind::UnauthorizedClient);
        let code_only = crate::test_support::client(true, &["authorization_code"], &["read"]);
        assert_eq!(refused(&code_only, None), OAuthErrorKind::UnauthorizedClient);
    }
}
