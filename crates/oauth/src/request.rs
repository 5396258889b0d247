//! What a token, introspection or revocation request says: its body read within a bound, and
//! its parameters parsed once, from a form (RFC 6749 §3.2) or a JSON object of strings
//! (docs/oauth.md). A leaf: it knows nothing of clients, grants or tokens.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use tollbooth_http::body::read_limited;

use crate::error::OAuthError;

/// OAuth requests are form fields of a few hundred bytes; anything past this is refused.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// An OAuth endpoint's form (or JSON) body.
pub struct FormBody(pub web::Bytes);

impl FromRequest for FormBody {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_limited(request, payload, MAX_FORM_BYTES);
        Box::pin(async move {
            body.await.map(FormBody).map_err(|refusal| OAuthError::invalid_request(refusal.description()))
        })
    }
}

/// Query or form parameters, for the pages' endpoints; `None` when a name is repeated (RFC 6749
/// §3.1).
pub fn unique_parameters(encoded: &[u8]) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(encoded) {
        if params.insert(name.into_owned(), value.into_owned()).is_some() {
            return None;
        }
    }
    Some(params)
}

/// The parameters of a token request, from a form (RFC 6749) or a JSON body (docs/oauth.md).
#[derive(Default, Clone)]
pub struct TokenParams(HashMap<String, String>);

/// Names only: the values hold secrets (`client_secret`, `code`, `refresh_token`, …).
impl std::fmt::Debug for TokenParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("TokenParams").field("names", &names).finish_non_exhaustive()
    }
}

impl TokenParams {
    pub fn parse(request: &HttpRequest, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .unwrap_or_default();
        let mut params = HashMap::new();
        let mut put = |name: String, value: String| {
            // RFC 6749 §3.2: request parameters must not be repeated.
            if params.insert(name.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!("The parameter `{name}` is repeated.")));
            }
            Ok(())
        };
        match content_type.as_str() {
            "application/x-www-form-urlencoded" => {
                for (name, value) in url::form_urlencoded::parse(body) {
                    put(name.into_owned(), value.into_owned())?;
                }
            }
            "application/json" => {
                let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
                    .map_err(|_| OAuthError::invalid_request("The request body is not a JSON object."))?;
                for (name, value) in object {
                    match value {
                        serde_json::Value::String(text) => put(name, text)?,
                        _ => {
                            return Err(OAuthError::invalid_request(format!(
                                "The parameter `{name}` must be a string."
                            )));
                        }
                    }
                }
            }
            _ => {
                return Err(OAuthError::invalid_request(
                    "The body must be application/x-www-form-urlencoded or application/json.",
                ));
            }
        }
        Ok(TokenParams(params))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets never reach a log line through `{:?}`: only the names are shown.
    #[test]
    fn debug_output_holds_no_secret() {
        let params = TokenParams(HashMap::from([("client_secret".to_owned(), "cs_the-secret".to_owned())]));
        let printed = format!("{params:?}");
        assert!(!printed.contains("the-secret") && printed.contains("client_secret"));
    }
}
