//! What a user's token may carry and where it may act (docs/security.md, "Authorization"):
//! roles, organization confinement at sign-in, exchange and refresh, and a reused code revoking
//! everything its first use issued.

use serde_json::{Value, json};

use crate::authorization_code::{Browser, PASSWORD, REDIRECT, VERIFIER, authorize_path, exchange, pkce};
use crate::on_both_databases;
use crate::support::{AUDIENCE, TestApp};

on_both_databases!(
    a_members_token_carries_no_management_scope,
    an_organization_admins_token_is_confined_to_the_organization,
    an_organization_client_signs_in_only_its_own_users,
    a_reused_code_revokes_the_refresh_family_of_its_first_use,
    concurrent_uses_of_one_code_leave_nothing_usable,
    deleting_a_client_user_organization_or_tenant_stops_its_tokens,
    a_refresh_gives_only_what_the_client_still_holds,
);

const REFRESHING: [&str; 2] = ["authorization_code", "refresh_token"];

/// A confidential client that skips consent and may ask for `scopes`, in `organization` if given.
/// Its tokens are for the management API (see [`sign_in`]), so it holds one of its scopes:
/// a member's tokens carry none of them all the same.
async fn app_client(app: &TestApp, scopes: &[&str], organization: Option<&str>) -> Value {
    let mut body = json!({
        "name": "Portal", "confidential": true, "grant_types": REFRESHING, "redirect_uris": [REDIRECT],
        "scopes": scopes, "skip_consent": true,
    });
    if let Some(organization) = organization {
        body["organization_id"] = json!(organization);
    }
    app.create_client(body).await
}

/// A user with `role`, in `organization` if given: their email.
async fn user(app: &TestApp, role: &str, organization: Option<&str>) -> String {
    let email = format!("{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let mut body = json!({"email": email, "password": PASSWORD, "role": role});
    if let Some(organization) = organization {
        body["organization_id"] = json!(organization);
    }
    app.call("POST", "/api/v1/users", &app.tenant_key, body).await.expect(201);
    email
}

async fn organization(app: &TestApp, name: &str) -> String {
    app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": name})).await.expect(201).id()
}

/// Signs `email` in to `client` in `browser`, for a token for the management API (RFC 8707
/// `resource`): the code, or the page shown instead.
async fn sign_in(browser: &mut Browser<'_>, client: &Value, email: &str) -> Result<String, (u16, String)> {
    let params = [pkce()[0], pkce()[1], ("resource", AUDIENCE)];
    let path = authorize_path(client["id"].as_str().unwrap(), &params);
    let page = browser.get(&path).await;
    let page = if page.status == 200 && page.html.contains("name=\"password\"") {
        browser.post(&path, &[("csrf", &page.csrf()), ("email", email), ("password", PASSWORD)]).await
    } else {
        page
    };
    match page.status {
        302 => Ok(page.redirect_params()["code"].clone()),
        status => Err((status, page.html.clone())),
    }
}

/// The code exchange's form for `client`, with the PKCE verifier of [`pkce`].
pub fn code_form<'a>(client: &'a Value, code: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", client["id"].as_str().unwrap()),
        ("code_verifier", VERIFIER),
    ]
}

/// Signs `email` in to `client` and exchanges the code: the token response.
async fn tokens_for(app: &TestApp, client: &Value, email: &str) -> Value {
    let code = sign_in(&mut Browser::new(app), client, email).await.expect("a code");
    let (status, tokens) = exchange(app, client, &code_form(client, &code)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn refresh(app: &TestApp, client: &Value, token: &str) -> (u16, Value) {
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", client["id"].as_str().unwrap())];
    exchange(app, client, &form).await
}

fn claims(access_token: &str) -> Value {
    use base64::Engine;
    let payload = access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Finding: any user of a public client with `users:read` listed every user of the tenant.
async fn a_members_token_carries_no_management_scope(app: TestApp) {
    let client = app_client(&app, &["users:read", "profile"], None).await;
    let member = user(&app, "member", None).await;
    let tokens = tokens_for(&app, &client, &member).await;
    assert_eq!(tokens["scope"], "profile", "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.call("GET", "/api/v1/users", access, Value::Null).await.expect(403).error(), "insufficient_scope");
    app.call("GET", "/api/v1/users/me", access, Value::Null).await.expect(200);
    // A refresh does not bring the scope back.
    let (status, refreshed) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, refreshed["scope"].as_str()), (200, Some("profile")), "{refreshed}");

    // The same client for an admin: the scope is granted, and stops at the next refresh once
    // the user is a member again.
    let admin = user(&app, "admin", None).await;
    let tokens = tokens_for(&app, &client, &admin).await;
    assert_eq!(tokens["scope"], "profile users:read", "{tokens}");
    app.call("GET", "/api/v1/users", tokens["access_token"].as_str().unwrap(), Value::Null).await.expect(200);
    let admin_id = claims(tokens["access_token"].as_str().unwrap())["sub"].as_str().unwrap().to_owned();
    app.call("PATCH", &format!("/api/v1/users/{admin_id}"), &app.tenant_key, json!({"role": "member"}))
        .await
        .expect(200);
    // The admin token issued before is revoked at once. Tokens issued within the clocks' margin
    // after the change (2 s, and `iat` has whole seconds) are refused too: the refresh waits.
    let old_access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.call("GET", "/api/v1/users", old_access, Value::Null).await.expect(401).error(), "invalid_token");
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (status, refreshed) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, refreshed["scope"].as_str()), (200, Some("profile")), "{refreshed}");
    app.call("GET", "/api/v1/users/me", refreshed["access_token"].as_str().unwrap(), Value::Null).await.expect(200);
}

