//! Keys in the servers file that Latch does not know. The file is the person's, so such keys
//! are kept as written — but a key that does nothing is usually a typo (`tokenURL`,
//! `token_url`) or a key from another program, and a silent one costs an afternoon. Each gets
//! one warning naming it and the nearest key Latch knows, shown by `servers list`, `status`, the
//! doctor and the app's config editor.

use serde_json::Value;

use super::model::{AUTH_KEYS, COMMAND_KEYS, REMOTE_KEYS, ServerConfig, is_comment};

/// Keys some other programs' server entries carry that mean nothing to Latch but are not
/// mistakes either (an imported Claude Desktop or VS Code entry keeps them).
const FOREIGN_KEYS: &[&str] = &["type", "disabled", "alwaysAllow", "autoApprove", "timeout"];

/// Keys Latch reads from an entry's unknown keys itself: the folders offered as roots
/// (`app/roots.rs`).
const LATCH_EXTRA_KEYS: &[&str] = &["roots"];

/// One warning per unknown key of the server `name`'s entry and of its `auth` object.
pub fn entry_warnings(name: &str, server: &ServerConfig) -> Vec<String> {
    let mut warnings = Vec::new();
    let known: &[&str] = match server {
        ServerConfig::Remote(_) => &REMOTE_KEYS,
        ServerConfig::Command(_) => &COMMAND_KEYS,
    };
    for key in server.extra().keys() {
        if is_comment(key)
            || FOREIGN_KEYS.contains(&key.as_str())
            || LATCH_EXTRA_KEYS.contains(&key.as_str())
        {
            continue;
        }
        warnings.push(unknown(name, key, "", known));
    }
    if let ServerConfig::Remote(remote) = server
        && let Some(Value::Object(auth)) = &remote.auth
    {
        for key in auth.keys() {
            if !is_comment(key) && !AUTH_KEYS.contains(&key.as_str()) {
                warnings.push(unknown(name, key, "auth.", AUTH_KEYS));
            }
        }
    }
    warnings
}

fn unknown(name: &str, key: &str, prefix: &str, known: &[&str]) -> String {
    let shown: String = key.chars().take(40).filter(|c| !c.is_control()).collect();
    match nearest(key, known) {
        Some(near) => format!(
            "server `{name}`: Latch does not know the key `{prefix}{shown}` and ignores it — did you mean `{prefix}{near}`?"
        ),
        None => format!(
            "server `{name}`: Latch does not know the key `{prefix}{shown}` and ignores it (known: {})",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The known key closest to `key`, ignoring case, `_` and `-`, when it is close enough to be
/// the one meant (a third of its letters wrong at most).
fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let fold = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let key = fold(key);
    known
        .iter()
        .map(|k| (distance(&key, &fold(k)), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RemoteServer;
    use serde_json::json;

    fn remote(auth: Value, extra: Value) -> ServerConfig {
        ServerConfig::Remote(RemoteServer {
            url: "https://mcp.example.com/mcp".into(),
            auth: Some(auth),
            extra: extra.as_object().cloned().unwrap_or_default(),
            ..RemoteServer::default()
        })
    }

    #[test]
    fn unknown_auth_keys_name_the_nearest_known_one() {
        let server = remote(
            json!({"token_url": "https://a/t", "tokenURL": "x", "clientID": "c", "tokenUrl": "ok",
                   "_note": "mine", "zzzzzzzz": 1}),
            json!({}),
        );
        let warnings = entry_warnings("madgicx", &server);
        assert_eq!(warnings.len(), 4, "{warnings:#?}");
        assert!(
            warnings[0].contains("`auth.token_url`") && warnings[0].contains("`auth.tokenUrl`?")
        );
        assert!(
            warnings[1].contains("`auth.tokenURL`") && warnings[1].contains("`auth.tokenUrl`?")
        );
        assert!(
            warnings[2].contains("`auth.clientID`") && warnings[2].contains("`auth.clientId`?")
        );
        assert!(warnings[3].contains("`auth.zzzzzzzz`") && warnings[3].contains("known: `type`"));
        assert!(warnings.iter().all(|w| w.starts_with("server `madgicx`: ")));
    }

    #[test]
    fn unknown_entry_keys_warn_but_comments_and_foreign_keys_do_not() {
        let server = remote(
            json!({}),
            json!({"hedaers": {}, "_c": 1, "disabled": false}),
        );
        let warnings = entry_warnings("a", &server);
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        assert!(warnings[0].contains("`hedaers`") && warnings[0].contains("`headers`?"));
        let command = ServerConfig::command("npx", ["x"]);
        assert!(entry_warnings("c", &command).is_empty());
    }

    #[test]
    fn distance_is_levenshtein() {
        let d = |a: &str, b: &str| {
            distance(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("same", "same"), 0);
    }
}
