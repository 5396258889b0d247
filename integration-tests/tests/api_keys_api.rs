//! `/api/v1/api_keys` and client secrets: shown once, redacted after, rotation grace,
//! revocation at once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(
    keys_are_shown_once_and_redacted_after,
    rotation_keeps_the_old_key_for_the_grace_period_only,
    deleted_key_is_refused_at_once_even_when_cached,
    expired_key_is_refused,
    keys_cannot_grant_more_than_their_creator_holds,
    operator_creates_keys_for_any_tenant,
    client_secret_rotation_honours_the_grace_period,
);

async fn create_key(app: &TestApp, body: Value) -> (String, String) {
    let created = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    (created.id(), created.body["key"].as_str().unwrap().to_owned())
}

async fn keys_are_shown_once_and_redacted_after(app: TestApp) {
    let created = app
        .call("POST", "/api/v1/api_keys", &app.tenant_key, json!({"name": "CI", "scopes": ["clients:read"]}))
        .await
        .expect(201);
    let secret = created.body["key"].as_str().unwrap();
    assert!(secret.starts_with("sk_live_") && secret.len() >= "sk_live_".len() + 43);
    assert_eq!(created.body["redacted"].as_str().unwrap(), format!("sk_live_…{}", &secret[secret.len() - 4..]));
    let fetched =
        app.call("GET", &format!("/api/v1/api_keys/{}", created.id()), &app.tenant_key, Value::Null).await.expect(200);
    assert!(fetched.body.get("key").is_none());
    assert_eq!(fetched.body["redacted"], created.body["redacted"]);
    let list = app.call("GET", "/api/v1/api_keys?limit=100", &app.tenant_key, Value::Null).await.expect(200);
    let listed = serde_json::to_string(&list.body).unwrap();
    assert!(!listed.contains(secret) && !listed.contains("\"key\""), "no secret in lists");
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2, "the bootstrap admin key and this one");
    // The new key works with its scope and only with it.
    app.call("GET", "/api/v1/clients", secret, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/users", secret, Value::Null).await.expect(403);
}

