//! docs/console.md over real HTTP: signing in to the console (admins only, limited and audited
//! as the OAuth sign-in), its cookies and CSRF tokens, signing out, and the API keys page, which
//! shows only the keys within the admin's reach and never a secret.

use serde_json::{Value, json};

use crate::authorization_code::{Browser, PASSWORD};
use crate::on_both_databases;
use crate::support::{TEST_API, TestApp};

on_both_databases!(
    an_admin_signs_in_sees_redacted_keys_and_signs_out,
    only_admins_get_in_and_only_while_they_are_admins,
    an_organization_admin_sees_only_the_organizations_keys,
    a_new_password_or_a_deleted_user_ends_the_session,
    the_keys_page_is_paginated_like_the_api,
    a_key_created_in_the_console_shows_its_secret_once_and_works,
    rotating_and_revoking_a_key_in_the_console,
    console_forms_need_their_csrf_token_and_show_errors_by_their_fields,
    an_organization_admin_acts_only_within_the_organization,
    the_audit_log_is_filtered_and_paged,
    the_overview_draws_the_plans_usage,
    the_bootstrap_admin_signs_in_and_unknown_pages_are_404,
    a_key_with_its_own_limit_is_created_in_the_console,
    clients_are_created_edited_rotated_and_deleted_in_the_console,
    users_and_organizations_in_the_console,
    apis_are_defined_in_the_console_by_tenant_admins_only,
);

/// The value of the first input named `name` of a page, if it has one.
fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_owned())
}

/// Posts `fields` with the CSRF token of the page at `form_page`, and the version of the object
/// it shows, if it shows one.
async fn submit(
    browser: &mut Browser<'_>,
    form_page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> crate::authorization_code::Page {
    let page = browser.get(form_page).await;
    assert_eq!(page.status, 200, "{form_page}: {}", page.html);
    let (csrf, version) = (page.csrf(), input_value(&page.html, "version"));
    let mut posted = vec![("csrf", csrf.as_str())];
    if let Some(version) = &version {
        posted.push(("version", version));
    }
    posted.extend_from_slice(fields);
    browser.post(action, &posted).await
}

/// The id at the end of a `303` to an object's page.
fn created_id(page: &crate::authorization_code::Page) -> String {
    assert_eq!(page.status, 303, "{}", page.html);
    page.location.as_deref().unwrap().rsplit('/').next().unwrap().to_owned()
}

/// The value of the element with `id` (its text up to the next tag).
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = start + html[start..].find('>').unwrap() + 1;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

/// An admin of the tenant, signed in: the browser, and the admin's id.
async fn signed_in_admin<'a>(app: &'a TestApp, organization: Option<&str>) -> (Browser<'a>, String) {
    let (admin_id, admin) = person(app, "admin", organization).await;
    let mut browser = Browser::new(app);
    assert_eq!(sign_in(&mut browser, &app.tenant_id, &admin).await.status, 303);
    (browser, admin_id)
}

/// The console page `page` of the test tenant.
fn console(app: &TestApp, page: &str) -> String {
    format!("/console/{}/{page}", app.tenant_id)
}

