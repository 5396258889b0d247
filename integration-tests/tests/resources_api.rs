//! `/api/v1/resources` (docs/api.md, "Resources"): a tenant's APIs, with identifiers unique
//! across the deployment and scopes unique within the tenant; organization keys reach none.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::organizations_api::organization_key;
use crate::support::{ISSUER, TEST_API, TestApp};

on_both_databases!(
    clients_and_keys_hold_only_scopes_an_api_defines,
    the_server_refuses_to_start_when_a_resource_has_its_identifier,
    resources_lifecycle,
    identifiers_and_scopes_are_checked,
    identifiers_are_unique_across_tenants_and_scopes_within_one,
    organization_keys_reach_no_resource,
);

fn resource(identifier: &str, scopes: &[&str]) -> Value {
    json!({"name": "Orders API", "identifier": identifier, "scopes": scopes})
}

async fn resources_lifecycle(app: TestApp) {
    let key = &app.tenant_key;
    let created =
        app.call("POST", "/api/v1/resources", key, resource("https://orders.example.com", &["shop:read"])).await;
    let created = created.expect(201);
    assert_eq!(created.body["object"], "resource");
    assert!(created.id().starts_with("res_"), "{}", created.body);
    let path = format!("/api/v1/resources/{}", created.id());
    let fetched = app.call("GET", &path, key, Value::Null).await.expect(200);
    assert_eq!(fetched.body["identifier"], "https://orders.example.com");
    assert_eq!(fetched.body["scopes"], json!(["shop:read"]));

    let changed = json!({"name": "Orders", "scopes": ["shop:read", "shop:write"]});
    let changed = app.call("PATCH", &path, key, changed).await.expect(200);
    assert_eq!(
        (changed.body["name"].as_str(), changed.body["scopes"].as_array().map(Vec::len)),
        (Some("Orders"), Some(2))
    );
    let listed = app.call("GET", "/api/v1/resources?limit=10", key, Value::Null).await.expect(200);
    let identifiers: Vec<&str> =
        listed.body["data"].as_array().unwrap().iter().filter_map(|r| r["identifier"].as_str()).collect();
    assert_eq!(identifiers, ["https://orders.example.com", TEST_API], "newest first, with the test tenant's API");

    app.call("DELETE", &path, key, Value::Null).await.expect(204);
    app.call("GET", &path, key, Value::Null).await.expect(404);
    app.call("GET", "/api/v1/resources/res_not-an-id", key, Value::Null).await.expect(404);
    let events = app.call("GET", "/api/v1/audit_logs?limit=10", key, Value::Null).await.expect(200);
    let actions: Vec<&str> =
        events.body["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["resource.created", "resource.updated", "resource.deleted"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

async fn identifiers_and_scopes_are_checked(app: TestApp) {
    let key = &app.tenant_key;
    let refused = |body: Value| {
        let app = &app;
        async move { app.call("POST", "/api/v1/resources", key, body).await.expect(422) }
    };
    for (identifier, code) in [
        ("http://orders.example.com", "invalid"),
        ("https://orders.example.com/#part", "invalid"),
        ("orders", "invalid"),
        ("https://ORDERS.example.com", "invalid"),
        ("https://orders.example.com:443/v1", "invalid"),
        (&*format!("{ISSUER}/api"), "reserved"),
    ] {
        let answer = refused(resource(identifier, &["shop:read"])).await;
        assert_eq!(answer.body["errors"][0]["field"], "identifier", "{identifier}: {}", answer.body);
        assert_eq!(answer.body["errors"][0]["code"], code, "{identifier}: {}", answer.body);
    }
    for (scopes, code) in [
        (vec!["admin"], "reserved"),
        (vec!["users:read"], "reserved"),
        (vec!["openid"], "reserved"),
        (vec!["shop:read", "shop:read"], "duplicate"),
        (vec!["two words"], "invalid"),
    ] {
        let answer = refused(resource("https://orders.example.com", &scopes)).await;
        let last = answer.body["errors"].as_array().unwrap().last().cloned().unwrap();
        assert_eq!(last["code"], code, "{scopes:?}: {}", answer.body);
    }
    let none = refused(resource("https://orders.example.com", &[])).await;
    assert_eq!(none.body["errors"][0]["field"], "scopes", "{}", none.body);
    // A loopback API on the developer's machine may use http.
    app.call("POST", "/api/v1/resources", key, resource("http://localhost:9000", &["local:read"])).await.expect(201);
}

async fn identifiers_are_unique_across_tenants_and_scopes_within_one(app: TestApp) {
    let key = &app.tenant_key;
    app.call("POST", "/api/v1/resources", key, resource("https://orders.example.com", &["shop:read"]))
        .await
        .expect(201);
    let other = app.call("POST", "/api/v1/resources", key, resource("https://billing.example.com", &["billing:read"]));
    let other = other.await.expect(201).id();

    // The same scope in the same tenant: taken, whether created or patched in.
    let taken = app.call("POST", "/api/v1/resources", key, resource("https://stock.example.com", &["shop:read"]));
    let taken = taken.await.expect(422);
    assert_eq!(
        (taken.body["errors"][0]["field"].as_str(), taken.body["errors"][0]["code"].as_str()),
        (Some("scopes[0]"), Some("taken"))
    );
    let other_path = format!("/api/v1/resources/{other}");
    let patched = app.call("PATCH", &other_path, key, json!({"scopes": ["shop:read"]})).await.expect(422);
    assert_eq!(patched.body["errors"][0]["code"], "taken");
    let moved = json!({"identifier": "https://orders.example.com"});
    let moved = app.call("PATCH", &other_path, key, moved).await.expect(422);
    assert_eq!(moved.body["errors"][0]["field"], "identifier", "{}", moved.body);

    // Writers racing for one scope: exactly one gets it.
    let racing = |i: usize| {
        let body = resource(&format!("https://racer{i}.example.com"), &["race:read"]);
        app.call("POST", "/api/v1/resources", key, body)
    };
    let answers = futures_util::future::join_all((0..6).map(racing)).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 201 | 422)), "{statuses:?}");

    // Another tenant may define the same scope, but not take the identifier.
    let (_, other_tenant_key) = app.create_tenant("Other").await;
    let same_scope = resource("https://other.example.com", &["shop:read"]);
    app.call("POST", "/api/v1/resources", &other_tenant_key, same_scope).await.expect(201);
    let same_identifier = resource("https://orders.example.com", &["x:read"]);
    let refused = app.call("POST", "/api/v1/resources", &other_tenant_key, same_identifier).await.expect(422);
    assert_eq!(refused.body["errors"][0]["code"], "taken", "{}", refused.body);
    // An identifier stays its tenant's after the resource goes: tokens for it may be alive.
    let (status, _) = {
        let answer = app.call("DELETE", &other_path, key, Value::Null).await;
        (answer.status, ())
    };
    assert_eq!(status, 204);
    let freed = resource("https://billing.example.com", &["y:read"]);
    let refused = app.call("POST", "/api/v1/resources", &other_tenant_key, freed.clone()).await.expect(422);
    assert_eq!(refused.body["errors"][0]["code"], "taken", "{}", refused.body);
    app.call("POST", "/api/v1/resources", key, freed).await.expect(201);
    // And cannot see this tenant's resources.
    let listed = app.call("GET", "/api/v1/resources", &other_tenant_key, Value::Null).await.expect(200);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    app.call("GET", &other_path, &other_tenant_key, Value::Null).await.expect(404);
}

