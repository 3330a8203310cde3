//! The servers file: which MCP servers the user has, in the shape the rest of the ecosystem
//! uses (`{"mcpServers": {...}}`), so a file copied from Claude Desktop or Cursor just works.
//! Latch treats the file as the user's: unknown keys and `_comment` keys survive a save, a save
//! is atomic and keeps the previous version as `.bak`, and a file that does not parse is never
//! overwritten — the error names the file, line and column instead. Secrets stay out of the
//! file through `${secret:NAME}` and `${env:NAME}` placeholders, expanded only when connecting.

pub mod agents;
mod apps;
mod error;
mod export;
mod file;
mod import;
mod jsonc;
mod model;
mod orgs;
mod parse;
mod placeholders;
mod redact;
mod warnings;

use std::path::PathBuf;

pub use agents::{ExportApplied, ExportPlan, plan_export};
pub use apps::ExternalApp;
pub use error::ConfigError;
pub use export::export;
pub use file::{ConfigFile, MergeReport};
pub use import::{Imported, import_app, import_file, import_from_paths};
pub(crate) use model::check_url;
pub use model::{
    AUTH_KEYS, CommandServer, PROTOCOL_VERSIONS, ProtocolChoice, RemoteServer, ServerConfig,
    TransportKind, validate_name,
};
pub use orgs::{ORGS_KEY, OrgError, Organization};
pub use placeholders::{NoSecrets, SecretSource, expand};
pub use warnings::entry_warnings;

/// The environment variable that moves Latch's whole folder (tests always set it).
pub const HOME_ENV: &str = "LATCH_HOME";

/// The servers file's name inside [`home_dir`].
pub const SERVERS_FILE: &str = "servers.json";

/// Latch's folder: `$LATCH_HOME` if set, else the platform's config folder
/// (`~/.config/latch` on Linux, `~/Library/Application Support/dev.latch.latch` on macOS,
/// `%APPDATA%\latch\latch\config` on Windows).
pub fn home_dir() -> PathBuf {
    if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(home);
    }
    match directories::ProjectDirs::from("dev", "latch", "latch") {
        Some(dirs) => dirs.config_dir().to_path_buf(),
        None => {
            tracing::warn!("no home folder found; using ./.latch (set {HOME_ENV} to choose one)");
            PathBuf::from(".latch")
        }
    }
}

/// Where the servers file lives: [`home_dir`]`/servers.json`.
pub fn default_path() -> PathBuf {
    home_dir().join(SERVERS_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_is_servers_json_in_home() {
        assert_eq!(default_path(), home_dir().join("servers.json"));
        assert!(default_path().ends_with("servers.json"));
    }
}