/// docs/console.md, "API keys": the secret is on the page after the create and nowhere else;
/// it authenticates `/api/v1`; the event names the console user as actor.
async fn a_key_created_in_the_console_shows_its_secret_once_and_works(app: TestApp) {
    let (mut browser, admin_id) = signed_in_admin(&app, None).await;
    let form = browser.get(&console(&app, "api_keys/new")).await;
    assert_eq!(form.status, 200, "{}", form.html);
    let created = browser
        .post(
            &console(&app, "api_keys"),
            &[
                ("csrf", &form.csrf()),
                ("name", "billing worker"),
                ("scopes", "users:read  clients:read"),
                ("expires_at", ""),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.html);
    assert_eq!(created.headers["cache-control"], "no-store");
    let secret = text_of(&created.html, "secret");
    assert!(secret.starts_with("sk_live_"), "{secret}");
    assert!(created.html.contains("data-copy=\"secret\""), "a copy button");

    let users = app.call("GET", "/api/v1/users", &secret, Value::Null).await;
    assert_eq!(users.status, 200, "the new key reads users");
    assert_eq!(app.call("GET", "/api/v1/api_keys", &secret, Value::Null).await.status, 403, "and only what it holds");

    let listed = app.call("GET", "/api/v1/api_keys", &app.tenant_key, Value::Null).await.expect(200);
    let key = listed.body["data"].as_array().unwrap().iter().find(|k| k["name"] == "billing worker").unwrap().clone();
    assert_eq!(key["scopes"], json!(["users:read", "clients:read"]));
    let id = key["id"].as_str().unwrap();
    for page in [console(&app, "api_keys"), console(&app, &format!("api_keys/{id}"))] {
        let shown = browser.get(&page).await;
        assert_eq!(shown.status, 200);
        assert!(shown.html.contains(key["redacted"].as_str().unwrap()), "{page}: the redacted form");
        assert!(!shown.html.contains(&secret), "{page}: never the secret again");
    }
    let event = actions(&app).await.into_iter().find(|e| e["action"] == "api_key.created" && e["target"]["id"] == id);
    assert_eq!(event.expect("audited")["actor"], json!({"type": "user", "id": admin_id}));
}

async fn rotating_and_revoking_a_key_in_the_console(app: TestApp) {
    // Also a key for the tenant's own API, which `/verify` answers for (docs/protect-your-api.md).
    let body = json!({"name": "to rotate", "scopes": ["users:read", "orders:read"]});
    let key = app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let (id, old_secret) = (key.id(), key.body["key"].as_str().unwrap().to_owned());
    let (mut browser, admin_id) = signed_in_admin(&app, None).await;
    let page_path = console(&app, &format!("api_keys/{id}"));
    let page = browser.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let version = input_value(&page.html, "version").expect("the rotate form carries the key's version");
    let rotate = format!("{page_path}/rotate");
    let form = [("csrf", page.csrf()), ("version", version), ("grace_period_seconds", "3600".to_owned())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let rotated = browser.post(&rotate, &form).await;
    assert_eq!(rotated.status, 200, "{}", rotated.html);
    let new_secret = text_of(&rotated.html, "secret");
    assert_ne!(new_secret, old_secret);
    app.call("GET", "/api/v1/users", &new_secret, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/users", &old_secret, Value::Null).await.expect(200);
    // The same form posted again (a reload, a double click) would end the old secret's grace.
    let again = browser.post(&rotate, &form).await;
    assert_eq!(again.status, 409, "{}", again.html);
    app.call("GET", "/api/v1/users", &old_secret, Value::Null).await.expect(200);
    app.call("GET", "/api/v1/users", &new_secret, Value::Null).await.expect(200);
    let shown = browser.get(&page_path).await;
    assert!(shown.html.contains("Previous secret"), "the grace period is shown");
    let bad = submit(&mut browser, &page_path, &rotate, &[("grace_period_seconds", "99999999")]).await;
    assert_eq!(bad.status, 400, "the API's range is the console's: {}", bad.html);

    let resource: String = url::form_urlencoded::byte_serialize(TEST_API.as_bytes()).collect();
    let verify =
        |secret: &str| app.http.get(app.url(&format!("/verify?resource={resource}"))).bearer_auth(secret).send();
    assert_eq!(verify(&new_secret).await.unwrap().status(), 200, "good for the tenant's API");

    let revoked = submit(&mut browser, &page_path, &format!("{page_path}/delete"), &[]).await;
    assert_eq!((revoked.status, revoked.location), (303, Some(console(&app, "api_keys"))));
    assert_eq!(verify(&new_secret).await.unwrap().status(), 401, "refused at once by /verify");
    assert_eq!(app.call("GET", "/api/v1/users", &new_secret, Value::Null).await.status, 401, "refused at once");
    assert_eq!(browser.get(&page_path).await.status, 404);
    let events = actions(&app).await;
    for action in ["api_key.rotated", "api_key.deleted"] {
        let event = events.iter().find(|e| e["action"] == action && e["target"]["id"] == id.as_str()).expect(action);
        assert_eq!(event["actor"]["id"], admin_id.as_str());
    }
}

async fn console_forms_need_their_csrf_token_and_show_errors_by_their_fields(app: TestApp) {
    let (mut browser, _) = signed_in_admin(&app, None).await;
    let keys_before = app.call("GET", "/api/v1/api_keys", &app.tenant_key, Value::Null).await.expect(200);
    let fields = [("name", "no token"), ("scopes", "users:read")];
    assert_eq!(browser.post(&console(&app, "api_keys"), &fields).await.status, 403, "no CSRF token");
    let forged = [("csrf", "forged"), ("name", "forged"), ("scopes", "users:read")];
    assert_eq!(browser.post(&console(&app, "api_keys"), &forged).await.status, 403);
    let keys_after = app.call("GET", "/api/v1/api_keys", &app.tenant_key, Value::Null).await.expect(200);
    assert_eq!(keys_before.body["data"], keys_after.body["data"], "nothing was created");

    let form = browser.get(&console(&app, "api_keys/new")).await;
    let invalid = [
        ("csrf", form.csrf()),
        ("name", " ".to_owned()),
        ("scopes", "users:read no-such:scope".to_owned()),
        ("expires_at", "2001-01-01T00:00".to_owned()),
    ];
    let invalid: Vec<(&str, &str)> = invalid.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = browser.post(&console(&app, "api_keys"), &invalid).await;
    assert_eq!(answer.status, 422, "{}", answer.html);
    assert!(answer.html.contains("id=\"name-error\""), "{}", answer.html);
    assert!(answer.html.contains("id=\"scopes-error\""), "{}", answer.html);
    assert!(answer.html.contains("no-such:scope: No API"), "the entry is named: {}", answer.html);
    assert!(answer.html.contains("id=\"expires_at-error\""), "{}", answer.html);
    assert!(answer.html.contains("value=\"users:read no-such:scope\""), "what was typed is kept");
    assert!(!answer.html.contains("\"error\":"), "never the API's JSON");
}

async fn an_organization_admin_acts_only_within_the_organization(app: TestApp) {
    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme"})).await.expect(201).id();
    let (mut browser, _) = signed_in_admin(&app, Some(&org)).await;
    let form = browser.get(&console(&app, "api_keys/new")).await;
    assert!(!form.html.contains("name=\"organization_id\""), "an organization admin has no choice of organization");
    let created = browser
        .post(&console(&app, "api_keys"), &[("csrf", &form.csrf()), ("name", "acme"), ("scopes", "users:read")])
        .await;
    assert_eq!(created.status, 200, "{}", created.html);
    let listed = app.call("GET", "/api/v1/api_keys", &app.tenant_key, Value::Null).await.expect(200);
    let key = listed.body["data"].as_array().unwrap().iter().find(|k| k["name"] == "acme").unwrap().clone();
    assert_eq!(key["organization_id"], org.as_str(), "confined to the organization");

    // The tenant's own key is out of reach, for reading and for writing.
    let tenant_keys: Vec<String> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["organization_id"].is_null())
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    let tenant_key = &tenant_keys[0];
    assert_eq!(browser.get(&console(&app, &format!("api_keys/{tenant_key}"))).await.status, 404);
    let revoke =
        browser.post(&console(&app, &format!("api_keys/{tenant_key}/delete")), &[("csrf", &form.csrf())]).await;
    assert_eq!(revoke.status, 404, "{}", revoke.html);
    app.call("GET", "/api/v1/users", &app.tenant_key, Value::Null).await.expect(200); // still works
    // The tenant's audit log is not theirs to read.
    let audit = browser.get(&console(&app, "audit_log")).await;
    assert_eq!(audit.status, 403, "{}", audit.html);
    assert!(!browser.get(&console(&app, "overview")).await.html.contains("Audit log"), "not offered either");
}

async fn the_audit_log_is_filtered_and_paged(app: TestApp) {
    for i in 0..12 {
        let body = json!({"name": format!("org-{i}")});
        app.call("POST", "/api/v1/organizations", &app.tenant_key, body).await.expect(201);
    }
    let (mut browser, admin_id) = signed_in_admin(&app, None).await;
    let all = browser.get(&console(&app, "audit_log")).await;
    assert_eq!(all.status, 200, "{}", all.html);
    assert!(all.html.contains("user.signed_in"), "newest first: the sign-in is on the first page");
    let only = browser.get(&console(&app, "audit_log?action=organization.created")).await;
    assert_eq!(only.status, 200);
    assert!(!only.html.contains("user.signed_in") && only.html.contains("organization.created"));
    let next = only.html.split("href=\"").find(|part| part.contains("after=")).expect("a next page");
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    assert!(next.contains("action=organization.created"), "the filter is kept: {next}");
    let second = browser.get(&next).await;
    assert_eq!(second.html.matches("<code>organization.created</code>").count(), 2, "{}", second.html);
    let by_actor = browser.get(&console(&app, &format!("audit_log?actor_id={admin_id}"))).await;
    assert!(by_actor.html.contains("user.signed_in") && !by_actor.html.contains("organization.created"));
    let too_long = browser.get(&console(&app, &format!("audit_log?action={}", "a".repeat(101)))).await;
    assert_eq!(too_long.status, 422);
    assert!(too_long.html.contains("id=\"action-error\""));

    // The API takes the same filters.
    let api =
        app.call("GET", "/api/v1/audit_logs?action=organization.created&limit=100", &app.tenant_key, Value::Null).await;
    assert_eq!(api.expect(200).body["data"].as_array().unwrap().len(), 12);
    let twice = "/api/v1/audit_logs?action=a&action=b";
    assert_eq!(app.call("GET", twice, &app.tenant_key, Value::Null).await.status, 400);
}

async fn the_overview_draws_the_plans_usage(app: TestApp) {
    let (mut browser, _) = signed_in_admin(&app, None).await;
    let overview = browser.get(&console(&app, "overview")).await;
    assert_eq!(overview.status, 200, "{}", overview.html);
    assert!(overview.html.contains(&app.tenant_id));
    // The test servers count nothing (rate limiting off), or show one bar per window.
    assert!(overview.html.contains("Rate limiting is off") || overview.html.contains("<svg"), "{}", overview.html);
}

async fn the_bootstrap_admin_signs_in_and_unknown_pages_are_404(app: TestApp) {
    let mut browser = Browser::new(&app);
    let form = browser.get(&console(&app, "")).await;
    let signed_in = browser
        .post(
            &console(&app, "sign_in"),
            &[("csrf", &form.csrf()), ("email", crate::support::FIRST_ADMIN_EMAIL), ("password", &app.admin_password)],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.html);
    assert_eq!(browser.get(&console(&app, "overview")).await.status, 200);
    for path in [console(&app, "no_such_page"), "/console".to_owned(), "/console/a/b/c/d/e".to_owned()] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.html.contains("There is no such page"), "{path}: the console's own page");
    }
}

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
    assert_eq!(signed_in.location.as_deref(), Some(format!("/console/{tenant}/overview").as_str()));
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

