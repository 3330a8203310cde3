//! The app's settings: where sign-ins are kept (and the consent to a file when no keychain
//! runs), and the servers file itself — read as text, saved after a check, merged from
//! another app's config.

use std::collections::HashMap;

use super::{
    AppError, AppEvent, ConfigText, ImportReport, ImportSource, Latch, Result, ServerView,
    SettingsView, TokenStoreView, config_error,
};
use crate::config::{ConfigError, ConfigFile, ExternalApp, ServerConfig};

/// The [`AppError`] kind of a sign-in (or a secret) refused because no keychain runs and the
/// person has not agreed to keep sign-ins in a file: the UI offers that choice.
pub const KEYCHAIN_UNAVAILABLE: &str = "keychainUnavailable";
impl Latch {
    pub fn settings(&self) -> SettingsView {
        SettingsView {
            token_store: self.token_store(),
            config_path: self.inner.config_path.display().to_string(),
            version: crate::CLIENT_VERSION.to_owned(),
        }
    }

    /// Where sign-ins are kept, and whether the person must first say where (no keychain).
    pub fn token_store(&self) -> TokenStoreView {
        let secrets = &self.inner.secrets;
        TokenStoreView {
            kind: secrets.kind().as_str().to_owned(),
            warning: secrets.fallback_warning().map(str::to_owned),
            needs_consent: secrets.needs_consent(),
        }
    }

    /// The person agreed to keep sign-ins in a file only they can read, since no keychain
    /// runs (the app's banner): `secrets.json` is created in Latch's folder and used from now
    /// on — by every connection and the keeper at once, and by the app, the CLI and the bridge
    /// on every later start (see [`SecretStore::use_file_with_consent`]). Nothing happens
    /// when sign-ins can already be kept.
    pub async fn keep_sign_ins_in_file(&self) -> Result<TokenStoreView> {
        let secrets = self.inner.secrets.clone();
        tokio::task::spawn_blocking(move || secrets.use_file_with_consent())
            .await
            .map_err(|e| AppError::new("secrets", e))?
            .map_err(|e| AppError::new("secrets", e))?;
        Ok(self.token_store())
    }

    /// Fails with kind `keychainUnavailable`, in plain words, when sign-ins cannot be kept
    /// (no keychain, no consent to the file): checked before a sign-in or a secret is taken.
    pub(super) fn check_writable(&self) -> Result<()> {
        self.inner.secrets.writable().map_err(|error| {
            tracing::info!(%error, "refused: sign-ins cannot be kept");
            AppError::new(
                KEYCHAIN_UNAVAILABLE,
                "No keychain is running on this computer, so Latch can't keep your sign-ins \
                 safely. Keep them in a file only you can read, or start your keychain (GNOME \
                 Keyring or KWallet) and reopen Latch.",
            )
        })
    }

