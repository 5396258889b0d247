//! API keys in the console (docs/console.md, "Pages"): listed by their redacted forms, created
//! with their secret shown once, rotated with a grace period, revoked, through the API's
//! operations (`tollbooth_resource::api_keys`).

use maud::{Markup, html};
use secrecy::SecretString;
use tollbooth_resource::api_keys::{CreateApiKey, KeyRateLimit, RotateApiKey, create_key, delete_key, rotate_key};
use tollbooth_resource::error::{ApiError, FieldError};
use tollbooth_resource::scopes;
use tollbooth_storage::api_keys::ApiKey;

use crate::form::Form;
use crate::objects::{Caller, Created, Managed, Rotated, path_of, rotate_form};
use crate::pages::{FieldErrors, Frame, Section, text_input, time};
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
    const FIELDS: &'static [&'static str] =
        &["name", "scopes", "organization_id", "expires_at", "rate_limit.window", "rate_limit.limit"];

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
                @if let Some(window) = self.own_limit() { dt { "Own limit" } dd { (window.limit) " calls per " (window.label()) } }
                @if let Some(until) = self.previous_key_expires_at {
                    dt { "Previous secret" } dd { "works until " (time(until)) }
                }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            (rotate_form(frame, self))
            p { "A revoked key stops working at once, on every instance within a second." }
        }
    }

    fn creation_fields(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> Markup {
        html! {
            (text_input(errors, "name", "Name", "text", &values.text("name"), Some("What the key is for, e.g. \"billing worker\".")))
            (text_input(errors, "scopes", "Scopes", "text", &values.text("scopes"),
                Some("Separated by spaces: management scopes such as admin or clients:read, or your APIs' scopes.")))
            @if signed_in.is_tenant_admin() {
                (text_input(errors, "organization_id", "Organization (optional)", "text", &values.text("organization_id"),
                    Some("An organization's id confines the key to that organization.")))
            }
            (text_input(errors, "expires_at", "Expires (optional, UTC)", "datetime-local", &values.text("expires_at"),
                Some("After this the key stops working. Leave empty for a key that does not expire.")))
            (text_input(errors, "rate_limit.limit", "Own limit (optional): calls", "number", &values.text("rate_limit.limit"),
                Some("Counted with its plan when your API checks the key (docs: protect your API).")))
            (text_input(errors, "rate_limit.window", "per", "text", &values.text("rate_limit.window"), Some("e.g. 1m, 1h or 1d.")))
            p.hint { "The key's environment is its tenant's." }
        }
    }

    async fn create(caller: &Caller<'_>, form: &Form) -> Result<Created<Self>, ApiError> {
        let input = CreateApiKey {
            name: Some(form.text("name")),
            scopes: Some(form.words("scopes")),
            organization_id: form.optional("organization_id"),
            expires_at: form.optional("expires_at").map(|typed| utc_timestamp(&typed)),
            tenant_id: None,
            rate_limit: own_limit(form)?,
        };
        let (key, secret) = create_key(caller.api, caller.principal, caller.request, input).await?;
        Ok(Created::WithSecret(key, secret))
    }

    fn named_errors(errors: FieldErrors, form: &Form) -> FieldErrors {
        errors.naming_entries("scopes", &form.words("scopes"))
    }

    async fn remove(caller: &Caller<'_>, id: &str) -> Result<(), ApiError> {
        delete_key(caller.api, caller.principal, caller.request, id).await.map(drop)
    }
}

impl Rotated for ApiKey {
    async fn rotate(caller: &Caller<'_>, id: &str, grace: i64) -> Result<(Self, SecretString), ApiError> {
        rotate_key(caller.api, caller.principal, caller.request, id, RotateApiKey { grace_period_seconds: Some(grace) })
            .await
    }
}

/// The key's own limit as typed: none when both fields are empty.
fn own_limit(form: &Form) -> Result<Option<KeyRateLimit>, ApiError> {
    let (limit, window) = (form.optional("rate_limit.limit"), form.optional("rate_limit.window"));
    if limit.is_none() && window.is_none() {
        return Ok(None);
    }
    let limit = limit.unwrap_or_default().parse::<u64>().map_err(|_| {
        let message = "rate_limit.limit is a whole number of calls.";
        ApiError::validation(vec![FieldError::new("rate_limit.limit", "invalid", message)])
    })?;
    Ok(Some(KeyRateLimit { window: window.unwrap_or_default(), limit }))
}

fn expiry(key: &ApiKey) -> String {
    key.expires_at.map_or_else(|| "never".to_owned(), time)
}

/// A `datetime-local` value (`2027-01-31T12:00`, seconds optional, read as UTC) as RFC 3339;
/// anything else as typed, for the API's validation to refuse.
fn utc_timestamp(typed: &str) -> String {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(typed, format).ok())
        .map_or_else(|| typed.to_owned(), |at| at.and_utc().to_rfc3339())
}
