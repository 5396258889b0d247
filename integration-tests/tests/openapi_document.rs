//! docs/api.md OpenAPI: the served document is valid OpenAPI 3.1 in the rules checked here, and
//! describes every `/api/v1` route; the explorer is served from the binary.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

/// Every route of the management API and the OAuth endpoints, as (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/tenants"),
    ("get", "/api/v1/tenants"),
    ("get", "/api/v1/tenants/{id}"),
    ("patch", "/api/v1/tenants/{id}"),
    ("delete", "/api/v1/tenants/{id}"),
    ("post", "/api/v1/organizations"),
    ("get", "/api/v1/organizations"),
    ("get", "/api/v1/organizations/{id}"),
    ("patch", "/api/v1/organizations/{id}"),
    ("delete", "/api/v1/organizations/{id}"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/me"),
    ("get", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("delete", "/api/v1/users/{id}"),
    ("post", "/api/v1/clients"),
    ("get", "/api/v1/clients"),
    ("get", "/api/v1/clients/{id}"),
    ("patch", "/api/v1/clients/{id}"),
    ("delete", "/api/v1/clients/{id}"),
    ("post", "/api/v1/clients/{id}/secret"),
    ("post", "/api/v1/api_keys"),
    ("get", "/api/v1/api_keys"),
    ("get", "/api/v1/api_keys/{id}"),
    ("delete", "/api/v1/api_keys/{id}"),
    ("post", "/api/v1/api_keys/{id}/rotate"),
    ("post", "/api/v1/resources"),
    ("get", "/api/v1/resources"),
    ("get", "/api/v1/resources/{id}"),
    ("patch", "/api/v1/resources/{id}"),
    ("delete", "/api/v1/resources/{id}"),
    ("get", "/api/v1/audit_logs"),
    ("get", "/api/v1/rate_limits"),
    ("post", "/api/v1/verify"),
    ("get", "/verify"),
    ("get", "/oauth/authorize"),
    ("post", "/oauth/authorize"),
    ("post", "/oauth/token"),
    ("post", "/oauth/introspect"),
    ("post", "/oauth/revoke"),
    ("get", "/oauth/userinfo"),
    ("post", "/oauth/userinfo"),
    ("get", "/oauth/logout"),
    ("post", "/oauth/logout"),
    ("get", "/.well-known/openid-configuration"),
    ("get", "/.well-known/oauth-authorization-server"),
    ("get", "/.well-known/jwks.json"),
];

/// Collects every `$ref` in the document.
fn refs(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref" {
                    found.insert(inner.as_str().unwrap().to_owned());
                } else {
                    refs(inner, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, found)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_valid_and_complete() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let response = app.http.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();

    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "OpenAPI 3.1");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        let operation = &paths.get(*path).unwrap_or_else(|| panic!("{path} is missing"))[*method];
        assert!(operation.is_object(), "{method} {path} is missing");
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has no success response");
        for (status, response) in responses {
            assert!(response["description"].is_string(), "{method} {path} {status} needs a description");
        }
        if path.starts_with("/api/v1") {
            for status in ["401", "403", "429", "500", "503"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
            // `/users/me` is 404 for a credential that has no user.
            if path.contains('{') || *path == "/api/v1/users/me" {
                assert!(responses.contains_key("404"), "{method} {path} lacks 404");
            }
            if operation.get("requestBody").is_some() {
                assert!(
                    responses.contains_key("400") && responses.contains_key("422"),
                    "{method} {path} lacks 400/422"
                );
            }
        }
        // Every {parameter} of the template is declared as a path parameter.
        let declared: Vec<&str> = operation["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect())
            .unwrap_or_default();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(declared.contains(&name), "{method} {path} does not declare {name}");
        }
    }
    // No route in the document that the server does not have.
    let documented: usize = paths.values().map(|item| item.as_object().unwrap().len()).sum();
    assert_eq!(documented, ROUTES.len());
    // And the server routes each path exactly as documented: a method no route uses (PUT) is
    // refused with `Allow` naming the path's methods, which must be the documented ones (and
    // HEAD, served wherever GET is).
    for (path, item) in paths {
        let mut documented: Vec<String> = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        if documented.iter().any(|m| m == "GET") {
            documented.push("HEAD".into());
        }
        documented.sort();
        let url = app.url(&path.replace("{id}", "x"));
        let refused = app.http.put(url).send().await.unwrap();
        assert_eq!(refused.status(), 405, "PUT {path}");
        let mut served: Vec<String> =
            refused.headers()["allow"].to_str().unwrap().split(", ").map(str::to_owned).collect();
        served.sort();
        assert_eq!(served, documented, "{path}: the methods served and documented differ");
    }

    // Documented bounds are the server's own: a value at a bound is taken, one past it is 422.
    let schemas = &doc["components"]["schemas"];
    let bound = |schema: &str, field: &str, keyword: &str| {
        let value = &schemas[schema]["properties"][field][keyword];
        usize::try_from(value.as_u64().unwrap_or_else(|| panic!("{schema}.{field} documents no {keyword}"))).unwrap()
    };
    let key = app.tenant_key.clone();
    let (min, max) = (bound("CreateUser", "password", "minLength"), bound("CreateUser", "password", "maxLength"));
    for (length, status) in [(min - 1, 422), (min, 201), (max, 201), (max + 1, 422)] {
        let user = json!({"email": format!("len{length}@example.com"), "password": "p".repeat(length)});
        app.call("POST", "/api/v1/users", &key, user).await.expect(status);
    }
    let max = bound("CreateOrganization", "name", "maxLength");
    for (length, status) in [(max, 201), (max + 1, 422)] {
        app.call("POST", "/api/v1/organizations", &key, json!({"name": "n".repeat(length)})).await.expect(status);
    }
    let api_key = app.call("POST", "/api/v1/api_keys", &key, json!({"name": "k", "scopes": ["users:read"]})).await;
    let rotate = format!("/api/v1/api_keys/{}/rotate", api_key.expect(201).id());
    let max = bound("RotateApiKey", "grace_period_seconds", "maximum");
    for (seconds, status) in [(max + 1, 422), (max, 200)] {
        app.call("POST", &rotate, &key, json!({"grace_period_seconds": seconds})).await.expect(status);
    }
    assert_eq!(schemas["CreateApiKey"]["required"], json!(["name", "scopes"]));
    app.call("POST", "/api/v1/api_keys", &key, json!({"name": "k"})).await.expect(422);

    // Every reference resolves.
    let mut found = BTreeSet::new();
    refs(&doc, &mut found);
    for reference in found {
        let pointer = reference.strip_prefix('#').expect("local references only");
        assert!(doc.pointer(pointer).is_some(), "{reference} does not resolve");
    }

    // The explorer is served from the binary, assets included.
    let redirect = app.http.get(app.url("/api/docs")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    let page = app.http.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        let response = app.http.get(app.url(&format!("/api/docs/{asset}"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
    let initializer =
        app.http.get(app.url("/api/docs/swagger-initializer.js")).send().await.unwrap().text().await.unwrap();
    assert!(initializer.contains("/api/openapi.json"));
    assert!(!html.contains("https://") && !initializer.contains("https://"), "nothing loaded from the internet");
}

/// Every operation has a unique `operationId` that reads as a verb and an object
/// (`listOrganizations`, `rotateApiKey`), so a generated SDK gets one well-named function each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_ids_are_unique_verbs_and_objects() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let doc: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut seen = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(seen.insert(id.to_owned()), "{id} is used twice ({method} {path})");
            let verb_end = id.find(|c: char| c.is_ascii_uppercase()).unwrap_or(id.len());
            assert!(
                verb_end > 0 && verb_end < id.len() && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{id} ({method} {path}) is not a camelCase verb and object"
            );
        }
    }
    for expected in ["listOrganizations", "getOrganization", "rotateApiKey", "createClient", "revokeToken"] {
        assert!(seen.contains(expected), "{expected} is missing: {seen:?}");
    }
}