async fn rotation_keeps_the_old_key_for_the_grace_period_only(app: TestApp) {
    let (id, old) = create_key(&app, json!({"name": "svc", "scopes": ["clients:read"]})).await;
    let rotated = app
        .call("POST", &format!("/api/v1/api_keys/{id}/rotate"), &app.tenant_key, json!({"grace_period_seconds": 3600}))
        .await
        .expect(200);
    let new = rotated.body["key"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(rotated.id(), id);
    app.call("GET", "/api/v1/clients", &old, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/clients", &new, Value::Null).await.expect(200);

    // A rotation with no grace revokes the previous secret at once.
    let again = app
        .call("POST", &format!("/api/v1/api_keys/{id}/rotate"), &app.tenant_key, json!({"grace_period_seconds": 0}))
        .await
        .expect(200);
    let newest = again.body["key"].as_str().unwrap().to_owned();
    assert_eq!(app.call("GET", "/api/v1/clients", &new, Value::Null).await.expect(401).error(), "invalid_api_key");
    app.call("GET", "/api/v1/clients", &old, Value::Null).await.expect(401);
    app.call("GET", "/api/v1/clients", &newest, Value::Null).await.expect(200);

    // A short grace period runs out.
    let short = app
        .call("POST", &format!("/api/v1/api_keys/{id}/rotate"), &app.tenant_key, json!({"grace_period_seconds": 1}))
        .await
        .expect(200);
    app.call("GET", "/api/v1/clients", &newest, Value::Null).await.expect(200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.call("GET", "/api/v1/clients", &newest, Value::Null).await.expect(401);
    app.call("GET", "/api/v1/clients", short.body["key"].as_str().unwrap(), Value::Null).await.expect(200);

    // Rotation without a body uses the default grace period (24 h).
    let response = app
        .http
        .post(app.url(&format!("/api/v1/api_keys/{id}/rotate")))
        .bearer_auth(&app.tenant_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.call("GET", "/api/v1/clients", short.body["key"].as_str().unwrap(), Value::Null).await.expect(200);
    let bad = app
        .call("POST", &format!("/api/v1/api_keys/{id}/rotate"), &app.tenant_key, json!({"grace_period_seconds": -1}))
        .await
        .expect(422);
    assert_eq!(bad.body["errors"][0]["field"], "grace_period_seconds");
}

async fn deleted_key_is_refused_at_once_even_when_cached(app: TestApp) {
    let (id, secret) = create_key(&app, json!({"name": "doomed", "scopes": ["clients:read"]})).await;
    app.call("GET", "/api/v1/clients", &secret, Value::Null).await.expect(200);
    app.call("DELETE", &format!("/api/v1/api_keys/{id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert_eq!(app.call("GET", "/api/v1/clients", &secret, Value::Null).await.expect(401).error(), "invalid_api_key");
    app.call("GET", &format!("/api/v1/api_keys/{id}"), &app.tenant_key, Value::Null).await.expect(404);
}

async fn expired_key_is_refused(app: TestApp) {
    let expires = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (_, secret) =
        create_key(&app, json!({"name": "brief", "scopes": ["clients:read"], "expires_at": expires})).await;
    app.call("GET", "/api/v1/clients", &secret, Value::Null).await.expect(200);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    app.call("GET", "/api/v1/clients", &secret, Value::Null).await.expect(401);
    let past = app
        .call(
            "POST",
            "/api/v1/api_keys",
            &app.tenant_key,
            json!({"name": "x", "scopes": ["admin"], "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await
        .expect(422);
    assert_eq!(past.body["errors"][0]["field"], "expires_at");
    app.call(
        "POST",
        "/api/v1/api_keys",
        &app.tenant_key,
        json!({"name": "x", "scopes": ["admin"], "expires_at": "tomorrow"}),
    )
    .await
    .expect(422);
}

async fn keys_cannot_grant_more_than_their_creator_holds(app: TestApp) {
    let (_, limited) = create_key(&app, json!({"name": "key admin", "scopes": ["api_keys:write"]})).await;
    // docs/security.md: giving a key a management scope the caller lacks is 403, naming it.
    let escalation =
        app.call("POST", "/api/v1/api_keys", &limited, json!({"name": "x", "scopes": ["admin"]})).await.expect(403);
    assert_eq!(escalation.error(), "insufficient_scope");
    assert!(escalation.body["message"].as_str().unwrap().contains("`admin`"), "{}", escalation.body);
    app.call("POST", "/api/v1/api_keys", &limited, json!({"name": "x", "scopes": ["clients:read"]})).await.expect(403);
    // api_keys:write includes api_keys:read, so both may be granted.
    app.call("POST", "/api/v1/api_keys", &limited, json!({"name": "x", "scopes": ["api_keys:read"]})).await.expect(201);
    app.call("POST", "/api/v1/api_keys", &limited, json!({"name": "x", "scopes": ["api_keys:write"]}))
        .await
        .expect(201);
    let operator = app
        .call("POST", "/api/v1/api_keys", &app.tenant_key, json!({"name": "x", "scopes": ["operator"]}))
        .await
        .expect(422);
    assert_eq!(operator.body["errors"][0]["code"], "forbidden");
    app.call("POST", "/api/v1/api_keys", &app.tenant_key, json!({"name": "x", "scopes": []})).await.expect(422);
}

async fn operator_creates_keys_for_any_tenant(app: TestApp) {
    let (tenant_id, _) = app.create_tenant("Managed").await;
    let created = app
        .call(
            "POST",
            "/api/v1/api_keys",
            &app.operator_key,
            json!({"tenant_id": tenant_id, "name": "provisioned", "scopes": ["admin"]}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["tenant_id"], tenant_id.as_str());
    let key = created.body["key"].as_str().unwrap();
    app.call("GET", "/api/v1/clients", key, Value::Null).await.expect(200);
    let missing = app
        .call("POST", "/api/v1/api_keys", &app.operator_key, json!({"name": "x", "scopes": ["admin"]}))
        .await
        .expect(422);
    assert_eq!(missing.body["errors"][0]["field"], "tenant_id");
    app.call(
        "POST",
        "/api/v1/api_keys",
        &app.operator_key,
        json!({"tenant_id": "ten_01JD6ZZZZZZZZZZZZZZZZZZZZZ", "name": "x", "scopes": ["admin"]}),
    )
    .await
    .expect(422);
    // A tenant key cannot create keys for another tenant.
    let stray = app
        .call(
            "POST",
            "/api/v1/api_keys",
            &app.tenant_key,
            json!({"tenant_id": tenant_id, "name": "x", "scopes": ["admin"]}),
        )
        .await
        .expect(422);
    assert_eq!(stray.body["errors"][0]["field"], "tenant_id");
}

async fn token_status(app: &TestApp, id: &str, secret: &str) -> u16 {
    app.http
        .post(app.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn client_secret_rotation_honours_the_grace_period(app: TestApp) {
    let (id, old) = app.confidential_client(&[]).await;
    assert_eq!(token_status(&app, &id, &old).await, 200);
    let rotated = app
        .call("POST", &format!("/api/v1/clients/{id}/secret"), &app.tenant_key, json!({"grace_period_seconds": 600}))
        .await
        .expect(200);
    let new = rotated.body["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(rotated.body["redacted"].as_str().unwrap(), format!("cs_…{}", &new[new.len() - 4..]));
    assert_eq!((token_status(&app, &id, &old).await, token_status(&app, &id, &new).await), (200, 200));
    let fetched = app.call("GET", &format!("/api/v1/clients/{id}"), &app.tenant_key, Value::Null).await.expect(200);
    assert!(fetched.body.get("client_secret").is_none());

    let again = app
        .call("POST", &format!("/api/v1/clients/{id}/secret"), &app.tenant_key, json!({"grace_period_seconds": 0}))
        .await
        .expect(200);
    let newest = again.body["client_secret"].as_str().unwrap().to_owned();
    assert_eq!((token_status(&app, &id, &new).await, token_status(&app, &id, &old).await), (401, 401));
    assert_eq!(token_status(&app, &id, &newest).await, 200);

    let public = app
        .create_client(json!({"name": "SPA", "confidential": false, "redirect_uris": ["https://spa.example.com/cb"]}))
        .await;
    let public_id = public["id"].as_str().unwrap();
    app.call("POST", &format!("/api/v1/clients/{public_id}/secret"), &app.tenant_key, Value::Null).await.expect(422);

    app.call("DELETE", &format!("/api/v1/clients/{id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert_eq!(token_status(&app, &id, &newest).await, 401, "a deleted client stops authenticating at once");
}
