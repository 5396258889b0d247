//! docs/oidc.md: OpenID Connect over real HTTP — discovery, ID tokens from the code grant and
//! from refresh (RS256 by default, ES256 per client, verified against the JWKS), userinfo with
//! RFC 6750 errors, `prompt`, `max_age`, `login_hint`, and RP-initiated logout.

use std::collections::HashMap;

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::authorization_code::{Browser, PASSWORD, REDIRECT, authorize_path, exchange, pkce};
use crate::on_both_databases;
use crate::support::{AUDIENCE, ISSUER, TestApp};
use crate::user_tokens::code_form;

on_both_databases!(
    discovery_describes_the_provider,
    id_tokens_come_from_the_code_and_from_refresh,
    userinfo_answers_by_scope_with_bearer_errors,
    prompt_max_age_and_login_hint,
    logout_ends_the_session_and_returns_only_to_registered_uris,
);

const SIGNED_OUT: &str = "https://app.example.com/signed-out";

/// A confidential client that may refresh, with `extra` fields.
async fn oidc_client(app: &TestApp, scopes: &[&str], extra: Value) -> Value {
    let mut body = json!({
        "name": "Portal", "confidential": true, "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [REDIRECT], "scopes": scopes, "skip_consent": true,
        "post_logout_redirect_uris": [SIGNED_OUT],
    });
    for (name, value) in extra.as_object().unwrap() {
        body[name] = value.clone();
    }
    app.create_client(body).await
}

