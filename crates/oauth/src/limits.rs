//! Rate limiting of the endpoints that clients authenticate to (token, introspection,
//! revocation), the same way for all three (docs/security.md, "Bounds"): every request counts
//! against its address (IPv6 by /64), failed authentications included; only a request that
//! authenticated as a client counts against that client's budget, so a stranger who knows a
//! client id cannot spend it and made-up ids create no counters.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use tollbooth_http::client_address::rate_limit_address;
use tollbooth_http::rate_limit_headers::{self, unix_now};
use tollbooth_storage::clients::Client;
use tollbooth_storage::rate_limit::{Budget, Verdict};

use crate::error::OAuthError;
use crate::state::OAuth;

/// What one request has counted in, for its answer's rate-limit headers.
#[derive(Default)]
pub struct Limits {
    verdict: Verdict,
}

impl Limits {
    /// Counts the request against its address; refused when that budget is spent.
    pub async fn count_address(&mut self, oauth: &OAuth, request: &HttpRequest) -> Result<(), OAuthError> {
        let Some(limiter) = &oauth.rate_limiter else { return Ok(()) };
        let address = rate_limit_address(request);
        self.add(limiter.count(Budget::OAuthAddress(&address)).await)
    }

    /// Counts the request against `client`, which it authenticated as: a confidential client's
    /// own budget, a public client's (which anyone may name) per address.
    pub async fn count_client(
        &mut self,
        oauth: &OAuth,
        request: &HttpRequest,
        client: &Client,
    ) -> Result<(), OAuthError> {
        let Some(limiter) = &oauth.rate_limiter else { return Ok(()) };
        let address = rate_limit_address(request);
        let budget = Budget::Client { client_id: &client.id, confidential: client.confidential, address: &address };
        self.add(limiter.count(budget).await)
    }

    fn add(&mut self, verdict: Verdict) -> Result<(), OAuthError> {
        self.verdict = std::mem::take(&mut self.verdict).and(verdict);
        if self.verdict.allowed { Ok(()) } else { Err(OAuthError::rate_limited(self.verdict.retry_after(unix_now()))) }
    }

    /// The answer to the request, success or error, with the headers of its tightest window.
    pub fn answer(&self, result: Result<HttpResponse, OAuthError>) -> HttpResponse {
        let mut response = result.unwrap_or_else(|error| actix_web::ResponseError::error_response(&error));
        rate_limit_headers::insert(&mut response, rate_limit_headers::of(&self.verdict, unix_now()));
        response
    }
}
