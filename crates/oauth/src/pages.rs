//! The server-rendered pages of the authorization flow: sign-in, consent, and errors that must
//! not redirect. Plain HTML forms that work without JavaScript; one small stylesheet served by
//! the binary.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

pub const STYLESHEET: &str = r#"
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2433}
main{max-width:26rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:0 0 1rem}p{margin:.5rem 0 1rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{width:100%;padding:.65rem .75rem;font-size:1rem;border:1px solid #c5cad3;border-radius:8px}
input:focus,button:focus{outline:3px solid #8ab4f8;outline-offset:1px}
button{width:100%;margin-top:1.25rem;padding:.7rem;font-size:1rem;font-weight:600;border:0;border-radius:8px;background:#2454d6;color:#fff;cursor:pointer}
button.secondary{background:#e6e8ec;color:#1d2433;margin-top:.5rem}
.error{padding:.6rem .8rem;border-radius:8px;background:#fdecea;color:#8a1c12}
ul{padding-left:1.25rem}li{margin:.2rem 0}code{background:#f0f1f4;padding:.1rem .3rem;border-radius:4px}
@media (max-width:30rem){main{margin:0;min-height:100vh;border-radius:0;box-shadow:none}}
"#;

/// The forms post to this server, which then redirects to the client (any http(s) URI).
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'";

fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/oauth/style.css\"></head>\
         <body><main>{body}</main></body></html>",
        title = escape(title)
    );
    tollbooth_http::html_page::answer(status, CONTENT_SECURITY_POLICY, html)
}

/// An error the user sees, with no redirect (unknown client, unregistered redirect URI…).
pub fn error(message: &str) -> HttpResponse {
    page(StatusCode::BAD_REQUEST, "Cannot continue", &format!("<h1>Cannot continue</h1><p>{}</p>", escape(message)))
}

/// The sign-in form; `action` is the form's target (the authorize URL with its query).
pub fn sign_in(action: &str, client_name: &str, csrf: &str, email: &str, failed: bool) -> HttpResponse {
    let status = if failed { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let error = if failed { "<p class=\"error\" role=\"alert\">The email or password is wrong.</p>" } else { "" };
    let body = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{error}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"email\">Email</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        client = escape(client_name),
        action = escape(action),
        csrf = escape(csrf),
        email = escape(email),
    );
    page(status, "Sign in", &body)
}

/// The consent form: the client, the scopes it asks for, approve or deny.
pub fn consent(action: &str, client_name: &str, scopes: &[&str], csrf: &str) -> HttpResponse {
    let list = if scopes.is_empty() {
        "<p>No particular permissions.</p>".to_owned()
    } else {
        format!(
            "<ul>{}</ul>",
            scopes.iter().map(|s| format!("<li><code>{}</code></li>", escape(s))).collect::<String>()
        )
    };
    let body = format!(
        "<h1>Allow access?</h1><p><strong>{client}</strong> asks for:</p>{list}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
        client = escape(client_name),
        action = escape(action),
        csrf = escape(csrf),
    );
    page(StatusCode::OK, "Allow access", &body)
}

/// RP-initiated logout without a registered place to return to (docs/oidc.md).
pub fn signed_out() -> HttpResponse {
    page(StatusCode::OK, "Signed out", "<h1>Signed out</h1><p>You are signed out. You can close this page.</p>")
}

/// RP-initiated logout the server cannot tell the user asked for (no valid `id_token_hint` of
/// the signed-in user): a form that signs out when posted, carrying `kept` parameters along.
pub fn confirm_sign_out(kept: &[(&str, &str)], csrf: &str) -> HttpResponse {
    let hidden: String = kept
        .iter()
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value)))
        .collect();
    let body = format!(
        "<h1>Sign out?</h1><p>An application asks to sign you out.</p>\
         <form method=\"post\" action=\"/oauth/logout\">{hidden}\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"confirm\" value=\"yes\">Sign out</button></form>",
        csrf = escape(csrf),
    );
    page(StatusCode::OK, "Sign out", &body)
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(STYLESHEET)
}