async fn clients_are_created_edited_rotated_and_deleted_in_the_console(app: TestApp) {
    let (mut browser, admin_id) = signed_in_admin(&app, None).await;
    let new = console(&app, "clients/new");
    let created = submit(
        &mut browser,
        &new,
        &console(&app, "clients"),
        &[
            ("kind", "confidential"),
            ("name", "Billing"),
            ("grant_types", "client_credentials"),
            ("scopes", "users:read"),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.html);
    let secret = text_of(&created.html, "secret");
    assert!(secret.starts_with("cs_"), "{secret}");
    let clients = app.call("GET", "/api/v1/clients", &app.tenant_key, Value::Null).await.expect(200);
    let client = clients.body["data"].as_array().unwrap().iter().find(|c| c["name"] == "Billing").unwrap().clone();
    let id = client["id"].as_str().unwrap().to_owned();
    let token = app.access_token(&id, &secret, Some("users:read")).await;
    app.call("GET", "/api/v1/users", &token, Value::Null).await.expect(200);
    let page = browser.get(&console(&app, &format!("clients/{id}"))).await;
    assert!(!page.html.contains(&secret), "the secret is never shown again");

    // Edit: an invalid redirect URI is shown next to its field, and nothing changes.
    let edit = console(&app, &format!("clients/{id}"));
    let fields = [
        ("name", "Billing 2"),
        ("grant_types", "client_credentials"),
        ("grant_types", "authorization_code"),
        ("redirect_uris", "https://billing.example/callback\nhttp://not-loopback.example/cb"),
        ("scopes", "users:read"),
        ("access_token_ttl", "600"),
        ("id_token_signed_response_alg", "ES256"),
    ];
    let refused = submit(&mut browser, &edit, &edit, &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("id=\"redirect_uris-error\""), "{}", refused.html);
    assert!(refused.html.contains("http://not-loopback.example/cb"), "what was typed is kept");
    let unchanged = app.call("GET", &format!("/api/v1/clients/{id}"), &app.tenant_key, Value::Null).await.expect(200);
    assert_eq!(unchanged.body["name"], "Billing");
    let mut fields = fields.to_vec();
    fields[3] = ("redirect_uris", "https://billing.example/callback\nhttp://127.0.0.1:9000/cb");
    let saved = submit(&mut browser, &edit, &edit, &fields).await;
    assert_eq!((saved.status, saved.location.as_deref()), (303, Some(edit.as_str())), "{}", saved.html);
    let changed = app.call("GET", &format!("/api/v1/clients/{id}"), &app.tenant_key, Value::Null).await.expect(200);
    assert_eq!(changed.body["name"], "Billing 2");
    assert_eq!(changed.body["redirect_uris"], json!(["https://billing.example/callback", "http://127.0.0.1:9000/cb"]));
    assert_eq!(changed.body["grant_types"], json!(["client_credentials", "authorization_code"]));
    assert_eq!(
        (changed.body["access_token_ttl"].as_i64(), changed.body["id_token_signed_response_alg"].as_str()),
        (Some(600), Some("ES256"))
    );

    // Rotate without a grace period: the old secret stops at once.
    let rotated = submit(&mut browser, &edit, &format!("{edit}/rotate"), &[("grace_period_seconds", "0")]).await;
    let new_secret = text_of(&rotated.html, "secret");
    app.access_token(&id, &new_secret, Some("users:read")).await;
    let old = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);

    // A public client has no secret.
    let public = submit(
        &mut browser,
        &new,
        &console(&app, "clients"),
        &[
            ("kind", "public"),
            ("name", "SPA"),
            ("grant_types", "authorization_code"),
            ("redirect_uris", "https://spa.example/cb"),
        ],
    )
    .await;
    let public_id = created_id(&public);
    assert!(public_id.starts_with("client_"), "{public_id}");

    let deleted = submit(&mut browser, &edit, &format!("{edit}/delete"), &[]).await;
    assert_eq!((deleted.status, deleted.location), (303, Some(console(&app, "clients"))));
    app.call("GET", &format!("/api/v1/clients/{id}"), &app.tenant_key, Value::Null).await.expect(404);
    let events = actions(&app).await;
    for action in ["client.created", "client.updated", "client.secret_rotated", "client.deleted"] {
        let event = events.iter().find(|e| e["action"] == action && e["target"]["id"] == id.as_str()).expect(action);
        assert_eq!(event["actor"]["id"], admin_id.as_str(), "{action}");
    }
}

