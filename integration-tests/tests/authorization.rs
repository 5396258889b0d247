//! The one authorization rule (docs/security.md, "Authorization"): every write endpoint, with a
//! credential one scope narrower than the object it touches, is refused with 403
//! `insufficient_scope` and changes nothing; the same request with that scope added succeeds.
//! The table is checked against the OpenAPI document, so an endpoint added without a row here
//! fails this test.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(
    every_write_endpoint_refuses_a_narrower_credential,
    a_narrow_key_cannot_take_over_the_admin_key,
    clients_write_cannot_mint_admin_tokens,
    a_key_may_rotate_and_delete_itself,
    deleting_an_organization_needs_what_it_holds,
);

/// A new key of the test tenant with `scopes`: its id and secret.
pub async fn key_with(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let created = app
        .call("POST", "/api/v1/api_keys", &app.tenant_key, json!({"name": "test key", "scopes": scopes}))
        .await
        .expect(201);
    (created.id(), created.body["key"].as_str().unwrap().to_owned())
}

/// One row: an endpoint, what the narrow credential holds, what the full one adds, and the request.
struct Case {
    method: &'static str,
    /// As the OpenAPI document names it.
    template: &'static str,
    narrow: Vec<&'static str>,
    /// The scope the narrow credential lacks; with it the request succeeds.
    missing: &'static str,
    path: String,
    body: Value,
    success: u16,
}

const BROAD_CLIENT_SCOPES: [&str; 2] = ["clients:write", "users:read"];

/// A confidential client holding more than `clients:write`.
async fn broad_client(app: &TestApp) -> String {
    let body = json!({"name": "broad", "scopes": BROAD_CLIENT_SCOPES, "confidential": true,
        "grant_types": ["client_credentials", "authorization_code"], "redirect_uris": ["https://app.example/cb"]});
    app.call("POST", "/api/v1/clients", &app.tenant_key, body).await.expect(201).id()
}