async fn an_organization_admins_token_is_confined_to_the_organization(app: TestApp) {
    let org = organization(&app, "Acme").await;
    let other = organization(&app, "Globex").await;
    let in_other = app
        .call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "g@globex.example", "organization_id": other}))
        .await
        .expect(201)
        .id();
    let client = app_client(&app, &["users:read"], Some(&org)).await;
    let admin = user(&app, "admin", Some(&org)).await;
    let tokens = tokens_for(&app, &client, &admin).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["org_id"], json!(org));
    let listed = app.call("GET", "/api/v1/users?limit=100", access, Value::Null).await.expect(200);
    let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1, "only the organization's own user: {ids:?}");
    app.call("GET", &format!("/api/v1/users/{in_other}"), access, Value::Null).await.expect(404);
}

/// Finding: a client of organization A, with skip_consent, signed in a user of organization B
/// and its token acted inside B.
async fn an_organization_client_signs_in_only_its_own_users(app: TestApp) {
    let (a, b) = (organization(&app, "A").await, organization(&app, "B").await);
    let a_client = app_client(&app, &["users:read"], Some(&a)).await;
    let tenant_client = app_client(&app, &["profile", "users:read"], None).await;
    let b_admin = user(&app, "admin", Some(&b)).await;

    let mut browser = Browser::new(&app);
    let (status, page) = sign_in(&mut browser, &a_client, &b_admin).await.expect_err("no code for B's user");
    assert_eq!(status, 403, "{page}");
    let events = app.call("GET", "/api/v1/audit_logs?limit=100", &app.tenant_key, Value::Null).await.expect(200);
    assert!(
        events.body["data"].as_array().unwrap().iter().any(|e| e["action"] == "user.sign_in_refused"),
        "the refusal is audited: {}",
        events.body
    );

    // Signed in to a tenant-wide client, the B user is asked to sign in again at A's client:
    // the session does not carry over, and signing in there is refused as before.
    let mut browser = Browser::new(&app);
    sign_in(&mut browser, &tenant_client, &b_admin).await.expect("a code from the tenant's client");
    let path = authorize_path(a_client["id"].as_str().unwrap(), &pkce());
    let page = browser.get(&path).await;
    assert!(page.status == 200 && page.html.contains("name=\"password\""), "the sign-in page, not a code");

    // A user of no organization is no member of A either.
    let tenant_user = user(&app, "member", None).await;
    assert_eq!(sign_in(&mut Browser::new(&app), &a_client, &tenant_user).await.expect_err("refused").0, 403);
}

/// Finding: a reused code revoked only the access token; the refresh token kept rotating.
async fn a_reused_code_revokes_the_refresh_family_of_its_first_use(app: TestApp) {
    let client = app_client(&app, &["profile", "users:read"], None).await;
    let email = user(&app, "member", None).await;
    let code = sign_in(&mut Browser::new(&app), &client, &email).await.unwrap();
    let (status, first) = exchange(&app, &client, &code_form(&client, &code)).await;
    assert_eq!(status, 200, "{first}");
    let (status, rotated) = refresh(&app, &client, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{rotated}");

    let (status, body) = exchange(&app, &client, &code_form(&client, &code)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, body) = refresh(&app, &client, rotated["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the family is revoked: {body}");
    for access in [&first["access_token"], &rotated["access_token"]] {
        app.call("GET", "/api/v1/users/me", access.as_str().unwrap(), Value::Null).await.expect(401);
    }
}

/// Finding: redeeming a code and recording what it issued were not one transaction, so a second
/// use in between revoked nothing.
async fn concurrent_uses_of_one_code_leave_nothing_usable(app: TestApp) {
    let client = app_client(&app, &["profile", "users:read"], None).await;
    let email = user(&app, "member", None).await;
    for round in 0..8 {
        let code = sign_in(&mut Browser::new(&app), &client, &email).await.unwrap();
        let form = code_form(&client, &code);
        let answers = futures_util::future::join_all((0..4).map(|_| exchange(&app, &client, &form))).await;
        let winners: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
            assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "round {round}: {body}");
        }
        for winner in winners {
            let (status, body) = refresh(&app, &client, winner["refresh_token"].as_str().unwrap()).await;
            assert_eq!(status, 400, "round {round}: the winner's refresh token is revoked: {body}");
            let access = winner["access_token"].as_str().unwrap();
            app.call("GET", "/api/v1/users/me", access, Value::Null).await.expect(401);
        }
    }
}

