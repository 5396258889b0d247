//! docs/console.md in a real browser: headless Chromium signs in to the console as the
//! bootstrap's admin, creates a key and sees its secret once, calls the API with it, rotates and
//! revokes it, reads the audit log, and is refused where it should be. Every page is checked
//! with axe-core (npm, run inside the page) for serious or critical accessibility violations and
//! photographed at 390 and 1280 pixels wide into `target/console-screenshots/`.

use std::path::{Path, PathBuf};

use fantoccini::{Locator, elements::Element};
use serde_json::{Value, json};

use crate::authorization_code::PASSWORD;
use crate::browser::Chromium;
use crate::support::{Backend, FIRST_ADMIN_EMAIL, TestApp};

/// Where the screenshots go: the workspace's `target/`, so CI keeps them with the build.
fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots")
}

/// axe-core's browser build, from `integration-tests/node` (`npm ci` there; `.ci/run` does).
fn axe_source() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("node/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is missing", path.display());
            eprintln!("skipped: run `npm ci` in integration-tests/node to run the console's browser test");
            None
        }
    }
}

/// The page as it stands: no serious or critical axe violation, and a screenshot at each width.
struct Inspector<'a> {
    chromium: &'a Chromium,
    axe: String,
    checked: Vec<String>,
}

impl Inspector<'_> {
    /// axe's serious and critical violations on the page as it stands.
    async fn grave_violations(&self) -> Vec<Value> {
        let browser = &self.chromium.browser;
        browser.execute(&self.axe, vec![]).await.expect("axe loads");
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ["violations"] })
              .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => n.target.join(" ")) }))))
              .catch(e => done([{ id: "axe-failed", impact: "critical", help: String(e), nodes: [] }]));
        "#;
        let violations = browser.execute_async(script, vec![]).await.expect("axe runs");
        let violations = violations.as_array().expect("a list").clone();
        violations.into_iter().filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical"))).collect()
    }

    async fn inspect(&mut self, name: &str) {
        let grave = self.grave_violations().await;
        assert!(grave.is_empty(), "{name}: accessibility violations {grave:#?}");
        let browser = &self.chromium.browser;
        std::fs::create_dir_all(screenshot_dir()).unwrap();
        for width in [390, 1280] {
            browser.set_window_size(width, 900).await.expect("resize");
            let png = browser.screenshot().await.expect("screenshot");
            std::fs::write(screenshot_dir().join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.checked.push(name.to_owned());
    }
}

async fn find(chromium: &Chromium, css: &str) -> Element {
    chromium.browser.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn fill(chromium: &Chromium, css: &str, text: &str) {
    let input = find(chromium, css).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn submit(chromium: &Chromium, css: &str) {
    find(chromium, css).await.click().await.unwrap();
}

/// The page's heading once it reads `expected` (a click's new page may still be loading), or
/// what it reads after five seconds.
async fn heading_is(chromium: &Chromium, expected: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let read = match chromium.browser.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if read == expected || std::time::Instant::now() > deadline {
            return read;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn sign_in(chromium: &Chromium, app: &TestApp, email: &str, password: &str) {
    chromium.browser.goto(&app.url(&format!("/console/{}/", app.tenant_id))).await.unwrap();
    fill(chromium, "#email", email).await;
    fill(chromium, "#password", password).await;
    submit(chromium, "main button[type=submit]").await;
}

async fn sign_out(chromium: &Chromium) {
    submit(chromium, "header button[type=submit]").await;
    find(chromium, "#email").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    if !Chromium::available() {
        return;
    }
    let Some(axe) = axe_source() else { return };
    // Served from its own address, so the browser's requests carry it as the issuer says.
    let app = TestApp::spawn_at_own_address(Backend::Sqlite).await.unwrap();
    let chromium = Chromium::start().await;
    let mut inspector = Inspector { chromium: &chromium, axe, checked: Vec::new() };
    let browser = &chromium.browser;
    let console = |page: &str| app.url(&format!("/console/{}/{page}", app.tenant_id));

    // A newcomer signs in with what the bootstrap printed.
    browser.goto(&console("")).await.unwrap();
    inspector.inspect("sign-in").await;
    // The check can fail: an input without a label is a critical violation.
    browser.execute("document.querySelector('label[for=email]').remove()", vec![]).await.unwrap();
    let found = inspector.grave_violations().await;
    assert!(found.iter().any(|v| v["id"] == "label"), "axe finds the unlabelled input: {found:#?}");
    browser.refresh().await.unwrap();
    fill(&chromium, "#email", FIRST_ADMIN_EMAIL).await;
    fill(&chromium, "#password", "not the password").await;
    submit(&chromium, "main button[type=submit]").await;
    find(&chromium, "#sign-in-error").await;
    inspector.inspect("sign-in-failed").await;
    sign_in(&chromium, &app, FIRST_ADMIN_EMAIL, &app.admin_password).await;
    assert_eq!(heading_is(&chromium, "Overview").await, "Overview");
    inspector.inspect("overview").await;

    // Create a key: the form's errors first, next to their fields.
    find(&chromium, "nav.sections a[href$='/api_keys']").await.click().await.unwrap();
    inspector.inspect("api-keys").await;
    find(&chromium, "a.button").await.click().await.unwrap();
    inspector.inspect("api-key-new").await;
    fill(&chromium, "#scopes", "users:read no-such:scope").await;
    submit(&chromium, "main button[type=submit]").await;
    find(&chromium, "#name-error").await;
    find(&chromium, "#scopes-error").await;
    inspector.inspect("api-key-new-invalid").await;
    fill(&chromium, "#name", "reporting").await;
    fill(&chromium, "#scopes", "users:read").await;
    submit(&chromium, "main button[type=submit]").await;
    let secret = find(&chromium, "#secret").await.text().await.unwrap();
    assert!(secret.starts_with("sk_live_"), "{secret}");
    assert!(
        find(&chromium, "button[data-copy]").await.is_displayed().await.unwrap(),
        "the script shows the copy button"
    );
    inspector.inspect("api-key-secret").await;

    // The key works against /api/v1; the console never shows its secret again.
    let users = app.http.get(app.url("/api/v1/users")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(users.status(), 200);
    find(&chromium, "div.actions a").await.click().await.unwrap();
    assert_eq!(heading_is(&chromium, "reporting").await, "reporting");
    browser.refresh().await.unwrap();
    let page = browser.source().await.unwrap();
    assert!(!page.contains(&secret) && page.contains("sk_live_…"), "only the redacted form");
    inspector.inspect("api-key").await;

    // Rotate with a grace period: both secrets work until it ends.
    find(&chromium, "#grace_period_seconds").await.select_by_value("3600").await.unwrap();
    submit(&chromium, "form[action$='/rotate'] button").await;
    let rotated = find(&chromium, "#secret").await.text().await.unwrap();
    assert_ne!(rotated, secret);
    for key in [&secret, &rotated] {
        let users = app.http.get(app.url("/api/v1/users")).bearer_auth(key).send().await.unwrap();
        assert_eq!(users.status(), 200);
    }

    // Revoke, confirming the script's question: refused at once.
    find(&chromium, "div.actions a").await.click().await.unwrap();
    submit(&chromium, "form[action$='/delete'] button").await;
    assert!(browser.get_alert_text().await.unwrap().contains("Revoke reporting?"));
    browser.accept_alert().await.unwrap();
    find(&chromium, "a.button").await;
    let refused = app.http.get(app.url("/api/v1/users")).bearer_auth(&rotated).send().await.unwrap();
    assert_eq!(refused.status(), 401);

    // The audit log names the console user.
    find(&chromium, "nav.sections a[href$='/audit_log']").await.click().await.unwrap();
    assert_eq!(heading_is(&chromium, "Audit log").await, "Audit log");
    let log = browser.source().await.unwrap();
    assert!(log.contains("api_key.deleted") && log.contains("api_key.rotated") && log.contains("api_key.created"));
    inspector.inspect("audit-log").await;

    // Every other page passes the same checks.
    let client = app
        .create_client(json!({"name": "Shop", "grant_types": ["client_credentials"], "scopes": ["users:read"]}))
        .await;
    let user =
        app.call("GET", "/api/v1/users", &app.tenant_key, Value::Null).await.expect(200).body["data"][0]["id"].clone();
    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Initech"})).await.expect(201).id();
    let body = json!({"name": "Invoices", "identifier": "https://invoices.example", "scopes": ["invoices:read"]});
    let resource = app.call("POST", "/api/v1/resources", &app.tenant_key, body).await.expect(201).id();
    let user_email = app
        .call("GET", &format!("/api/v1/users/{}", user.as_str().unwrap()), &app.tenant_key, Value::Null)
        .await
        .expect(200)
        .body["email"]
        .as_str()
        .unwrap()
        .to_owned();
    // Each kind: its list, its create form and one object's page, by the heading each must show.
    let kinds = [
        ("clients", client["id"].as_str().unwrap().to_owned(), ["Clients", "Create a client", "Shop"]),
        ("users", user.as_str().unwrap().to_owned(), ["Users", "Create a user", user_email.as_str()]),
        ("organizations", org, ["Organizations", "Create an organization", "Initech"]),
        ("resources", resource, ["APIs", "Define an API", "Invoices"]),
    ];
    for (kind, id, headings) in &kinds {
        let pages = [kind.to_string(), format!("{kind}/new"), format!("{kind}/{id}")];
        let names = [kind.to_string(), format!("{kind}-new"), format!("{kind}-one")];
        for ((page, name), expected) in pages.iter().zip(&names).zip(headings) {
            browser.goto(&console(page)).await.unwrap();
            assert_eq!(heading_is(&chromium, expected).await, *expected, "{page}");
            inspector.inspect(name).await;
        }
    }

    // A form posted without its CSRF token is refused.
    browser.goto(&console("api_keys/new")).await.unwrap();
    browser.execute("document.querySelector('main input[name=csrf]').remove()", vec![]).await.unwrap();
    fill(&chromium, "#name", "forged").await;
    fill(&chromium, "#scopes", "users:read").await;
    submit(&chromium, "main button[type=submit]").await;
    assert_eq!(heading_is(&chromium, "Cannot continue").await, "Cannot continue");
    inspector.inspect("expired-form").await;
    browser.goto(&console("no_such_page")).await.unwrap();
    assert_eq!(heading_is(&chromium, "Not found").await, "Not found");
    inspector.inspect("not-found").await;
    browser.goto(&console("overview")).await.unwrap();
    sign_out(&chromium).await;

    // An organization's admin sees only the organization's keys and no audit log.
    let org =
        app.call("POST", "/api/v1/organizations", &app.tenant_key, json!({"name": "Acme"})).await.expect(201).id();
    let body = json!({"name": "acme key", "scopes": ["users:read"], "organization_id": org});
    app.call("POST", "/api/v1/api_keys", &app.tenant_key, body).await.expect(201);
    let body = json!({"email": "org-admin@example.com", "password": PASSWORD, "role": "admin", "organization_id": org});
    app.call("POST", "/api/v1/users", &app.tenant_key, body).await.expect(201);
    sign_in(&chromium, &app, "org-admin@example.com", PASSWORD).await;
    assert_eq!(heading_is(&chromium, "Overview").await, "Overview");
    browser.goto(&console("api_keys")).await.unwrap();
    let keys = browser.source().await.unwrap();
    assert!(keys.contains("acme key") && !keys.contains("Admin key"), "only the organization's keys");
    assert!(browser.find(Locator::Css("nav.sections a[href$='/audit_log']")).await.is_err());
    browser.goto(&console("audit_log")).await.unwrap();
    assert_eq!(heading_is(&chromium, "Not allowed").await, "Not allowed");
    inspector.inspect("not-allowed").await;
    browser.goto(&console("overview")).await.unwrap();
    sign_out(&chromium).await;

    // A member is refused.
    let body = json!({"email": "member@example.com", "password": PASSWORD});
    app.call("POST", "/api/v1/users", &app.tenant_key, body).await.expect(201);
    sign_in(&chromium, &app, "member@example.com", PASSWORD).await;
    assert_eq!(heading_is(&chromium, "Cannot sign in").await, "Cannot sign in");
    inspector.inspect("member-refused").await;

    eprintln!("checked and photographed: {}", inspector.checked.join(", "));
}