/// A user whose role is `admin`.
async fn admin_user(app: &TestApp) -> String {
    let email = format!("{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let body = json!({"email": email, "role": "admin", "password": "correct horse battery"});
    app.call("POST", "/api/v1/users", &app.tenant_key, body).await.expect(201).id()
}

/// Objects that hold more than the narrow credentials, one per case that changes or deletes.
async fn cases(app: &TestApp) -> Vec<Case> {
    let broad_scopes = json!(BROAD_CLIENT_SCOPES);
    let admin_key = key_with(app, &["admin"]).await.0;
    let organization =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Org"})).await.expect(201).id();
    let (tenant, _) = app.create_tenant("Victim").await;
    let (c1, c2, c3, c4) =
        (broad_client(app).await, broad_client(app).await, broad_client(app).await, broad_client(app).await);
    let (u1, u2) = (admin_user(app).await, admin_user(app).await);
    let org_to_delete =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Doomed"})).await.expect(201).id();
    let key_to_rotate = key_with(app, &["admin"]).await.0;
    let resource = |identifier: &str, scope: &str| json!({"name": "API", "identifier": identifier, "scopes": [scope]});
    let (r1, r2) = (
        app.call("POST", "/api/v1/resources", &app.tenant_key, resource("https://one.example", "one:read"))
            .await
            .expect(201)
            .id(),
        app.call("POST", "/api/v1/resources", &app.tenant_key, resource("https://two.example", "two:read"))
            .await
            .expect(201)
            .id(),
    );
    let email = format!("{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let case = |method, template, narrow: &[&'static str], missing, path: String, body, success| Case {
        method,
        template,
        narrow: narrow.to_vec(),
        missing,
        path,
        body,
        success,
    };
    vec![
        case("POST", "/api/v1/tenants", &["admin"], "operator", "/api/v1/tenants".into(), json!({"name": "T"}), 201),
        case(
            "PATCH",
            "/api/v1/tenants/{id}",
            &["admin"],
            "operator",
            format!("/api/v1/tenants/{tenant}"),
            json!({"name": "T2"}),
            200,
        ),
        case(
            "DELETE",
            "/api/v1/tenants/{id}",
            &["admin"],
            "operator",
            format!("/api/v1/tenants/{tenant}"),
            Value::Null,
            204,
        ),
        case(
            "POST",
            "/api/v1/organizations",
            &["organizations:read"],
            "organizations:write",
            "/api/v1/organizations".into(),
            json!({"name": "O"}),
            201,
        ),
        case(
            "PATCH",
            "/api/v1/organizations/{id}",
            &["organizations:read"],
            "organizations:write",
            format!("/api/v1/organizations/{organization}"),
            json!({"name": "O2"}),
            200,
        ),
        case(
            "DELETE",
            "/api/v1/organizations/{id}",
            &["organizations:read"],
            "organizations:write",
            format!("/api/v1/organizations/{org_to_delete}"),
            Value::Null,
            204,
        ),
        case(
            "POST",
            "/api/v1/users",
            &["users:write"],
            "admin",
            "/api/v1/users".into(),
            json!({"email": email, "role": "admin"}),
            201,
        ),
        case(
            "PATCH",
            "/api/v1/users/{id}",
            &["users:write"],
            "admin",
            format!("/api/v1/users/{u1}"),
            json!({"password": "a new password here"}),
            200,
        ),
        case(
            "DELETE",
            "/api/v1/users/{id}",
            &["users:write"],
            "admin",
            format!("/api/v1/users/{u2}"),
            Value::Null,
            204,
        ),
        case(
            "POST",
            "/api/v1/clients",
            &["clients:write"],
            "users:read",
            "/api/v1/clients".into(),
            json!({"name": "c", "scopes": broad_scopes}),
            201,
        ),
        case(
            "PATCH",
            "/api/v1/clients/{id}",
            &["clients:write"],
            "users:read",
            format!("/api/v1/clients/{c1}"),
            json!({"redirect_uris": ["https://evil.example/cb"]}),
            200,
        ),
        case(
            "DELETE",
            "/api/v1/clients/{id}",
            &["clients:write"],
            "users:read",
            format!("/api/v1/clients/{c2}"),
            Value::Null,
            204,
        ),
        case(
            "POST",
            "/api/v1/clients/{id}/secret",
            &["clients:write"],
            "users:read",
            format!("/api/v1/clients/{c3}/secret"),
            Value::Null,
            200,
        ),
        case(
            "POST",
            "/api/v1/api_keys",
            &["api_keys:write"],
            "users:read",
            "/api/v1/api_keys".into(),
            json!({"name": "k", "scopes": ["api_keys:read", "users:read"]}),
            201,
        ),
        case(
            "DELETE",
            "/api/v1/api_keys/{id}",
            &["api_keys:write"],
            "admin",
            format!("/api/v1/api_keys/{admin_key}"),
            Value::Null,
            204,
        ),
        case(
            "POST",
            "/api/v1/api_keys/{id}/rotate",
            &["api_keys:write"],
            "admin",
            format!("/api/v1/api_keys/{key_to_rotate}/rotate"),
            json!({"grace_period_seconds": 0}),
            200,
        ),
        case(
            "POST",
            "/api/v1/resources",
            &["resources:read"],
            "resources:write",
            "/api/v1/resources".into(),
            resource("https://three.example", "three:read"),
            201,
        ),
        case(
            "PATCH",
            "/api/v1/resources/{id}",
            &["resources:read"],
            "resources:write",
            format!("/api/v1/resources/{r1}"),
            json!({"name": "renamed"}),
            200,
        ),
        case(
            "DELETE",
            "/api/v1/resources/{id}",
            &["resources:read"],
            "resources:write",
            format!("/api/v1/resources/{r2}"),
            Value::Null,
            204,
        ),
        // A name change still acts on a client holding more than the caller.
        case(
            "PATCH",
            "/api/v1/clients/{id}",
            &["clients:write"],
            "users:read",
            format!("/api/v1/clients/{c4}"),
            json!({"name": "renamed"}),
            200,
        ),
    ]
}

/// The write operations of the management API, as the served OpenAPI document lists them.
async fn documented_writes(app: &TestApp) -> BTreeSet<(String, String)> {
    let document: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut writes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            // `POST /api/v1/verify` writes nothing: it answers whether a credential is good,
            // within the caller's reach (tested in verify.rs).
            if path == "/api/v1/verify" {
                continue;
            }
            if matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
                writes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    writes
}

async fn every_write_endpoint_refuses_a_narrower_credential(app: TestApp) {
    let cases = cases(&app).await;
    let covered: BTreeSet<(String, String)> =
        cases.iter().map(|c| (c.method.to_owned(), c.template.to_owned())).collect();
    let documented = documented_writes(&app).await;
    let uncovered: Vec<_> = documented.difference(&covered).collect();
    assert!(uncovered.is_empty(), "write endpoints without a row in this table: {uncovered:?}");

    for case in &cases {
        let what = format!("{} {}", case.method, case.path);
        let narrow =
            if case.missing == "operator" { app.tenant_key.clone() } else { key_with(&app, &case.narrow).await.1 };
        let refused = app.call(case.method, &case.path, &narrow, case.body.clone()).await;
        assert_eq!(refused.status, 403, "{what} with {:?}: {}", case.narrow, refused.body);
        assert_eq!(refused.error(), "insufficient_scope", "{what}");
        assert!(
            refused.body["message"].as_str().unwrap_or_default().contains(case.missing),
            "{what}: the refusal names `{}`: {}",
            case.missing,
            refused.body
        );
        // The refusal changed nothing; the same request with the missing scope goes through.
        let full = if case.missing == "operator" {
            app.operator_key.clone()
        } else {
            let mut scopes = case.narrow.clone();
            scopes.push(case.missing);
            key_with(&app, &scopes).await.1
        };
        let done = app.call(case.method, &case.path, &full, case.body.clone()).await;
        assert_eq!(done.status, case.success, "{what} with {:?} + {}: {}", case.narrow, case.missing, done.body);
    }
}

/// Finding: a key holding only `api_keys:write` rotated the bootstrap admin key and got an admin secret.
async fn a_narrow_key_cannot_take_over_the_admin_key(app: TestApp) {
    let (_, narrow) = key_with(&app, &["api_keys:write"]).await;
    let keys = app.call("GET", "/api/v1/api_keys?limit=100", &narrow, Value::Null).await.expect(200);
    let admin = keys.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["scopes"] == json!(["admin"]))
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .expect("the bootstrap admin key is listed");
    let rotate = format!("/api/v1/api_keys/{admin}/rotate");
    let refused = app.call("POST", &rotate, &narrow, json!({"grace_period_seconds": 2_592_000})).await.expect(403);
    assert!(refused.body.get("key").is_none(), "no secret in a refusal");
    // RFC 6750 §3: the refusal says which scope was missing, in the header as in the body.
    let refused = app.http.delete(app.url(&format!("/api/v1/api_keys/{admin}"))).bearer_auth(&narrow).send().await;
    let refused = refused.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer realm=\"tollbooth\", error=\"insufficient_scope\", scope=\"admin\""
    );
    // The admin key is untouched and alone in working.
    app.call("GET", "/api/v1/users", &app.tenant_key, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/users", &narrow, Value::Null).await.expect(403);
}

