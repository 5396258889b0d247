//! The console's pages, rendered on the server with maud (templates checked by the compiler,
//! every value escaped): plain HTML forms that work without JavaScript, one stylesheet served
//! by the binary, and a strict Content-Security-Policy (docs/console.md).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};
use tollbooth_storage::api_keys::ApiKey;

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
@media (max-width:40rem){main{margin:0;border-radius:0}}
"#;

/// No script, no frame, no form posted anywhere but here.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn page(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tollbooth console" }
                link rel="stylesheet" href="/console/style.css";
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
}

fn framed(frame: &Frame<'_>, title: &str, content: Markup) -> HttpResponse {
    let body = html! {
        header {
            a href={ "/console/" (frame.tenant_id) "/api_keys" } { "Tollbooth console" }
            span {
                (frame.email)
                @if let Some(organization) = frame.organization_id { " · organization " code { (organization) } }
            }
            form method="post" action={ "/console/" (frame.tenant_id) "/sign_out" } {
                input type="hidden" name="csrf" value=(frame.csrf);
                button type="submit" { "Sign out" }
            }
        }
        main { h1 { (title) } (content) }
    };
    page(StatusCode::OK, title, body)
}

/// Links to the pages before and after a list's page, as query strings.
pub struct PageLinks {
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// A page of API keys: their redacted forms only, never a secret.
pub fn api_keys(frame: &Frame<'_>, keys: &[ApiKey], links: &PageLinks) -> HttpResponse {
    let content = html! {
        @if keys.is_empty() {
            p { "No API keys." }
        } @else {
            div.scroll { table {
                caption { "API keys within your reach, newest first" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Key" } th scope="col" { "Environment" }
                    th scope="col" { "Scopes" } th scope="col" { "Expires" }
                } }
                tbody {
                    @for key in keys {
                        tr {
                            td { (key.name) }
                            td { code { (key.redacted) } }
                            td { (key.environment) }
                            td { (key.scopes.join(" ")) }
                            td { @match key.expires_at { Some(at) => (at.format("%Y-%m-%d %H:%M UTC")), None => "never" } }
                        }
                    }
                }
            } }
        }
        @if links.previous.is_some() || links.next.is_some() {
            nav.pages aria-label="Pages" {
                @if let Some(query) = &links.previous {
                    a href={ "/console/" (frame.tenant_id) "/api_keys?" (query) } { "Previous page" }
                }
                @if let Some(query) = &links.next {
                    a href={ "/console/" (frame.tenant_id) "/api_keys?" (query) } { "Next page" }
                }
            }
        }
    };
    framed(frame, "API keys", content)
}
