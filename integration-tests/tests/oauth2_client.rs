//! The authorization-code flow driven by a real OAuth client library (the `oauth2` crate):
//! its PKCE, its authorize URL, its code exchange and its refresh, against this server.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope,
    TokenResponse, TokenUrl,
};
use serde_json::{Value, json};

use crate::authorization_code::{Browser, PASSWORD, REDIRECT};
use crate::on_both_databases;
use crate::support::{TEST_API, TestApp};

on_both_databases!(the_oauth2_crate_completes_the_flow_and_refreshes);

/// The `oauth2` crate's async HTTP client, over reqwest 0.13 (its own adapter targets an
/// older reqwest).
async fn send(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::new();
    let mut builder = client.request(request.method().clone(), request.uri().to_string()).body(request.body().clone());
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    let response = builder.send().await?;
    let mut answer = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    Ok(answer.body(response.bytes().await?.to_vec()).expect("a valid response"))
}

async fn the_oauth2_crate_completes_the_flow_and_refreshes(app: TestApp) {
    app.call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "lib@example.com", "password": PASSWORD}))
        .await
        .expect(201);
    let registered = app
        .create_client(json!({
            "name": "Library App", "confidential": false, "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "scopes": ["profile", "orders:read"],
        }))
        .await;
    let client = BasicClient::new(ClientId::new(registered["id"].as_str().unwrap().to_owned()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, csrf_state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("orders:read".into()))
        .set_pkce_challenge(challenge)
        .url();

    let path = format!("{}?{}", authorize_url.path(), authorize_url.query().unwrap());
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&path).await;
    let consent =
        browser.post(&path, &[("csrf", &sign_in.csrf()), ("email", "lib@example.com"), ("password", PASSWORD)]).await;
    let approved = browser.post(&path, &[("csrf", &consent.csrf()), ("decision", "approve")]).await;
    let params = approved.redirect_params();
    assert_eq!(&params["state"], csrf_state.secret());

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .expect("the code exchange succeeds");
    assert_eq!(tokens.token_type().as_ref(), "bearer");
    let scopes: Vec<&str> = tokens.scopes().unwrap().iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["orders:read", "profile"]);
    // For the test tenant's API (its scope orders:read), held by the user who signed in.
    let described = app.introspect(tokens.access_token().secret()).await;
    assert_eq!((described["active"].as_bool(), described["aud"].as_str()), (Some(true), Some(TEST_API)));
    let user_path = format!("/api/v1/users/{}", described["sub"].as_str().unwrap());
    let me = app.call("GET", &user_path, &app.tenant_key, Value::Null).await.expect(200);
    assert_eq!(me.body["email"], "lib@example.com");

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("a refresh token"))
        .add_scope(Scope::new("profile".into()))
        .request_async(&send)
        .await
        .expect("the refresh succeeds");
    assert_ne!(refreshed.refresh_token().unwrap().secret(), tokens.refresh_token().unwrap().secret());
    let scopes: Vec<&str> = refreshed.scopes().unwrap().iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["profile"]);
    let reuse = client
        .exchange_refresh_token(&RefreshToken::new(tokens.refresh_token().unwrap().secret().clone()))
        .request_async(&send)
        .await;
    assert!(reuse.is_err(), "a used refresh token is refused");
}
