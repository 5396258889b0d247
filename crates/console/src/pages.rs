//! The console's pages, rendered on the server with maud (templates checked by the compiler,
//! every value escaped): plain HTML forms that work without JavaScript, one stylesheet served
//! by the binary, and a strict Content-Security-Policy (docs/console.md).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};
use tollbooth_resource::error::FieldError;

pub const STYLESHEET: &str = r#"
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2433}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;padding:.75rem 1.25rem;background:#1d2433;color:#fff}
header a{color:#fff}header form{margin:0}
main{max-width:64rem;margin:1.5rem auto;padding:1.5rem;background:#fff;border-radius:12px}
main.narrow{max-width:26rem;margin-top:8vh}
h1{font-size:1.35rem;margin:0 0 1rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{width:100%;padding:.65rem .75rem;font-size:1rem;border:1px solid #6b7280;border-radius:8px}
input:focus,button:focus,a:focus{outline:3px solid #1d4ed8;outline-offset:2px}
button{padding:.6rem 1rem;font-size:1rem;font-weight:600;border:0;border-radius:8px;background:#2454d6;color:#fff;cursor:pointer}
main.narrow button{width:100%;margin-top:1.25rem}
.error{padding:.6rem .8rem;border-radius:8px;background:#fdecea;color:#8a1c12}
.scroll{overflow-x:auto}table{width:100%;border-collapse:collapse}caption{text-align:left;font-weight:600;padding:.25rem 0}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
code{background:#f0f1f4;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
nav.pages{display:flex;gap:1rem;margin-top:1rem}
nav.sections{display:flex;flex-wrap:wrap;gap:.25rem 1rem;max-width:64rem;margin:1rem auto 0;padding:0 1.25rem}
nav.sections a{color:#1d2433;padding:.25rem 0}nav.sections a[aria-current]{font-weight:700;border-bottom:3px solid #2454d6}
.field-error{color:#8a1c12;margin:.25rem 0 0;font-size:.95rem}.hint{color:#4b5563;margin:.25rem 0 0;font-size:.95rem}
select,textarea{width:100%;padding:.65rem .75rem;font-size:1rem;border:1px solid #6b7280;border-radius:8px;background:#fff}
fieldset{border:1px solid #d1d5db;border-radius:8px;margin:.75rem 0}legend{font-weight:600}
fieldset label{display:flex;gap:.5rem;align-items:center;font-weight:400;margin:.25rem 0}fieldset input{width:auto}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin-top:1.25rem}
button.danger{background:#b42318}a.button{display:inline-block;padding:.6rem 1rem;border-radius:8px;background:#2454d6;color:#fff;text-decoration:none;font-weight:600}
.secret{display:block;font-size:1.05rem;padding:.75rem;margin:.5rem 0;border:2px dashed #2454d6}
.notice{padding:.6rem .8rem;border-radius:8px;background:#e8f0fe;color:#1d2433}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end}form.filters div{flex:1 1 12rem}
svg.usage{width:100%;height:auto;max-width:40rem}
@media (max-width:40rem){main{margin:0;border-radius:0}}
"#;

/// Only our own stylesheet and script, no frame, no form posted anywhere but here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What script the pages have: a copy button and confirmations. Every page works without it.
pub const SCRIPT: &str = r#"
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; });
  });
});
document.querySelectorAll("form").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    // A second click would post the form again while its first answer is on its way.
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
  });
});
"#;

fn page(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tollbooth console" }
                link rel="stylesheet" href="/console/style.css";
                script src="/console/console.js" defer {}
            }
            body { (body) }
        }
    };
    tollbooth_http::html_page::answer(status, CONTENT_SECURITY_POLICY, html.into_string())
}

/// A message instead of a page, with `status`.
pub fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(status, title, html! { main.narrow { h1 { (title) } p { (text) } } })
}

/// The sign-in form of tenant `tenant_id`; `error` shown above it.
pub fn sign_in(status: StatusCode, tenant_id: &str, csrf: &str, email: &str, error: Option<&str>) -> HttpResponse {
    let body = html! {
        main.narrow {
            h1 { "Sign in to the console" }
            @if let Some(error) = error { p.error #sign-in-error role="alert" { (error) } }
            form method="post" action={ "/console/" (tenant_id) "/sign_in" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="email" { "Email" }
                input #email name="email" type="email" autocomplete="username" required value=(email)
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "sign-in-error")];
                label for="password" { "Password" }
                input #password name="password" type="password" autocomplete="current-password" required
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "sign-in-error")];
                button type="submit" { "Sign in" }
            }
        }
    };
    page(status, "Sign in", body)
}

/// What every signed-in page shows above its content: who is signed in, and sign out.
pub struct Frame<'a> {
    pub tenant_id: &'a str,
    pub email: &'a str,
    /// The organization the user manages, if they are an organization's admin.
    pub organization_id: Option<&'a str>,
    pub csrf: &'a str,
    /// The server's rate-limit plans, for the forms that choose one.
    pub plans: &'a [String],
}

