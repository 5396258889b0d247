//! docs/api.md: objects outside the caller's tenant or organization answer 404, never 403, for
//! every resource and every method; lists never show them.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::organizations_api::organization_key;
use crate::support::TestApp;

on_both_databases!(tenants_cannot_reach_each_others_objects, organization_keys_cannot_reach_other_organizations);

/// One object of each kind in the tenant of `key` (inside `organization` when given): (collection, id).
async fn one_of_each(app: &TestApp, key: &str, organization: Option<&str>) -> Vec<(&'static str, String)> {
    let org_field = |mut body: Value| {
        if let Some(org) = organization {
            body["organization_id"] = json!(org);
        }
        body
    };
    let mut objects = Vec::new();
    if organization.is_none() {
        let org = app.call("POST", "/api/v1/organizations", key, json!({"name": "Org"})).await.expect(201).id();
        objects.push(("organizations", org));
    }
    let email = format!("{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    objects.push((
        "users",
        app.call("POST", "/api/v1/users", key, org_field(json!({"email": email}))).await.expect(201).id(),
    ));
    objects.push((
        "clients",
        app.call("POST", "/api/v1/clients", key, org_field(json!({"name": "c"}))).await.expect(201).id(),
    ));
    objects.push((
        "api_keys",
        app.call("POST", "/api/v1/api_keys", key, org_field(json!({"name": "k", "scopes": ["users:read"]})))
            .await
            .expect(201)
            .id(),
    ));
    objects
}

async fn assert_unreachable(app: &TestApp, key: &str, objects: &[(&str, String)]) {
    for (collection, id) in objects {
        let path = format!("/api/v1/{collection}/{id}");
        for method in ["GET", "PATCH", "DELETE"] {
            if *collection == "api_keys" && method == "PATCH" {
                continue;
            }
            let answer = app.call(method, &path, key, json!({"name": "taken over"})).await;
            assert_eq!((answer.status, answer.error()), (404, "not_found"), "{method} {path}: {}", answer.body);
        }
        let extra = match *collection {
            "clients" => Some(format!("{path}/secret")),
            "api_keys" => Some(format!("{path}/rotate")),
            _ => None,
        };
        if let Some(action) = extra {
            assert_eq!(app.call("POST", &action, key, json!({})).await.status, 404, "POST {action}");
        }
        let list = app.call("GET", &format!("/api/v1/{collection}?limit=100"), key, Value::Null).await.expect(200);
        assert!(!list.body.to_string().contains(id.as_str()), "{collection} list shows {id}");
    }
}

async fn tenants_cannot_reach_each_others_objects(app: TestApp) {
    let theirs = one_of_each(&app, &app.tenant_key, None).await;
    let other_key = app.other_tenant_key().await;
    assert_unreachable(&app, &other_key, &theirs).await;
    // And they are all still there for their owner.
    for (collection, id) in &theirs {
        app.call("GET", &format!("/api/v1/{collection}/{id}"), &app.tenant_key, Value::Null).await.expect(200);
    }
}

async fn organization_keys_cannot_reach_other_organizations(app: TestApp) {
    let (org_a, key_a) = organization_key(&app, "A").await;
    let (org_b, key_b) = organization_key(&app, "B").await;
    let in_b = one_of_each(&app, &app.tenant_key, Some(&org_b)).await;
    let tenant_level = one_of_each(&app, &app.tenant_key, None).await;
    assert_unreachable(&app, &key_a, &in_b).await;
    assert_unreachable(&app, &key_a, &tenant_level).await;
    app.call("GET", &format!("/api/v1/organizations/{org_b}"), &key_a, Value::Null).await.expect(404);
    // Each key reaches its own organization's objects.
    for (collection, id) in &in_b {
        app.call("GET", &format!("/api/v1/{collection}/{id}"), &key_b, Value::Null).await.expect(200);
    }
    let _ = org_a;
}
