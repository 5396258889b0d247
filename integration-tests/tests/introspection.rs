//! docs/oauth.md introspection (RFC 7662) and revocation (RFC 7009).

use serde_json::{Value, json};
use tollbooth_storage::revoked_tokens;

use crate::on_both_databases;
use crate::support::{ISSUER, TEST_API, TestApp};

on_both_databases!(
    introspection_describes_active_tokens_only,
    introspection_and_revocation_require_client_authentication,
    revoked_tokens_are_inactive_and_refused_by_the_api,
    expired_revocations_are_deleted,
);

async fn post(
    app: &TestApp,
    path: &str,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let mut request = app.http.post(app.url(path)).form(form);
    if let Some((id, secret)) = auth {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    (status, cache, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

async fn introspection_describes_active_tokens_only(app: TestApp) {
    let (id, secret) = app.confidential_client(&["read", "write"]).await;
    let token = app.access_token(&id, &secret, Some("read")).await;
    let (status, cache, body) = post(&app, "/oauth/introspect", Some((&id, &secret)), &[("token", &token)]).await;
    assert_eq!(status, 200);
    assert_eq!(cache.as_deref(), Some("no-store"));
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "read");
    // Counted like the token endpoint (docs/rate-limits.md), and so answered with the headers.
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let response = app.http.post(app.url(path)).basic_auth(&id, Some(&secret)).form(&[("token", "x")]).send();
        let response = response.await.unwrap();
        assert!(response.headers().contains_key("x-ratelimit-limit"), "{path}: {:?}", response.headers());
    }
    assert_eq!(body["client_id"], id.as_str());
    assert_eq!(body["sub"], id.as_str());
    // `read` is a scope of the test tenant's API: the token is for it.
    assert_eq!((body["iss"].as_str(), body["aud"].as_str()), (Some(ISSUER), Some(TEST_API)));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["tid"], app.tenant_id.as_str());
    assert!(body["exp"].as_i64().unwrap() > body["iat"].as_i64().unwrap() && body["jti"].is_string());
    assert!(body.get("org_id").is_none());

    // Another client of the tenant may introspect it; a client of another tenant learns nothing.
    let (other_id, other_secret) = app.confidential_client(&[]).await;
    let (_, _, body) = post(&app, "/oauth/introspect", Some((&other_id, &other_secret)), &[("token", &token)]).await;
    assert_eq!(body["active"], true);
    let (_, foreign_key) = app.create_tenant("Foreign").await;
    let foreign = app.call("POST", "/api/v1/clients", &foreign_key, json!({"name": "f"})).await.expect(201);
    let foreign_secret = foreign.body["client_secret"].as_str().unwrap().to_owned();
    let (_, _, body) =
        post(&app, "/oauth/introspect", Some((&foreign.id(), &foreign_secret)), &[("token", &token)]).await;
    assert_eq!(body, json!({"active": false}));

    let user_token = crate::users_api::user_token(&app, "user_01JD6ZZZZZZZZZZZZZZZZZZZZZ").await;
    for inactive in ["garbage", "a.b.c", app.tenant_key.as_str()] {
        let (status, _, body) = post(&app, "/oauth/introspect", Some((&id, &secret)), &[("token", inactive)]).await;
        assert_eq!((status, body), (200, json!({"active": false})), "{inactive}");
    }
    let (_, _, body) = post(&app, "/oauth/introspect", Some((&id, &secret)), &[("token", &user_token)]).await;
    assert_eq!(body["active"], true, "a user token of the tenant is active");
}