/// The console's sections, in the order of its navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    ApiKeys,
    Clients,
    Users,
    Organizations,
    Resources,
    AuditLog,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Overview,
        Section::ApiKeys,
        Section::Clients,
        Section::Users,
        Section::Organizations,
        Section::Resources,
        Section::AuditLog,
    ];

    fn path(self) -> &'static str {
        match self {
            Section::Overview => "overview",
            Section::ApiKeys => "api_keys",
            Section::Clients => "clients",
            Section::Users => "users",
            Section::Organizations => "organizations",
            Section::Resources => "resources",
            Section::AuditLog => "audit_log",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::ApiKeys => "API keys",
            Section::Clients => "Clients",
            Section::Users => "Users",
            Section::Organizations => "Organizations",
            Section::Resources => "APIs",
            Section::AuditLog => "Audit log",
        }
    }

    /// An organization's admin manages its keys, clients and users; the organizations, the APIs
    /// and the audit log are the tenant's pages.
    fn shown_to(self, frame: &Frame<'_>) -> bool {
        let tenant_only = matches!(self, Section::Organizations | Section::Resources | Section::AuditLog);
        !tenant_only || frame.organization_id.is_none()
    }
}

/// The address of a console page of `frame`'s tenant: `/console/{tenant_id}/{rest}`.
pub fn href(frame: &Frame<'_>, rest: &str) -> String {
    format!("/console/{}/{rest}", frame.tenant_id)
}

/// A signed-in page of `section`, with `status`.
pub fn framed(frame: &Frame<'_>, section: Section, status: StatusCode, title: &str, content: Markup) -> HttpResponse {
    let body = html! {
        header {
            a href=(href(frame, "overview")) { "Tollbooth console" }
            span {
                (frame.email)
                @if let Some(organization) = frame.organization_id { " · organization " code { (organization) } }
            }
            form method="post" action=(href(frame, "sign_out")) {
                input type="hidden" name="csrf" value=(frame.csrf);
                button type="submit" { "Sign out" }
            }
        }
        nav.sections aria-label="Console" {
            @for shown in Section::ALL.into_iter().filter(|s| s.shown_to(frame)) {
                a href=(href(frame, shown.path())) aria-current=[(shown == section).then_some("page")] { (shown.label()) }
            }
        }
        main { h1 { (title) } (content) }
    };
    page(status, title, body)
}

/// Links to the pages before and after a list's page, as query strings.
pub struct PageLinks {
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl PageLinks {
    /// The links of a page of a list whose first and last ids are `before` and `after`,
    /// keeping the request's other parameters (`limit`, `order`, filters).
    pub fn of(query: &str, before: Option<&str>, after: Option<&str>) -> PageLinks {
        let link = |direction: &str, id: &str| {
            let mut kept = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
                if name != "after" && name != "before" {
                    kept.append_pair(&name, &value);
                }
            }
            kept.append_pair(direction, id).finish()
        };
        PageLinks { previous: before.map(|id| link("before", id)), next: after.map(|id| link("after", id)) }
    }

    /// The navigation between pages of the list at `path`, if there is more than one.
    pub fn nav(&self, path: &str) -> Markup {
        html! {
            @if self.previous.is_some() || self.next.is_some() {
                nav.pages aria-label="Pages" {
                    @if let Some(query) = &self.previous { a href={ (path) "?" (query) } { "Previous page" } }
                    @if let Some(query) = &self.next { a href={ (path) "?" (query) } { "Next page" } }
                }
            }
        }
    }
}

/// The invalid fields of a posted form, as the API's validation named them (`scopes[2]` is a
/// field of `scopes`).
#[derive(Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// The API names a list's entries by index (`scopes[1]`); the form shows what was typed
    /// there, so each such message starts with the entry it is about.
    pub fn naming_entries(mut self, field: &str, entries: &[String]) -> Self {
        for error in &mut self.0 {
            let index = error.field.strip_prefix(field).and_then(|rest| rest.strip_prefix('[')?.strip_suffix(']'));
            if let Some(entry) = index.and_then(|i| i.parse::<usize>().ok()).and_then(|i| entries.get(i)) {
                error.message = format!("{entry}: {}", error.message);
            }
        }
        self
    }

    fn of<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.0
            .iter()
            .filter(move |e| e.field == field || e.field.strip_prefix(field).is_some_and(|r| r.starts_with('[')))
    }

    /// The id of the message shown under `field`, for `aria-describedby`; `None` if it is valid.
    pub fn described_by(&self, field: &str) -> Option<String> {
        self.of(field).next().map(|_| format!("{field}-error"))
    }

    /// The messages of `field`, shown under it.
    pub fn under(&self, field: &str) -> Markup {
        let messages: Vec<&str> = self.of(field).map(|e| e.message.as_str()).collect();
        html! {
            @if !messages.is_empty() {
                p.field-error id={ (field) "-error" } { @for message in messages { (message) " " } }
            }
        }
    }

    /// A summary above the form, naming the fields it shows (`shown`) and giving the message of
    /// any other (a rule on something the form has no input for).
    pub fn summary(&self, shown: &[&str]) -> Markup {
        let elsewhere: Vec<&FieldError> =
            self.0.iter().filter(|e| !shown.iter().any(|field| self.of(field).any(|mine| mine == *e))).collect();
        html! {
            @if !self.0.is_empty() {
                div.error role="alert" {
                    p { "Some fields need a change; see below." }
                    @for error in elsewhere { p { (error.message) } }
                }
            }
        }
    }
}

