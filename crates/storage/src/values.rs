//! Values checked once where they enter (a request, a setting, a stored row) and typed from
//! then on, so code further in never re-checks a plain string: scopes, email addresses,
//! redirect URIs and the issuer. Each type's parser is the one home of its rule.

use std::collections::BTreeSet;
use std::fmt;

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`; ours are at most 100
/// characters.
pub fn scope_token(scope: &str) -> Result<(), &'static str> {
    let valid_char = |c: char| c == '\x21' || ('\x23'..='\x5b').contains(&c) || ('\x5d'..='\x7e').contains(&c);
    if scope.is_empty() || scope.len() > 100 || !scope.chars().all(valid_char) {
        return Err("A scope is 1 to 100 printable ASCII characters without spaces, quotes or backslashes.");
    }
    Ok(())
}

/// A set of scope tokens (RFC 6749 §3.3), kept sorted: its text form is the same whatever
/// order the tokens were given in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

/// A `scope` parameter that is not a space-separated list of scope tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedScope;

impl ScopeSet {
    /// Parses a space-separated `scope` parameter; repeated tokens count once. Empty text is
    /// the empty set.
    pub fn parse(text: &str) -> Result<Self, MalformedScope> {
        let mut set = BTreeSet::new();
        for token in text.split(' ').filter(|t| !t.is_empty()) {
            scope_token(token).map_err(|_| MalformedScope)?;
            set.insert(token.to_owned());
        }
        Ok(ScopeSet(set))
    }

    /// The set of `tokens`, already checked (a client's or key's stored scopes).
    pub fn of<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Self {
        ScopeSet(tokens.into_iter().map(str::to_owned).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// In order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// Space-separated, in order: the `scope` of tokens and responses.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

/// An email address as people type it, trimmed and lower-cased: one `@`, a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// `text` as email addresses are compared and counted (sign-in limits, lookups): trimmed
    /// and lower-cased, whether or not it is an address.
    pub fn normalize(text: &str) -> String {
        text.trim().to_lowercase()
    }

    /// `None` when `text` is not an email address.
    pub fn parse(text: &str) -> Option<Self> {
        let email = Self::normalize(text);
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.contains('@') && domain_name(domain).is_ok() && domain.contains('.')
            })
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then_some(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
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

/// A redirect URI a client may register (RFC 6749 §3.1.2, RFC 8252 §7.3): absolute https
/// without a fragment, or http on a loopback host (native apps). Kept exactly as given: an
/// authorization request's `redirect_uri` is compared with it character for character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(uri: &str) -> Result<Self, &'static str> {
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
            "https" if parsed.host().is_some() => Ok(RedirectUri(uri.to_owned())),
            "http" if is_loopback(&parsed) => Ok(RedirectUri(uri.to_owned())),
            "http" => Err("http is allowed only for loopback hosts; use https."),
            _ => Err("A redirect URI must use https (or http on a loopback host)."),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A resource's identifier (RFC 8707 §2): an absolute URI without a fragment, https, or http on
/// a loopback host (an API on the developer's machine). The `aud` of the tokens for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceIdentifier(String);

impl ResourceIdentifier {
    pub fn parse(uri: &str) -> Result<Self, &'static str> {
        if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("An identifier must not contain spaces or control characters.");
        }
        let parsed = url::Url::parse(uri).map_err(|_| "An identifier is an absolute URI.")?;
        if parsed.fragment().is_some() || uri.contains('#') {
            return Err("An identifier must not have a fragment (RFC 8707 §2).");
        }
        if parsed.query().is_some() || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("An identifier has no query and no user information.");
        }
        // Resource servers compare `aud` as a string: only one spelling of a URI is accepted
        // (lower-case scheme and host, no default port, no needless percent-encoding), so that
        // no look-alike of another tenant's identifier can be registered.
        let canonical = parsed.as_str();
        let needless_escape = uri.as_bytes().windows(3).any(|w| {
            w[0] == b'%'
                && std::str::from_utf8(&w[1..])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        });
        if needless_escape || (canonical != uri && canonical.strip_suffix('/') != Some(uri)) {
            return Err("An identifier must be written in its canonical form (lower-case host, no default port).");
        }
        match parsed.scheme() {
            "https" if parsed.host().is_some() => Ok(ResourceIdentifier(uri.to_owned())),
            "http" if is_loopback(&parsed) => Ok(ResourceIdentifier(uri.to_owned())),
            _ => Err("An identifier must use https (or http on a loopback host)."),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain("localhost")) => true,
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// The public base URL of the server: `iss` of every token (RFC 8414 §2), an absolute http(s)
/// URL without query or fragment, kept without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    text: String,
    https: bool,
}

impl Issuer {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let trimmed = text.trim_end_matches('/');
        let url = url::Url::parse(trimmed).map_err(|_| "must be an absolute URL such as https://auth.example.com")?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err("must be an http or https URL with a host");
        }
        if url.query().is_some() || url.fragment().is_some() || text.contains(['?', '#']) {
            return Err("must not have a query or fragment (RFC 8414 §2)");
        }
        Ok(Issuer { text: trimmed.to_owned(), https: url.scheme() == "https" })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether cookies must be `Secure` (and may be `__Host-`): the server is reached over https.
    pub fn is_https(&self) -> bool {
        self.https
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_are_ordered_and_checked() {
        let set = ScopeSet::parse("write read  read").unwrap();
        assert_eq!(set.to_string(), "read write");
        assert!(ScopeSet::parse("read").unwrap().is_subset(&set));
        assert!(!set.is_subset(&ScopeSet::parse("read").unwrap()));
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert_eq!(ScopeSet::parse("quo\"te"), Err(MalformedScope));
        assert!(scope_token("read:things").is_ok());
        assert!(scope_token("").is_err());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b@example.com"] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn redirect_uris_follow_the_loopback_rule() {
        for good in ["https://app.example.com/cb", "http://127.0.0.1:8000/cb", "http://[::1]/cb", "http://localhost/cb"]
        {
            assert_eq!(RedirectUri::parse(good).unwrap().as_str(), good);
        }
        for bad in ["http://app.example.com/cb", "https://app.example.com/cb#x", "ftp://app.example.com/", "/relative"]
        {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_identifiers_are_absolute_web_uris() {
        for good in ["https://api.example.com", "https://api.example.com/orders", "http://localhost:9000/"] {
            assert!(ResourceIdentifier::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "api.example.com",
            "http://api.example.com",
            "https://api.example.com/#x",
            "urn:x",
            "https://API.example.com",
            "HTTPS://api.example.com",
            "https://api.example.com:443/orders",
            "https://api.example.com/%6Frders",
            "https://api.example.com/a/../orders",
            "https://api.example.com@evil.example",
            "https://api.example.com/?x=1",
        ] {
            assert!(ResourceIdentifier::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn issuers_are_base_urls() {
        assert_eq!(Issuer::parse("https://auth.example.com/").unwrap().as_str(), "https://auth.example.com");
        assert!(Issuer::parse("https://auth.example.com").unwrap().is_https());
        assert!(Issuer::parse("HTTPS://auth.example.com").unwrap().is_https(), "schemes are case-insensitive");
        assert!(!Issuer::parse("http://auth.example.com").unwrap().is_https());
        for bad in ["auth.example.com", "ftp://x.example", "https://a.example/?x=1", "https://a.example/#f"] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }
}
