//! Which requests count in a plan's write windows, for the management API
//! (docs/rate-limits.md) and for a tenant's own API behind `/verify`
//! (docs/protect-your-api.md).

/// Whether a request with `method` writes: any method but the safe ones (RFC 9110, section
/// 9.2.1), so that a WebDAV or made-up method counts in the write windows too.
pub fn is_write(method: &str) -> bool {
    !["GET", "HEAD", "OPTIONS", "TRACE"].iter().any(|safe| method.eq_ignore_ascii_case(safe))
}

#[cfg(test)]
mod tests {
    use super::is_write;

    #[test]
    fn only_the_safe_methods_read() {
        for method in ["GET", "head", "Options", "TRACE"] {
            assert!(!is_write(method), "{method}");
        }
        for method in ["POST", "put", "PATCH", "DELETE", "PROPFIND", "MKCOL", "BREW", ""] {
            assert!(is_write(method), "{method:?}");
        }
    }
}
