//! docs/api.md authentication and error format on the management API.

use reqwest::header::WWW_AUTHENTICATE;
use serde_json::{Value, json};
use tollbooth_storage::signing_keys;

use crate::on_both_databases;
use crate::support::{AUDIENCE, ISSUER, TestApp};

on_both_databases!(
    missing_and_invalid_credentials_are_401_with_challenges,
    expired_token_is_token_expired,
    scopes_are_enforced_with_403_naming_the_scope,
    malformed_bodies_are_400_and_bad_fields_422,
    every_answer_has_a_request_id,
    a_wrong_method_on_a_known_path_is_405_with_allow,
    control_characters_and_malformed_ids_are_422_not_stored,
);

async fn call(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    (status, challenge, response.json().await.unwrap())
}

async fn missing_and_invalid_credentials_are_401_with_challenges(app: TestApp) {
    let url = app.url("/api/v1/clients");
    let (status, challenge, body) = call(app.http.get(&url)).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "missing_api_key", "message": "No API key provided in the Authorization header."})
    );
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"tollbooth\""));

    let (status, challenge, body) = call(app.http.get(&url).bearer_auth("sk_live_notakey")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_api_key")));
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"tollbooth\", error=\"invalid_token\""));

    let forged = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    let (status, challenge, body) = call(app.http.get(&url).bearer_auth(forged)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    assert!(challenge.unwrap().contains("error=\"invalid_token\""));
}

async fn expired_token_is_token_expired(app: TestApp) {
    // A token this server signed, with its current key, an hour past its exp.
    let now = tollbooth_storage::now();
    let keys = app.db.run(move |conn| signing_keys::published(conn, now)).await.unwrap();
    let key = keys.into_iter().find(|k| k.algorithm == "ES256").expect("the access-token key");
    let issued_at = chrono::Utc::now().timestamp() - 7200;
    let claims = json!({
        "iss": ISSUER, "sub": "client_x", "aud": AUDIENCE, "iat": issued_at, "exp": issued_at + 3600,
        "jti": "expired", "client_id": "client_x", "scope": "admin", "tid": app.tenant_id,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key.kid.clone());
    let signing_key = jsonwebtoken::EncodingKey::from_ec_pem(app.private_key_pem(&key).as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&header, &claims, &signing_key).unwrap();

    let (status, challenge, body) = call(app.http.get(app.url("/api/v1/clients")).bearer_auth(&token)).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"error": "token_expired", "message": "The access token has expired."}));
    assert!(challenge.unwrap().contains("error=\"invalid_token\""));
}

async fn scopes_are_enforced_with_403_naming_the_scope(app: TestApp) {
    // A management scope, but not the one needed (a token for another API would be refused
    // with 401 before its scopes are read: docs/oauth.md, "Audiences").
    let (id, secret) = app.confidential_client(&["organizations:read"]).await;
    let token = app.access_token(&id, &secret, None).await;
    let (status, challenge, body) =
        call(app.http.get(app.url(&format!("/api/v1/clients/{id}"))).bearer_auth(&token)).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")));
    assert!(body["message"].as_str().unwrap().contains("clients:read"));
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"tollbooth\", error=\"insufficient_scope\", scope=\"clients:read\"")
    );

    // A read-only token cannot write.
    let (reader_id, reader_secret) = app.confidential_client(&["clients:read"]).await;
    let reader = app.access_token(&reader_id, &reader_secret, None).await;
    let (status, _, body) =
        call(app.http.post(app.url("/api/v1/clients")).bearer_auth(&reader).json(&json!({"name": "x"}))).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")));
    assert!(body["message"].as_str().unwrap().contains("clients:write"));

    // The operator key manages tenants, not what is inside them.
    let (status, _, body) = call(app.http.get(app.url("/api/v1/clients")).bearer_auth(&app.operator_key)).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")));
}

