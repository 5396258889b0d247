//! docs/oauth.md authorization code flow with PKCE: sign-in and consent pages over real HTTP, the
//! code exchange, and every error branch.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::on_both_databases;
use crate::support::{AUDIENCE, ISSUER, TEST_API, TestApp};

on_both_databases!(
    sign_in_consent_and_code_exchange_with_pkce,
    errors_before_the_redirect_uri_is_known_are_pages,
    other_errors_redirect_with_state,
    codes_are_single_use_and_bound_to_verifier_and_redirect,
    wrong_password_and_forged_forms_are_refused,
);

pub const REDIRECT: &str = "https://app.example.com/callback";
pub const PASSWORD: &str = "correct horse battery";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A browser-like session: cookies kept by hand, redirects not followed.
pub struct Browser<'a> {
    app: &'a TestApp,
    pub cookies: Vec<(String, String)>,
    /// Sent as `X-Forwarded-For`, for a server that trusts the test's address as a proxy.
    forwarded_for: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Page {
    /// The value of the hidden `csrf` input.
    pub fn csrf(&self) -> String {
        let start = self.html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
        self.html[start..start + self.html[start..].find('"').unwrap()].to_owned()
    }

    pub fn redirect_params(&self) -> std::collections::HashMap<String, String> {
        let location = url::Url::parse(self.location.as_deref().expect("a redirect")).unwrap();
        assert!(location.as_str().starts_with(REDIRECT), "{location}");
        location.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser { app, cookies: Vec::new(), forwarded_for: None }
    }

    /// The same browser, behind a proxy that forwards for `address`.
    pub fn forwarded_for(self, address: &str) -> Self {
        Browser { forwarded_for: Some(address.to_owned()), ..self }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie_header = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        let request = match &self.forwarded_for {
            Some(address) => request.header("x-forwarded-for", address),
            None => request,
        };
        let response = request.header("cookie", cookie_header).send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
        Page {
            status: response.status().as_u16(),
            location: response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()),
            headers: response.headers().clone(),
            html: response.text().await.unwrap(),
        }
    }

    /// The cookies the server has set so far.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.cookies.clone()
    }

    pub async fn get(&mut self, path_and_query: &str) -> Page {
        let request = self.app.http.get(self.app.url(path_and_query));
        self.send(request).await
    }

    pub async fn post(&mut self, path_and_query: &str, form: &[(&str, &str)]) -> Page {
        let request = self.app.http.post(self.app.url(path_and_query)).form(form);
        self.send(request).await
    }
}

/// The PKCE parameters of an authorization request made with [`VERIFIER`].
pub fn pkce() -> [(&'static str, &'static str); 2] {
    let s256: &'static str = challenge(VERIFIER).leak();
    [("code_challenge", s256), ("code_challenge_method", "S256")]
}

