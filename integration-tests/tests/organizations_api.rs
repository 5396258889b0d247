//! `/api/v1/organizations`, and what organization keys can see.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(
    organizations_lifecycle,
    organization_key_sees_only_its_organization,
    deleting_an_organization_removes_its_objects,
    concurrent_organization_patches_both_land,
    creating_in_an_organization_while_it_is_deleted_leaves_nothing_behind
);

/// Objects created in an organization while it is being deleted: each create either lands
/// before the delete (and goes with it) or finds the organization gone (422); never a 500,
/// never an object left pointing at nothing.
async fn creating_in_an_organization_while_it_is_deleted_leaves_nothing_behind(app: TestApp) {
    let key = &app.tenant_key;
    for _ in 0..20 {
        let org = app.call("POST", "/api/v1/organizations", key, json!({"name": "Doomed"})).await.expect(201).id();
        let org_path = format!("/api/v1/organizations/{org}");
        let user = |attempt| json!({"email": format!("{org}.{attempt}@example.com"), "organization_id": org});
        let client = |_| json!({"name": "c", "organization_id": org});
        let api_key = |_| json!({"name": "k", "scopes": ["users:read"], "organization_id": org});
        let (users, clients, keys, deleted) = tokio::join!(
            create_twice_while_deleting(&app, "/api/v1/users", user),
            create_twice_while_deleting(&app, "/api/v1/clients", client),
            create_twice_while_deleting(&app, "/api/v1/api_keys", api_key),
            app.call("DELETE", &org_path, key, Value::Null),
        );
        deleted.expect(204);
        for path in users.iter().chain(&clients).chain(&keys) {
            app.call("GET", path, key, Value::Null).await.expect(404);
        }
    }
}

/// POSTs `body(0)` then `body(1)` to `path`; the paths of what was created.
async fn create_twice_while_deleting(app: &TestApp, path: &str, body: impl Fn(usize) -> Value) -> Vec<String> {
    let mut created = Vec::new();
    for attempt in 0..2 {
        let answer = app.call("POST", path, &app.tenant_key, body(attempt)).await;
        match answer.status {
            201 => created.push(format!("{path}/{}", answer.id())),
            422 => assert_eq!(answer.body["errors"][0]["field"], "organization_id", "{}", answer.body),
            status => panic!("POST {path}: {status} {}", answer.body),
        }
    }
    created
}

async fn concurrent_organization_patches_both_land(app: TestApp) {
    let created =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Racing"})).await.expect(201);
    let path = format!("/api/v1/organizations/{}", created.id());
    app.concurrent_patches_both_land(&path, &app.tenant_key, 10, |round| {
        (json!({"name": format!("Racing {round}")}), json!({"metadata": {"round": round}}))
    })
    .await;
}

async fn organizations_lifecycle(app: TestApp) {
    let key = app.tenant_key.clone();
    let created = app
        .call(
            "POST",
            "/api/v1/organizations",
            &key,
            json!({"name": "Globex", "domains": ["globex.com"], "metadata": {"tier": "gold", "seats": 40}}),
        )
        .await
        .expect(201);
    let id = created.id();
    assert!(id.starts_with("org_"));
    assert_eq!(created.body["metadata"], json!({"tier": "gold", "seats": 40}));
    let fetched = app.call("GET", &format!("/api/v1/organizations/{id}"), &key, Value::Null).await.expect(200);
    assert_eq!(fetched.body, created.body);

    let patched = app
        .call("PATCH", &format!("/api/v1/organizations/{id}"), &key, json!({"domains": ["globex.com", "globex.io"]}))
        .await
        .expect(200);
    assert_eq!(patched.body["domains"], json!(["globex.com", "globex.io"]));
    assert_eq!(patched.body["name"], "Globex", "absent fields stay");

    let bad = app
        .call("POST", "/api/v1/organizations", &key, json!({"name": " ", "domains": ["Not A Domain", "ok.com", "ok.com"], "metadata": {"big": "x".repeat(9000)}}))
        .await
        .expect(422);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "domains[0]", "domains[2]", "metadata"]);

    app.call("DELETE", &format!("/api/v1/organizations/{id}"), &key, Value::Null).await.expect(204);
    app.call("GET", &format!("/api/v1/organizations/{id}"), &key, Value::Null).await.expect(404);
    app.call("DELETE", &format!("/api/v1/organizations/{id}"), &key, Value::Null).await.expect(404);
}