/// Finding: `clients:write` rotated the secret of a client holding `admin`, then minted admin tokens.
async fn clients_write_cannot_mint_admin_tokens(app: TestApp) {
    let (client_id, _) = app.confidential_client(&["admin"]).await;
    let (_, narrow) = key_with(&app, &["clients:write"]).await;
    let rotated =
        app.call("POST", &format!("/api/v1/clients/{client_id}/secret"), &narrow, Value::Null).await.expect(403);
    assert!(rotated.body.get("client_secret").is_none());
    for change in [
        json!({"redirect_uris": ["https://evil.example/cb"], "grant_types": ["authorization_code"]}),
        json!({"skip_consent": true}),
        json!({"scopes": ["admin", "users:read"]}),
    ] {
        app.call("PATCH", &format!("/api/v1/clients/{client_id}"), &narrow, change).await.expect(403);
    }
    let client = app.call("GET", &format!("/api/v1/clients/{client_id}"), &app.tenant_key, Value::Null).await;
    assert_eq!(client.body["grant_types"], json!(["client_credentials"]), "nothing was changed");
    assert_eq!(client.body["skip_consent"], json!(false));
    // Giving a client a management scope the caller lacks is refused the same way.
    let escalation = app
        .call("POST", "/api/v1/clients", &narrow, json!({"name": "mine", "scopes": ["clients:write", "admin"]}))
        .await
        .expect(403);
    assert_eq!(escalation.error(), "insufficient_scope");
}

