//! Field rules shared by the resources.

use tollbooth_oauth::policy;
use tollbooth_storage::resources::Resource;
use tollbooth_storage::values::{Email, RedirectUri};
pub use tollbooth_storage::values::{domain_name, scope_token};

use crate::error::FieldError;

pub const MAX_NAME_CHARS: usize = 200;

/// A required, non-blank name, trimmed, that passes [`name_text`].
pub fn name(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let value = value.unwrap_or_default().trim();
    if value.is_empty() {
        errors.push(FieldError::new(field, "required", format!("{field} is required.")));
    } else {
        name_text(field, value, errors);
    }
    value.to_owned()
}

/// What any name may hold: at most `MAX_NAME_CHARS` characters and no control characters
/// (line breaks forge log lines and pages, and PostgreSQL cannot store U+0000 at all, so
/// both databases refuse them alike).
pub fn name_text(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    if value.chars().count() > MAX_NAME_CHARS {
        errors.push(FieldError::new(field, "too_long", format!("{field} has at most {MAX_NAME_CHARS} characters.")));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "invalid", format!("{field} must not contain control characters.")));
    }
}

/// A redirect URI a client may register: the rule is [`RedirectUri::parse`]'s.
pub fn redirect_uri(uri: &str) -> Result<(), &'static str> {
    RedirectUri::parse(uri).map(drop)
}

pub const MAX_LIST_ITEMS: usize = 100;
pub const MAX_GRACE_PERIOD_SECONDS: i64 = 30 * 86_400;
pub const DEFAULT_GRACE_PERIOD_SECONDS: i64 = 86_400;

/// A list of at most `MAX_LIST_ITEMS` entries.
pub fn list_length(field: &str, items: &[impl Sized], errors: &mut Vec<FieldError>) {
    if items.len() > MAX_LIST_ITEMS {
        errors.push(FieldError::new(field, "too_long", format!("{field} has at most {MAX_LIST_ITEMS} entries.")));
    }
}

/// A required email address, lower-cased: the rule is [`Email::parse`]'s.
pub fn email(value: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let text = value.unwrap_or_default();
    match Email::parse(text) {
        Some(email) => return email.into_string(),
        None if text.trim().is_empty() => errors.push(FieldError::new("email", "required", "email is required.")),
        None => errors.push(FieldError::new("email", "invalid", "email is not an email address.")),
    }
    Email::normalize(text)
}

pub fn password(value: &str, errors: &mut Vec<FieldError>) {
    let chars = value.chars().count();
    if !(tollbooth_storage::passwords::MIN_CHARS..=tollbooth_storage::passwords::MAX_CHARS).contains(&chars) {
        errors.push(FieldError::new(
            "password",
            "length",
            format!(
                "password has {} to {} characters.",
                tollbooth_storage::passwords::MIN_CHARS,
                tollbooth_storage::passwords::MAX_CHARS
            ),
        ));
    }
}

/// `grace_period_seconds` of a rotation: 0 (revoke at once) to 30 days, default 24 h.
pub fn grace_period(value: Option<i64>, errors: &mut Vec<FieldError>) -> i64 {
    let seconds = value.unwrap_or(DEFAULT_GRACE_PERIOD_SECONDS);
    if !(0..=MAX_GRACE_PERIOD_SECONDS).contains(&seconds) {
        errors.push(FieldError::new(
            "grace_period_seconds",
            "out_of_range",
            format!("grace_period_seconds is from 0 to {MAX_GRACE_PERIOD_SECONDS}."),
        ));
    }
    seconds
}

/// Scopes given to a client or key: scope tokens, no repeats, never `operator`. Whether the
/// caller may give the management scopes among them is the authorization rule's to decide
/// (`crate::authorization`), on the object as it will be stored.
pub fn scope_list(scopes: &[String], errors: &mut Vec<FieldError>) {
    list_length("scopes", scopes, errors);
    for (i, scope) in scopes.iter().enumerate() {
        let field = format!("scopes[{i}]");
        if let Err(message) = scope_token(scope) {
            errors.push(FieldError::new(field, "invalid", message));
        } else if scope == crate::scopes::OPERATOR {
            errors.push(FieldError::new(field, "forbidden", "`operator` belongs to operator keys alone."));
        } else if scopes[..i].contains(scope) {
            errors.push(FieldError::new(field, "duplicate", "This scope is listed twice."));
        }
    }
}

/// docs/api.md, "Resources": a client or key holds management scopes, OpenID scopes and scopes
/// its tenant's `resources` define; anything else is 422 `unknown`. A scope it already `held`
/// stays allowed (its resource may have gone since: changing something else must still work).
pub fn defined_scopes(scopes: &[String], held: &[String], resources: &[Resource], errors: &mut Vec<FieldError>) {
    for (i, scope) in scopes.iter().enumerate() {
        let defined = policy::is_management(scope)
            || policy::OPENID_SCOPES.contains(&scope.as_str())
            || held.contains(scope)
            || resources.iter().any(|resource| resource.scopes.contains(scope));
        if !defined && scope_token(scope).is_ok() {
            let message = "No API of this tenant defines this scope: create a resource that does.";
            errors.push(FieldError::new(format!("scopes[{i}]"), "unknown", message));
        }
    }
}

/// Fails with 422 when any field error was collected.
pub fn finish(errors: Vec<FieldError>) -> Result<(), crate::error::ApiError> {
    if errors.is_empty() { Ok(()) } else { Err(crate::error::ApiError::validation(errors)) }
}
