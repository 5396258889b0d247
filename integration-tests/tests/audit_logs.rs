//! docs/api.md audit events: every create, update, delete and rotate is recorded with its actor,
//! target, IP and time, and listed like every list.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(changes_are_audited, events_past_their_retention_are_deleted);

/// docs/security.md: audit events are kept `audit.retention_days` (default 400), then deleted.
async fn events_past_their_retention_are_deleted(app: TestApp) {
    use tollbooth_storage::audit;
    assert_eq!(app.settings.audit.retention, Some(chrono::Duration::days(400)));
    app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "kept"})).await.expect(201);
    let tenant_id = app.tenant_id.clone();
    let old = audit::AuditEvent {
        id: tollbooth_storage::ids::new_id(tollbooth_storage::ids::AUDIT_EVENT),
        tenant_id: Some(tenant_id),
        actor_id: None,
        action: "organization.created".into(),
        target_id: None,
        ip: None,
        metadata: tollbooth_storage::Json::default(),
        created_at: tollbooth_storage::now() - chrono::Duration::days(401),
    };
    let deleted = app
        .db
        .run_blocking(move |conn| {
            audit::record(conn, &old)?;
            audit::delete_before(conn, tollbooth_storage::now() - chrono::Duration::days(400))
        })
        .unwrap();
    assert_eq!(deleted, 1, "only the event past the retention");
    let listed = app.call("GET", "/api/v1/audit_logs?limit=100", &app.tenant_key, Value::Null).await.expect(200);
    assert!(listed.body["data"].as_array().unwrap().iter().any(|e| e["action"] == "organization.created"));
}

async fn changes_are_audited(app: TestApp) {
    let key = app.tenant_key.clone();
    let client = app.call("POST", "/api/v1/clients", &key, json!({"name": "audited"})).await.expect(201).id();
    app.call("PATCH", &format!("/api/v1/clients/{client}"), &key, json!({"name": "renamed"})).await.expect(200);
    app.call("POST", &format!("/api/v1/clients/{client}/secret"), &key, json!({})).await.expect(200);
    let api_key = app
        .call("POST", "/api/v1/api_keys", &key, json!({"name": "k", "scopes": ["users:read"]}))
        .await
        .expect(201)
        .id();
    app.call("POST", &format!("/api/v1/api_keys/{api_key}/rotate"), &key, json!({})).await.expect(200);
    app.call("DELETE", &format!("/api/v1/api_keys/{api_key}"), &key, Value::Null).await.expect(204);
    app.call("DELETE", &format!("/api/v1/clients/{client}"), &key, Value::Null).await.expect(204);
    // A refused change writes nothing.
    app.call("POST", "/api/v1/clients", &key, json!({"name": ""})).await.expect(422);

    let events = app.call("GET", "/api/v1/audit_logs?order=asc&limit=100", &key, Value::Null).await.expect(200);
    let events = events.body["data"].as_array().unwrap().clone();
    let actions: Vec<(&str, &str)> =
        events.iter().map(|e| (e["action"].as_str().unwrap(), e["target"]["id"].as_str().unwrap())).collect();
    let admin_key_id = app.call("GET", "/api/v1/api_keys?order=asc", &key, Value::Null).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The bootstrap's own events come first: by no actor, from nowhere.
    let (bootstrap, events) = events.split_at(3);
    assert_eq!(
        actions[..3].iter().map(|(action, _)| *action).collect::<Vec<_>>(),
        ["tenant.created", "api_key.created", "user.created"]
    );
    assert_eq!((actions[0].1, actions[1].1), (app.tenant_id.as_str(), admin_key_id.as_str()));
    for event in bootstrap {
        assert_eq!((&event["actor"], &event["ip"]), (&Value::Null, &Value::Null), "{event}");
    }
    assert_eq!(
        actions[3..],
        [
            ("client.created", client.as_str()),
            ("client.updated", client.as_str()),
            ("client.secret_rotated", client.as_str()),
            ("api_key.created", api_key.as_str()),
            ("api_key.rotated", api_key.as_str()),
            ("api_key.deleted", api_key.as_str()),
            ("client.deleted", client.as_str()),
        ]
    );
    for event in events {
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(event["actor"], json!({"type": "api_key", "id": admin_key_id}), "the acting key");
        assert_eq!(event["ip"], "127.0.0.1");
        assert!(chrono::DateTime::parse_from_rfc3339(event["created_at"].as_str().unwrap()).is_ok());
    }
    let page = app.call("GET", "/api/v1/audit_logs?limit=2", &key, Value::Null).await.expect(200);
    assert_eq!(page.body["data"][0]["action"], "client.deleted", "newest first");
    let next = page.body["list_metadata"]["after"].as_str().unwrap().to_owned();
    let second =
        app.call("GET", &format!("/api/v1/audit_logs?limit=2&after={next}"), &key, Value::Null).await.expect(200);
    assert_eq!(second.body["data"][0]["action"], "api_key.rotated");
    // Another tenant sees none of it.
    let other = app.other_tenant_key().await;
    let theirs = app.call("GET", "/api/v1/audit_logs?limit=100", &other, Value::Null).await.expect(200);
    assert!(theirs.body["data"].as_array().unwrap().iter().all(|e| e["action"] != "client.created"));
}
