//! docs/oauth.md token endpoint, client-credentials grant: every way in, every RFC 6749 §5.2 error.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{ISSUER, TEST_API, TestApp};

on_both_databases!(
    tokens_by_basic_and_post_with_form_and_json_verify_against_the_jwks,
    token_calls_the_management_api_like_the_api_key,
    scope_is_a_subset_of_the_allowed_scopes,
    request_errors_are_invalid_request,
    client_authentication_errors_are_401_invalid_client,
    grant_errors_follow_rfc_6749,
);

/// Verifies `token` with an independent JWT library against the served JWKS, as the API whose
/// identifier is `audience` would.
pub async fn verify_with_jwks(app: &TestApp, token: &str, audience: &str) -> Value {
    let jwks: JwkSet = app.http.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1 typ");
    assert_eq!(header.alg, Algorithm::ES256);
    let kid = header.kid.expect("kid in header");
    let jwk = jwks.find(&kid).expect("the signing key is published");
    assert_eq!(jwk.common.key_id.as_deref(), Some(kid.as_str()));
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("token verifies against the JWKS")
        .claims
}

async fn token_request(app: &TestApp, request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let _ = app;
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn assert_success(status: u16, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none(), "RFC 6749 §4.4.3: no refresh token");
}

async fn tokens_by_basic_and_post_with_form_and_json_verify_against_the_jwks(app: TestApp) {
    let (id, secret) = app.confidential_client(&["read:things", "write:things"]).await;
    let token_url = app.url("/oauth/token");
    let requests = [
        (
            "basic+form",
            app.http.post(&token_url).basic_auth(&id, Some(&secret)).form(&[("grant_type", "client_credentials")]),
        ),
        (
            "basic+json",
            app.http.post(&token_url).basic_auth(&id, Some(&secret)).json(&json!({"grant_type": "client_credentials"})),
        ),
        (
            "post+form",
            app.http.post(&token_url).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ]),
        ),
        (
            "post+json",
            app.http
                .post(&token_url)
                .json(&json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret})),
        ),
        (
            "basic with the same client_id in the body",
            app.http
                .post(&token_url)
                .basic_auth(&id, Some(&secret))
                .form(&[("grant_type", "client_credentials"), ("client_id", id.as_str())]),
        ),
    ];
    for (how, request) in requests {
        let (status, headers, body) = token_request(&app, request).await;
        assert_success(status, &headers, &body);
        assert_eq!(body["scope"], "read:things write:things", "{how}: none requested means all allowed");
        // Scopes of the test tenant's API: a token for it.
        let claims = verify_with_jwks(&app, body["access_token"].as_str().unwrap(), TEST_API).await;
        assert_eq!(claims["iss"], ISSUER, "{how}");
        assert_eq!(claims["aud"], TEST_API, "{how}");
        assert_eq!(claims["sub"], id.as_str(), "{how}: sub is the client id for client credentials");
        assert_eq!(claims["client_id"], id.as_str(), "{how}");
        assert_eq!(claims["tid"], app.tenant_id.as_str(), "{how}");
        assert_eq!(claims["scope"], "read:things write:things", "{how}");
        assert!(claims.get("org_id").is_none(), "{how}: no organization");
        let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
        assert_eq!(exp - iat, 3600, "{how}: integer NumericDates, client ttl");
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()), "{how}");
    }
}

async fn token_calls_the_management_api_like_the_api_key(app: TestApp) {
    let (id, secret) = app.confidential_client(&["clients:read"]).await;
    let token = app.access_token(&id, &secret, None).await;
    let path = app.url(&format!("/api/v1/clients/{id}"));
    let by_token: Value = app.http.get(&path).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let by_key = app.http.get(&path).bearer_auth(&app.tenant_key).send().await.unwrap();
    assert_eq!(by_key.status(), 200);
    let by_key: Value = by_key.json().await.unwrap();
    let by_header: Value =
        app.http.get(&path).header("API-Authorization", &app.tenant_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_token["id"], id.as_str());
    assert_eq!(by_token, by_key);
    assert_eq!(by_header, by_key);
    assert!(by_key.get("client_secret").is_none(), "the secret is shown only on creation");
    assert!(by_key["redacted"].as_str().unwrap().starts_with("cs_…"));
}

