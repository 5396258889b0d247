//! docs/console.md over real HTTP: signing in to the console (admins only, limited and audited
//! as the OAuth sign-in), its cookies and CSRF tokens, signing out, and the API keys page, which
//! shows only the keys within the admin's reach and never a secret.

use serde_json::{Value, json};

use crate::authorization_code::{Browser, PASSWORD};
use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(
    an_admin_signs_in_sees_redacted_keys_and_signs_out,
    only_admins_get_in_and_only_while_they_are_admins,
    an_organization_admin_sees_only_the_organizations_keys,
    a_new_password_or_a_deleted_user_ends_the_session,
    the_keys_page_is_paginated_like_the_api,
);

/// A user with `role`, in `organization` if given: (id, email).
async fn person(app: &TestApp, role: &str, organization: Option<&str>) -> (String, String) {
    let email = format!("{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let mut body = json!({"email": email, "password": PASSWORD, "role": role});
    if let Some(organization) = organization {
        body["organization_id"] = json!(organization);
    }
    let user = app.call("POST", "/api/v1/users", &app.tenant_key, body).await.expect(201);
    (user.id(), email)
}

/// Signs `email` in to the tenant's console: the answer to the sign-in form.
async fn sign_in(browser: &mut Browser<'_>, tenant_id: &str, email: &str) -> crate::authorization_code::Page {
    let form = browser.get(&format!("/console/{tenant_id}/")).await;
    assert_eq!(form.status, 200, "{}", form.html);
    browser
        .post(
            &format!("/console/{tenant_id}/sign_in"),
            &[("csrf", &form.csrf()), ("email", email), ("password", PASSWORD)],
        )
        .await
}

fn set_cookie(page: &crate::authorization_code::Page, name: &str) -> String {
    page.headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

async fn actions(app: &TestApp) -> Vec<Value> {
    let events = app.call("GET", "/api/v1/audit_logs?limit=100", &app.tenant_key, Value::Null).await.expect(200);
    events.body["data"].as_array().unwrap().clone()
}

async fn an_admin_signs_in_sees_redacted_keys_and_signs_out(app: TestApp) {
    let (admin_id, email) = person(&app, "admin", None).await;
    let tenant = app.tenant_id.clone();
    let mut browser = Browser::new(&app);
    let form = browser.get(&format!("/console/{tenant}/")).await;
    let nonce = set_cookie(&form, "tb_console_csrf");
    assert!(
        nonce.contains("HttpOnly") && nonce.contains("SameSite=Strict") && nonce.contains("Path=/console"),
        "{nonce}"
    );
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    let signed_in = sign_in(&mut browser, &tenant, &email).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.html);
    assert_eq!(signed_in.location.as_deref(), Some(format!("/console/{tenant}/api_keys").as_str()));
    let session = set_cookie(&signed_in, "tb_console");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    assert!(
        actions(&app).await.iter().any(|e| e["action"] == "user.signed_in" && e["actor"]["id"] == admin_id.as_str()),
        "the sign-in is audited"
    );

    let keys = browser.get(&format!("/console/{tenant}/api_keys")).await;
    assert_eq!(keys.status, 200, "{}", keys.html);
    let listed = app.call("GET", "/api/v1/api_keys", &app.tenant_key, Value::Null).await.expect(200);
    let redacted = listed.body["data"][0]["redacted"].as_str().unwrap().to_owned();
    assert!(keys.html.contains(&redacted), "the redacted key {redacted} is listed");
    assert!(!keys.html.contains(&app.tenant_key), "never a secret");
    assert!(keys.html.contains(&email), "who is signed in");

    // Sign out needs the page's CSRF token; then the console asks for a sign-in again.
    let path = format!("/console/{tenant}/sign_out");
    assert_eq!(browser.post(&path, &[("csrf", "forged")]).await.status, 403);
    let out = browser.post(&path, &[("csrf", &keys.csrf())]).await;
    assert_eq!(out.status, 303);
    assert!(set_cookie(&out, "tb_console").contains("Max-Age=0"));
    let after = browser.get(&format!("/console/{tenant}/api_keys")).await;
    assert_eq!((after.status, after.location.as_deref()), (303, Some(format!("/console/{tenant}/").as_str())));
}

async fn only_admins_get_in_and_only_while_they_are_admins(app: TestApp) {
    let tenant = app.tenant_id.clone();
    let (member_id, member) = person(&app, "member", None).await;
    let refused = sign_in(&mut Browser::new(&app), &tenant, &member).await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    let refusal = actions(&app).await.into_iter().find(|e| e["action"] == "user.sign_in_refused").expect("audited");
    assert_eq!(refusal["actor"]["id"], member_id.as_str());
    assert_eq!(refusal["metadata"]["reason"], "not_admin");

    let (admin_id, admin) = person(&app, "admin", None).await;
    let mut browser = Browser::new(&app);
    let form = browser.get(&format!("/console/{tenant}/")).await;
    let path = format!("/console/{tenant}/sign_in");
    let wrong = browser.post(&path, &[("csrf", &form.csrf()), ("email", &admin), ("password", "not it")]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("The email or password is wrong."));
    let forged =
        Browser::new(&app).post(&path, &[("csrf", &form.csrf()), ("email", &admin), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, 403, "a form posted without its CSRF cookie is refused");

    assert_eq!(sign_in(&mut browser, &tenant, &admin).await.status, 303);
    assert_eq!(browser.get(&format!("/console/{tenant}/api_keys")).await.status, 200);
    // Another tenant's console is not opened by this session.
    let (other_tenant, _) = app.create_tenant("Elsewhere").await;
    let elsewhere = browser.get(&format!("/console/{other_tenant}/api_keys")).await;
    assert_eq!(elsewhere.status, 303, "to that console's sign-in");
    // Demoted, the admin is out at the next page.
    app.call("PATCH", &format!("/api/v1/users/{admin_id}"), &app.tenant_key, json!({"role": "member"}))
        .await
        .expect(200);
    assert_eq!(browser.get(&format!("/console/{tenant}/api_keys")).await.status, 403);
    assert_eq!(browser.get("/console/not-a-tenant/api_keys").await.status, 404);
    let without_slash = browser.get(&format!("/console/{tenant}")).await;
    assert_eq!((without_slash.status, without_slash.location), (303, Some(format!("/console/{tenant}/"))));
}

async fn an_organization_admin_sees_only_the_organizations_keys(app: TestApp) {
    let tenant = app.tenant_id.clone();
    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme"})).await.expect(201).id();
    let body = json!({"name": "acme-key", "scopes": ["users:read"], "organization_id": org});
    let org_key = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let (_, admin) = person(&app, "admin", Some(&org)).await;
    let mut browser = Browser::new(&app);
    assert_eq!(sign_in(&mut browser, &tenant, &admin).await.status, 303);
    let keys = browser.get(&format!("/console/{tenant}/api_keys")).await;
    assert!(keys.html.contains("acme-key"), "{}", keys.html);
    assert!(keys.html.contains(org_key.body["redacted"].as_str().unwrap()));
    let tenant_keys = app.call("GET", "/api/v1/api_keys", &app.tenant_key, Value::Null).await.expect(200);
    let tenant_level: Vec<&Value> =
        tenant_keys.body["data"].as_array().unwrap().iter().filter(|k| k["organization_id"].is_null()).collect();
    assert!(!tenant_level.is_empty(), "the bootstrap key is a tenant-level key");
    for key in tenant_level {
        assert!(!keys.html.contains(key["redacted"].as_str().unwrap()), "a tenant-level key is out of reach");
    }
}

/// Finding: a copied console cookie outlived the admin's new password, and a deleted admin's
/// cookie sent the browser round in circles.
async fn a_new_password_or_a_deleted_user_ends_the_session(app: TestApp) {
    let tenant = app.tenant_id.clone();
    let (admin_id, admin) = person(&app, "admin", None).await;
    let mut browser = Browser::new(&app);
    assert_eq!(sign_in(&mut browser, &tenant, &admin).await.status, 303);
    let keys_page = format!("/console/{tenant}/api_keys");
    assert_eq!(browser.get(&keys_page).await.status, 200);
    let body = json!({"password": "a brand new passphrase"});
    app.call("PATCH", &format!("/api/v1/users/{admin_id}"), &app.tenant_key, body).await.expect(200);
    let out = browser.get(&keys_page).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some(format!("/console/{tenant}/").as_str())));
    assert!(set_cookie(&out, "tb_console").contains("Max-Age=0"), "the session that no longer holds is deleted");

    let (other_id, other) = person(&app, "admin", None).await;
    let mut browser = Browser::new(&app);
    assert_eq!(sign_in(&mut browser, &tenant, &other).await.status, 303);
    app.call("DELETE", &format!("/api/v1/users/{other_id}"), &app.tenant_key, Value::Null).await.expect(204);
    assert_eq!(browser.get(&keys_page).await.status, 303);
    let start = browser.get(&format!("/console/{tenant}/")).await;
    assert_eq!(start.status, 200, "the sign-in form, not another redirect");
}