/// Whether `token` still works on `/api/v1` and at introspection.
async fn token_works(app: &TestApp, token: &str, introspector: &(String, String)) -> bool {
    let api = app.call("GET", "/api/v1/users/me", token, Value::Null).await.status;
    let introspection: Value = app
        .http
        .post(app.url("/oauth/introspect"))
        .basic_auth(&introspector.0, Some(&introspector.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api != 401, introspection["active"] == json!(true), "the API and introspection agree: {api}");
    api != 401
}

/// Finding: deleting a client or a user did not stop its access tokens until they expired.
async fn deleting_a_client_user_organization_or_tenant_stops_its_tokens(app: TestApp) {
    let introspector = app.confidential_client(&[]).await;
    // A client's own token, then the client is deleted.
    let (client_id, secret) = app.confidential_client(&["users:read"]).await;
    let token = app.access_token(&client_id, &secret, None).await;
    assert!(token_works(&app, &token, &introspector).await);
    app.call("DELETE", &format!("/api/v1/clients/{client_id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert!(!token_works(&app, &token, &introspector).await, "the deleted client's token");

    // A user's token, then the user is deleted.
    let client = app_client(&app, &["profile", "users:read"], None).await;
    let email = user(&app, "member", None).await;
    let tokens = tokens_for(&app, &client, &email).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert!(token_works(&app, access, &introspector).await);
    let user_id = claims(access)["sub"].as_str().unwrap().to_owned();
    app.call("DELETE", &format!("/api/v1/users/{user_id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert!(!token_works(&app, access, &introspector).await, "the deleted user's token");

    // An organization's client's token, then the organization is deleted.
    let org = organization(&app, "Gone").await;
    let org_client = app
        .call(
            "POST",
            "/api/v1/clients",
            &app.tenant_key,
            json!({"name": "c", "organization_id": org, "scopes": ["users:read"]}),
        )
        .await
        .expect(201);
    let token = app
        .access_token(org_client.body["id"].as_str().unwrap(), org_client.body["client_secret"].as_str().unwrap(), None)
        .await;
    assert!(token_works(&app, &token, &introspector).await);
    app.call("DELETE", &format!("/api/v1/organizations/{org}"), &app.tenant_key, Value::Null).await.expect(204);
    assert!(!token_works(&app, &token, &introspector).await, "the deleted organization's token");

    // A token of another tenant, then that tenant is deleted (its introspection is the tenant's own).
    let (tenant_id, tenant_key) = app.create_tenant("Leaving").await;
    let created = app
        .call("POST", "/api/v1/clients", &tenant_key, json!({"name": "c", "scopes": ["users:read"]}))
        .await
        .expect(201);
    let token = app
        .access_token(created.body["id"].as_str().unwrap(), created.body["client_secret"].as_str().unwrap(), None)
        .await;
    app.call("GET", "/api/v1/users", &token, Value::Null).await.expect(200);
    app.call("DELETE", &format!("/api/v1/tenants/{tenant_id}"), &app.operator_key, Value::Null).await.expect(204);
    app.call("GET", "/api/v1/users", &token, Value::Null).await.expect(401);
}

/// Review: a scope taken from a client after the grant came back at every refresh.
async fn a_refresh_gives_only_what_the_client_still_holds(app: TestApp) {
    let client = app_client(&app, &["users:read", "profile"], None).await;
    let admin = user(&app, "admin", None).await;
    let tokens = tokens_for(&app, &client, &admin).await;
    assert_eq!(tokens["scope"], "profile users:read");
    let path = format!("/api/v1/clients/{}", client["id"].as_str().unwrap());
    app.call("PATCH", &path, &app.tenant_key, json!({"scopes": ["profile"]})).await.expect(200);
    let (status, refreshed) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, refreshed["scope"].as_str()), (200, Some("profile")), "{refreshed}");
}