async fn scope_is_a_subset_of_the_allowed_scopes(app: TestApp) {
    let (id, secret) = app.confidential_client(&["a", "b", "c"]).await;
    let ask = |scope: &str| {
        app.http
            .post(app.url("/oauth/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
    };
    let (status, headers, body) = token_request(&app, ask("c a")).await;
    assert_success(status, &headers, &body);
    assert_eq!(body["scope"], "a c");
    let (status, headers, body) = token_request(&app, ask("a d")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    let (status, _, body) = token_request(&app, ask("a \"b\"")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
}

/// Asserts an RFC 6749 §5.2 error answer.
fn assert_error(case: &str, (status, headers, body): (u16, reqwest::header::HeaderMap, Value), expected: (u16, &str)) {
    assert_eq!((status, body["error"].as_str().unwrap_or_default()), expected, "{case}: {body}");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{case}: {body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store", "{case}");
}

async fn request_errors_are_invalid_request(app: TestApp) {
    let (id, secret) = app.confidential_client(&[]).await;
    let url = app.url("/oauth/token");
    let basic = || app.http.post(&url).basic_auth(&id, Some(&secret));
    let cases = [
        ("no grant_type", basic().form(&[("scope", "x")])),
        ("text/plain body", basic().header("content-type", "text/plain").body("grant_type=client_credentials")),
        ("malformed JSON", basic().header("content-type", "application/json").body("{\"grant_type\":")),
        ("JSON non-string value", basic().json(&json!({"grant_type": 5}))),
        (
            "repeated parameter",
            basic()
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials&grant_type=client_credentials"),
        ),
        (
            "Basic and client_secret_post at once",
            basic().form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ]),
        ),
        (
            "client_id in the body differs from Basic",
            basic().form(&[("grant_type", "client_credentials"), ("client_id", "client_someone_else")]),
        ),
    ];
    for (case, request) in cases {
        assert_error(case, token_request(&app, request).await, (400, "invalid_request"));
    }
    // Oversized bodies, below and above actix's own payload limit, on every form endpoint.
    for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
        for size in [100 * 1024, 4 * 1024 * 1024] {
            let body = format!("grant_type=client_credentials&scope={}", "a".repeat(size));
            let request = app
                .http
                .post(app.url(path))
                .basic_auth(&id, Some(&secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            let answer = token_request(&app, request).await;
            assert_eq!(answer.2["error_description"], "The request body is too large.", "{path}, {size} bytes");
            assert_error(&format!("{path}, {size} bytes"), answer, (400, "invalid_request"));
        }
    }
}

async fn client_authentication_errors_are_401_invalid_client(app: TestApp) {
    let (id, secret) = app.confidential_client(&[]).await;
    let url = app.url("/oauth/token");
    let grant = [("grant_type", "client_credentials")];
    let basic_cases = [
        ("wrong secret", app.http.post(&url).basic_auth(&id, Some("cs_wrong")).form(&grant)),
        (
            "unknown client",
            app.http.post(&url).basic_auth("client_01JD6ZZZZZZZZZZZZZZZZZZZZZ", Some(&secret)).form(&grant),
        ),
        ("malformed Basic", app.http.post(&url).header("authorization", "Basic !!!").form(&grant)),
        // PostgreSQL cannot even be asked about a U+0000; it must still be a plain unknown client.
        ("client id with U+0000", app.http.post(&url).basic_auth("client_\0", Some(&secret)).form(&grant)),
    ];
    for (case, request) in basic_cases {
        let answer = token_request(&app, request).await;
        assert_eq!(answer.1[WWW_AUTHENTICATE], "Basic realm=\"tollbooth\"", "{case}");
        assert_error(case, answer, (401, "invalid_client"));
    }
    let post_cases = [
        (
            "wrong secret by post",
            app.http.post(&url).form(&[grant[0], ("client_id", id.as_str()), ("client_secret", "cs_wrong")]),
        ),
        ("no credentials at all", app.http.post(&url).form(&grant)),
        ("unknown client without secret", app.http.post(&url).form(&[grant[0], ("client_id", "client_nobody")])),
        (
            "client id with U+0000 by post",
            app.http.post(&url).form(&[grant[0], ("client_id", "client_\0"), ("client_secret", secret.as_str())]),
        ),
    ];
    for (case, request) in post_cases {
        let answer = token_request(&app, request).await;
        assert!(answer.1.get(WWW_AUTHENTICATE).is_none(), "{case}: no Basic challenge when Basic was not used");
        assert_error(case, answer, (401, "invalid_client"));
    }
}

async fn grant_errors_follow_rfc_6749(app: TestApp) {
    let (id, secret) = app.confidential_client(&[]).await;
    let url = app.url("/oauth/token");
    for grant_type in
        ["password", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
    {
        let request = app.http.post(&url).basic_auth(&id, Some(&secret)).form(&[("grant_type", grant_type)]);
        assert_error(grant_type, token_request(&app, request).await, (400, "unsupported_grant_type"));
    }

    let public = app
        .create_client(json!({"name": "SPA", "confidential": false, "redirect_uris": ["https://app.example.com/cb"]}))
        .await;
    assert!(public.get("client_secret").is_none());
    let request = app
        .http
        .post(&url)
        .form(&[("grant_type", "client_credentials"), ("client_id", public["id"].as_str().unwrap())]);
    assert_error("public client", token_request(&app, request).await, (400, "unauthorized_client"));

    let web_app = app
        .create_client(json!({"name": "Web app", "grant_types": ["authorization_code"], "redirect_uris": ["https://app.example.com/cb"]}))
        .await;
    let request = app
        .http
        .post(&url)
        .basic_auth(web_app["id"].as_str().unwrap(), Some(web_app["client_secret"].as_str().unwrap()))
        .form(&[("grant_type", "client_credentials")]);
    assert_error("client without the grant", token_request(&app, request).await, (400, "unauthorized_client"));
}
