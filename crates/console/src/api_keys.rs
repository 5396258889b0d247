//! The API keys pages: the keys within the admin's reach (redacted forms only), creating one
//! (its secret shown once, on the page that follows), rotating one with a grace period, and
//! revoking one. Every write is the API's own operation (`tollbooth_resource::api_keys`), with
//! its validation, its rule and its audit event (docs/console.md, "API keys").

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::api_keys::{CreateApiKey, RotateApiKey, create_key, delete_key, rotate_key};
use tollbooth_resource::auth::Principal;
use tollbooth_resource::error::ApiError;
use tollbooth_resource::{ManagementApi, scopes};
use tollbooth_storage::api_keys::ApiKey;

use crate::error::ConsoleError;
use crate::form::Form;
use crate::objects::{self, Managed, create_page, form_outcome, path_of, unchanged_since_shown, version_field};
use crate::pages::{self, FieldErrors, Frame, Section, csrf_field, text_input, time};
use crate::signed_in::SignedIn;

impl Managed for ApiKey {
    const SECTION: Section = Section::ApiKeys;
    const PATH: &'static str = "api_keys";
    const READ_SCOPE: &'static str = scopes::API_KEYS_READ;
    const WRITE_SCOPE: &'static str = scopes::API_KEYS_WRITE;
    const TITLE: &'static str = "API keys";
    const CAPTION: &'static str = "API keys within your reach, newest first";
    const CREATE: &'static str = "Create an API key";
    const DELETE: &'static str = "Revoke";
    const HEADINGS: &'static [&'static str] = &["Name", "Key", "Environment", "Scopes", "Expires"];

    fn cells(&self, frame: &Frame<'_>) -> Markup {
        html! {
            td { a href=(path_of::<ApiKey>(frame, Some(&self.id))) { (self.name) } }
            td { code { (self.redacted) } }
            td { (self.environment) }
            td { (self.scopes.join(" ")) }
            td { (expiry(self)) }
        }
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn label(&self) -> &str {
        &self.name
    }

    /// A key has nothing to edit: it is rotated or revoked.
    fn values(&self) -> Form {
        Form::from_pairs([])
    }

    fn page(&self, frame: &Frame<'_>, _values: &Form, _errors: &FieldErrors) -> Markup {
        html! {
            dl.facts {
                dt { "Key" } dd { code { (self.redacted) } }
                dt { "Id" } dd { code { (self.id) } }
                dt { "Environment" } dd { (self.environment) }
                dt { "Scopes" } dd { (self.scopes.join(" ")) }
                @if let Some(organization) = &self.organization_id { dt { "Organization" } dd { code { (organization) } } }
                dt { "Expires" } dd { (expiry(self)) }
                @if let Some(until) = self.previous_key_expires_at {
                    dt { "Previous secret" } dd { "works until " (time(until)) }
                }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            h2 { "Rotate" }
            form method="post" action={ (path_of::<ApiKey>(frame, Some(&self.id))) "/rotate" } {
                (csrf_field(frame))
                (version_field(self))
                (pages::grace_period_choice())
                div.actions { button type="submit" { "Rotate the secret" } }
            }
            p { "A revoked key stops working at once, on every instance within a second." }
        }
    }

    async fn remove(
        api: &ManagementApi,
        principal: &Principal,
        request: &HttpRequest,
        id: &str,
    ) -> Result<(), ApiError> {
        delete_key(api, principal, request, id).await.map(drop)
    }
}

fn expiry(key: &ApiKey) -> String {
    key.expires_at.map_or_else(|| "never".to_owned(), time)
}

const CREATE_FIELDS: [&str; 4] = ["name", "scopes", "organization_id", "expires_at"];

fn creation_page(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> HttpResponse {
    let fields = html! {
        (text_input(errors, "name", "Name", "text", &values.text("name"), Some("What the key is for, e.g. \"billing worker\".")))
        (text_input(errors, "scopes", "Scopes", "text", &values.text("scopes"),
            Some("Separated by spaces: management scopes such as admin or clients:read, or your APIs' scopes.")))
        @if signed_in.is_tenant_admin() {
            (text_input(errors, "organization_id", "Organization (optional)", "text", &values.text("organization_id"),
                Some("An organization's id confines the key to that organization.")))
        }
        (text_input(errors, "expires_at", "Expires (optional, UTC)", "datetime-local", &values.text("expires_at"),
            Some("After this the key stops working. Leave empty for a key that does not expire.")))
        p.hint { "The key's environment is its tenant's." }
    };
    create_page::<ApiKey>(signed_in, fields, errors, &CREATE_FIELDS)
}

/// `GET /console/{tenant_id}/api_keys/new`.
pub async fn new(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = objects::creating::<ApiKey>(&request, &tenant_id, &api).await?;
    let answer = creation_page(&signed_in, &Form::from_pairs([]), &FieldErrors::default());
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// A `datetime-local` value (`2027-01-31T12:00`, seconds optional, read as UTC) as RFC 3339;
/// anything else as typed, for the API's validation to refuse.
fn utc_timestamp(typed: &str) -> String {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(typed, format).ok())
        .map_or_else(|| typed.to_owned(), |at| at.and_utc().to_rfc3339())
}

/// `POST /console/{tenant_id}/api_keys`: the new key's secret, shown this once.
pub async fn create(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let scopes = form.words("scopes");
    let input = CreateApiKey {
        name: Some(form.text("name")),
        scopes: Some(scopes.clone()),
        organization_id: form.optional("organization_id"),
        expires_at: form.optional("expires_at").map(|typed| utc_timestamp(&typed)),
        tenant_id: None,
    };
    let answer = match form_outcome(create_key(&api, &signed_in.principal, &request, input).await)? {
        Ok((key, secret)) => secret_page(&signed_in.frame(), &key, &secret, "API key created"),
        Err(errors) => creation_page(&signed_in, &form, &errors.naming_entries("scopes", &scopes)),
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// The page that follows a create or rotate: the secret, this once, with a copy button.
fn secret_page(frame: &Frame<'_>, key: &ApiKey, secret: &SecretString, title: &str) -> HttpResponse {
    let what = html! { strong { (key.name) } " (" code { (key.redacted) } " from now on)" };
    let done = path_of::<ApiKey>(frame, Some(&key.id));
    pages::secret_page(frame, Section::ApiKeys, title, what, secret.expose_secret(), &done)
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
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let input = RotateApiKey { grace_period_seconds: Some(form.grace_period()?) };
    // A second post of this form (a reload, a double click) would end the old secret's grace.
    unchanged_since_shown::<ApiKey>(&api, &signed_in, &key_id, &form).await?;
    let (key, secret) = rotate_key(&api, &signed_in.principal, &request, &key_id, input)
        .await
        .map_err(ConsoleError::of_one_choice_form)?;
    let answer = secret_page(&signed_in.frame(), &key, &secret, "API key rotated");
    Ok(signed_in.refreshed(answer, &api.oauth))
}
