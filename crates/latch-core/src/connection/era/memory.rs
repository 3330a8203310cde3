//! What era each server spoke last time, so the next connection goes straight to it instead
//! of probing again: a 2025 server costs one refused `server/discover` per probe, and a local
//! program that ignores the request costs a 10 s wait. Kept in `$LATCH_HOME/state/eras.json`
//! by server name, with the URL or command it was found for (an entry whose target changed is
//! forgotten), written whole through a temporary file so a reader never sees half of it.
//! Losing the file only costs a probe.

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Serialize};

use super::Era;
use crate::config::ServerConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Found {
    /// The URL, or the command line, the era was found for.
    target: String,
    era: Era,
}

/// The remembered eras, in a file (or nowhere).
#[derive(Debug, Clone, Default)]
pub struct EraMemory {
    path: Option<PathBuf>,
}

impl EraMemory {
    /// Remembered in `$LATCH_HOME/state/eras.json`.
    pub fn in_home() -> Self {
        Self {
            path: Some(crate::config::home_dir().join("state").join("eras.json")),
        }
    }

    /// Nothing remembered: every connection with `"protocol": "auto"` probes.
    pub fn none() -> Self {
        Self::default()
    }

    pub(crate) fn recall(&self, name: &str, server: &ServerConfig) -> Option<Era> {
        let found = self.read().remove(name)?;
        (found.target == target(server)).then_some(found.era)
    }

    pub(crate) fn remember(&self, name: &str, server: &ServerConfig, era: Era) {
        self.update(|all| {
            let found = Found {
                target: target(server),
                era,
            };
            (all.get(name) != Some(&found)).then(|| all.insert(name.to_owned(), found))
        });
    }

    pub(crate) fn forget(&self, name: &str) {
        self.update(|all| all.remove(name));
    }

    fn read(&self) -> BTreeMap<String, Found> {
        self.path
            .as_ref()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Apply `change`; write the file only when it says something changed (`Some`).
    fn update<T>(&self, change: impl FnOnce(&mut BTreeMap<String, Found>) -> Option<T>) {
        let Some(path) = &self.path else { return };
        let mut all = self.read();
        if change(&mut all).is_none() {
            return;
        }
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(path);
            std::fs::create_dir_all(dir)?;
            let temporary = path.with_extension(format!("json.{}", std::process::id()));
            std::fs::write(&temporary, serde_json::to_vec_pretty(&all)?)?;
            std::fs::rename(&temporary, path)
        };
        if let Err(error) = write() {
            tracing::debug!(path = %path.display(), %error, "could not remember the protocol era");
        }
    }
}

fn target(server: &ServerConfig) -> String {
    match server {
        ServerConfig::Remote(remote) => remote.url.clone(),
        ServerConfig::Command(command) => std::iter::once(command.command.as_str())
            .chain(command.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_server_and_target() {
        let dir = tempfile::tempdir().unwrap();
        let memory = EraMemory {
            path: Some(dir.path().join("state/eras.json")),
        };
        let a = ServerConfig::remote("https://a.example/mcp");
        assert_eq!(memory.recall("a", &a), None);
        memory.remember("a", &a, Era::Legacy);
        assert_eq!(memory.recall("a", &a), Some(Era::Legacy));
        // Another URL under the same name: found for something else, so not used.
        let moved = ServerConfig::remote("https://b.example/mcp");
        assert_eq!(memory.recall("a", &moved), None);
        memory.remember("a", &moved, Era::Modern);
        assert_eq!(memory.recall("a", &moved), Some(Era::Modern));
        memory.forget("a");
        assert_eq!(memory.recall("a", &moved), None);
        // A damaged file costs a probe, nothing else.
        std::fs::write(dir.path().join("state/eras.json"), "{not json").unwrap();
        assert_eq!(memory.recall("a", &moved), None);
        memory.remember("a", &a, Era::Modern);
        assert_eq!(memory.recall("a", &a), Some(Era::Modern));
        assert!(EraMemory::none().recall("a", &a).is_none());
    }
}
