//! Reading a bearer token from an `Authorization` value (RFC 6750 §2.1): the scheme matched
//! case-insensitively, the token trimmed, an empty one none at all.

/// The token of `Bearer <token>`; `None` for another scheme or an empty token.
pub fn token_of(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn only_a_bearer_scheme_with_a_token_counts() {
        assert_eq!(token_of("Bearer abc"), Some("abc"));
        assert_eq!(token_of("bearer  abc "), Some("abc"));
        assert_eq!(token_of("Basic abc"), None);
        assert_eq!(token_of("Bearer "), None);
        assert_eq!(token_of("Bearer"), None);
    }
}
