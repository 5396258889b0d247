//! `/api/v1/clients`: create, get, list with cursor pagination, tenant isolation.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(
    created_client_has_every_field_and_defaults,
    other_tenants_clients_are_not_found,
    list_walks_every_client_once_both_ways,
    list_query_is_validated,
);

async fn created_client_has_every_field_and_defaults(app: TestApp) {
    let created = app
        .create_client(json!({
            "name": "  Mobile app ",
            "confidential": false,
            "redirect_uris": ["https://app.example.com/cb", "http://127.0.0.1:7000/cb"],
            "scopes": ["profile"],
            "skip_consent": false,
            "access_token_ttl": 600,
        }))
        .await;
    // RFC 9700 §2.1: anyone can name a public client, so its users are always asked.
    let refused = app
        .call(
            "POST",
            "/api/v1/clients",
            &app.tenant_key,
            json!({"name": "SPA", "confidential": false,
            "redirect_uris": ["https://app.example.com/cb"], "skip_consent": true}),
        )
        .await
        .expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "skip_consent");
    assert!(created["id"].as_str().unwrap().starts_with("client_"));
    assert_eq!(created["object"], "client");
    assert_eq!(created["name"], "Mobile app");
    assert_eq!(created["confidential"], false);
    assert_eq!(created["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(created["skip_consent"], false);
    assert_eq!(created["access_token_ttl"], 600);
    assert!(created["redacted"].is_null() && created.get("client_secret").is_none());
    let created_at = created["created_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'));

    let fetched: Value = app
        .http
        .get(app.url(&format!("/api/v1/clients/{}", created["id"].as_str().unwrap())))
        .bearer_auth(&app.tenant_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);

    let confidential = app.create_client(json!({"name": "Worker"})).await;
    assert_eq!(confidential["grant_types"], json!(["client_credentials"]));
    assert_eq!(confidential["access_token_ttl"], 3600);
    let secret = confidential["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("cs_") && secret.len() >= 46, "256 bits of base62");
    assert_eq!(confidential["redacted"].as_str().unwrap(), format!("cs_…{}", &secret[secret.len() - 4..]));
}

async fn other_tenants_clients_are_not_found(app: TestApp) {
    let (id, _) = app.confidential_client(&[]).await;
    let other_key = app.other_tenant_key().await;
    for path in [
        format!("/api/v1/clients/{id}"),
        "/api/v1/clients/client_01JD6ZZZZZZZZZZZZZZZZZZZZZ".into(),
        "/api/v1/clients/nonsense".into(),
    ] {
        let response = app.http.get(app.url(&path)).bearer_auth(&other_key).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "not_found");
    }
    let list: Value =
        app.http.get(app.url("/api/v1/clients")).bearer_auth(&other_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"], json!([]));
}

async fn walk(app: &TestApp, order: &str, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = vec![("order", order.to_owned()), ("limit", limit.to_string())];
        if let Some(after) = &after {
            query.push(("after", after.clone()));
        }
        let page: Value = app
            .http
            .get(app.url("/api/v1/clients"))
            .query(&query)
            .bearer_auth(&app.tenant_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<String> =
            page["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
        assert!(ids.len() <= limit as usize);
        seen.extend(ids);
        match page["list_metadata"]["after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return seen,
        }
    }
}

async fn list_walks_every_client_once_both_ways(app: TestApp) {
    let mut created = Vec::new();
    for i in 0..7 {
        created
            .push(app.create_client(json!({"name": format!("client {i}")})).await["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(walk(&app, "asc", 3).await, created);
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(walk(&app, "desc", 2).await, newest_first);
    assert_eq!(walk(&app, "desc", 100).await, newest_first);

    // Walking back with `before` from the last page returns the previous page in list order.
    let page: Value = app
        .http
        .get(app.url(&format!("/api/v1/clients?order=asc&limit=3&before={}", created[5])))
        .bearer_auth(&app.tenant_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = page["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, created[2..5].iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(page["list_metadata"]["before"], created[2].as_str());
    assert_eq!(page["list_metadata"]["after"], created[4].as_str());
    assert_eq!(page["object"], "list");
}

async fn list_query_is_validated(app: TestApp) {
    let cases = [
        ("limit=0", 422),
        ("limit=101", 422),
        ("limit=ten", 422),
        ("after=org_01JD6ZZZZZZZZZZZZZZZZZZZZZ", 422),
        ("after=client_01JD6ZZZZZZZZZZZZZZZZZZZZZ&before=client_01JD6ZZZZZZZZZZZZZZZZZZZZZ", 422),
        ("order=sideways", 400),
        ("colour=red", 400),
        ("limit=100&order=asc", 200),
    ];
    for (query, expected) in cases {
        let response = app
            .http
            .get(app.url(&format!("/api/v1/clients?{query}")))
            .bearer_auth(&app.tenant_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{query}");
        if expected == 422 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "validation_failed", "{query}");
            assert!(!body["errors"].as_array().unwrap().is_empty(), "{query}");
        }
    }
}
