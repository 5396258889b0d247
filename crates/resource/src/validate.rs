//! Field rules shared by the resources.

use crate::error::FieldError;

pub const MAX_NAME_CHARS: usize = 200;

/// A required, non-blank name of at most `MAX_NAME_CHARS` characters, trimmed.
pub fn name(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let value = value.unwrap_or_default().trim();
    if value.is_empty() {
        errors.push(FieldError::new(
            field,
            "required",
            format!("{field} is required."),
        ));
    } else if value.chars().count() > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("{field} has at most {MAX_NAME_CHARS} characters."),
        ));
    }
    value.to_owned()
}

/// RFC 6749 §3.1.2 and RFC 8252 §7.3: an absolute https URI without fragment, or http only
/// on a loopback host (native apps).
pub fn redirect_uri(uri: &str) -> Result<(), &'static str> {
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
    let valid_char =
        |c: char| c == '\x21' || ('\x23'..='\x5b').contains(&c) || ('\x5d'..='\x7e').contains(&c);
    if scope.is_empty() || scope.len() > 100 || !scope.chars().all(valid_char) {
        return Err(
            "A scope is 1 to 100 printable ASCII characters without spaces, quotes or backslashes.",
        );
    }
    Ok(())
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