async fn organization_keys_reach_no_resource(app: TestApp) {
    let created =
        app.call("POST", "/api/v1/resources", &app.tenant_key, resource("https://orders.example.com", &["shop:read"]));
    let path = format!("/api/v1/resources/{}", created.await.expect(201).id());
    let (_, org_key) = organization_key(&app, "Initech").await;
    let body = resource("https://initech.example.com", &["initech:read"]);
    assert_eq!(app.call("POST", "/api/v1/resources", &org_key, body).await.status, 403);
    assert_eq!(app.call("PATCH", &path, &org_key, json!({"name": "mine"})).await.status, 403);
    assert_eq!(app.call("DELETE", &path, &org_key, Value::Null).await.status, 403);
    app.call("GET", &path, &org_key, Value::Null).await.expect(404);
    let listed = app.call("GET", "/api/v1/resources", &org_key, Value::Null).await.expect(200);
    assert_eq!(listed.body["data"], json!([]));
}

/// A resource registered before `token.audience` was set to its identifier would make its
/// tokens the management API's: the server refuses to start (docs/api.md, "Resources").
async fn the_server_refuses_to_start_when_a_resource_has_its_identifier(app: TestApp) {
    let identifier = "https://management.example.com";
    let body = resource(identifier, &["z:read"]);
    app.call("POST", "/api/v1/resources", &app.tenant_key, body).await.expect(201);
    let mut settings = app.settings.clone();
    settings.oauth.audience = identifier.to_owned();
    settings.server.listen = "127.0.0.1:0".parse().unwrap();
    let refused = tokio::task::spawn_blocking(move || {
        actix_web::rt::System::new()
            .block_on(async move { tollbooth::app::Application::build(&settings).err().map(|e| e.to_string()) })
    })
    .await
    .unwrap();
    let refused = refused.expect("the server refuses to start");
    assert!(refused.contains(identifier), "{refused}");
}