async fn malformed_bodies_are_400_and_bad_fields_422(app: TestApp) {
    let url = app.url("/api/v1/clients");
    let post = || app.http.post(&url).bearer_auth(&app.tenant_key);
    for (case, request) in [
        ("malformed JSON", post().header("content-type", "application/json").body("{\"name\":")),
        ("wrong content type", post().header("content-type", "text/plain").body("{}")),
        ("not an object", post().json(&json!(["name"]))),
    ] {
        let (status, _, body) = call(request).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{case}: {body}");
        assert!(body["message"].as_str().is_some(), "{case}");
    }
    // Oversized bodies, below and above actix's own payload limit: the same answer.
    for size in [100 * 1024, 4 * 1024 * 1024] {
        let (status, _, body) = call(post().json(&json!({"name": "a".repeat(size)}))).await;
        assert_eq!(
            body,
            json!({"error": "invalid_request", "message": "The request body is too large."}),
            "{size} bytes"
        );
        assert_eq!(status, 400);
    }

    let (status, _, body) = call(post().json(&json!({
        "name": "",
        "redirect_uris": ["http://evil.example.com/cb", "https://ok.example.com/cb#frag"],
        "grant_types": ["password"],
        "scopes": ["has space"],
        "access_token_ttl": 5,
    })))
    .await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation_failed")), "{body}");
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for field in ["name", "redirect_uris[0]", "redirect_uris[1]", "grant_types[0]", "scopes[0]", "access_token_ttl"] {
        assert!(fields.contains(&field), "all field errors at once, missing {field}: {body}");
    }
    for error in body["errors"].as_array().unwrap() {
        assert!(error["code"].is_string() && error["message"].is_string(), "{error}");
    }

    let (status, _, body) = call(post().json(&json!({"name": "x", "confidential": "yes"}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation_failed")), "{body}");
    assert_eq!(body["errors"][0]["field"], "confidential");
    assert_eq!(body["errors"][0]["message"], "confidential must be true or false.");
    // A wrong type is named in JSON's words, never Rust's (`i64`).
    let (status, _, body) = call(post().json(&json!({"name": "x", "access_token_ttl": 600.5}))).await;
    assert_eq!((status, body["errors"][0]["message"].as_str()), (422, Some("access_token_ttl must be an integer.")));
    let (status, _, body) = call(post().json(&json!({"name": "x", "colour": "red"}))).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("validation_failed")), "{body}");

    // A caller may not hand a client scopes it does not hold itself: 403, naming the scope.
    let (id, secret) = app.confidential_client(&["clients:write"]).await;
    let writer = app.access_token(&id, &secret, None).await;
    let (status, _, body) =
        call(app.http.post(&url).bearer_auth(&writer).json(&json!({"name": "escalate", "scopes": ["admin"]}))).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("`admin`")), "{body}");
}

async fn every_answer_has_a_request_id(app: TestApp) {
    for request in [
        app.http.get(app.url("/healthz")),
        app.http.get(app.url("/api/v1/clients")),
        app.http.get(app.url("/api/v1/nothing-here")).bearer_auth(&app.tenant_key),
        app.http.post(app.url("/oauth/token")),
        app.http.get(app.url("/.well-known/jwks.json")),
    ] {
        let response = request.send().await.unwrap();
        let id = response.headers().get("x-request-id").expect("X-Request-Id").to_str().unwrap().to_owned();
        assert_eq!(id.len(), 26, "{id}");
    }
    let response = app.http.get(app.url("/api/v1/nothing-here")).bearer_auth(&app.tenant_key).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// RFC 9110 §15.5.6: the path exists, so a method it does not take is 405 with `Allow`, in each
/// layer's error format; an unknown path stays 404; HEAD works wherever GET does.
async fn a_wrong_method_on_a_known_path_is_405_with_allow(app: TestApp) {
    let put = reqwest::Method::PUT;
    let cases = [
        ("/api/v1/organizations", "POST, GET, HEAD", Some(("error", "method_not_allowed"))),
        ("/api/v1/api_keys/key_01JD6ZZZZZZZZZZZZZZZZZZZZZ", "GET, HEAD, DELETE", Some(("error", "method_not_allowed"))),
        ("/api/v1/users/me", "GET, HEAD", Some(("error", "method_not_allowed"))),
        ("/oauth/token", "POST", Some(("error", "invalid_request"))),
        ("/oauth/authorize", "GET, HEAD, POST", Some(("error", "invalid_request"))),
        ("/.well-known/jwks.json", "GET, HEAD", Some(("error", "invalid_request"))),
        ("/healthz", "GET, HEAD", None),
    ];
    for (path, allow, error) in cases {
        let response = app.http.request(put.clone(), app.url(path)).bearer_auth(&app.tenant_key).send().await.unwrap();
        assert_eq!(response.status(), 405, "PUT {path}");
        assert_eq!(response.headers()["allow"], allow, "PUT {path}");
        assert!(response.headers().contains_key("x-request-id"));
        if path.starts_with("/oauth/token") {
            assert_eq!(response.headers()["cache-control"], "no-store", "PUT {path}");
        }
        let text = response.text().await.unwrap();
        match error {
            Some((field, code)) => {
                let body: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(body[field], code, "PUT {path}: {body}");
                // The layer's whole error format: docs/api.md `message`, RFC 6749 `error_description`.
                let sentence = if path.starts_with("/api/v1") { "message" } else { "error_description" };
                assert!(body[sentence].as_str().is_some_and(|s| s.contains(allow)), "PUT {path}: {body}");
            }
            None => assert!(text.is_empty(), "PUT {path}: {text}"),
        }
    }
    // Unknown paths are still 404, whatever the method.
    let unknown =
        app.http.request(put, app.url("/api/v1/nothing-here")).bearer_auth(&app.tenant_key).send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    let head = app.http.head(app.url("/api/v1/organizations")).bearer_auth(&app.tenant_key).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "application/json");
    assert!(head.bytes().await.unwrap().is_empty(), "HEAD has no body");
    let anonymous = app.http.head(app.url("/api/v1/organizations")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "HEAD is authenticated like GET");
}