/// A user named Ada Lovelace: their id and email.
async fn ada(app: &TestApp) -> (String, String) {
    let email = format!("ada-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let body = json!({"email": email, "password": PASSWORD, "name": "Ada Lovelace", "email_verified": true});
    let user = app.call("POST", "/api/v1/users", &app.tenant_key, body).await.expect(201);
    (user.id(), email)
}

/// Runs the authorization request with `extra` parameters in `browser`, signing in as `email`
/// when asked: the final page (a redirect, or a page that is not the sign-in form).
async fn authorize(
    browser: &mut Browser<'_>,
    client: &Value,
    email: &str,
    extra: &[(&str, &str)],
) -> crate::authorization_code::Page {
    let params: Vec<(&str, &str)> = pkce().into_iter().chain(extra.iter().copied()).collect();
    let path = authorize_path(client["id"].as_str().unwrap(), &params);
    let page = browser.get(&path).await;
    if page.status == 200 && page.html.contains("name=\"password\"") {
        return browser.post(&path, &[("csrf", &page.csrf()), ("email", email), ("password", PASSWORD)]).await;
    }
    page
}

/// Signs in and exchanges the code: the token response.
async fn tokens(
    app: &TestApp,
    browser: &mut Browser<'_>,
    client: &Value,
    email: &str,
    extra: &[(&str, &str)],
) -> Value {
    let page = authorize(browser, client, email, extra).await;
    assert_eq!(page.status, 302, "{}", page.html);
    let code = page.redirect_params()["code"].clone();
    let (status, tokens) = exchange(app, client, &code_form(client, &code)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// The ID token verified as a relying party does (OpenID Connect Core §3.1.3.7): signature with
/// the published key of its `kid`, `alg` as registered, `iss`, `aud` = the client, `exp`.
async fn verify_id_token(app: &TestApp, id_token: &str, client_id: &str, algorithm: Algorithm) -> Value {
    let jwks: JwkSet = app.http.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, algorithm);
    assert_ne!(header.typ.as_deref(), Some("at+jwt"), "an ID token is not an access token");
    let jwk = jwks.find(&header.kid.expect("a kid")).expect("the ID token's key is published");
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the ID token verifies against the JWKS")
        .claims
}

fn at_hash(access_token: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn discovery_describes_the_provider(app: TestApp) {
    let response = app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["issuer"], ISSUER);
    assert_eq!(document["userinfo_endpoint"], format!("{ISSUER}/oauth/userinfo"));
    assert_eq!(document["end_session_endpoint"], format!("{ISSUER}/oauth/logout"));
    assert_eq!(document["id_token_signing_alg_values_supported"], json!(["RS256", "ES256"]));
    assert_eq!(document["subject_types_supported"], json!(["public"]));
    assert_eq!(document["response_modes_supported"], json!(["query"]));
    assert_eq!(document["authorization_response_iss_parameter_supported"], true);
    for claim in ["sub", "auth_time", "nonce", "sid", "email", "email_verified", "name"] {
        assert!(document["claims_supported"].as_array().unwrap().contains(&json!(claim)), "{claim}");
    }
    assert!(document["scopes_supported"].as_array().unwrap().contains(&json!("openid")));
    // The RFC 8414 document is the same metadata without the OpenID provider's additions.
    let oauth: Value =
        app.http.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(oauth["token_endpoint"], document["token_endpoint"]);
    assert_eq!(oauth["authorization_response_iss_parameter_supported"], true);
    assert!(oauth.get("userinfo_endpoint").is_none());
}

async fn id_tokens_come_from_the_code_and_from_refresh(app: TestApp) {
    let client = oidc_client(&app, &["openid", "profile", "email"], json!({})).await;
    let client_id = client["id"].as_str().unwrap();
    let (user_id, email) = ada(&app).await;
    let before = chrono::Utc::now().timestamp();
    let mut browser = Browser::new(&app);
    let first =
        tokens(&app, &mut browser, &client, &email, &[("scope", "openid profile email"), ("nonce", "n-0S6_WzA2Mj")])
            .await;

    let id_token = first["id_token"].as_str().expect("an ID token with scope openid");
    let claims = verify_id_token(&app, id_token, client_id, Algorithm::RS256).await;
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    let access_token = first["access_token"].as_str().unwrap();
    assert_eq!(claims["at_hash"], at_hash(access_token));
    let auth_time = claims["auth_time"].as_i64().unwrap();
    assert!(auth_time >= before - 1 && auth_time <= chrono::Utc::now().timestamp(), "{claims}");
    assert!(claims["sid"].as_str().is_some_and(|sid| sid.len() >= 16), "{claims}");
    assert_eq!(claims["email"], email.as_str());
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["tid"], app.tenant_id.as_str());
    assert_eq!(claims["exp"], payload(access_token)["exp"]);
    // OpenID scopes alone make a token for userinfo: its audience is the issuer (docs/oauth.md).
    assert_eq!(payload(access_token)["aud"], ISSUER);

    // A refresh answers with a new ID token of the same sign-in: same auth_time and sid, no nonce.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ("client_id", client_id),
    ];
    let (status, refreshed) = exchange(&app, &client, &form).await;
    assert_eq!(status, 200, "{refreshed}");
    let again = verify_id_token(&app, refreshed["id_token"].as_str().unwrap(), client_id, Algorithm::RS256).await;
    assert_eq!(again["auth_time"], auth_time);
    assert_eq!(again["sid"], claims["sid"]);
    assert_eq!(again["sub"], user_id.as_str());
    assert!(again.get("nonce").is_none(), "{again}");
    assert_eq!(again["at_hash"], at_hash(refreshed["access_token"].as_str().unwrap()));
    // A narrower refresh without `openid` has no ID token.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refreshed["refresh_token"].as_str().unwrap()),
        ("client_id", client_id),
        ("scope", "profile"),
    ];
    let (status, narrowed) = exchange(&app, &client, &form).await;
    assert_eq!(status, 200, "{narrowed}");
    assert!(narrowed.get("id_token").is_none(), "{narrowed}");

    // Without `email`, no email claims; without `openid`, no ID token at all.
    let plain = tokens(&app, &mut browser, &client, &email, &[("scope", "openid")]).await;
    let claims = verify_id_token(&app, plain["id_token"].as_str().unwrap(), client_id, Algorithm::RS256).await;
    assert!(claims.get("email").is_none() && claims.get("name").is_none() && claims.get("nonce").is_none(), "{claims}");
    let oauth_only = tokens(&app, &mut browser, &client, &email, &[("scope", "profile")]).await;
    assert!(oauth_only.get("id_token").is_none(), "{oauth_only}");

    // A client registered for ES256 gets ES256 ID tokens, verified with the published P-256 key.
    let es256 = oidc_client(&app, &["openid"], json!({"id_token_signed_response_alg": "ES256"})).await;
    assert_eq!(es256["id_token_signed_response_alg"], "ES256");
    let es256_tokens = tokens(&app, &mut browser, &es256, &email, &[("scope", "openid")]).await;
    let es256_id = es256["id"].as_str().unwrap();
    verify_id_token(&app, es256_tokens["id_token"].as_str().unwrap(), es256_id, Algorithm::ES256).await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", es256_tokens["refresh_token"].as_str().unwrap())];
    let (status, refreshed) = exchange(&app, &es256, &form).await;
    assert_eq!(status, 200, "{refreshed}");
    verify_id_token(&app, refreshed["id_token"].as_str().unwrap(), es256_id, Algorithm::ES256).await;

    // A user of an organization: the ID token names it, as the access token does.
    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme"})).await.expect(201).id();
    let member = format!("m-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let body = json!({"email": member, "password": PASSWORD, "organization_id": org});
    app.call("POST", "/api/v1/users", &app.tenant_key, body).await.expect(201);
    let in_org = tokens(&app, &mut Browser::new(&app), &client, &member, &[("scope", "openid")]).await;
    let claims = verify_id_token(&app, in_org["id_token"].as_str().unwrap(), client_id, Algorithm::RS256).await;
    assert_eq!(claims["org_id"], org.as_str());
    assert_eq!(payload(in_org["access_token"].as_str().unwrap())["org_id"], org.as_str());
    let refused = app
        .call("POST", "/api/v1/clients", &app.tenant_key, json!({"name": "x", "id_token_signed_response_alg": "HS256"}))
        .await
        .expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "id_token_signed_response_alg", "{}", refused.body);
}