/// An admin key confined to a new organization, and that organization's id.
pub async fn organization_key(app: &TestApp, name: &str) -> (String, String) {
    let org = app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": name})).await.expect(201).id();
    let key = app
        .call(
            "POST",
            "/api/v1/api_keys",
            &app.tenant_key,
            json!({"name": format!("{name} admin"), "scopes": ["admin"], "organization_id": org}),
        )
        .await
        .expect(201);
    assert_eq!(key.body["organization_id"], org.as_str());
    (org, key.body["key"].as_str().unwrap().to_owned())
}

async fn organization_key_sees_only_its_organization(app: TestApp) {
    let (org, org_key) = organization_key(&app, "Initech").await;
    let (other_org, _) = organization_key(&app, "Umbrella").await;

    app.call("GET", &format!("/api/v1/organizations/{org}"), &org_key, Value::Null).await.expect(200);
    app.call("GET", &format!("/api/v1/organizations/{other_org}"), &org_key, Value::Null).await.expect(404);
    let list = app.call("GET", "/api/v1/organizations", &org_key, Value::Null).await.expect(200);
    let ids: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [org.as_str()]);
    for (method, path) in [
        ("POST", "/api/v1/organizations".to_owned()),
        ("PATCH", format!("/api/v1/organizations/{org}")),
        ("DELETE", format!("/api/v1/organizations/{org}")),
    ] {
        assert_eq!(
            app.call(method, &path, &org_key, json!({"name": "x"})).await.expect(403).error(),
            "insufficient_scope",
            "{method} {path}"
        );
    }
    assert_eq!(
        app.call("GET", "/api/v1/audit_logs", &org_key, Value::Null).await.expect(403).error(),
        "insufficient_scope"
    );

    // Objects an organization key creates belong to its organization, whatever it asks.
    let user = app.call("POST", "/api/v1/users", &org_key, json!({"email": "peter@initech.com"})).await.expect(201);
    assert_eq!(user.body["organization_id"], org.as_str());
    let stray = app
        .call("POST", "/api/v1/users", &org_key, json!({"email": "bill@initech.com", "organization_id": other_org}))
        .await
        .expect(422);
    assert_eq!(stray.body["errors"][0]["field"], "organization_id");
}

async fn deleting_an_organization_removes_its_objects(app: TestApp) {
    let (org, org_key) = organization_key(&app, "Hooli").await;
    let user = app
        .call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "gavin@hooli.com", "organization_id": org}))
        .await
        .expect(201)
        .id();
    let client = app.call("POST", "/api/v1/clients", &org_key, json!({"name": "Hooli svc"})).await.expect(201);
    let (client_id, secret) = (client.id(), client.body["client_secret"].as_str().unwrap().to_owned());
    assert_eq!(client.body["organization_id"], org.as_str());
    let token = app.access_token(&client_id, &secret, None).await;
    // A client holding no scope gets tokens of no API: for the issuer (docs/oauth.md, "Audiences").
    let claims: Value = crate::client_credentials::verify_with_jwks(&app, &token, crate::support::ISSUER).await;
    assert_eq!(claims["org_id"], org.as_str(), "tokens carry the client's organization");

    app.call("DELETE", &format!("/api/v1/organizations/{org}"), &app.tenant_key, Value::Null).await.expect(204);
    app.call("GET", &format!("/api/v1/users/{user}"), &app.tenant_key, Value::Null).await.expect(404);
    app.call("GET", &format!("/api/v1/clients/{client_id}"), &app.tenant_key, Value::Null).await.expect(404);
    assert_eq!(app.call("GET", "/api/v1/users", &org_key, Value::Null).await.expect(401).error(), "invalid_api_key");
    let refused = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}
