//! `/api/v1/tenants`: operator only; a new tenant comes with its first admin key.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(
    operator_manages_tenants,
    tenant_keys_cannot_manage_tenants,
    deleted_tenant_stops_at_once,
    concurrent_tenant_patches_both_land,
    writing_in_a_tenant_while_it_is_deleted_is_never_a_500
);

/// A tenant's key writing while the operator deletes the tenant: each write lands before the
/// delete (201), or finds its key gone (401), the tenant gone mid-write (404) or the
/// organization gone (422); never a 500, and never a deadlock between the delete's cascade and
/// a write into one of the tenant's organizations.
async fn writing_in_a_tenant_while_it_is_deleted_is_never_a_500(app: TestApp) {
    for round in 0..20 {
        let (tenant, key) = app.create_tenant(&format!("Doomed {round}")).await;
        let org = app.call("POST", "/api/v1/organizations", &key, json!({"name": "o"})).await.expect(201).id();
        let write = |path: &'static str, body: Value| {
            let key = key.clone();
            let app = &app;
            async move {
                for _ in 0..3 {
                    let answer = app.call("POST", path, &key, body.clone()).await;
                    let expected = match answer.status {
                        201 => "",
                        401 => "invalid_api_key",
                        404 => "not_found",
                        422 => "validation_failed",
                        _ => "not a 201, 401, 404 or 422",
                    };
                    assert_eq!(answer.error(), expected, "{path}: {} {}", answer.status, answer.body);
                }
            }
        };
        let tenant_path = format!("/api/v1/tenants/{tenant}");
        let (_, _, _, deleted) = tokio::join!(
            write("/api/v1/organizations", json!({"name": "a"})),
            write("/api/v1/clients", json!({"name": "c", "organization_id": org})),
            write("/api/v1/api_keys", json!({"name": "k", "scopes": ["users:read"], "organization_id": org})),
            app.call("DELETE", &tenant_path, &app.operator_key, Value::Null)
        );
        deleted.expect(204);
    }
}

async fn operator_manages_tenants(app: TestApp) {
    let op = app.operator_key.clone();
    let created = app.call("POST", "/api/v1/tenants", &op, json!({"name": "Acme", "plan": "pro"})).await.expect(201);
    let id = created.id();
    assert!(id.starts_with("ten_"));
    assert_eq!(created.body["plan"], "pro");
    assert_eq!(created.body["environment"], "live");
    let key = created.body["api_key"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_live_"));
    assert_eq!(created.body["api_key"]["scopes"], json!(["admin"]));
    // The new key works at once, inside its tenant.
    app.call("GET", "/api/v1/clients", &key, Value::Null).await.expect(200);

    let test_tenant =
        app.call("POST", "/api/v1/tenants", &op, json!({"name": "Sandbox", "environment": "test"})).await.expect(201);
    assert_eq!(test_tenant.body["plan"], app.settings.rate_limit.plan_default.as_str(), "rate_limit.plan_default");
    assert!(test_tenant.body["api_key"]["key"].as_str().unwrap().starts_with("sk_test_"));

    let fetched = app.call("GET", &format!("/api/v1/tenants/{id}"), &op, Value::Null).await.expect(200);
    assert_eq!(fetched.body["name"], "Acme");
    assert!(fetched.body.get("api_key").is_none(), "the key is shown once");

    let list = app.call("GET", "/api/v1/tenants?order=asc", &op, Value::Null).await.expect(200);
    let names: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Test tenant", "Acme", "Sandbox"]);

    let patched = app
        .call("PATCH", &format!("/api/v1/tenants/{id}"), &op, json!({"plan": "enterprise", "name": "Acme Inc"}))
        .await
        .expect(200);
    assert_eq!((patched.body["plan"].as_str(), patched.body["name"].as_str()), (Some("enterprise"), Some("Acme Inc")));
    assert_ne!(patched.body["updated_at"], created.body["updated_at"]);

    let bad =
        app.call("POST", "/api/v1/tenants", &op, json!({"plan": "gold", "environment": "prod"})).await.expect(422);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "plan", "environment"]);
    app.call("PATCH", &format!("/api/v1/tenants/{id}"), &op, json!({"plan": "gold"})).await.expect(422);
    app.call("GET", "/api/v1/tenants/ten_01JD6ZZZZZZZZZZZZZZZZZZZZZ", &op, Value::Null).await.expect(404);
    app.call("GET", "/api/v1/tenants/nonsense", &op, Value::Null).await.expect(404);
}

async fn tenant_keys_cannot_manage_tenants(app: TestApp) {
    let key = app.tenant_key.clone();
    for (method, path) in [
        ("GET", "/api/v1/tenants".to_owned()),
        ("GET", format!("/api/v1/tenants/{}", app.tenant_id)),
        ("POST", "/api/v1/tenants".into()),
    ] {
        let answer = app.call(method, &path, &key, json!({"name": "x"})).await.expect(403);
        assert_eq!(answer.error(), "insufficient_scope");
        assert!(answer.body["message"].as_str().unwrap().contains("operator"));
    }
}

async fn deleted_tenant_stops_at_once(app: TestApp) {
    let (id, key) = app.create_tenant("Doomed").await;
    let (client_id, secret) = {
        let client = app.call("POST", "/api/v1/clients", &key, json!({"name": "svc"})).await.expect(201);
        (client.id(), client.body["client_secret"].as_str().unwrap().to_owned())
    };
    // Seen once, so both are in this instance's caches.
    app.call("GET", "/api/v1/clients", &key, Value::Null).await.expect(200);
    app.access_token(&client_id, &secret, None).await;

    app.call("DELETE", &format!("/api/v1/tenants/{id}"), &app.operator_key, Value::Null).await.expect(204);
    assert_eq!(app.call("GET", "/api/v1/clients", &key, Value::Null).await.expect(401).error(), "invalid_api_key");
    let token = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401);
    app.call("GET", &format!("/api/v1/tenants/{id}"), &app.operator_key, Value::Null).await.expect(404);
    // Its audit trail survives it, from its creation to its deletion.
    let mut actions = audit_actions(&app, &id);
    actions.sort();
    assert_eq!(actions, ["api_key.created", "client.created", "tenant.created", "tenant.deleted"]);
}

fn audit_actions(app: &TestApp, tenant_id: &str) -> Vec<String> {
    use diesel::prelude::*;
    use tollbooth_storage::schema::audit_events::dsl;
    let tenant_id = tenant_id.to_owned();
    app.db
        .run_blocking(move |conn| {
            Ok(dsl::audit_events.filter(dsl::tenant_id.eq(tenant_id)).select(dsl::action).load(conn)?)
        })
        .unwrap()
}

async fn concurrent_tenant_patches_both_land(app: TestApp) {
    let (id, _) = app.create_tenant("Racing").await;
    app.concurrent_patches_both_land(&format!("/api/v1/tenants/{id}"), &app.operator_key, 10, |round| {
        let plan = if round % 2 == 0 { "pro" } else { "enterprise" };
        (json!({"name": format!("Racing {round}")}), json!({"plan": plan}))
    })
    .await;
}