async fn userinfo_answers_by_scope_with_bearer_errors(app: TestApp) {
    let client = oidc_client(&app, &["openid", "email"], json!({})).await;
    let (user_id, email) = ada(&app).await;
    let mut browser = Browser::new(&app);
    let tokens = tokens(&app, &mut browser, &client, &email, &[("scope", "openid email")]).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let userinfo = app.url("/oauth/userinfo");

    let response = app.http.get(&userinfo).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let claims: Value = response.json().await.unwrap();
    assert_eq!(claims, json!({"sub": user_id, "email": email, "email_verified": true}), "no name without profile");
    // POST, with the token in the header or in the form (RFC 6750 §2.2).
    let response = app.http.post(&userinfo).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = app.http.post(&userinfo).form(&[("access_token", access_token)]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let both = app.http.post(&userinfo).bearer_auth(access_token).form(&[("access_token", access_token)]);
    let response = both.send().await.unwrap();
    assert_eq!(response.status(), 400, "one method per request (RFC 6750 §2)");

    // RFC 6750 §3.1: no token, a challenge without an error; a bad one, invalid_token.
    let response = app.http.get(&userinfo).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"tollbooth\"");
    let response = app.http.get(&userinfo).bearer_auth("eyJhbGciOiJub25lIn0.e30.").send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Bearer realm=\"tollbooth\", error=\"invalid_token\""), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");

    // A token without `openid` is insufficient_scope, with the challenge.
    let plain = tokens_without_openid(&app, &mut browser, &email).await;
    let response = app.http.get(&userinfo).bearer_auth(&plain).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("error=\"insufficient_scope\""));
    // A client's own token names no user, even holding `openid`.
    let (machine, secret) = app.confidential_client(&["openid"]).await;
    let machine_token = app.access_token(&machine, &secret, Some("openid")).await;
    let response = app.http.get(&userinfo).bearer_auth(&machine_token).send().await.unwrap();
    assert_eq!(response.status(), 401);

    // Userinfo's token is not the management API's: its audience is the issuer.
    let response = app.http.get(app.url("/api/v1/users/me")).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(response.status(), 401, "aud is the issuer, not {AUDIENCE}");
    // A revoked token is refused.
    let response = app
        .http
        .post(app.url("/oauth/revoke"))
        .basic_auth(client["id"].as_str().unwrap(), client["client_secret"].as_str())
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app.http.get(&userinfo).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

/// A user's access token without `openid`, from a client of its own.
async fn tokens_without_openid(app: &TestApp, browser: &mut Browser<'_>, email: &str) -> String {
    let client = oidc_client(app, &["profile"], json!({})).await;
    tokens(app, browser, &client, email, &[("scope", "profile")]).await["access_token"].as_str().unwrap().to_owned()
}

/// Signs `email` in to `client` again in `browser`: the token response.
async fn tokens_again(app: &TestApp, browser: &mut Browser<'_>, client: &Value, email: &str) -> Value {
    tokens(app, browser, client, email, &[("scope", "openid")]).await
}

fn params(page: &crate::authorization_code::Page) -> HashMap<String, String> {
    page.redirect_params()
}

