//! docs/security.md signing keys: `keys rotate` adds a current key; old tokens keep verifying.

use std::time::Duration;

use serde_json::Value;

use crate::client_credentials::verify_with_jwks;
use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(rotation_keeps_old_tokens_valid);

async fn rotation_keeps_old_tokens_valid(app: TestApp) {
    let (id, secret) = app.confidential_client(&["clients:read"]).await;
    let old_token = app.access_token(&id, &secret, None).await;
    let old_kid = jsonwebtoken::decode_header(&old_token).unwrap().kid.unwrap();

    // What `tollbooth keys rotate` runs, against the same database, as another process would.
    let db = app.db.clone();
    let algorithm = app.settings.token.signing_algorithm;
    let (new_kids, retired) = tokio::task::spawn_blocking(move || {
        tollbooth_oauth::keys::rotate(&db, algorithm, chrono::Duration::seconds(86_400)).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(retired, 2, "the access-token (ES256) and ID-token (RS256) keys are both retired");
    assert_eq!(new_kids.len(), 2, "and both replaced");
    let new_kid = new_kids[0].clone();
    assert_ne!(new_kid, old_kid);

    // The server re-reads keys every second in tests (token.key_reload_seconds).
    let mut new_token = String::new();
    for _ in 0..50 {
        new_token = app.access_token(&id, &secret, None).await;
        if jsonwebtoken::decode_header(&new_token).unwrap().kid.unwrap() == new_kid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(jsonwebtoken::decode_header(&new_token).unwrap().kid.unwrap(), new_kid, "new tokens use the new key");

    let jwks: Value = app.http.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()), "{kids:?}");
    assert_eq!(kids.len(), 4, "two retired and two current keys: {kids:?}");
    for key in jwks["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig");
        assert!(key["alg"] == "ES256" || key["alg"] == "RS256", "{key}");
        assert!(key.get("d").is_none() && key.get("p").is_none(), "no private part in the JWKS");
    }
    let algorithms: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(algorithms.iter().filter(|a| **a == "RS256").count(), 2, "{algorithms:?}");

    for token in [&old_token, &new_token] {
        verify_with_jwks(&app, token, crate::support::AUDIENCE).await;
        let response = app.http.get(app.url(&format!("/api/v1/clients/{id}"))).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200, "both the old and the new token are accepted");
    }
}
