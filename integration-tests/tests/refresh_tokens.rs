//! docs/oauth.md refresh tokens: opaque, rotated on every use, narrowing allowed and widening
//! refused, and a reused one revokes its whole family (RFC 9700 §4.14).

use serde_json::{Value, json};

use crate::authorization_code::{Browser, PASSWORD, REDIRECT, VERIFIER, authorize_path, challenge, exchange};
use crate::on_both_databases;
use crate::support::{TEST_API, TestApp};

on_both_databases!(
    refresh_tokens_rotate_and_a_reuse_revokes_the_family,
    refresh_tokens_are_introspected_and_revoked,
    concurrent_uses_of_one_token_issue_once_and_revoke_the_family,
    a_deleted_users_refresh_tokens_are_refused,
    an_organizations_users_refresh_tokens_go_with_it,
    a_deleted_clients_refresh_tokens_are_deleted,
);

/// A confidential client with `grants` that skips consent, and the tokens of its first authorization by the user
/// `rt@example.com` (who must exist).
async fn first_tokens(app: &TestApp, grants: &[&str]) -> (Value, Value) {
    let client = app
        .create_client(json!({
            "name": "Web app", "confidential": true, "grant_types": grants, "redirect_uris": [REDIRECT],
            "scopes": ["profile", "orders:read"], "skip_consent": true,
        }))
        .await;
    let client_id = client["id"].as_str().unwrap().to_owned();
    let path =
        authorize_path(&client_id, &[("code_challenge", &challenge(VERIFIER)), ("code_challenge_method", "S256")]);
    let mut browser = Browser::new(app);
    let sign_in = browser.get(&path).await;
    let back =
        browser.post(&path, &[("csrf", &sign_in.csrf()), ("email", "rt@example.com"), ("password", PASSWORD)]).await;
    let code = back.redirect_params()["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("client_id", &client_id),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = exchange(app, &client, &form).await;
    assert_eq!(status, 200, "{tokens}");
    (client, tokens)
}

async fn refresh(app: &TestApp, client: &Value, refresh_token: &str, scope: Option<&str>) -> (u16, Value) {
    let client_id = client["id"].as_str().unwrap();
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    exchange(app, client, &form).await
}

async fn create_user(app: &TestApp) {
    app.call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "rt@example.com", "password": PASSWORD}))
        .await
        .expect(201);
}

const REFRESHING: &[&str] = &["authorization_code", "refresh_token"];