/// docs/api.md, "Resources": a client or key holds management scopes, OpenID scopes and scopes
/// of its tenant's APIs; anything else is 422. A scope it holds stays after its API goes.
async fn clients_and_keys_hold_only_scopes_an_api_defines(app: TestApp) {
    let key = &app.tenant_key;
    let created = app.call("POST", "/api/v1/resources", key, resource("https://shop.example.com", &["shop:read"]));
    let shop = format!("/api/v1/resources/{}", created.await.expect(201).id());
    for path in ["/api/v1/clients", "/api/v1/api_keys"] {
        let body = json!({"name": "n", "scopes": ["users:read", "nonsense:read"]});
        let refused = app.call("POST", path, key, body).await.expect(422);
        let error = &refused.body["errors"][0];
        assert_eq!((error["field"].as_str(), error["code"].as_str()), (Some("scopes[1]"), Some("unknown")), "{path}");
    }
    // Another tenant's API scope is not this tenant's.
    let (_, other_key) = app.create_tenant("Other").await;
    let refused = app.call("POST", "/api/v1/clients", &other_key, json!({"name": "n", "scopes": ["shop:read"]}));
    assert_eq!(refused.await.expect(422).body["errors"][0]["code"], "unknown");

    let body = json!({"name": "shop client", "scopes": ["shop:read", "openid", "users:read"]});
    let client = app.call("POST", "/api/v1/clients", key, body).await.expect(201).id();
    let body = json!({"name": "shop key", "scopes": ["shop:read"]});
    app.call("POST", "/api/v1/api_keys", key, body).await.expect(201);
    // The API goes; the client keeps what it held and can still be changed, but gains nothing new.
    app.call("DELETE", &shop, key, Value::Null).await.expect(204);
    let client_path = format!("/api/v1/clients/{client}");
    app.call("PATCH", &client_path, key, json!({"name": "renamed", "scopes": ["shop:read", "openid"]}))
        .await
        .expect(200);
    let refused =
        app.call("PATCH", &client_path, key, json!({"scopes": ["shop:read", "shop:write"]})).await.expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "scopes[1]", "{}", refused.body);
    // The deleted API's scope itself is no longer for anyone new.
    let late = app.call("POST", "/api/v1/clients", key, json!({"name": "late", "scopes": ["shop:read"]}));
    assert_eq!(late.await.expect(422).body["errors"][0]["code"], "unknown");
}