/// docs/security.md: a key may always rotate or delete itself, whatever it holds.
async fn a_key_may_rotate_and_delete_itself(app: TestApp) {
    let (id, secret) = key_with(&app, &["users:read"]).await;
    let rotated = app
        .call("POST", &format!("/api/v1/api_keys/{id}/rotate"), &secret, json!({"grace_period_seconds": 0}))
        .await
        .expect(200);
    let new = rotated.body["key"].as_str().unwrap().to_owned();
    app.call("GET", "/api/v1/users", &secret, Value::Null).await.expect(401);
    // Another key is still out of bounds for it.
    let (other, _) = key_with(&app, &["users:read"]).await;
    app.call("DELETE", &format!("/api/v1/api_keys/{other}"), &new, Value::Null).await.expect(403);
    app.call("DELETE", &format!("/api/v1/api_keys/{id}"), &new, Value::Null).await.expect(204);
    app.call("GET", "/api/v1/users", &new, Value::Null).await.expect(401);

    // A rotated-out secret still in its grace period works, but cannot rotate the key away
    // from the holder of the current one.
    let (id, old) = key_with(&app, &["users:read"]).await;
    let rotate = format!("/api/v1/api_keys/{id}/rotate");
    let rotated = app.call("POST", &rotate, &old, json!({"grace_period_seconds": 3600})).await.expect(200);
    let current = rotated.body["key"].as_str().unwrap().to_owned();
    app.call("GET", "/api/v1/users", &old, Value::Null).await.expect(200);
    let refused = app.call("POST", &rotate, &old, json!({"grace_period_seconds": 0})).await.expect(403);
    assert_eq!(refused.error(), "insufficient_scope");
    app.call("DELETE", &format!("/api/v1/api_keys/{id}"), &old, Value::Null).await.expect(403);
    app.call("GET", "/api/v1/users", &current, Value::Null).await.expect(200);
    // Not even when the key holds api_keys:write: the old secret may use the key, not take it.
    let (id, old) = key_with(&app, &["api_keys:write"]).await;
    let rotate = format!("/api/v1/api_keys/{id}/rotate");
    let rotated = app.call("POST", &rotate, &old, json!({"grace_period_seconds": 3600})).await.expect(200);
    let current = rotated.body["key"].as_str().unwrap().to_owned();
    app.call("GET", "/api/v1/api_keys", &old, Value::Null).await.expect(200);
    app.call("POST", &rotate, &old, json!({"grace_period_seconds": 0})).await.expect(403);
    app.call("DELETE", &format!("/api/v1/api_keys/{id}"), &old, Value::Null).await.expect(403);
    app.call("GET", "/api/v1/api_keys", &current, Value::Null).await.expect(200);
}

/// Review: deleting an organization deletes its keys, clients and users with it, so it needs
/// every scope they hold, as deleting each of them would.
async fn deleting_an_organization_needs_what_it_holds(app: TestApp) {
    let org = app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Org"})).await.expect(201).id();
    let body = json!({"name": "org admin", "scopes": ["admin"], "organization_id": org});
    app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let (_, narrow) = key_with(&app, &["organizations:write"]).await;
    let refused = app.call("DELETE", &format!("/api/v1/organizations/{org}"), &narrow, Value::Null).await.expect(403);
    assert!(refused.body["message"].as_str().unwrap().contains("`admin`"), "{}", refused.body);
    app.call("GET", &format!("/api/v1/organizations/{org}"), &app.tenant_key, Value::Null).await.expect(200);
    app.call("DELETE", &format!("/api/v1/organizations/{org}"), &app.tenant_key, Value::Null).await.expect(204);
}