    /// The servers file as text (the default document when there is none yet).
    pub async fn read_config(&self) -> Result<ConfigText> {
        let text = match std::fs::read_to_string(&self.inner.config_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                ConfigFile::new(&self.inner.config_path).to_json_string()
            }
            Err(e) => {
                return Err(AppError::new(
                    "config",
                    format!("Could not read {}: {e}", self.inner.config_path.display()),
                ));
            }
        };
        // Keys Latch ignores (usually typos), for the editor to show; none when it does not
        // parse (saving says why).
        let warnings = ConfigFile::parse(&self.inner.config_path, &text)
            .map(|config| {
                config
                    .servers()
                    .iter()
                    .flat_map(|(name, server)| crate::config::entry_warnings(name, server))
                    .collect()
            })
            .unwrap_or_default();
        Ok(ConfigText {
            path: self.inner.config_path.display().to_string(),
            text,
            warnings,
        })
    }

    /// Replace the servers file with `text` after checking it; the file is untouched when
    /// the text does not parse. Connections of changed or removed servers are closed.
    pub async fn save_config(&self, text: &str) -> Result<Vec<ServerView>> {
        let path = &self.inner.config_path;
        let (old_servers, new_servers) = ConfigFile::edit(path, |config| {
            let old: HashMap<String, ServerConfig> = config.servers().into_iter().collect();
            *config = ConfigFile::parse(path, text)?;
            let new: HashMap<String, ServerConfig> = config.servers().into_iter().collect();
            Ok::<_, ConfigError>((old, new))
        })
        .map_err(config_error)?;
        for (name, server) in &old_servers {
            if new_servers.get(name) != Some(server) {
                self.drop_connection(name).await;
                self.inner.live.lock().unwrap().remove(name);
            }
        }
        self.emit(AppEvent::ServersChanged);
        self.list_servers().await
    }

    /// Add the servers of another app's config (names already here are left alone).
    pub async fn import_config(&self, source: ImportSource) -> Result<ImportReport> {
        let app = match source {
            ImportSource::Claude => ExternalApp::Claude,
            ImportSource::Vscode => ExternalApp::VsCode,
            ImportSource::Cursor => ExternalApp::Cursor,
        };
        let imported = crate::config::import_app(app).map_err(config_error)?;
        // Saved (under the file's lock) only when a server was added.
        let merge = ConfigFile::edit(&self.inner.config_path, |config| {
            Ok::<_, ConfigError>(config.merge(imported.servers))
        })
        .map_err(config_error)?;
        if !merge.added.is_empty() {
            self.emit(AppEvent::ServersChanged);
        }
        let mut warnings = imported.warnings;
        warnings.extend(
            merge
                .rejected
                .into_iter()
                .map(|(name, reason)| format!("{name} was left out: {reason}")),
        );
        Ok(ImportReport {
            path: imported.path.display().to_string(),
            added: merge.added,
            skipped: merge.skipped,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        app::{LatchOptions, ServerEntryInput},
        auth::BrowserMode,
        history::History,
        secrets::{FILE_NAME, SecretStore, credential_key},
    };

    #[tokio::test]
    async fn without_a_keychain_sign_ins_wait_for_consent_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        let latch = Latch::new(LatchOptions {
            config_path: home.join("servers.json"),
            secrets: SecretStore::keychain_unavailable(home, "no D-Bus".to_owned()),
            history: History::open(home.join("history")),
            browser: BrowserMode::Headless,
            demo_url: None,
        });
        let entry = ServerEntryInput {
            url: Some("http://127.0.0.1:9/mcp".to_owned()),
            ..ServerEntryInput::default()
        };
        latch.add_server("remote", entry).await.unwrap();
        let store = latch.settings().token_store;
        assert!(store.needs_consent, "{store:?}");
        assert_eq!(store.kind, "keychain");

        // Refused before anything starts, with the kind the UI answers with the choice.
        let error = latch.sign_in("remote", None, None).await.unwrap_err();
        assert_eq!(error.kind, KEYCHAIN_UNAVAILABLE, "{error:?}");
        assert!(
            error.message.contains("a file only you can read"),
            "{error}"
        );
        assert!(
            !error.message.contains("LATCH_TOKEN_STORE"),
            "plain words: {error}"
        );
        let error = latch.set_credentials("pair", "id", "secret").await;
        assert_eq!(error.unwrap_err().kind, KEYCHAIN_UNAVAILABLE);
        assert!(!home.join(FILE_NAME).exists(), "nothing written");

        let store = latch.keep_sign_ins_in_file().await.unwrap();
        assert!(!store.needs_consent, "{store:?}");
        assert_eq!(store.kind, "file");
        assert!(store.warning.as_deref().unwrap().contains(FILE_NAME));
        assert_eq!(latch.settings().token_store, store);
        assert!(home.join(FILE_NAME).is_file());
        // The running app's store is the file now.
        latch.set_credentials("pair", "id", "secret").await.unwrap();
        let kept = SecretStore::file(home)
            .get(&credential_key("pair"))
            .unwrap();
        assert!(kept.is_some(), "the credentials are in the file");
        // Once more is harmless.
        assert_eq!(latch.keep_sign_ins_in_file().await.unwrap(), store);
    }
}
