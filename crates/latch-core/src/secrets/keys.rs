//! The names Latch files its secrets under, in one place so that the sign-in code, the refresh
//! keeper, `latch logout` and `latch credentials` agree on them. Each part is percent-encoded
//! (everything but `A-Z a-z 0-9 - . _ ~`), so the `:` separators cannot be confused with the `:`
//! in an issuer URL, and no key ever contains `#`, which the store reserves for split values.

/// The key of a signed-in grant: tokens for `server`, issued by the authorization server
/// `issuer`, for `account` (empty when the account is not known).
pub fn grant_key(server: &str, issuer: &str, account: &str) -> String {
    format!(
        "grant:{}:{}:{}",
        encode(server),
        encode(issuer),
        encode(account)
    )
}

/// The key of a dynamic client registration (DCR) made for `server` at `issuer`, reused by
/// later sign-ins.
pub fn registration_key(server: &str, issuer: &str) -> String {
    format!("registration:{}:{}", encode(server), encode(issuer))
}

/// The key of a named client-credentials pair (`"credentials": "madgicx"` in the servers
/// file), which several servers may share.
pub fn credential_key(name: &str) -> String {
    format!("credential:{}", encode(name))
}

/// The key of a `${secret:NAME}` value.
pub fn secret_key(name: &str) -> String {
    format!("secret:{}", encode(name))
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
pub(super) fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_colons_cannot_collide() {
        // Without encoding both would be "grant:a:https://x:y:".
        let one = grant_key("a", "https://x:y", "");
        let two = grant_key("a", "https://x", "y:");
        assert_ne!(one, two);
        assert_eq!(one, "grant:a:https%3A%2F%2Fx%3Ay:");
        assert_eq!(one.matches(':').count(), 3);
    }

    #[test]
    fn kinds_do_not_overlap_and_hash_is_encoded() {
        assert_eq!(secret_key("figma"), "secret:figma");
        assert_eq!(credential_key("madgicx"), "credential:madgicx");
        assert_ne!(secret_key("x"), credential_key("x"));
        assert_eq!(
            registration_key("notion", "https://mcp.notion.com"),
            "registration:notion:https%3A%2F%2Fmcp.notion.com"
        );
        assert!(!secret_key("a#b%c d").contains('#'));
        assert_eq!(secret_key("a#b%c d"), "secret:a%23b%25c%20d");
        assert_eq!(secret_key("é"), "secret:%C3%A9");
    }
}
