//! docs/security.md: no secret, token or Authorization header ever reaches a log line. The server's
//! logs (at debug level) are captured for the whole test process and scanned for every secret
//! this test saw.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per process, a subscriber that keeps every log line in memory.
fn captured_logs() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            tracing_subscriber::fmt()
                .with_env_filter("debug,h2=info,hyper=info,reqwest=info,mio=info")
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            captured
        })
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs() {
    let logs = captured_logs();
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut secrets = vec![app.operator_key.clone(), app.tenant_key.clone()];

    let tenant = app.call("POST", "/api/v1/tenants", &app.operator_key, json!({"name": "Logged"})).await.expect(201);
    secrets.push(tenant.body["api_key"]["key"].as_str().unwrap().to_owned());
    let key = app
        .call("POST", "/api/v1/api_keys", &app.tenant_key, json!({"name": "k", "scopes": ["clients:read"]}))
        .await
        .expect(201);
    secrets.push(key.body["key"].as_str().unwrap().to_owned());
    let rotated = app
        .call("POST", &format!("/api/v1/api_keys/{}/rotate", key.id()), &app.tenant_key, json!({}))
        .await
        .expect(200);
    secrets.push(rotated.body["key"].as_str().unwrap().to_owned());
    let (client_id, client_secret) = app.confidential_client(&["clients:read"]).await;
    secrets.push(client_secret.clone());
    let token = app.access_token(&client_id, &client_secret, None).await;
    secrets.push(token.clone());
    app.call("GET", "/api/v1/clients", &token, Value::Null).await.expect(200);
    let password = "hunter2-but-longer";
    app.call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "log@example.com", "password": password}))
        .await
        .expect(201);
    secrets.push(password.to_owned());
    // Failures log too: a wrong secret, a bad key, a malformed token.
    let _ = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some("cs_wrong-secret-value"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    secrets.push("cs_wrong-secret-value".into());
    app.call("GET", "/api/v1/clients", "sk_live_guessed-key-value", Value::Null).await.expect(401);
    secrets.push("sk_live_guessed-key-value".into());

    // The sign-in flow: password, session and CSRF cookies, code, verifier, refresh token.
    use crate::authorization_code::{Browser, REDIRECT, VERIFIER, authorize_path, challenge, exchange};
    let app_client = app
        .create_client(json!({
            "name": "Logged app", "confidential": true, "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "skip_consent": true,
        }))
        .await;
    let app_id = app_client["id"].as_str().unwrap().to_owned();
    let path = authorize_path(&app_id, &[("code_challenge", &challenge(VERIFIER)), ("code_challenge_method", "S256")]);
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&path).await;
    let csrf = sign_in.csrf();
    secrets.push(csrf.clone());
    let back = browser.post(&path, &[("csrf", &csrf), ("email", "log@example.com"), ("password", password)]).await;
    let code = back.redirect_params()["code"].clone();
    secrets.push(code.clone());
    secrets.push(VERIFIER.to_owned());
    for (name, value) in browser.cookies() {
        assert!(name.starts_with("tb_"));
        secrets.push(value);
    }
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("client_id", &app_id),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = exchange(&app, &app_client, &form).await;
    assert_eq!(status, 200, "{tokens}");
    secrets.push(tokens["access_token"].as_str().unwrap().to_owned());
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    secrets.push(refresh_token.clone());
    let (status, refreshed) = exchange(
        &app,
        &app_client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh_token), ("client_id", &app_id)],
    )
    .await;
    assert_eq!(status, 200);
    secrets.push(refreshed["refresh_token"].as_str().unwrap().to_owned());
    let _ = exchange(
        &app,
        &app_client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh_token), ("client_id", &app_id)],
    )
    .await;

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("request"), "the capture works: {} bytes", text.len());
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret reached the log: {secret}");
    }
    for header in ["Basic ", "Bearer ", "tb_session=", "tb_csrf="] {
        assert!(!text.contains(header), "an Authorization or Cookie header reached the log: {header}");
    }
}
