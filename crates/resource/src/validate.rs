//! Field rules shared by the resources.

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

/// RFC 6749 §3.1.2 and RFC 8252 §7.3: an absolute https URI without fragment, or http only
/// on a loopback host (native apps).
pub fn redirect_uri(uri: &str) -> Result<(), &'static str> {
    // RFC 3986 has no place for them; the URL parser would quietly drop or escape them, and
    // the stored text must be exactly what authorization requests are compared with.
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("A redirect URI must not contain spaces or control characters.");
    }
    let parsed = url::Url::parse(uri).map_err(|_| "Not an absolute URI.")?;
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err("A redirect URI must not have a fragment.");
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" => match parsed.host() {
            Some(url::Host::Domain("localhost")) => Ok(()),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Ok(()),
            _ => Err("http is allowed only for loopback hosts; use https."),
        },
        _ => Err("A redirect URI must use https (or http on a loopback host)."),
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, at most 100 characters.
pub fn scope_token(scope: &str) -> Result<(), &'static str> {
    let valid_char = |c: char| c == '\x21' || ('\x23'..='\x5b').contains(&c) || ('\x5d'..='\x7e').contains(&c);
    if scope.is_empty() || scope.len() > 100 || !scope.chars().all(valid_char) {
        return Err("A scope is 1 to 100 printable ASCII characters without spaces, quotes or backslashes.");
    }
    Ok(())
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

/// An email address as users type it: trimmed and lower-cased, one `@`, a dotted domain.
pub fn email(value: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let email = value.unwrap_or_default().trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.contains('@') && domain_name(domain).is_ok() && domain.contains('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if email.is_empty() {
        errors.push(FieldError::new("email", "required", "email is required."));
    } else if !valid {
        errors.push(FieldError::new("email", "invalid", "email is not an email address."));
    }
    email
}

/// A DNS name (RFC 1123 labels), lower case.
pub fn domain_name(domain: &str) -> Result<(), &'static str> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if domain.len() > 253 || !domain.split('.').all(label_ok) {
        return Err("Not a lower-case DNS name.");
    }
    Ok(())
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

/// Fails with 422 when any field error was collected.
pub fn finish(errors: Vec<FieldError>) -> Result<(), crate::error::ApiError> {
    if errors.is_empty() { Ok(()) } else { Err(crate::error::ApiError::validation(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_the_loopback_rule() {
        assert!(redirect_uri("https://app.example.com/cb").is_ok());
        assert!(redirect_uri("http://127.0.0.1:8000/cb").is_ok());
        assert!(redirect_uri("http://[::1]/cb").is_ok());
        assert!(redirect_uri("http://localhost/cb").is_ok());
        assert!(redirect_uri("http://app.example.com/cb").is_err());
        assert!(redirect_uri("https://app.example.com/cb#x").is_err());
        assert!(redirect_uri("ftp://app.example.com/").is_err());
        assert!(redirect_uri("/relative").is_err());
    }

    #[test]
    fn scope_tokens_exclude_quotes_and_spaces() {
        assert!(scope_token("read:things").is_ok());
        assert!(scope_token("two words").is_err());
        assert!(scope_token("quo\"te").is_err());
        assert!(scope_token("").is_err());
    }
}