/// Text PostgreSQL cannot store (U+0000) or that would forge log lines and pages (line breaks)
/// is refused alike on both databases, field by field; a malformed id in a body is an unknown
/// one. JSON text (`metadata`) is stored escaped, so U+0000 inside it is fine.
async fn control_characters_and_malformed_ids_are_422_not_stored(app: TestApp) {
    let key = app.tenant_key.clone();
    let org = app.call("POST", "/api/v1/organizations", &key, json!({"name": "Acme"})).await.expect(201).id();
    let cases = [
        ("/api/v1/tenants", app.operator_key.clone(), json!({"name": "a\u{0}b"}), "name", "invalid"),
        ("/api/v1/organizations", key.clone(), json!({"name": "a\nb"}), "name", "invalid"),
        ("/api/v1/users", key.clone(), json!({"email": "ada@example.com", "name": "x\u{0}"}), "name", "invalid"),
        ("/api/v1/clients", key.clone(), json!({"name": "tab\tbed"}), "name", "invalid"),
        ("/api/v1/api_keys", key.clone(), json!({"name": "k\u{0}", "scopes": ["users:read"]}), "name", "invalid"),
        (
            "/api/v1/clients",
            key.clone(),
            json!({"name": "c", "redirect_uris": ["https://app.example.com/c\u{0}b"]}),
            "redirect_uris[0]",
            "invalid",
        ),
        (
            "/api/v1/clients",
            key.clone(),
            json!({"name": "c", "redirect_uris": ["https://app.example.com/c b"]}),
            "redirect_uris[0]",
            "invalid",
        ),
        (
            "/api/v1/users",
            key.clone(),
            json!({"email": "ada@example.com", "organization_id": "org_\u{0}"}),
            "organization_id",
            "not_found",
        ),
        (
            "/api/v1/clients",
            key.clone(),
            json!({"name": "c", "organization_id": "org_\u{0}"}),
            "organization_id",
            "not_found",
        ),
        (
            "/api/v1/api_keys",
            key.clone(),
            json!({"name": "k", "scopes": ["users:read"], "organization_id": "org_\u{0}"}),
            "organization_id",
            "not_found",
        ),
        (
            "/api/v1/api_keys",
            app.operator_key.clone(),
            json!({"name": "k", "scopes": ["users:read"], "tenant_id": "ten_\u{0}"}),
            "tenant_id",
            "not_found",
        ),
    ];
    for (path, caller, body, field, code) in cases {
        let answer = app.call("POST", path, &caller, body.clone()).await;
        assert_eq!(answer.status, 422, "POST {path} {body}: {}", answer.body);
        assert_eq!(answer.body["errors"][0]["field"], field, "POST {path} {body}");
        assert_eq!(answer.body["errors"][0]["code"], code, "POST {path} {body}");
    }
    let user = app.call("POST", "/api/v1/users", &key, json!({"email": "ada@example.com"})).await.expect(201).id();
    // Updates too, including the users' own name check (their name is optional).
    for path in [format!("/api/v1/organizations/{org}"), format!("/api/v1/users/{user}")] {
        let patch = app.call("PATCH", &path, &key, json!({"name": "a\u{0}"})).await;
        assert_eq!((patch.status, patch.body["errors"][0]["field"].as_str()), (422, Some("name")), "{}", patch.body);
        assert_eq!(patch.body["errors"][0]["code"], "invalid", "PATCH {path}");
    }

    let stored = app
        .call("POST", "/api/v1/organizations", &key, json!({"name": "Nul", "metadata": {"k\u{0}": "v\u{0}"}}))
        .await
        .expect(201);
    let read = app.call("GET", &format!("/api/v1/organizations/{}", stored.id()), &key, Value::Null).await.expect(200);
    assert_eq!(read.body["metadata"], json!({"k\u{0}": "v\u{0}"}));
    let list = app.call("GET", "/api/v1/organizations?limit=100", &key, Value::Null).await.expect(200);
    let names: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Nul", "Acme"], "nothing refused was stored");
}