async fn introspection_and_revocation_require_client_authentication(app: TestApp) {
    let (id, secret) = app.confidential_client(&[]).await;
    let token = app.access_token(&id, &secret, None).await;
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let (status, _, body) = post(&app, path, None, &[("token", &token)]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{path}");
        let (status, _, body) = post(&app, path, Some((&id, "cs_wrong")), &[("token", &token)]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{path}");
        let (status, _, body) = post(&app, path, Some((&id, &secret)), &[]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{path}: token is required");
    }
    // Public clients may revoke (RFC 7009 §2.1) but not introspect.
    let public = app
        .create_client(json!({"name": "SPA", "confidential": false, "redirect_uris": ["https://spa.example.com/cb"]}))
        .await;
    let public_id = public["id"].as_str().unwrap();
    let (status, _, _) = post(&app, "/oauth/revoke", None, &[("token", "unknown"), ("client_id", public_id)]).await;
    assert_eq!(status, 200);
    let (status, _, _) = post(&app, "/oauth/introspect", None, &[("token", &token), ("client_id", public_id)]).await;
    assert_eq!(status, 401);
    let metadata: Value =
        app.http.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["introspection_endpoint"], format!("{ISSUER}/oauth/introspect"));
    assert_eq!(metadata["revocation_endpoint"], format!("{ISSUER}/oauth/revoke"));
}

async fn revoked_tokens_are_inactive_and_refused_by_the_api(app: TestApp) {
    let (id, secret) = app.confidential_client(&["clients:read"]).await;
    let token = app.access_token(&id, &secret, None).await;
    app.call("GET", "/api/v1/clients", &token, Value::Null).await.expect(200);

    // Another client cannot revoke it: 200, and nothing happens.
    let (other_id, other_secret) = app.confidential_client(&[]).await;
    let (status, _, _) = post(&app, "/oauth/revoke", Some((&other_id, &other_secret)), &[("token", &token)]).await;
    assert_eq!(status, 200);
    app.call("GET", "/api/v1/clients", &token, Value::Null).await.expect(200);

    let (status, cache, _) =
        post(&app, "/oauth/revoke", Some((&id, &secret)), &[("token", &token), ("token_type_hint", "access_token")])
            .await;
    assert_eq!((status, cache.as_deref()), (200, Some("no-store")));
    let refused = app.call("GET", "/api/v1/clients", &token, Value::Null).await.expect(401);
    assert_eq!(refused.error(), "invalid_token");
    // The revocation is audited, naming the revoked token's client; the refused attempt is not.
    let events = app.call("GET", "/api/v1/audit_logs?limit=100", &app.tenant_key, Value::Null).await.expect(200);
    let revocations: Vec<&Value> =
        events.body["data"].as_array().unwrap().iter().filter(|e| e["action"] == "token.revoked").collect();
    assert_eq!(revocations.len(), 1, "{}", events.body);
    assert_eq!(revocations[0]["target"], json!({"type": "client", "id": id}), "{}", revocations[0]);
    let (_, _, body) = post(&app, "/oauth/introspect", Some((&id, &secret)), &[("token", &token)]).await;
    assert_eq!(body, json!({"active": false}));
    // Revoking again, or revoking nonsense, is not an error.
    for (token, hint) in [(token.as_str(), "access_token"), ("never-issued", "refresh_token"), ("x", "something_else")]
    {
        let (status, _, _) =
            post(&app, "/oauth/revoke", Some((&id, &secret)), &[("token", token), ("token_type_hint", hint)]).await;
        assert_eq!(status, 200);
    }
    // Other tokens of the client stay valid.
    let fresh = app.access_token(&id, &secret, None).await;
    app.call("GET", "/api/v1/clients", &fresh, Value::Null).await.expect(200);
}

async fn expired_revocations_are_deleted(app: TestApp) {
    let past = tollbooth_storage::now() - chrono::Duration::hours(1);
    let future = tollbooth_storage::now() + chrono::Duration::hours(1);
    let tenant = app.tenant_id.clone();
    let remaining = app
        .db
        .run(move |conn| {
            revoked_tokens::revoke(conn, "expired-jti", &tenant, past)?;
            revoked_tokens::revoke(conn, "live-jti", &tenant, future)?;
            // The server's own periodic cleanup may get there first: only the end state counts.
            revoked_tokens::delete_expired(conn, tollbooth_storage::now())?;
            Ok::<_, tollbooth_storage::StorageError>((
                revoked_tokens::is_revoked(conn, "expired-jti", &[], tollbooth_storage::now())?,
                revoked_tokens::is_revoked(conn, "live-jti", &[], tollbooth_storage::now())?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(remaining, (false, true));

    // Expired codes and refresh tokens go the same way; live ones stay.
    let user =
        app.call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "gone@example.com"})).await.expect(201).id();
    let (client, _) = app.confidential_client(&[]).await;
    let tenant = app.tenant_id.clone();
    let (codes, refresh) = app
        .db
        .run(move |conn| {
            let now = tollbooth_storage::now();
            for (hash, expires_at) in [("old-code", past), ("new-code", future)] {
                tollbooth_storage::authorization_codes::insert(
                    conn,
                    &tollbooth_storage::authorization_codes::AuthorizationCode {
                        code_hash: hash.into(),
                        tenant_id: tenant.clone(),
                        client_id: client.clone(),
                        user_id: user.clone(),
                        redirect_uri: "https://app.example.com/cb".into(),
                        scope: String::new(),
                        code_challenge: None,
                        expires_at,
                        used_at: None,
                        issued_jti: None,
                        issued_expires_at: None,
                        created_at: now,
                        nonce: None,
                        auth_time: None,
                        session_id: None,
                        resource: None,
                    },
                )?;
            }
            for (hash, expires_at) in [("old-refresh", past), ("new-refresh", future)] {
                tollbooth_storage::refresh_tokens::insert(
                    conn,
                    &tollbooth_storage::refresh_tokens::RefreshToken {
                        token_hash: hash.into(),
                        family_id: hash.into(),
                        tenant_id: tenant.clone(),
                        client_id: client.clone(),
                        user_id: user.clone(),
                        scope: String::new(),
                        access_jti: format!("{hash}-jti"),
                        access_expires_at: expires_at,
                        expires_at,
                        used_at: None,
                        revoked_at: None,
                        created_at: now,
                        auth_time: None,
                        session_id: None,
                        audience: None,
                    },
                )?;
            }
            tollbooth_storage::authorization_codes::delete_expired(conn, now)?;
            tollbooth_storage::refresh_tokens::delete_expired(conn, now)?;
            let redeem = |conn: &mut tollbooth_storage::DbConnection, hash: &str| {
                tollbooth_storage::authorization_codes::redeem(conn, hash, now - chrono::Duration::hours(2))
            };
            let codes = (redeem(conn, "old-code")?, redeem(conn, "new-code")?);
            let refresh = (
                tollbooth_storage::refresh_tokens::find(conn, "old-refresh")?.is_some(),
                tollbooth_storage::refresh_tokens::find(conn, "new-refresh")?.is_some(),
            );
            Ok::<_, tollbooth_storage::StorageError>((codes, refresh))
        })
        .await
        .unwrap();
    use tollbooth_storage::authorization_codes::Redemption;
    assert_eq!(codes.0, Redemption::Invalid, "the expired code is gone");
    assert!(matches!(codes.1, Redemption::Redeemed(_)), "the live code stays");
    assert_eq!(refresh, (false, true));
}