pub fn authorize_path(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse("http://x/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "xyz-123");
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    format!("{}?{}", url.path(), url.query().unwrap())
}

async fn setup(app: &TestApp, confidential: bool, skip_consent: bool) -> (Value, String) {
    let user = app
        .call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    let user_id = user.body["id"].as_str().map(str::to_owned).unwrap_or_default();
    let client = app
        .create_client(json!({
            "name": "Example App",
            "confidential": confidential,
            "grant_types": ["authorization_code"],
            "redirect_uris": [REDIRECT],
            "scopes": ["openid", "profile", "orders:read"],
            "skip_consent": skip_consent,
        }))
        .await;
    (client, user_id)
}

pub async fn exchange(app: &TestApp, client: &Value, form: &[(&str, &str)]) -> (u16, Value) {
    let mut request = app.http.post(app.url("/oauth/token")).form(form);
    if let Some(secret) = client["client_secret"].as_str() {
        request = request.basic_auth(client["id"].as_str().unwrap(), Some(secret));
    }
    let response = request.send().await.unwrap();
    // docs/oauth.md: every token-endpoint answer, success or error, is `Cache-Control: no-store`,
    // and an error says what went wrong in `error_description` (RFC 6749 §5.2).
    assert_eq!(response.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    if status >= 400 {
        assert!(body["error_description"].is_string(), "{body}");
    }
    (status, body)
}

async fn sign_in_consent_and_code_exchange_with_pkce(app: TestApp) {
    let (client, user_id) = setup(&app, false, false).await;
    let client_id = client["id"].as_str().unwrap();
    let path = authorize_path(
        client_id,
        &[("scope", "openid profile"), ("code_challenge", &challenge(VERIFIER)), ("code_challenge_method", "S256")],
    );
    let mut browser = Browser::new(&app);

    let sign_in = browser.get(&path).await;
    assert_eq!(sign_in.status, 200);
    assert!(
        sign_in.html.contains("<form method=\"post\"")
            && sign_in.html.contains("name=\"email\"")
            && sign_in.html.contains("name=\"password\"")
    );
    assert!(sign_in.html.contains("Example App"));
    assert_eq!(sign_in.headers["x-frame-options"], "DENY");
    assert!(sign_in.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let csrf_cookie = sign_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("tb_csrf="))
        .unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"), "{csrf_cookie}");

    let consent =
        browser.post(&path, &[("csrf", &sign_in.csrf()), ("email", "Ada@Example.com"), ("password", PASSWORD)]).await;
    assert_eq!(consent.status, 200, "{}", consent.html);
    assert!(
        consent.html.contains("<code>profile</code>") && !consent.html.contains("orders:read"),
        "only the requested scope"
    );
    assert!(
        consent.html.contains("name=\"decision\" value=\"approve\"")
            && consent.html.contains("name=\"decision\" value=\"deny\"")
    );
    let session_cookie = consent
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("tb_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"), "{session_cookie}");

    let approved = browser.post(&path, &[("csrf", &consent.csrf()), ("decision", "approve")]).await;
    assert_eq!(approved.status, 302);
    let params = approved.redirect_params();
    assert_eq!(params["state"], "xyz-123");
    // RFC 9207: the response names the issuer, and discovery says it does.
    assert_eq!(params["iss"], ISSUER);
    let metadata: Value =
        app.http.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    let code = params["code"].clone();

    let (status, tokens) = exchange(
        &app,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!((tokens["token_type"].as_str(), tokens["scope"].as_str()), (Some("Bearer"), Some("openid profile")));
    let access_token = tokens["access_token"].as_str().unwrap();
    // OpenID scopes only: a token for userinfo, whose audience is the issuer (docs/oidc.md).
    let claims = crate::client_credentials::verify_with_jwks(&app, access_token, ISSUER).await;
    assert_eq!(claims["sub"], user_id.as_str(), "sub is the user");
    assert_eq!(claims["client_id"], client_id);
    let userinfo = app.http.get(app.url("/oauth/userinfo")).bearer_auth(access_token).send().await.unwrap();
    let userinfo: Value = userinfo.json().await.unwrap();
    assert_eq!(userinfo["sub"], user_id.as_str());
    // The management API refuses it, and a client holding none of its scopes cannot name it.
    app.call("GET", "/api/v1/users/me", access_token, Value::Null).await.expect(401);
    let named = authorize_path(client_id, &[pkce()[0], pkce()[1], ("scope", "openid"), ("resource", AUDIENCE)]);
    assert_eq!(browser.get(&named).await.redirect_params()["error"], "invalid_target");

    // Signed in already: the next authorization goes straight to consent.
    let again = browser.get(&path).await;
    assert!(again.html.contains("name=\"decision\""), "the session is remembered");

    let events = app.call("GET", "/api/v1/audit_logs?limit=100", &app.tenant_key, Value::Null).await.expect(200);
    assert!(
        events.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "user.signed_in" && e["target"] == json!({"type": "user", "id": user_id}))
    );
}

async fn errors_before_the_redirect_uri_is_known_are_pages(app: TestApp) {
    let (client, _) = setup(&app, true, false).await;
    let client_id = client["id"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    for path in [
        "/oauth/authorize?response_type=code&client_id=client_01JD6ZZZZZZZZZZZZZZZZZZZZZ&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback".to_owned(),
        format!("/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcallback"),
        format!("/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback%2F"),
        "/oauth/authorize?response_type=code".to_owned(),
        "/oauth/authorize?response_type=code&client_id=client_%00".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 400, "{path}");
        assert!(page.location.is_none(), "never a redirect: {path}");
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    }
    let oversized = "a".repeat(4 * 1024 * 1024);
    let path = format!("/oauth/authorize?response_type=code&client_id={client_id}");
    let page = browser.post(&path, &[("email", oversized.as_str())]).await;
    assert_eq!(page.status, 400);
    assert!(page.html.contains("The request body is too large."), "{}", page.html);
}

async fn other_errors_redirect_with_state(app: TestApp) {
    let (public, _) = setup(&app, false, false).await;
    let public_id = public["id"].as_str().unwrap();
    let s256 = challenge(VERIFIER);
    let mut browser = Browser::new(&app);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_request"),
        (vec![("code_challenge", "abc"), ("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge", &s256)], "invalid_request"),
        (vec![("code_challenge", &s256), ("code_challenge_method", "S256"), ("scope", "admin")], "invalid_scope"),
    ];
    for (extra, error) in cases {
        let page = browser.get(&authorize_path(public_id, &extra)).await;
        assert_eq!(page.status, 302, "{extra:?}");
        let params = page.redirect_params();
        assert_eq!((params["error"].as_str(), params["state"].as_str()), (error, "xyz-123"), "{extra:?}");
        assert!(params.contains_key("error_description"), "{:?}", page.location);
        // RFC 9207: errors name the issuer too.
        assert_eq!(params["iss"], ISSUER, "{:?}", page.location);
    }
    let wrong_type = authorize_path(public_id, &[("code_challenge", &s256), ("code_challenge_method", "S256")])
        .replace("response_type=code", "response_type=token");
    let page = browser.get(&wrong_type).await;
    assert_eq!(page.redirect_params()["error"], "unsupported_response_type");

    // Denying consent redirects with access_denied.
    let path = authorize_path(public_id, &[("code_challenge", &s256), ("code_challenge_method", "S256")]);
    let sign_in = browser.get(&path).await;
    let consent =
        browser.post(&path, &[("csrf", &sign_in.csrf()), ("email", "ada@example.com"), ("password", PASSWORD)]).await;
    let denied = browser.post(&path, &[("csrf", &consent.csrf()), ("decision", "deny")]).await;
    let params = denied.redirect_params();
    assert_eq!((params["error"].as_str(), params["state"].as_str()), ("access_denied", "xyz-123"));
    assert_eq!(params["iss"], ISSUER);

    // A client without the grant.
    let machine = app.create_client(json!({"name": "machine", "redirect_uris": [REDIRECT]})).await;
    let page = browser.get(&authorize_path(machine["id"].as_str().unwrap(), &[])).await;
    assert_eq!(page.redirect_params()["error"], "unauthorized_client");

    // RFC 9700 §2.1.1: confidential clients must use PKCE too, unless the server is told otherwise.
    let (confidential, _) = setup(&app, true, false).await;
    let page = browser.get(&authorize_path(confidential["id"].as_str().unwrap(), &[])).await;
    assert_eq!(page.redirect_params()["error"], "invalid_request");
    let relaxed = TestApp::spawn_configured(
        crate::support::Backend::Sqlite,
        crate::support::UNMETERED,
        &[("TOLLBOOTH_TOKEN_PKCE_REQUIRED", "false")],
    )
    .await
    .unwrap();
    let (confidential, _) = setup(&relaxed, true, false).await;
    let page = Browser::new(&relaxed).get(&authorize_path(confidential["id"].as_str().unwrap(), &[])).await;
    assert_eq!(page.status, 200, "the sign-in page: {:?}", page.location);
}

