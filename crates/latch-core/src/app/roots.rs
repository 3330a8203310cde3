//! The folders a person lets a server see (MCP roots), per server: kept in the server's
//! entry of the servers file as `"roots": ["/abs/path", …]`, so the app, the CLI and the
//! bridge read the same list. The app's host offers them as `file://` URIs when a server asks
//! (`roots/list`, or a 2026 input request); when the list changes, a connected 2025-era server
//! is told (`notifications/roots/list_changed`) — a 2026 server has no such notification and
//! asks again when it needs them. Also here: opening the page of a URL-mode elicitation, only
//! once the person agreed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{AppError, Latch, Result, config_error};
use crate::{
    config::{ConfigFile, ServerConfig},
    host::Root,
};

/// The key of a server entry that holds its roots.
pub const ROOTS_KEY: &str = "roots";

/// The paths listed in an entry's `roots` (strings only; anything else is skipped).
pub fn entry_roots(server: &ServerConfig) -> Vec<String> {
    server
        .extra()
        .get(ROOTS_KEY)
        .and_then(Value::as_array)
        .map(|paths| {
            paths
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The roots offered to `server`: its entry's folders as `file://` URIs (none when the file or
/// the entry cannot be read).
pub(super) fn offered(servers_file: &Path, server: &str) -> Vec<Root> {
    match ConfigFile::load(servers_file).and_then(|config| config.server(server)) {
        Ok(entry) => entry_roots(&entry)
            .iter()
            .map(|path| file_root(Path::new(path)))
            .collect(),
        Err(error) => {
            tracing::warn!(server, %error, "no roots to offer: the servers file could not be read");
            Vec::new()
        }
    }
}

/// An absolute path as a root: a `file://` URI (percent-encoded) named after its last part.
pub fn file_root(path: &Path) -> Root {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = if text.starts_with('/') {
        text
    } else {
        format!("/{text}")
    };
    let encoded: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    Root {
        uri: format!("file://{encoded}"),
        name: path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned()),
    }
}

/// `path` as a root folder: absolute, existing, a folder; a plain sentence otherwise.
fn check_folder(path: &str) -> std::result::Result<PathBuf, String> {
    let trimmed = path.trim();
    if trimmed.is_empty() {
        return Err("A root needs a folder path.".to_owned());
    }
    let path = PathBuf::from(trimmed);
    if !path.is_absolute() {
        return Err(format!(
            "{trimmed} is not a full path — start it at the top, e.g. /home/you/project."
        ));
    }
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => Ok(path),
        Ok(_) => Err(format!("{trimmed} is a file, not a folder.")),
        Err(_) => Err(format!("There is no folder at {trimmed}.")),
    }
}

impl Latch {
    /// The folders offered to the server `name` as roots.
    pub fn roots(&self, name: &str) -> Result<Vec<String>> {
        Ok(entry_roots(&self.server(name)?))
    }

    /// Set the folders offered to the server `name` (each must exist and be a folder; repeats
    /// are dropped) and tell its live connection when it speaks MCP 2025. Returns the list kept.
    pub async fn set_roots(&self, name: &str, paths: Vec<String>) -> Result<Vec<String>> {
        let mut kept: Vec<String> = Vec::new();
        for path in &paths {
            let folder = check_folder(path).map_err(|message| AppError::new("roots", message))?;
            let folder = folder.to_string_lossy().into_owned();
            if !kept.contains(&folder) {
                kept.push(folder);
            }
        }
        let list = kept.clone();
        ConfigFile::edit(&self.inner.config_path, move |config| {
            let mut server = config.server(name)?;
            let extra = match &mut server {
                ServerConfig::Remote(remote) => &mut remote.extra,
                ServerConfig::Command(command) => &mut command.extra,
            };
            if list.is_empty() {
                extra.shift_remove(ROOTS_KEY);
            } else {
                extra.insert(ROOTS_KEY.to_owned(), list.into());
            }
            config.upsert_server(name, server)
        })
        .map_err(config_error)?;
        self.roots_changed(name).await;
        Ok(kept)
    }

    /// Tell a connected 2025-era server that its roots changed (best effort).
    async fn roots_changed(&self, name: &str) {
        let Some(connection) = self.live_connection(name) else {
            return;
        };
        if connection.server_info().stateless {
            return;
        }
        if let Err(error) = connection.peer().notify_roots_list_changed().await {
            tracing::info!(server = name, %error, "could not tell the server its roots changed");
        }
    }

    /// Open the page a server asked the person to visit (URL-mode elicitation), after they
    /// agreed: only through the checked opener. `false` when no browser opened it.
    pub async fn open_elicitation_page(&self, url: &str) -> bool {
        super::host::open_browser(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latch_with(dir: &Path, servers: &str) -> Latch {
        crate::app::test_peers::latch_over(dir, &serde_json::from_str(servers).unwrap())
    }

    #[tokio::test]
    async fn roots_are_kept_in_the_entry_and_offered_as_file_uris() {
        let dir = tempfile::tempdir().unwrap();
        let latch = latch_with(
            dir.path(),
            r#"{"mcpServers": {"s": {"url": "https://mcp.example/mcp", "weird": 1}}}"#,
        );
        let folder = dir.path().join("my project");
        std::fs::create_dir(&folder).unwrap();
        let folder = folder.to_string_lossy().into_owned();
        let kept = latch
            .set_roots("s", vec![folder.clone(), format!("  {folder}  ")])
            .await
            .unwrap();
        assert_eq!(kept, vec![folder.clone()], "a repeat is dropped");
        assert_eq!(latch.roots("s").unwrap(), vec![folder.clone()]);
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("servers.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(file["mcpServers"]["s"]["roots"][0], folder.as_str());
        assert_eq!(file["mcpServers"]["s"]["weird"], 1, "other keys stay");
        let config = ConfigFile::load(&dir.path().join("servers.json")).unwrap();
        let warnings = crate::config::entry_warnings("s", &config.server("s").unwrap());
        assert!(
            warnings.iter().all(|w| !w.contains("`roots`")),
            "roots is a known key: {warnings:?}"
        );

        let offered = offered(&dir.path().join("servers.json"), "s");
        assert_eq!(offered.len(), 1);
        assert!(offered[0].uri.starts_with("file:///"));
        assert!(
            offered[0].uri.ends_with("/my%20project"),
            "{}",
            offered[0].uri
        );
        assert_eq!(offered[0].name.as_deref(), Some("my project"));

        latch.set_roots("s", Vec::new()).await.unwrap();
        assert!(latch.roots("s").unwrap().is_empty());
        let text = std::fs::read_to_string(dir.path().join("servers.json")).unwrap();
        assert!(!text.contains("\"roots\""), "{text}");
    }

    #[tokio::test]
    async fn a_missing_folder_a_file_or_a_relative_path_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let latch = latch_with(
            dir.path(),
            r#"{"mcpServers": {"s": {"url": "https://mcp.example/mcp"}}}"#,
        );
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "x").unwrap();
        let missing = dir.path().join("nope");
        for (path, says) in [
            (
                missing.to_string_lossy().into_owned(),
                "There is no folder at",
            ),
            (
                file.to_string_lossy().into_owned(),
                "is a file, not a folder",
            ),
            ("relative/dir".to_owned(), "is not a full path"),
        ] {
            let error = latch.set_roots("s", vec![path.clone()]).await.unwrap_err();
            assert_eq!(error.kind, "roots");
            assert!(error.message.contains(says), "{}", error.message);
        }
        assert!(latch.roots("s").unwrap().is_empty(), "nothing was saved");
        let error = latch.set_roots("nobody", Vec::new()).await.unwrap_err();
        assert!(error.message.contains("nobody"), "{}", error.message);
    }
}
