//! docs/configuration.md: several instances on one database and one Redis behave as one deployment. Runs on
//! PostgreSQL and the shared Redis (skipped with a message outside CI when either is not set).

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Backend, TestApp, UNMETERED, eventually, shared_redis};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_tokens_keys_signing_keys_and_limits() {
    let Some(redis) = shared_redis() else { return };
    let env = [("TOLLBOOTH_REDIS_URL", redis.as_str())];
    let Some(a) = TestApp::spawn_configured(Backend::Postgres, UNMETERED, &env).await else { return };
    let b = a.spawn_sibling(&a.config_path(), &env);
    let on_b = |path: &str| format!("{}{path}", b.base_url);

    // A token issued by A is accepted, introspected and revoked through B.
    let (id, secret) = a.confidential_client(&["clients:read"]).await;
    let token = a.access_token(&id, &secret, None).await;
    let accepted = a.http.get(on_b("/api/v1/clients")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(accepted.status(), 200);
    let introspected: Value = a
        .http
        .post(on_b("/oauth/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true);
    let revoked = a
        .http
        .post(on_b("/oauth/revoke"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(a.http.get(on_b("/api/v1/clients")).bearer_auth(&token).send().await.unwrap().status(), 401);
    eventually(Duration::from_secs(2), || async {
        a.http.get(a.url("/api/v1/clients")).bearer_auth(&token).send().await.unwrap().status() == 401
    })
    .await
    .expect("A refuses the token B revoked within a second or two");

    // An API key deleted through A is refused by B within a second.
    let key = a
        .call("POST", "/api/v1/api_keys", &a.tenant_key, json!({"name": "shared", "scopes": ["clients:read"]}))
        .await
        .expect(201);
    let secret_key = key.body["key"].as_str().unwrap().to_owned();
    assert_eq!(
        a.http.get(on_b("/api/v1/clients")).bearer_auth(&secret_key).send().await.unwrap().status(),
        200,
        "B has seen (cached) it"
    );
    a.call("DELETE", &format!("/api/v1/api_keys/{}", key.id()), &a.tenant_key, Value::Null).await.expect(204);
    let refused_within = eventually(Duration::from_millis(1500), || async {
        a.http.get(on_b("/api/v1/clients")).bearer_auth(&secret_key).send().await.unwrap().status() == 401
    })
    .await
    .expect("B refuses the deleted key");
    assert!(refused_within <= Duration::from_millis(1100), "refused after {refused_within:?}");

    // A signing-key rotation is honoured by both: new tokens, signed with the new key, verify on B.
    let db = a.db.clone();
    let algorithm = a.settings.token.signing_algorithm;
    let (new_kids, _) = tokio::task::spawn_blocking(move || {
        tollbooth_oauth::keys::rotate(&db, algorithm, chrono::Duration::hours(24)).unwrap()
    })
    .await
    .unwrap();
    let new_kid = new_kids[0].clone();
    let (reader_id, reader_secret) = a.confidential_client(&["clients:read"]).await;
    eventually(Duration::from_secs(5), || async {
        let fresh = a.access_token(&reader_id, &reader_secret, None).await;
        jsonwebtoken::decode_header(&fresh).unwrap().kid.as_deref() == Some(new_kid.as_str())
            && a.http.get(on_b("/api/v1/clients")).bearer_auth(&fresh).send().await.unwrap().status() == 200
    })
    .await
    .expect("A signs with the new key and B accepts its tokens");
    let jwks: Value = a.http.get(on_b("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == new_kid.as_str()));

    // Rate limits are shared: on the basic plan (2 per minute), the third request is refused
    // whichever instance it reaches.
    let tenant = a.call("POST", "/api/v1/tenants", &a.operator_key, json!({"name": "Limited"})).await.expect(201);
    let limited_key = tenant.body["api_key"]["key"].as_str().unwrap().to_owned();
    a.call("PATCH", &format!("/api/v1/tenants/{}", tenant.id()), &a.operator_key, json!({"plan": "basic"}))
        .await
        .expect(200);
    // Neither instance has cached the old plan: both read "basic".
    assert_eq!(a.http.get(a.url("/api/v1/users")).bearer_auth(&limited_key).send().await.unwrap().status(), 200);
    assert_eq!(a.http.get(on_b("/api/v1/users")).bearer_auth(&limited_key).send().await.unwrap().status(), 200);
    let third = a.http.get(on_b("/api/v1/users")).bearer_auth(&limited_key).send().await.unwrap();
    assert_eq!(third.status(), 429, "the two instances share one budget");
}
