//! docs/oauth.md, "Audiences" (RFC 8707): every access token is for one API, named by `aud`;
//! `/api/v1` accepts only its own, so a token for a tenant's API is refused by every API that
//! checks its own audience, whatever scopes it carries.

use base64::Engine;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{ISSUER, TestApp};

on_both_databases!(tokens_are_for_one_resource, a_token_for_one_api_is_refused_by_every_other,);

const ORDERS: &str = "https://orders.example.com";

/// The claims of a JWT, unverified (the tests verify signatures elsewhere).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `POST /oauth/token` with client credentials and `form`: status and body.
async fn token(app: &TestApp, client: &(String, String), form: &[(&str, &str)]) -> (u16, Value) {
    let mut fields = vec![("grant_type", "client_credentials")];
    fields.extend_from_slice(form);
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&fields)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn create_resource(app: &TestApp, key: &str, identifier: &str, scopes: &[&str]) {
    let body = json!({"name": "API", "identifier": identifier, "scopes": scopes});
    app.call("POST", "/api/v1/resources", key, body).await.expect(201);
}

async fn tokens_are_for_one_resource(app: TestApp) {
    create_resource(&app, &app.tenant_key, ORDERS, &["shop:read", "shop:write"]).await;
    let client = app.confidential_client(&["shop:read", "users:read"]).await;

    // Scopes of two APIs: the client must name one.
    let (status, body) = token(&app, &client, &[]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
    let (status, body) = token(&app, &client, &[("scope", "shop:read users:read")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");

    // Named: a token for the orders API, with the client's scopes of it.
    let (status, body) = token(&app, &client, &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "shop:read");
    let orders_token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&orders_token)["aud"], ORDERS);
    // Chosen by its scope alone, too.
    let (_, body) = token(&app, &client, &[("scope", "shop:read")]).await;
    assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], ORDERS);

    // A management scope: a token for the management API, which accepts it.
    let (_, body) = token(&app, &client, &[("scope", "users:read")]).await;
    let api_token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&api_token)["aud"], format!("{ISSUER}/api"));
    app.call("GET", "/api/v1/users", &api_token, Value::Null).await.expect(200);

    // The wrong API, an unknown one, and a scope of another API than the one named.
    for (form, error) in [
        (vec![("resource", "https://unknown.example.com")], "invalid_target"),
        (vec![("resource", ORDERS), ("scope", "users:read")], "invalid_target"),
        (vec![("resource", "not a uri")], "invalid_target"),
    ] {
        let (status, body) = token(&app, &client, &form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(error)), "{form:?}: {body}");
    }

    // Introspection tells the resource server whom the token is for.
    let introspected = app
        .http
        .post(app.url("/oauth/introspect"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("token", orders_token.as_str())])
        .send()
        .await
        .unwrap();
    let introspected: Value = introspected.json().await.unwrap();
    assert_eq!((introspected["active"].as_bool(), introspected["aud"].as_str()), (Some(true), Some(ORDERS)));
}

async fn a_token_for_one_api_is_refused_by_every_other(app: TestApp) {
    create_resource(&app, &app.tenant_key, ORDERS, &["shop:read"]).await;
    let client = app.confidential_client(&["shop:read"]).await;
    let (status, body) = token(&app, &client, &[]).await;
    assert_eq!(status, 200, "{body}");
    let orders_token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&orders_token)["aud"], ORDERS);

    // The management API checks its own audience: refused, though the token is valid and ours.
    let refused = app.call("GET", "/api/v1/users/me", &orders_token, Value::Null).await.expect(401);
    assert_eq!(refused.error(), "invalid_token");

    // Another tenant's API has its own identifier: the token's `aud` is not it, and the other
    // tenant cannot name this tenant's API in a request of its own.
    let (_, other_key) = app.create_tenant("Other").await;
    create_resource(&app, &other_key, "https://orders.other.example.com", &["shop:read"]).await;
    assert_ne!(claims(&orders_token)["aud"], "https://orders.other.example.com");
    let other_client = app
        .call("POST", "/api/v1/clients", &other_key, json!({"name": "other", "scopes": ["shop:read"]}))
        .await
        .expect(201);
    let other_client = (other_client.id(), other_client.body["client_secret"].as_str().unwrap().to_owned());
    let (status, body) = token(&app, &other_client, &[("resource", ORDERS)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
    let (_, body) = token(&app, &other_client, &[]).await;
    assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], "https://orders.other.example.com");
}
