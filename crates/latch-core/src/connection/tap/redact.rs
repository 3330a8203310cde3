//! What the protocol log hides: header values that carry credentials, values that look like
//! tokens wherever they are, and secret-looking URL query values. Decided here, once, before
//! an entry exists — nothing downstream (the UI, an export) has to remember to hide anything.

use std::collections::HashSet;

use http::{HeaderName, HeaderValue};

/// What a hidden value is shown as.
pub const REDACTED: &str = "[redacted]";

/// Headers whose value is always hidden.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "dpop",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
];

/// Headers that never carry a secret, shown even when their value looks like a token (a
/// session id is long and random, but it is not a credential).
const PLAIN_HEADERS: &[&str] = &[
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
    "content-type",
    "accept",
    "content-length",
];

/// Words in a header or query name that mean its value is a credential.
const SECRET_WORDS: &[&str] = &[
    "auth",
    "token",
    "secret",
    "key",
    "password",
    "passwd",
    "cookie",
    "session",
    "sig",
    "credential",
];

/// The names of the headers a server is configured with (always hidden: they were put in the
/// config because they carry a key).
#[derive(Clone, Debug, Default)]
pub(crate) struct Configured(HashSet<String>);

impl Configured {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a HeaderName>) -> Self {
        Self(names.into_iter().map(|n| n.as_str().to_owned()).collect())
    }

    /// How the header `name: value` is shown.
    pub(crate) fn header(&self, name: &HeaderName, value: &HeaderValue) -> String {
        let shown = value.to_str().unwrap_or("");
        let lower = name.as_str();
        let secret = SECRET_HEADERS.contains(&lower)
            || self.0.contains(lower)
            || value.is_sensitive()
            || (!PLAIN_HEADERS.contains(&lower)
                && (SECRET_WORDS.iter().any(|w| lower.contains(w)) || looks_like_token(shown)));
        if secret || value.to_str().is_err() {
            REDACTED.to_owned()
        } else {
            shown.to_owned()
        }
    }
}

/// Whether `value` looks like a credential: an auth scheme followed by something, a JWT, or a
/// long unbroken run of token characters with letters and digits mixed.
pub(crate) fn looks_like_token(value: &str) -> bool {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    if ["bearer ", "dpop ", "basic ", "token "]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
    {
        return true;
    }
    if value.starts_with("eyJ") && value.matches('.').count() >= 2 {
        return true;
    }
    value.len() >= 24
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~+/=".contains(c))
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
}

/// `url` with the values of secret-looking query parameters (and any userinfo) hidden.
pub(crate) fn url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let secret = SECRET_WORDS.iter().any(|w| lower.contains(w)) || looks_like_token(&v);
                let v = if secret {
                    REDACTED.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// `text` (an error, in words) with every token-looking word hidden.
pub(crate) fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut scheme = false;
    for (n, word) in text.split(' ').enumerate() {
        if n > 0 {
            out.push(' ');
        }
        let bare = word.trim_matches(|c: char| "\"'(),;<>[]{}".contains(c));
        if scheme || looks_like_token(bare) {
            out.push_str(&word.replace(bare, REDACTED));
        } else {
            out.push_str(word);
        }
        scheme = ["bearer", "dpop", "basic"].contains(&bare.to_ascii_lowercase().as_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).unwrap()
    }

    #[test]
    fn credentials_in_headers_are_hidden_and_the_rest_shown() {
        let configured = Configured::new([&HeaderName::from_static("x-tenant")]);
        let shown = |name: &'static str, v: &str| {
            configured.header(&HeaderName::from_static(name), &value(v))
        };
        assert_eq!(shown("authorization", "Bearer abc"), REDACTED);
        assert_eq!(shown("dpop", "eyJhbGciOi.x.y"), REDACTED);
        assert_eq!(shown("cookie", "sid=1"), REDACTED);
        assert_eq!(shown("set-cookie", "sid=1; HttpOnly"), REDACTED);
        assert_eq!(shown("x-tenant", "acme"), REDACTED, "configured");
        assert_eq!(
            shown("x-madgicx-key", "short"),
            REDACTED,
            "named like a key"
        );
        assert_eq!(
            shown("x-other", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            REDACTED,
            "looks like a token"
        );
        assert_eq!(shown("accept", "application/json"), "application/json");
        let session = "7f9c2ba4e88f827d616045507605853e";
        assert_eq!(shown("mcp-session-id", session), session);
        assert_eq!(shown("mcp-protocol-version", "2025-11-25"), "2025-11-25");
        let mut sensitive = value("plain");
        sensitive.set_sensitive(true);
        assert_eq!(
            configured.header(&HeaderName::from_static("x-plain"), &sensitive),
            REDACTED
        );
    }

    #[test]
    fn secret_query_values_and_userinfo_are_hidden() {
        let shown = url("https://user:pw@mcp.example/mcp?api_key=s3cr3t&region=eu");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("pw@"),
            "{shown}"
        );
        assert!(shown.contains("region=eu"), "{shown}");
        assert_eq!(
            url("http://127.0.0.1:3001/mcp"),
            "http://127.0.0.1:3001/mcp"
        );
    }

    #[test]
    fn tokens_in_words_are_hidden() {
        let shown = text("refused: Bearer abc.def (token eyJhbGciOiJI.eyJzdWIi.sig)");
        assert!(
            !shown.contains("abc.def") && !shown.contains("eyJ"),
            "{shown}"
        );
        assert!(shown.starts_with("refused:"));
        assert_eq!(text("HTTP 404 for the session"), "HTTP 404 for the session");
    }
}