/// A labelled text input, with its hint and its errors under it.
pub fn text_input(
    errors: &FieldErrors,
    field: &str,
    label: &str,
    kind: &str,
    value: &str,
    hint: Option<&str>,
) -> Markup {
    let hint_id = hint.map(|_| format!("{field}-hint"));
    html! {
        label for=(field) { (label) }
        input id=(field) name=(field) type=(kind) value=(value)
            aria-invalid=[errors.described_by(field).map(|_| "true")]
            aria-describedby=[described_by(errors, field, hint_id.as_ref())];
        @if let (Some(hint), Some(id)) = (hint, &hint_id) { p.hint id=(id) { (hint) } }
        (errors.under(field))
    }
}

/// `aria-describedby` of a field: its hint's id and its error's.
fn described_by(errors: &FieldErrors, field: &str, hint_id: Option<&String>) -> Option<String> {
    let ids: Vec<String> = hint_id.cloned().into_iter().chain(errors.described_by(field)).collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A password input: never filled in again, and kept from the browser's saved sign-in.
pub fn password_input(errors: &FieldErrors, label: &str, hint: &str) -> Markup {
    html! {
        label for="password" { (label) }
        input #password name="password" type="password" value="" autocomplete="new-password"
            aria-invalid=[errors.described_by("password").map(|_| "true")]
            aria-describedby=[described_by(errors, "password", Some(&"password-hint".to_owned()))];
        p.hint #password-hint { (hint) }
        (errors.under("password"))
    }
}

/// A labelled text area (one entry per line), with its hint and errors under it.
pub fn text_area(errors: &FieldErrors, field: &str, label: &str, value: &str, hint: Option<&str>) -> Markup {
    let hint_id = hint.map(|_| format!("{field}-hint"));
    html! {
        label for=(field) { (label) }
        textarea id=(field) name=(field) rows="3"
            aria-invalid=[errors.described_by(field).map(|_| "true")]
            aria-describedby=[described_by(errors, field, hint_id.as_ref())] { (value) }
        @if let (Some(hint), Some(id)) = (hint, &hint_id) { p.hint id=(id) { (hint) } }
        (errors.under(field))
    }
}

/// Check boxes of one name, one per `(value, label)`, those in `checked` ticked.
pub fn check_boxes(
    errors: &FieldErrors,
    field: &str,
    legend: &str,
    options: &[(&str, &str)],
    checked: &dyn Fn(&str) -> bool,
) -> Markup {
    html! {
        fieldset aria-describedby=[errors.described_by(field)] {
            legend { (legend) }
            @for (value, label) in options {
                label { input type="checkbox" name=(field) value=(value) checked[checked(value)]; (label) }
            }
        }
        (errors.under(field))
    }
}

/// A labelled choice of one of `options` (`(value, label)`).
pub fn choice(errors: &FieldErrors, field: &str, label: &str, options: &[(&str, &str)], selected: &str) -> Markup {
    html! {
        label for=(field) { (label) }
        select id=(field) name=(field) aria-describedby=[errors.described_by(field)] {
            @for (value, text) in options { option value=(value) selected[*value == selected] { (text) } }
        }
        (errors.under(field))
    }
}

/// The hidden CSRF field every form of a signed-in page carries.
pub fn csrf_field(frame: &Frame<'_>) -> Markup {
    html! { input type="hidden" name="csrf" value=(frame.csrf); }
}

/// `at` as the console shows times: UTC, to the minute.
pub fn time(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The grace periods a rotation offers, in seconds, and how they read.
const GRACE_PERIODS: [(i64, &str); 4] =
    [(0, "None: the old secret stops now"), (3_600, "1 hour"), (86_400, "24 hours"), (604_800, "7 days")];

/// The choice of how long a rotated-out secret keeps working (24 hours unless changed).
pub fn grace_period_choice() -> Markup {
    html! {
        label for="grace_period_seconds" { "The old secret keeps working for" }
        select #grace_period_seconds name="grace_period_seconds" {
            @for (seconds, label) in GRACE_PERIODS {
                option value=(seconds) selected[seconds == 86_400] { (label) }
            }
        }
    }
}