async fn the_keys_page_is_paginated_like_the_api(app: TestApp) {
    let tenant = app.tenant_id.clone();
    for i in 0..11 {
        let body = json!({"name": format!("key-{i:02}"), "scopes": ["users:read"]});
        app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    }
    let (_, admin) = person(&app, "admin", None).await;
    let mut browser = Browser::new(&app);
    assert_eq!(sign_in(&mut browser, &tenant, &admin).await.status, 303);
    let first = browser.get(&format!("/console/{tenant}/api_keys")).await;
    assert!(first.html.contains("key-10") && !first.html.contains("key-00"), "newest first, ten a page");
    let next = first.html.split("href=\"").find(|part| part.contains("after=")).expect("a next link");
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    let second = browser.get(&next).await;
    assert_eq!(second.status, 200);
    assert!(second.html.contains("key-00") && !second.html.contains("key-10"), "{}", second.html);
    assert!(second.html.contains("Previous page"));
    assert_eq!(browser.get(&format!("/console/{tenant}/api_keys?limit=500")).await.status, 400);
}

/// docs/console.md: over HTTPS the console's cookies are `__Host-` (Secure, Path=/, no Domain)
/// and `SameSite=Strict`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_cookies_are_secure_when_served_over_https() {
    let https = [("TOLLBOOTH_ISSUER", "https://auth.tollbooth.test")];
    let app =
        TestApp::spawn_configured(crate::support::Backend::Sqlite, crate::support::UNMETERED, &https).await.unwrap();
    let (_, admin) = person(&app, "admin", None).await;
    let tenant = app.tenant_id.clone();
    let mut browser = Browser::new(&app);
    let form = browser.get(&format!("/console/{tenant}/")).await;
    let signed_in = browser
        .post(
            &format!("/console/{tenant}/sign_in"),
            &[("csrf", &form.csrf()), ("email", &admin), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.html);
    for (page, name) in [(&form, "__Host-tb_console_csrf"), (&signed_in, "__Host-tb_console")] {
        let cookie = set_cookie(page, name);
        assert!(
            cookie.contains("Secure")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("Path=/;")
                && !cookie.contains("Domain"),
            "{cookie}"
        );
    }
}
