//! The API keys pages: the keys within the admin's reach (redacted forms only), creating one
//! (its secret shown once, on the page that follows), rotating one with a grace period, and
//! revoking one. Every write is the API's own operation (`tollbooth_resource::api_keys`), with
//! its validation, its rule and its audit event (docs/console.md).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::api_keys::{CreateApiKey, RotateApiKey, create_key, delete_key, rotate_key};
use tollbooth_resource::error::ApiErrorKind;
use tollbooth_resource::pagination::page_request;
use tollbooth_resource::{ManagementApi, crud, scopes};
use tollbooth_storage::api_keys::ApiKey;
use tollbooth_storage::ids;

use crate::error::{ConsoleError, see_other};
use crate::form::{Form, poster};
use crate::pages::{self, FieldErrors, Frame, PageLinks, Section, csrf_field, href, text_input, time};
use crate::signed_in::SignedIn;

/// `GET /console/{tenant_id}/api_keys`.
pub async fn list(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = SignedIn::of(&request, &tenant_id, &api).await?;
    let page_request = page_request::<ids::ApiKey>(&request)
        .map_err(|_| ConsoleError::BadRequest("The page's address is not valid."))?;
    let page = crud::page_of::<ApiKey>(&api, &signed_in.principal, scopes::API_KEYS_READ, page_request).await?;
    let frame = signed_in.frame();
    let links = PageLinks::of(request.query_string(), page.before.as_deref(), page.after.as_deref());
    let content = html! {
        p { a.button href=(href(&frame, "api_keys/new")) { "Create an API key" } }
        @if page.data.is_empty() {
            p { "No API keys." }
        } @else {
            div.scroll { table {
                caption { "API keys within your reach, newest first" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Key" } th scope="col" { "Environment" }
                    th scope="col" { "Scopes" } th scope="col" { "Expires" }
                } }
                tbody {
                    @for key in &page.data {
                        tr {
                            td { a href=(href(&frame, &format!("api_keys/{}", key.id))) { (key.name) } }
                            td { code { (key.redacted) } }
                            td { (key.environment) }
                            td { (key.scopes.join(" ")) }
                            td { @match key.expires_at { Some(at) => (time(at)), None => "never" } }
                        }
                    }
                }
            } }
        }
        (links.nav(&href(&frame, "api_keys")))
    };
    let answer = pages::framed(&frame, Section::ApiKeys, StatusCode::OK, "API keys", content);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// What the create form holds, as typed.
#[derive(Default)]
struct Typed {
    name: String,
    scopes: String,
    organization_id: String,
    expires_at: String,
}

const CREATE_FIELDS: [&str; 4] = ["name", "scopes", "organization_id", "expires_at"];

fn create_form(signed_in: &SignedIn, typed: &Typed, errors: &FieldErrors, status: StatusCode) -> HttpResponse {
    let frame = signed_in.frame();
    let content = html! {
        (errors.summary(&CREATE_FIELDS))
        form method="post" action=(href(&frame, "api_keys")) novalidate {
            (csrf_field(&frame))
            (text_input(errors, "name", "Name", "text", &typed.name, Some("What the key is for, e.g. \"billing worker\".")))
            (text_input(errors, "scopes", "Scopes", "text", &typed.scopes,
                Some("Separated by spaces: management scopes such as admin or clients:read, or your APIs' scopes.")))
            @if signed_in.is_tenant_admin() {
                (text_input(errors, "organization_id", "Organization (optional)", "text", &typed.organization_id,
                    Some("An organization's id confines the key to that organization.")))
            }
            (text_input(errors, "expires_at", "Expires (optional, UTC)", "datetime-local", &typed.expires_at,
                Some("After this the key stops working. Leave empty for a key that does not expire.")))
            p.hint { "The key's environment is its tenant's." }
            div.actions { button type="submit" { "Create key" } a href=(href(&frame, "api_keys")) { "Cancel" } }
        }
    };

    pages::framed(&frame, Section::ApiKeys, status, "Create an API key", content)
}

/// `GET /console/{tenant_id}/api_keys/new`.
pub async fn new(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = SignedIn::of(&request, &tenant_id, &api).await?;
    let answer = create_form(&signed_in, &Typed::default(), &FieldErrors::default(), StatusCode::OK);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// A `datetime-local` value (`2027-01-31T12:00`, read as UTC) as RFC 3339; anything else as
/// typed, for the API's validation to refuse.
fn utc_timestamp(typed: &str) -> String {
    match chrono::NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M") {
        Ok(at) => at.and_utc().to_rfc3339(),
        Err(_) => typed.to_owned(),
    }
}

