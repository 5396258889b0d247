//! `/api/v1/users`: Argon2id passwords, unique emails per tenant, `/users/me`.

use serde_json::{Value, json};
use tollbooth_storage::{Reach, signing_keys, users};

use crate::on_both_databases;
use crate::support::{AUDIENCE, ISSUER, TestApp};

on_both_databases!(users_lifecycle, emails_are_unique_per_tenant, users_me_answers_for_user_tokens_only);

async fn users_lifecycle(app: TestApp) {
    let key = app.tenant_key.clone();
    let created = app
        .call(
            "POST",
            "/api/v1/users",
            &key,
            json!({"email": "  Ada@Example.COM ", "name": "Ada", "password": "correct horse battery"}),
        )
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(created.body["email"], "ada@example.com");
    assert_eq!(created.body["has_password"], true);
    assert_eq!(created.body["email_verified"], false);
    assert!(created.body.get("password").is_none() && created.body.get("password_hash").is_none());

    // Stored as Argon2id, never as the password.
    let (reach, lookup) = (Reach { tenant_id: app.tenant_id.clone(), organization_id: None }, id.clone());
    let stored = app.db.run(move |conn| users::get(conn, &reach, &lookup)).await.unwrap();
    let hash = stored.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(tollbooth_storage::passwords::verify("correct horse battery", &hash));

    let patched = app
        .call("PATCH", &format!("/api/v1/users/{id}"), &key, json!({"email_verified": true, "name": "Ada L."}))
        .await
        .expect(200);
    assert_eq!((patched.body["email_verified"].as_bool(), patched.body["name"].as_str()), (Some(true), Some("Ada L.")));

    let bad = app
        .call("POST", "/api/v1/users", &key, json!({"email": "not-an-email", "password": "short"}))
        .await
        .expect(422);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "password"]);

    let list = app.call("GET", "/api/v1/users", &key, Value::Null).await.expect(200);
    let emails: Vec<&str> =
        list.body["data"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails.len(), 2, "{emails:?}");
    assert!(emails.contains(&crate::support::FIRST_ADMIN_EMAIL), "the bootstrap's admin and the new user");
    app.call("DELETE", &format!("/api/v1/users/{id}"), &key, Value::Null).await.expect(204);
    app.call("GET", &format!("/api/v1/users/{id}"), &key, Value::Null).await.expect(404);
}

async fn emails_are_unique_per_tenant(app: TestApp) {
    let key = app.tenant_key.clone();
    app.call("POST", "/api/v1/users", &key, json!({"email": "sam@example.com"})).await.expect(201);
    let taken = app.call("POST", "/api/v1/users", &key, json!({"email": "SAM@example.com"})).await.expect(409);
    assert_eq!(taken.error(), "conflict");
    let other = app.call("POST", "/api/v1/users", &key, json!({"email": "max@example.com"})).await.expect(201).id();
    app.call("PATCH", &format!("/api/v1/users/{other}"), &key, json!({"email": "sam@example.com"})).await.expect(409);
    // Another tenant may have the same email.
    let other_tenant = app.other_tenant_key().await;
    app.call("POST", "/api/v1/users", &other_tenant, json!({"email": "sam@example.com"})).await.expect(201);
}

/// A token this server signs for `sub`, as the authorization-code flow will issue for users.
pub async fn user_token(app: &TestApp, subject: &str) -> String {
    let now = tollbooth_storage::now();
    let keys = app.db.run(move |conn| signing_keys::published(conn, now)).await.unwrap();
    let key = keys.into_iter().find(|k| k.algorithm == "ES256").expect("the access-token key");
    let issued_at = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": ISSUER, "sub": subject, "aud": AUDIENCE, "iat": issued_at, "exp": issued_at + 600,
        "jti": ulid::Ulid::new().to_string(), "client_id": "client_app", "scope": "profile", "tid": app.tenant_id,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key.kid.clone());
    let signing_key = jsonwebtoken::EncodingKey::from_ec_pem(app.private_key_pem(&key).as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &signing_key).unwrap()
}

async fn users_me_answers_for_user_tokens_only(app: TestApp) {
    let user = app.call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "me@example.com"})).await.expect(201);
    let token = user_token(&app, &user.id()).await;
    let me = app.call("GET", "/api/v1/users/me", &token, Value::Null).await.expect(200);
    assert_eq!(me.body, user.body);

    assert_eq!(
        app.call("GET", "/api/v1/users/me", &app.tenant_key, Value::Null).await.expect(404).error(),
        "not_found"
    );
    let (client_id, secret) = app.confidential_client(&["users:read"]).await;
    let client_token = app.access_token(&client_id, &secret, None).await;
    app.call("GET", "/api/v1/users/me", &client_token, Value::Null).await.expect(404);
    let gone = user_token(&app, "user_01JD6ZZZZZZZZZZZZZZZZZZZZZ").await;
    app.call("GET", "/api/v1/users/me", &gone, Value::Null).await.expect(404);
}