async fn refresh_tokens_rotate_and_a_reuse_revokes_the_family(app: TestApp) {
    create_user(&app).await;
    let (without, tokens) = first_tokens(&app, &["authorization_code"]).await;
    assert!(tokens.get("refresh_token").is_none(), "no refresh token for a client without the grant");
    let (status, body) = refresh(&app, &without, "rt_whatever", None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));

    let (client, tokens) = first_tokens(&app, REFRESHING).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(first.starts_with("rt_") && first.len() >= 46, "opaque, 256 bits");
    assert_eq!(tokens["scope"], "orders:read profile");

    let (status, second) = refresh(&app, &client, &first, None).await;
    assert_eq!(status, 200, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first, "rotated on every use");
    assert_eq!(second["scope"], "orders:read profile");
    assert_eq!((second["token_type"].as_str(), second["expires_in"].as_i64()), (Some("Bearer"), Some(3600)));
    let second_access = second["access_token"].as_str().unwrap().to_owned();
    // For the test tenant's API (its scope orders:read): introspection tells whether it is live.
    let described = app.introspect(&second_access).await;
    assert_eq!((described["active"].as_bool(), described["aud"].as_str()), (Some(true), Some(TEST_API)));

    let (status, narrowed) = refresh(&app, &client, &second_refresh, Some("profile")).await;
    assert_eq!((status, narrowed["scope"].as_str()), (200, Some("profile")), "{narrowed}");
    let third_refresh = narrowed["refresh_token"].as_str().unwrap().to_owned();
    let (status, widened) = refresh(&app, &client, &third_refresh, Some("profile admin")).await;
    assert_eq!((status, widened["error"].as_str()), (400, Some("invalid_scope")), "{widened}");
    // The narrowed refresh keeps the original grant: the full scope can be asked for again.
    let (status, full) = refresh(&app, &client, &third_refresh, Some("orders:read profile")).await;
    assert_eq!(status, 200, "{full}");
    let latest_refresh = full["refresh_token"].as_str().unwrap().to_owned();
    let latest_access = full["access_token"].as_str().unwrap().to_owned();

    // Presenting a used token revokes the whole family and its access tokens.
    assert_eq!(app.introspect(&latest_access).await["active"], true, "live until the reuse");
    let (status, reused) = refresh(&app, &client, &first, None).await;
    assert_eq!((status, reused["error"].as_str()), (400, Some("invalid_grant")), "{reused}");
    let (status, _) = refresh(&app, &client, &latest_refresh, None).await;
    assert_eq!(status, 400, "the newest token of the family is revoked too");
    assert_eq!(app.introspect(&latest_access).await, json!({"active": false}));
    assert_eq!(app.introspect(&second_access).await, json!({"active": false}));

    let (status, body) = refresh(&app, &client, "rt_never-issued", None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

async fn refresh_tokens_are_introspected_and_revoked(app: TestApp) {
    create_user(&app).await;
    let (client, tokens) = first_tokens(&app, REFRESHING).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let (introspector, secret) = app.confidential_client(&[]).await;
    let introspect = |token: String| {
        let (id, secret) = (introspector.clone(), secret.clone());
        let http = app.http.clone();
        let url = app.url("/oauth/introspect");
        async move {
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let described = introspect(refresh_token.clone()).await;
    assert_eq!(described["active"], true);
    assert_eq!(described["token_type"], "refresh_token");
    assert_eq!(described["client_id"], client["id"]);
    assert_eq!(described["scope"], "orders:read profile");

    // The client revokes its refresh token; the family and its access token go with it.
    let client_id = client["id"].as_str().unwrap();
    let revoked = app
        .http
        .post(app.url("/oauth/revoke"))
        .basic_auth(client_id, client["client_secret"].as_str())
        .form(&[("token", refresh_token.as_str()), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect(refresh_token.clone()).await, json!({"active": false}));
    assert_eq!(introspect(access_token.clone()).await, json!({"active": false}));
    let (status, _) = refresh(&app, &client, &refresh_token, None).await;
    assert_eq!(status, 400);
}

/// The check and the use of a token are one atomic step: of many (48) simultaneous refreshes with
/// one token exactly one succeeds, and the others count as reuse, revoking the winner's tokens.
async fn concurrent_uses_of_one_token_issue_once_and_revoke_the_family(app: TestApp) {
    create_user(&app).await;
    let (client, tokens) = first_tokens(&app, REFRESHING).await;
    let token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let attempts = (0..48).map(|_| refresh(&app, &client, &token, None));
    let answers = futures_util::future::join_all(attempts).await;
    let winners: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 200).map(|(_, body)| body).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
    let (status, _) = refresh(&app, &client, winners[0]["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 400, "the winner's refresh token is revoked with its family");
    let access = winners[0]["access_token"].as_str().unwrap();
    assert_eq!(app.introspect(access).await, json!({"active": false}), "revoked with its family");
}

/// Whose stored refresh tokens to count.
enum Holder<'a> {
    User(&'a str),
    Client(&'a str),
}

/// How many refresh tokens the database holds for `holder`, used or not.
fn stored_tokens(app: &TestApp, holder: Holder<'_>) -> i64 {
    use diesel::prelude::*;
    use tollbooth_storage::schema::refresh_tokens::dsl;
    let (user_id, client_id) = match holder {
        Holder::User(id) => (Some(id.to_owned()), None),
        Holder::Client(id) => (None, Some(id.to_owned())),
    };
    app.db
        .run_blocking(move |conn| {
            let mut query = dsl::refresh_tokens.into_boxed();
            if let Some(id) = user_id {
                query = query.filter(dsl::user_id.eq(id));
            }
            if let Some(id) = client_id {
                query = query.filter(dsl::client_id.eq(id));
            }
            Ok(query.count().get_result(conn)?)
        })
        .unwrap()
}

async fn a_deleted_users_refresh_tokens_are_refused(app: TestApp) {
    create_user(&app).await;
    let (client, tokens) = first_tokens(&app, REFRESHING).await;
    let described = app.introspect(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(described["active"], true);
    let user_id = described["sub"].as_str().unwrap().to_owned();
    assert_eq!(stored_tokens(&app, Holder::User(&user_id)), 1);
    app.call("DELETE", &format!("/api/v1/users/{user_id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert_eq!(stored_tokens(&app, Holder::User(&user_id)), 0, "a user's refresh tokens go with them");
    let (status, body) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

async fn an_organizations_users_refresh_tokens_go_with_it(app: TestApp) {
    let organization =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme"})).await.expect(201);
    let user = json!({"email": "rt@example.com", "password": PASSWORD, "organization_id": organization.id()});
    let user_id = app.call("POST", "/api/v1/users", &app.tenant_key, user).await.expect(201).id();
    let (client, tokens) = first_tokens(&app, REFRESHING).await;
    let (status, refreshed) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(stored_tokens(&app, Holder::User(&user_id)), 2, "the used token and its successor");
    let organization_path = format!("/api/v1/organizations/{}", organization.id());
    app.call("DELETE", &organization_path, &app.tenant_key, Value::Null).await.expect(204);
    assert_eq!(stored_tokens(&app, Holder::User(&user_id)), 0, "deleting users with their organization");
    let (status, body) = refresh(&app, &client, refreshed["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

async fn a_deleted_clients_refresh_tokens_are_deleted(app: TestApp) {
    create_user(&app).await;
    let (client, tokens) = first_tokens(&app, REFRESHING).await;
    let client_id = client["id"].as_str().unwrap().to_owned();
    let (status, _) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
    assert_eq!(stored_tokens(&app, Holder::Client(&client_id)), 2, "the used token and its successor");
    app.call("DELETE", &format!("/api/v1/clients/{client_id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert_eq!(stored_tokens(&app, Holder::Client(&client_id)), 0, "a client's refresh tokens go with it");
}