/// `POST /console/{tenant_id}/api_keys`: the new key's secret, shown this once.
pub async fn create(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let form = Form::of(body)?;
    let signed_in = poster(&request, &tenant_id, &api, &form).await?;
    let typed = Typed {
        name: form.text("name"),
        scopes: form.text("scopes"),
        organization_id: form.text("organization_id"),
        expires_at: form.text("expires_at"),
    };
    let scopes = form.words("scopes");
    let input = CreateApiKey {
        name: Some(typed.name.clone()),
        scopes: Some(scopes.clone()),
        organization_id: form.optional("organization_id"),
        expires_at: form.optional("expires_at").map(|typed| utc_timestamp(&typed)),
        tenant_id: None,
    };
    let answer = match create_key(&api, &signed_in.principal, &request, input).await {
        Ok((key, secret)) => secret_page(&signed_in.frame(), &key, &secret, "API key created"),
        Err(invalid) if invalid.kind == ApiErrorKind::ValidationFailed => {
            let errors = FieldErrors(invalid.field_errors).naming_entries("scopes", &scopes);
            create_form(&signed_in, &typed, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(refused) => return Err(refused.into()),
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// The page that follows a create or rotate: the secret, this once, with a copy button.
fn secret_page(frame: &Frame<'_>, key: &ApiKey, secret: &SecretString, title: &str) -> HttpResponse {
    let what = html! { strong { (key.name) } " (" code { (key.redacted) } " from now on)" };
    let done = href(frame, &format!("api_keys/{}", key.id));
    pages::secret_page(frame, Section::ApiKeys, title, what, secret.expose_secret(), &done)
}

/// `GET /console/{tenant_id}/api_keys/{id}`: the key, and the forms that rotate and revoke it.
pub async fn show(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (tenant_id, key_id) = path.into_inner();
    let signed_in = SignedIn::of(&request, &tenant_id, &api).await?;
    let reach = signed_in.principal.reach_with(scopes::API_KEYS_READ)?;
    let key: ApiKey = crud::fetch(&api, reach, &key_id).await?;
    let answer = key_page(&signed_in.frame(), &key);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

fn key_page(frame: &Frame<'_>, key: &ApiKey) -> HttpResponse {
    let here = href(frame, &format!("api_keys/{}", key.id));
    let content = html! {
        dl.facts {
            dt { "Key" } dd { code { (key.redacted) } }
            dt { "Id" } dd { code { (key.id) } }
            dt { "Environment" } dd { (key.environment) }
            dt { "Scopes" } dd { (key.scopes.join(" ")) }
            @if let Some(organization) = &key.organization_id { dt { "Organization" } dd { code { (organization) } } }
            dt { "Expires" } dd { @match key.expires_at { Some(at) => (time(at)), None => "never" } }
            @if let Some(until) = key.previous_key_expires_at {
                dt { "Previous secret" } dd { "works until " (time(until)) }
            }
            dt { "Created" } dd { (time(key.created_at)) }
        }
        h2 { "Rotate" }
        form method="post" action={ (here) "/rotate" } {
            (csrf_field(frame))
            (pages::grace_period_choice())
            div.actions { button type="submit" { "Rotate the secret" } }
        }
        h2 { "Revoke" }
        form method="post" action={ (here) "/revoke" } data-confirm="Revoke this key? It stops working at once." {
            (csrf_field(frame))
            p { "A revoked key stops working at once, on every instance within a second." }
            div.actions { button.danger type="submit" { "Revoke the key" } }
        }
        (back(frame))
    };
    pages::framed(frame, Section::ApiKeys, StatusCode::OK, &key.name, content)
}

fn back(frame: &Frame<'_>) -> Markup {
    html! { p { a href=(href(frame, "api_keys")) { "All API keys" } } }
}

/// `POST /console/{tenant_id}/api_keys/{id}/rotate`: the new secret, shown this once.
pub async fn rotate(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (tenant_id, key_id) = path.into_inner();
    let form = Form::of(body)?;
    let signed_in = poster(&request, &tenant_id, &api, &form).await?;
    let grace = match form.one("grace_period_seconds").map(str::parse::<i64>) {
        Some(Ok(seconds)) => seconds,
        _ => return Err(ConsoleError::BadRequest("Choose how long the old secret keeps working.")),
    };
    let input = RotateApiKey { grace_period_seconds: Some(grace) };
    let (key, secret) =
        rotate_key(&api, &signed_in.principal, &request, &key_id, input).await.map_err(pages::field_refusal)?;
    let answer = secret_page(&signed_in.frame(), &key, &secret, "API key rotated");
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/api_keys/{id}/revoke`.
pub async fn revoke(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (tenant_id, key_id) = path.into_inner();
    let form = Form::of(body)?;
    let signed_in = poster(&request, &tenant_id, &api, &form).await?;
    delete_key(&api, &signed_in.principal, &request, &key_id).await?;
    let answer = see_other(&href(&signed_in.frame(), "api_keys"));
    Ok(signed_in.refreshed(answer, &api.oauth))
}