async fn prompt_max_age_and_login_hint(app: TestApp) {
    let skipping = oidc_client(&app, &["openid"], json!({})).await;
    let asking = oidc_client(&app, &["openid"], json!({"skip_consent": false})).await;
    let (_, email) = ada(&app).await;
    let mut browser = Browser::new(&app);
    let path = |client: &Value, extra: &[(&str, &str)]| {
        let all: Vec<(&str, &str)> =
            pkce().into_iter().chain([("scope", "openid")]).chain(extra.iter().copied()).collect();
        authorize_path(client["id"].as_str().unwrap(), &all)
    };

    // Not signed in: prompt=none answers login_required at once, with state and iss.
    let page = browser.get(&path(&skipping, &[("prompt", "none")])).await;
    assert_eq!(page.status, 302);
    let answer = params(&page);
    assert_eq!(answer["error"], "login_required");
    assert_eq!(answer["state"], "xyz-123");
    assert_eq!(answer["iss"], ISSUER);
    // login_hint fills in the email.
    let page = browser.get(&path(&skipping, &[("login_hint", "hint@example.com")])).await;
    assert!(page.html.contains("value=\"hint@example.com\""), "{}", page.html);
    let page = browser.get(&path(&skipping, &[("prompt", "none login")])).await;
    assert_eq!(params(&page)["error"], "invalid_request");

    // Signed in: prompt=none gives a code where no page is needed, consent_required where one is.
    let page = authorize(&mut browser, &skipping, &email, &[("scope", "openid")]).await;
    assert!(params(&page).contains_key("code"));
    let page = browser.get(&path(&skipping, &[("prompt", "none")])).await;
    assert!(params(&page).contains_key("code"), "{:?}", page.location);
    let page = browser.get(&path(&asking, &[("prompt", "none")])).await;
    assert_eq!(params(&page)["error"], "consent_required");

    // prompt=consent asks even a client that may skip it.
    let page = browser.get(&path(&skipping, &[("prompt", "consent")])).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("name=\"decision\""), "{}", page.html);

    // prompt=login: the sign-in form again, although signed in; then the consent form, whose
    // answer does not ask for yet another sign-in; and a later auth_time.
    let first = tokens(&app, &mut browser, &skipping, &email, &[("scope", "openid")]).await;
    let first_auth_time = payload(first["id_token"].as_str().unwrap())["auth_time"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let login_path = path(&asking, &[("prompt", "login")]);
    let page = browser.get(&login_path).await;
    assert!(page.html.contains("name=\"password\""), "prompt=login shows the sign-in form");
    let page = browser.post(&login_path, &[("csrf", &page.csrf()), ("email", &email), ("password", PASSWORD)]).await;
    assert!(page.html.contains("name=\"decision\""), "then consent: {}", page.html);
    let action = page.html.split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    assert!(!action.contains("prompt=login"), "{action}");
    let page = browser.post(&action, &[("csrf", &page.csrf()), ("decision", "approve")]).await;
    let code = params(&page)["code"].clone();
    let (status, again) = exchange(&app, &asking, &code_form(&asking, &code)).await;
    assert_eq!(status, 200, "{again}");
    let auth_time = payload(again["id_token"].as_str().unwrap())["auth_time"].as_i64().unwrap();
    assert!(auth_time > first_auth_time, "a new sign-in: {auth_time} > {first_auth_time}");

    // max_age: a sign-in older than it does not count; a younger one does.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = browser.get(&path(&skipping, &[("max_age", "3600")])).await;
    assert_eq!(page.status, 302, "a recent sign-in counts");
    let page = browser.get(&path(&skipping, &[("max_age", "0")])).await;
    assert!(page.html.contains("name=\"password\""), "an older one does not");
    let page = browser.get(&path(&skipping, &[("max_age", "0"), ("prompt", "none")])).await;
    assert_eq!(params(&page)["error"], "login_required");
    let page = browser.get(&path(&skipping, &[("max_age", "soon")])).await;
    assert_eq!(params(&page)["error"], "invalid_request");
    let long = "n".repeat(600);
    let page = browser.get(&path(&skipping, &[("nonce", &long)])).await;
    assert_eq!(params(&page)["error"], "invalid_request", "nonce is bounded");
}