async fn users_and_organizations_in_the_console(app: TestApp) {
    let (mut browser, _) = signed_in_admin(&app, None).await;
    let org = submit(
        &mut browser,
        &console(&app, "organizations/new"),
        &console(&app, "organizations"),
        &[("name", "Acme"), ("domains", "acme.example"), ("plan", "unmetered")],
    )
    .await;
    let org = created_id(&org);
    let stored = app.call("GET", &format!("/api/v1/organizations/{org}"), &app.tenant_key, Value::Null).await;
    assert_eq!(stored.expect(200).body["plan"], "unmetered", "the plan chosen in the console");
    let page = console(&app, &format!("organizations/{org}"));
    let renamed =
        submit(&mut browser, &page, &page, &[("name", "Acme Inc"), ("domains", "acme.example\nBAD DOMAIN")]).await;
    assert_eq!(renamed.status, 422, "{}", renamed.html);
    assert!(renamed.html.contains("id=\"domains-error\""));
    let renamed =
        submit(&mut browser, &page, &page, &[("name", "Acme Inc"), ("domains", "acme.example"), ("plan", "")]).await;
    assert_eq!(renamed.status, 303, "{}", renamed.html);
    let stored = app.call("GET", &format!("/api/v1/organizations/{org}"), &app.tenant_key, Value::Null).await;
    let stored = stored.expect(200);
    assert_eq!(
        (stored.body["name"].as_str(), stored.body["plan"].clone()),
        (Some("Acme Inc"), Value::Null),
        "back on the tenant's plan"
    );

    // A user with a password and a role: they sign in; demoted, they no longer get in.
    let fields =
        [("email", "ops@acme.example"), ("password", PASSWORD), ("role", "admin"), ("organization_id", org.as_str())];
    let user = created_id(&submit(&mut browser, &console(&app, "users/new"), &console(&app, "users"), &fields).await);
    let short = submit(
        &mut browser,
        &console(&app, "users/new"),
        &console(&app, "users"),
        &[("email", "x@acme.example"), ("password", "short")],
    )
    .await;
    assert_eq!(short.status, 422);
    assert!(
        short.html.contains("id=\"password-error\"") && !short.html.contains("value=\"short\""),
        "passwords are not echoed"
    );
    let mut org_admin = Browser::new(&app);
    assert_eq!(sign_in(&mut org_admin, &app.tenant_id, "ops@acme.example").await.status, 303);
    // The organization's admin sees its users, not the tenant's organizations page's forms.
    let users = org_admin.get(&console(&app, "users")).await;
    assert!(users.html.contains("ops@acme.example") && !users.html.contains(crate::support::FIRST_ADMIN_EMAIL));
    assert_eq!(org_admin.get(&console(&app, "organizations/new")).await.status, 403, "no form the API would refuse");
    let own = org_admin.get(&console(&app, &format!("organizations/{org}"))).await;
    assert_eq!(own.status, 403, "the organizations pages are the tenant admins': {}", own.html);
    assert_eq!(org_admin.get(&console(&app, "organizations")).await.status, 403);
    let csrf = org_admin.get(&console(&app, "users")).await.csrf();
    let create_org = org_admin.post(&console(&app, "organizations"), &[("csrf", &csrf), ("name", "Mine")]).await;
    assert_eq!(create_org.status, 403, "{}", create_org.html);
    let user_page = console(&app, &format!("users/{user}"));
    let demoted =
        submit(&mut browser, &user_page, &user_page, &[("name", "Ops"), ("role", "member"), ("password", "")]).await;
    assert_eq!(demoted.status, 303, "{}", demoted.html);
    assert_eq!(org_admin.get(&console(&app, "users")).await.status, 403, "demoted: out");
    // A form shown before another admin's change does not undo it.
    let shown = browser.get(&user_page).await;
    let stale = [("csrf", shown.csrf()), ("version", input_value(&shown.html, "version").unwrap())];
    let promoted = json!({"role": "admin"});
    app.call("PATCH", &format!("/api/v1/users/{user}"), &app.tenant_key, promoted).await.expect(200);
    let mut posted: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    posted.extend([("name", "Ops"), ("role", "member"), ("password", "")]);
    let refused = browser.post(&user_page, &posted).await;
    assert_eq!(refused.status, 409, "{}", refused.html);
    let now = app.call("GET", &format!("/api/v1/users/{user}"), &app.tenant_key, Value::Null).await.expect(200);
    assert_eq!(now.body["role"], "admin", "the other admin's change stands");
    let deleted = submit(&mut browser, &user_page, &format!("{user_page}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    app.call("GET", &format!("/api/v1/users/{user}"), &app.tenant_key, Value::Null).await.expect(404);
    let gone = submit(&mut browser, &page, &format!("{page}/delete"), &[]).await;
    assert_eq!(gone.status, 303);
    app.call("GET", &format!("/api/v1/organizations/{org}"), &app.tenant_key, Value::Null).await.expect(404);
}

async fn apis_are_defined_in_the_console_by_tenant_admins_only(app: TestApp) {
    let (mut browser, _) = signed_in_admin(&app, None).await;
    let fields =
        [("name", "Invoices"), ("identifier", "https://invoices.example"), ("scopes", "invoices:read invoices:write")];
    let id =
        created_id(&submit(&mut browser, &console(&app, "resources/new"), &console(&app, "resources"), &fields).await);
    let page = console(&app, &format!("resources/{id}"));
    let bad = submit(
        &mut browser,
        &page,
        &page,
        &[("name", "Invoices"), ("identifier", "not a uri"), ("scopes", "invoices:read")],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("id=\"identifier-error\""));
    let saved = submit(
        &mut browser,
        &page,
        &page,
        &[("name", "Invoices API"), ("identifier", "https://invoices.example"), ("scopes", "invoices:read")],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    // A key for the API's scope can now be made in the console.
    let key = submit(
        &mut browser,
        &console(&app, "api_keys/new"),
        &console(&app, "api_keys"),
        &[("name", "invoices"), ("scopes", "invoices:read")],
    )
    .await;
    assert_eq!(key.status, 200, "{}", key.html);

    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme"})).await.expect(201).id();
    let (mut org_admin, _) = signed_in_admin(&app, Some(&org)).await;
    // The tenant's APIs are the tenant admins' pages: not offered, and refused.
    let overview = org_admin.get(&console(&app, "overview")).await;
    assert!(!overview.html.contains(">APIs</a>"), "not in their navigation");
    let listed = org_admin.get(&console(&app, "resources")).await;
    assert_eq!(listed.status, 403, "{}", listed.html);
    assert!(!listed.html.contains("Invoices API"));
    assert_eq!(org_admin.get(&page).await.status, 403);
    let csrf = org_admin.get(&console(&app, "overview")).await.csrf();
    let refused = org_admin.post(&format!("{page}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    let deleted = submit(&mut browser, &page, &format!("{page}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
}

/// docs/protect-your-api.md: a key's own limit, set on the console's create form, refused by its
/// fields when malformed.
async fn a_key_with_its_own_limit_is_created_in_the_console(app: TestApp) {
    let (mut browser, _) = signed_in_admin(&app, None).await;
    let new = console(&app, "api_keys/new");
    let fields =
        [("name", "limited"), ("scopes", "orders:read"), ("rate_limit.limit", "5"), ("rate_limit.window", "soon")];
    let refused = submit(&mut browser, &new, &console(&app, "api_keys"), &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("id=\"rate_limit.window-error\""), "{}", refused.html);
    let fields =
        [("name", "limited"), ("scopes", "orders:read"), ("rate_limit.limit", "many"), ("rate_limit.window", "1m")];
    let refused = submit(&mut browser, &new, &console(&app, "api_keys"), &fields).await;
    assert!(refused.status == 422 && refused.html.contains("id=\"rate_limit.limit-error\""), "{}", refused.html);
    let fields =
        [("name", "limited"), ("scopes", "orders:read"), ("rate_limit.limit", "5"), ("rate_limit.window", "1m")];
    let created = submit(&mut browser, &new, &console(&app, "api_keys"), &fields).await;
    assert_eq!(created.status, 200, "{}", created.html);
    let listed = app.call("GET", "/api/v1/api_keys", &app.tenant_key, Value::Null).await.expect(200);
    let key = listed.body["data"].as_array().unwrap().iter().find(|k| k["name"] == "limited").unwrap().clone();
    assert_eq!(key["rate_limit"], json!({"window": "1m", "limit": 5}));
    let page = browser.get(&console(&app, &format!("api_keys/{}", key["id"].as_str().unwrap()))).await;
    assert!(page.html.contains("5 calls per 1m"), "{}", page.html);
}
