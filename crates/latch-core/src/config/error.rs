//! What can go wrong with the servers file, its placeholders and imports. Each message says
//! what to do next, and none of them ever carries a header value or an expanded secret.

use std::path::{Path, PathBuf};

/// Everything `latch_core::config` can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Reading or writing a file failed.
    #[error("could not read or write {}: {source} — check that the folder exists and that you may read and write it", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Writing the new version of the servers file failed (disk full, a file size limit, a
    /// read-only folder); the previous file is still in place.
    #[error("could not save {}: {error} — nothing was changed; free some disk space or check that you may write to its folder, then try again", .path.display())]
    Save {
        path: PathBuf,
        /// Shown in the message (not a `source`: the CLI would print it twice).
        error: std::io::Error,
    },

    /// Another program kept the servers file's lock too long.
    #[error("another Latch program has been changing {} for over {seconds} s — nothing was changed; try again", .path.display())]
    Busy { path: PathBuf, seconds: u64 },

    /// The file is not valid JSON.
    #[error("{}: {message} — fix the file (Latch will not overwrite it)", at(path, *line, *column))]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// The file is valid JSON but an entry does not have the shape Latch expects
    /// (a `url` that is a number, both `url` and `command`, a URL that is not http/https…).
    #[error("{}: {}{message} — fix the file (Latch will not overwrite it)", at(path, *line, *column), context(server.as_deref(), key.as_deref()))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The server entry the problem is in, if it is inside one.
        server: Option<String>,
        /// The key inside that entry (or at top level), if known.
        key: Option<String>,
        message: String,
    },

    /// A server built in code (or imported) is not usable as it stands.
    #[error("server `{name}`: {reason}")]
    InvalidServer { name: String, reason: String },

    /// A server name that Latch does not accept.
    #[error(
        "`{name}` is not a valid server name — use 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"
    )]
    InvalidName { name: String },

    /// No server by that name.
    #[error(
        "no server named `{name}` ({}) — run `latch servers list`",
        known_list(known)
    )]
    UnknownServer { name: String, known: Vec<String> },

    /// A server by that name already exists.
    #[error(
        "a server named `{name}` already exists — pick another name or remove it first with `latch servers remove {name}`"
    )]
    AlreadyExists { name: String },

    /// `${env:NAME}` names a variable that is not set.
    #[error(
        "environment variable {name} is not set — set it, or change the placeholder `${{env:{name}}}` in the servers file"
    )]
    MissingEnv { name: String },

    /// `${secret:NAME}` names a secret that is not stored.
    #[error("secret {name} is not stored — run `latch credentials set {name}`")]
    MissingSecret { name: String },

    /// A `${…}` that is not a placeholder Latch understands.
    #[error("{reason} — placeholders are `${{env:NAME}}` or `${{secret:NAME}}`")]
    BadPlaceholder { reason: String },

    /// A header value is not a valid HTTP header value once its placeholders are expanded.
    #[error(
        "header `{header}` is not a valid HTTP header value after expanding placeholders (it contains a line break or another control character) — check the stored secret or environment variable"
    )]
    InvalidHeaderValue { header: String },

    /// `latch servers import APP` found none of the app's files.
    #[error(
        "no {app} configuration found (looked at {}) — pass the file's path instead",
        paths_list(looked_at)
    )]
    ImportNotFound {
        app: String,
        looked_at: Vec<PathBuf>,
    },

    /// The file to import has no servers section Latch recognises.
    #[error("{}: {message}", .path.display())]
    ImportShape { path: PathBuf, message: String },
}

impl ConfigError {
    /// A short, stable name for the kind of error (the UI gets `{ kind, message }`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::Save { .. } => "save",
            Self::Busy { .. } => "busy",
            Self::Parse { .. } => "parse",
            Self::Invalid { .. } => "invalid",
            Self::InvalidServer { .. } => "invalidServer",
            Self::InvalidName { .. } => "invalidName",
            Self::UnknownServer { .. } => "unknownServer",
            Self::AlreadyExists { .. } => "alreadyExists",
            Self::MissingEnv { .. } => "missingEnv",
            Self::MissingSecret { .. } => "missingSecret",
            Self::BadPlaceholder { .. } => "badPlaceholder",
            Self::InvalidHeaderValue { .. } => "invalidHeaderValue",
            Self::ImportNotFound { .. } => "importNotFound",
            Self::ImportShape { .. } => "importShape",
        }
    }

    /// True when the file on disk is broken and the user must edit it by hand.
    pub fn is_broken_file(&self) -> bool {
        matches!(self, Self::Parse { .. } | Self::Invalid { .. })
    }

    /// True when a placeholder could not be expanded (missing env var or secret, bad syntax).
    pub fn is_placeholder(&self) -> bool {
        matches!(
            self,
            Self::MissingEnv { .. } | Self::MissingSecret { .. } | Self::BadPlaceholder { .. }
        )
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn save(path: &Path, error: std::io::Error) -> Self {
        Self::Save {
            path: path.to_path_buf(),
            error,
        }
    }
}

fn at(path: &Path, line: usize, column: usize) -> String {
    if line == 0 {
        path.display().to_string()
    } else {
        format!("{}:{line}:{column}", path.display())
    }
}

fn context(server: Option<&str>, key: Option<&str>) -> String {
    match (server, key) {
        (Some(s), Some(k)) => format!("server `{s}`, key `{k}`: "),
        (Some(s), None) => format!("server `{s}`: "),
        (None, Some(k)) => format!("key `{k}`: "),
        (None, None) => String::new(),
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "no servers are configured".to_owned()
    } else {
        format!("known: {}", known.join(", "))
    }
}

fn paths_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_file_line_column() {
        let e = ConfigError::Parse {
            path: PathBuf::from("/home/u/.config/latch/servers.json"),
            line: 3,
            column: 15,
            message: "expected `,` or `}`".into(),
        };
        assert_eq!(
            e.to_string(),
            "/home/u/.config/latch/servers.json:3:15: expected `,` or `}` — fix the file (Latch will not overwrite it)"
        );
        assert!(e.is_broken_file());
    }

    #[test]
    fn unknown_server_lists_known_names() {
        let e = ConfigError::UnknownServer {
            name: "x".into(),
            known: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "no server named `x` (known: a, b) — run `latch servers list`"
        );
        let e = ConfigError::UnknownServer {
            name: "x".into(),
            known: vec![],
        };
        assert!(e.to_string().contains("no servers are configured"));
    }

    #[test]
    fn placeholder_messages() {
        let e = ConfigError::MissingSecret {
            name: "figma".into(),
        };
        assert_eq!(
            e.to_string(),
            "secret figma is not stored — run `latch credentials set figma`"
        );
        let e = ConfigError::MissingEnv { name: "TOK".into() };
        assert!(
            e.to_string()
                .starts_with("environment variable TOK is not set")
        );
        assert!(e.is_placeholder());
    }
}