async fn logout_ends_the_session_and_returns_only_to_registered_uris(app: TestApp) {
    let client = oidc_client(&app, &["openid"], json!({})).await;
    let client_id = client["id"].as_str().unwrap();
    let (_, email) = ada(&app).await;
    let mut browser = Browser::new(&app);
    let tokens = tokens(&app, &mut browser, &client, &email, &[("scope", "openid")]).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let logout = |query: &[(&str, &str)]| {
        let mut url = url::Url::parse("http://x/oauth/logout").unwrap();
        url.query_pairs_mut().extend_pairs(query);
        format!("{}?{}", url.path(), url.query().unwrap_or_default())
    };

    // Signed in: a prompt=none request gets a code.
    let none = authorize_path(client_id, &[pkce()[0], pkce()[1], ("scope", "openid"), ("prompt", "none")]);
    assert!(params(&browser.get(&none).await).contains_key("code"));
    let page = browser
        .get(&logout(&[("id_token_hint", id_token), ("post_logout_redirect_uri", SIGNED_OUT), ("state", "bye")]))
        .await;
    assert_eq!(page.status, 302);
    let removal = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tb_session="));
    assert!(removal.is_some_and(|c| c.contains("Max-Age=0")), "the session cookie is deleted");
    assert_eq!(page.location.as_deref(), Some(format!("{SIGNED_OUT}?state=bye").as_str()));
    // The session is over: prompt=none now answers login_required.
    let page = browser.get(&none).await;
    assert_eq!(params(&page)["error"], "login_required", "signed out");

    // Never a redirect to a URI the client did not register, or without a client, or with a
    // forged hint: a signed-out page instead.
    let attempts: [Vec<(&str, &str)>; 5] = [
        vec![("id_token_hint", id_token), ("post_logout_redirect_uri", "https://evil.example/")],
        vec![("post_logout_redirect_uri", SIGNED_OUT)],
        vec![("id_token_hint", tokens["access_token"].as_str().unwrap()), ("post_logout_redirect_uri", SIGNED_OUT)],
        vec![("id_token_hint", "eyJhbGciOiJub25lIn0.e30."), ("post_logout_redirect_uri", SIGNED_OUT)],
        vec![
            ("id_token_hint", id_token),
            ("client_id", "client_01JD6Q2Z7V1K8S3J9M4N5P6R7T"),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ],
    ];
    for query in attempts {
        let page = browser.get(&logout(&query)).await;
        assert_eq!((page.status, page.location.as_deref()), (200, None), "{query:?}");
        assert!(page.html.contains("signed out"), "{}", page.html);
    }
    // Signed in again, a logout without an ID token of the user asks first (RP-Initiated Logout
    // §2): a link on any page cannot sign the user out.
    let _ = tokens_again(&app, &mut browser, &client, &email).await;
    let page = browser.get(&logout(&[("client_id", client_id), ("post_logout_redirect_uri", SIGNED_OUT)])).await;
    assert_eq!((page.status, page.location.as_deref()), (200, None));
    assert!(page.html.contains("Sign out?"), "{}", page.html);
    assert!(params(&browser.get(&none).await).contains_key("code"), "still signed in");
    let form = [
        ("client_id", client_id),
        ("post_logout_redirect_uri", SIGNED_OUT),
        ("csrf", &page.csrf()),
        ("confirm", "yes"),
    ];
    let forged = browser.post("/oauth/logout", &[form[0], form[1], ("csrf", "forged"), form[3]]).await;
    assert!(forged.html.contains("Sign out?"), "a forged confirmation asks again");
    let page = browser.post("/oauth/logout", &form).await;
    assert_eq!(page.location.as_deref(), Some(SIGNED_OUT), "confirmed, and back to the registered URI");
    assert_eq!(params(&browser.get(&none).await)["error"], "login_required");

    // client_id alone names the client well enough for a registered URI.
    let page = browser.get(&logout(&[("client_id", client_id), ("post_logout_redirect_uri", SIGNED_OUT)])).await;
    assert_eq!(page.location.as_deref(), Some(SIGNED_OUT));
    // POST works the same. Without the session cookie (as from a cross-site form, which a
    // SameSite=Lax cookie does not go with) nothing is signed out: no cookie is touched.
    let response = app
        .http
        .post(app.url("/oauth/logout"))
        .form(&[("id_token_hint", id_token), ("post_logout_redirect_uri", SIGNED_OUT)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], SIGNED_OUT);
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert!(cookies.iter().all(|c| !c.to_str().unwrap().starts_with("tb_session")), "{cookies:?}");
}