async fn codes_are_single_use_and_bound_to_verifier_and_redirect(app: TestApp) {
    let (client, _) = setup(&app, true, true).await;
    let client_id = client["id"].as_str().unwrap();
    let path =
        authorize_path(client_id, &[("code_challenge", &challenge(VERIFIER)), ("code_challenge_method", "S256")]);
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&path).await;
    // skip_consent: signing in goes straight back to the client.
    let back =
        browser.post(&path, &[("csrf", &sign_in.csrf()), ("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(back.status, 302, "{}", back.html);
    let code = back.redirect_params()["code"].clone();

    let form = |verifier: &'static str, redirect: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ]
    };
    let wrong_verifier = "x".repeat(43).leak();
    let (status, body) = exchange(&app, &client, &form(wrong_verifier, REDIRECT)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    // The failed attempt used the code up.
    let (status, body) = exchange(&app, &client, &form(VERIFIER, REDIRECT)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    // A fresh code: a wrong redirect_uri is refused too; the right exchange works once.
    let page = browser.get(&path).await;
    let code = page.redirect_params()["code"].clone();
    let form = |redirect: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
        ]
    };
    let (status, body) = exchange(&app, &client, &form("https://app.example.com/other")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let page = browser.get(&path).await;
    let code = page.redirect_params()["code"].clone();
    // A malformed request is refused without spending the code.
    for redirect in [None, Some("/callback")] {
        let mut malformed =
            vec![("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", VERIFIER)];
        malformed.extend(redirect.map(|uri| ("redirect_uri", uri)));
        let (status, body) = exchange(&app, &client, &malformed).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{redirect:?}: {body}");
    }
    let good = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = exchange(&app, &client, &good).await;
    assert_eq!(status, 200, "{tokens}");
    let first_token = tokens["access_token"].as_str().unwrap().to_owned();
    // For the test tenant's API (its scope orders:read): introspection tells whether it is live.
    let described = app.introspect(&first_token).await;
    assert_eq!((described["active"].as_bool(), described["aud"].as_str()), (Some(true), Some(TEST_API)));
    // RFC 6749 §4.1.2: a second use is refused and revokes what the first use issued.
    let (status, body) = exchange(&app, &client, &good).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    assert_eq!(app.introspect(&first_token).await, json!({"active": false}));
    // Another client cannot redeem a code, and a confidential client must authenticate.
    let (other_id, other_secret) = app.confidential_client(&[]).await;
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&other_id, Some(&other_secret))
        .form(&[("grant_type", "authorization_code"), ("code", "whatever"), ("redirect_uri", REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let unauthenticated = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "whatever"),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

async fn wrong_password_and_forged_forms_are_refused(app: TestApp) {
    let (client, _) = setup(&app, true, false).await;
    let path = authorize_path(client["id"].as_str().unwrap(), &pkce());
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&path).await;
    let wrong = browser
        .post(&path, &[("csrf", &sign_in.csrf()), ("email", "ada@example.com"), ("password", "wrong password")])
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.html.contains("role=\"alert\"") && wrong.html.contains("name=\"password\""),
        "the form again, with an error"
    );
    let unknown =
        browser.post(&path, &[("csrf", &wrong.csrf()), ("email", "nobody@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(unknown.status, 401);
    // An email no user can have, and PostgreSQL cannot even be asked about: the same refusal.
    let unstorable =
        browser.post(&path, &[("csrf", &unknown.csrf()), ("email", "ada\0@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(unstorable.status, 401);
    // No CSRF token, or a made-up one: refused, nothing signed in.
    let forged = browser.post(&path, &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, 400);
    let forged =
        browser.post(&path, &[("csrf", "made-up"), ("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, 400);
    let mut fresh_browser = Browser::new(&app);
    let no_cookie = fresh_browser.post(&path, &[("csrf", &sign_in.csrf()), ("decision", "approve")]).await;
    assert_eq!(no_cookie.status, 400, "a token without its cookie is worthless");

    let events = app.call("GET", "/api/v1/audit_logs?limit=100", &app.tenant_key, Value::Null).await.expect(200);
    let failures: Vec<&Value> =
        events.body["data"].as_array().unwrap().iter().filter(|e| e["action"] == "user.sign_in_failed").collect();
    assert_eq!(failures.len(), 3, "every failed sign-in is audited");
    // Newest first: the two unknown emails name a keyed hash of the email, never the email or
    // the password; the wrong password names the user.
    for unknown in &failures[..2] {
        assert!(
            unknown["target"].is_null() && unknown["metadata"]["email_hash"].as_str().is_some_and(|h| h.len() == 64)
        );
        assert!(!unknown.to_string().contains("nobody@") && !unknown.to_string().contains(PASSWORD), "{unknown}");
    }
    assert_ne!(failures[0]["metadata"]["email_hash"], failures[1]["metadata"]["email_hash"]);
    let user_id =
        app.call("GET", "/api/v1/users?limit=1", &app.tenant_key, Value::Null).await.body["data"][0]["id"].clone();
    assert_eq!(failures[2]["target"], json!({"type": "user", "id": user_id}), "{}", failures[2]);
    assert_eq!(failures[2]["actor"], failures[2]["target"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_email_and_address() {
    let config = "[rate_limit]\nplan_default = \"unmetered\"\n[rate_limit.plans.unmetered]\nwindows = [{ window = \"1s\", limit = 1000000 }]\n[rate_limit.rules]\nsign_in = [{ window = \"1h\", limit = 2 }]\n";
    let app = TestApp::spawn_configured(crate::support::Backend::Sqlite, config, &[]).await.unwrap();
    let (client, _) = setup(&app, true, false).await;
    let path = authorize_path(client["id"].as_str().unwrap(), &pkce());
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&path).await;
    let csrf = sign_in.csrf();
    for expected in [401, 401, 429] {
        let attempt =
            browser.post(&path, &[("csrf", &csrf), ("email", "ada@example.com"), ("password", "guess")]).await;
        assert_eq!(attempt.status, expected);
        if expected == 429 {
            assert!(attempt.headers.contains_key("retry-after"));
            assert!(attempt.html.contains("Too many sign-in attempts"));
        }
    }
    // Another email from the same address has its own budget.
    let other = browser.post(&path, &[("csrf", &csrf), ("email", "eve@example.com"), ("password", "guess")]).await;
    assert_eq!(other.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_when_the_server_is_served_over_https() {
    let app = TestApp::spawn_configured(
        crate::support::Backend::Sqlite,
        crate::support::UNMETERED,
        &[("TOLLBOOTH_ISSUER", "https://auth.tollbooth.test")],
    )
    .await
    .unwrap();
    let (client, _) = setup(&app, true, false).await;
    let path = authorize_path(client["id"].as_str().unwrap(), &pkce());
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&path).await;
    let consent =
        browser.post(&path, &[("csrf", &sign_in.csrf()), ("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(consent.status, 200);
    let cookies: Vec<&str> = consent.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    // RFC 6265bis §4.1.3.2: `__Host-` cookies are Secure, Path=/ and have no Domain.
    for name in ["__Host-tb_session=", "__Host-tb_csrf="] {
        let cookie = cookies.iter().find(|c| c.starts_with(name)).unwrap_or_else(|| panic!("{name} in {cookies:?}"));
        assert!(
            cookie.contains("Secure")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Path=/;")
                && !cookie.contains("Domain"),
            "{cookie}"
        );
    }
}

/// docs/security.md: a CSRF token serves the session it was made for, not another one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_tokens_are_bound_to_their_session() {
    let app = TestApp::spawn(crate::support::Backend::Sqlite).await.unwrap();
    let (client, _) = setup(&app, true, false).await;
    let path = authorize_path(client["id"].as_str().unwrap(), &pkce());
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&path).await;
    let consent =
        browser.post(&path, &[("csrf", &sign_in.csrf()), ("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(consent.status, 200, "{}", consent.html);
    // The sign-in page's token, from before the session, does not approve for the session.
    let stale = browser.post(&path, &[("csrf", &sign_in.csrf()), ("decision", "approve")]).await;
    assert_eq!(stale.status, 400, "{}", stale.html);
    // Nor does the consent token once the session cookie is another.
    let mut other = Browser::new(&app);
    other.cookies = browser.cookies().into_iter().filter(|(name, _)| name != "tb_session").collect();
    let without_session = other.post(&path, &[("csrf", &consent.csrf()), ("decision", "approve")]).await;
    assert_eq!(without_session.status, 400, "{}", without_session.html);
    let approved = browser.post(&path, &[("csrf", &consent.csrf()), ("decision", "approve")]).await;
    assert_eq!(approved.status, 302);
}
