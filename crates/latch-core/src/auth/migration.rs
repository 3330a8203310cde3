//! When a server's protected resource metadata names another authorization server than the
//! one its grant came from (SEP-2352). A client registration and its tokens belong to the
//! issuer they were made with: the new issuer gets a new registration and a new sign-in, and
//! nothing of the old one — no client id, token or refresh token — is ever sent to it. The old
//! grant stays stored until the new sign-in has replaced it (a sign-in in progress never
//! deletes the one that works). This module says whether that happened, and in words.

use rmcp::transport::auth::StoredCredentials;

/// The server's grant came from `from`; its sign-in provider is now `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderMoved {
    pub(crate) server: String,
    pub(crate) from: String,
    pub(crate) to: String,
}

impl std::fmt::Display for ProviderMoved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} moved to a new sign-in provider ({}) and needs a new sign-in there",
            self.server, self.to
        )
    }
}

/// Issuers compare equal up to a trailing slash.
pub(crate) fn same_issuer(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim_end_matches('/') == b.trim_end_matches('/'),
        _ => false,
    }
}

/// `Some` when `stored` (a grant or a registration) was made with another issuer than
/// `current`, the one the server's metadata names now. A grant that recorded no issuer, or
/// metadata that names none, proves nothing and is not a move.
pub(crate) fn provider_moved(
    server: &str,
    stored: &StoredCredentials,
    current: Option<&str>,
) -> Option<ProviderMoved> {
    let (Some(from), Some(to)) = (stored.issuer.as_deref(), current) else {
        return None;
    };
    if same_issuer(Some(from), Some(to))
        || (stored.client_id.is_empty() && stored.token_response.is_none())
    {
        return None;
    }
    Some(ProviderMoved {
        server: server.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
    })
}

/// The one line to show when the server `server` at `url` refused the grant in `stored`
/// (`challenge`: its `WWW-Authenticate`), if the reason is that its resource metadata now names
/// another authorization server. Asks the server where it signs people in now; `None` when it
/// did not move, or that cannot be told.
pub async fn moved_provider(
    server: &str,
    url: &str,
    challenge: Option<&str>,
    stored: &StoredCredentials,
) -> Option<String> {
    stored.issuer.as_ref()?;
    let discovered = super::discovery::discover(url, challenge, None, None)
        .await
        .ok()?;
    provider_moved(server, stored, discovered.metadata.issuer.as_deref()).map(|m| m.to_string())
}

/// Whether the registration in `stored` may be used with the authorization server `issuer`:
/// only the issuer that made it ever sees its client id.
pub(crate) fn registration_for(stored: &StoredCredentials, issuer: Option<&str>) -> Option<String> {
    (same_issuer(stored.issuer.as_deref(), issuer) && !stored.client_id.is_empty())
        .then(|| stored.client_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(client_id: &str, issuer: Option<&str>) -> StoredCredentials {
        StoredCredentials::new(client_id.to_owned(), None, vec!["mcp:basic".into()], None)
            .with_issuer(issuer.map(str::to_owned))
    }

    #[test]
    fn a_new_issuer_is_a_move_said_in_one_plain_line() {
        let old = stored("as1-client", Some("https://as1.example"));
        let moved = provider_moved("notes", &old, Some("https://as2.example")).unwrap();
        assert_eq!(moved.from, "https://as1.example");
        let line = moved.to_string();
        assert_eq!(
            line,
            "notes moved to a new sign-in provider (https://as2.example) and needs a new sign-in there"
        );
        assert!(!line.contains("as1-client") && !line.contains('\n'));
    }

    #[test]
    fn the_same_issuer_or_an_unknown_one_is_no_move() {
        let old = stored("c", Some("https://as1.example"));
        assert_eq!(
            provider_moved("s", &old, Some("https://as1.example/")),
            None
        );
        assert_eq!(provider_moved("s", &old, None), None);
        assert_eq!(
            provider_moved("s", &stored("c", None), Some("https://as2.example")),
            None
        );
        // Nothing kept (a forgotten registration keeps only the issuer): nothing moved.
        assert_eq!(
            provider_moved(
                "s",
                &stored("", Some("https://as1.example")),
                Some("https://b")
            ),
            None
        );
    }

    #[test]
    fn a_registration_is_only_offered_to_the_issuer_that_made_it() {
        let old = stored("as1-client", Some("https://as1.example"));
        assert_eq!(
            registration_for(&old, Some("https://as1.example/")).as_deref(),
            Some("as1-client")
        );
        assert_eq!(registration_for(&old, Some("https://as2.example")), None);
        assert_eq!(registration_for(&old, None), None);
        assert_eq!(
            registration_for(&stored("c", None), Some("https://as1.example")),
            None
        );
        assert_eq!(
            registration_for(
                &stored("", Some("https://as1.example")),
                Some("https://as1.example")
            ),
            None
        );
    }
}
