//! Where Latch's log lines go, set up once by the CLI and the app alike. A person running
//! `latch …` sees one line when something fails, never log lines in front of it: log lines go
//! to a file in Latch's folder (`$LATCH_HOME/logs/latch.log`, readable only by its owner, kept
//! under a few MB by starting over with the old one as `latch.log.1`), and to stderr only when
//! asked for (`-v`, `RUST_LOG`) — or always, warnings only, for the bridge, whose stderr an
//! agent shows as the server's log. Colour codes are written only to a terminal, and only when
//! `NO_COLOR` is unset. Whatever is asked for, rmcp's auth module is never logged below info:
//! at debug it logs authorization codes and token responses.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, IsTerminal, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// The log folder's name inside [`crate::config::home_dir`].
pub const LOG_DIR: &str = "logs";
/// The log file's name inside [`LOG_DIR`].
pub const LOG_FILE: &str = "latch.log";
/// Past this size the log file starts over; the previous one is kept as `latch.log.1`.
pub const MAX_LOG_BYTES: u64 = 4 * 1024 * 1024;

/// What the log file gets when `RUST_LOG` is not set: Latch's own details (the raw error
/// chains behind each one-line error among them), everyone else's warnings.
const FILE_DEFAULT: &str =
    "warn,latch_core=debug,latch=debug,latch_app=debug,latch_demo=info,rmcp::transport::auth=warn";
/// What stderr gets with `-v`.
const VERBOSE_DEFAULT: &str =
    "info,latch_core=debug,latch=debug,latch_app=debug,rmcp::transport::auth=info";
/// What the bridge's stderr gets without `-v`: warnings, minus rmcp's worker errors (each also
/// reaches the agent as an error of its own).
const BRIDGE_DEFAULT: &str = "warn,rmcp::transport::worker=off,rmcp::transport::auth=error";
/// The cap put on any `RUST_LOG`.
const AUTH_CAP: &str = "rmcp::transport::auth=info";

/// When log lines also go to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// Only when asked for: `-v` or `RUST_LOG` (the CLI's commands, the app).
    WhenAsked,
    /// Always, warnings by default (the bridge: agents show a server's stderr).
    Warnings,
}

/// Where the log file is: `logs/latch.log` in [`crate::config::home_dir`].
pub fn log_path() -> PathBuf {
    crate::config::home_dir().join(LOG_DIR).join(LOG_FILE)
}

/// Sends log lines to the log file and, per `stderr` and `verbose`, to stderr. Returns the log
/// file's path, or `None` when it could not be opened (a read-only folder: then the lines
/// that would have gone there are dropped; nothing fails because of it). Call it once, early;
/// later calls change nothing.
pub fn init(stderr: Stderr, verbose: bool) -> Option<PathBuf> {
    let from_env = env_filter();
    let asked = verbose || from_env.is_some();
    let path = log_path();
    let file = LogFile::open(&path)
        .inspect_err(|error| {
            if asked {
                eprintln!(
                    "latch: could not open the log file {}: {error}",
                    path.display()
                );
            }
        })
        .ok()
        .map(|file| {
            tracing_subscriber::fmt::layer()
                .with_writer(Arc::new(file))
                .with_ansi(false)
                .with_filter(env_filter().unwrap_or_else(|| EnvFilter::new(FILE_DEFAULT)))
        });
    let stderr_filter = match (from_env, verbose, stderr) {
        (Some(filter), _, _) => Some(filter),
        (None, true, _) => Some(EnvFilter::new(VERBOSE_DEFAULT)),
        (None, false, Stderr::Warnings) => Some(EnvFilter::new(BRIDGE_DEFAULT)),
        (None, false, Stderr::WhenAsked) => None,
    };
    let stderr_layer = stderr_filter.map(|filter| {
        tracing_subscriber::fmt::layer()
            .with_writer(io::stderr)
            .with_ansi(use_colour(io::stderr().is_terminal()))
            .with_target(false)
            .with_filter(filter)
    });
    let opened = file.is_some();
    let _ = tracing_subscriber::registry()
        .with(file)
        .with(stderr_layer)
        .try_init();
    opened.then_some(path)
}

/// `RUST_LOG`'s filter, when it is set and parses, with rmcp's auth module capped at info.
fn env_filter() -> Option<EnvFilter> {
    let filter = EnvFilter::try_from_default_env().ok()?;
    Some(match AUTH_CAP.parse() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    })
}

/// Colour only for a terminal, and only when `NO_COLOR` is unset or empty (no-color.org).
fn use_colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The log file, appended to by every Latch process at once; past [`MAX_LOG_BYTES`] it is
/// moved to `latch.log.1` (replacing the one before) and a new one started.
struct LogFile {
    path: PathBuf,
    state: Mutex<Open>,
}

struct Open {
    file: File,
    /// The file's size as this process last knew it.
    size: u64,
}

impl LogFile {
    fn open(path: &Path) -> io::Result<LogFile> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let file = open_private(path)?;
        let size = file.metadata()?.len();
        let log = LogFile {
            path: path.to_owned(),
            state: Mutex::new(Open { file, size }),
        };
        if size > MAX_LOG_BYTES {
            log.rotate(
                &mut log.state.lock().unwrap_or_else(PoisonError::into_inner),
                0,
            )?;
        }
        Ok(log)
    }

    /// Starts a new file unless `incoming` more bytes still fit (another process started one).
    fn rotate(&self, open: &mut Open, incoming: u64) -> io::Result<()> {
        let current = fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        if current.saturating_add(incoming) > MAX_LOG_BYTES {
            let mut old = self.path.clone().into_os_string();
            old.push(".1");
            fs::rename(&self.path, old)?;
        }
        open.file = open_private(&self.path)?;
        open.size = open.file.metadata()?.len();
        Ok(())
    }
}

impl Write for &LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut open = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if open.size.saturating_add(buf.len() as u64) > MAX_LOG_BYTES {
            // A failed rotation keeps appending to the file already open.
            let _ = self.rotate(&mut open, buf.len() as u64);
        }
        // One write per line (the formatter hands over whole lines), so lines from several
        // processes appending at once do not interleave.
        open.file.write_all(buf)?;
        open.size = open.size.saturating_add(buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Opens `path` for appending, created readable and writable by its owner only (and made so,
/// if an older file was not).
fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_private_and_starts_over_past_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs").join(LOG_FILE);
        let log = LogFile::open(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
            let dir_mode = fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o077, 0, "{dir_mode:o}");
        }
        let line = vec![b'x'; 1024 * 1024];
        for _ in 0..4 {
            (&log).write_all(&line).unwrap();
        }
        assert_eq!(fs::metadata(&path).unwrap().len(), 4 * 1024 * 1024);
        (&log)
            .write_all(b"the first line of the next file\n")
            .unwrap();
        let old = dir.path().join("logs").join("latch.log.1");
        assert_eq!(fs::metadata(&old).unwrap().len(), 4 * 1024 * 1024);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "the first line of the next file\n"
        );
    }

    #[test]
    fn an_oversized_file_is_moved_aside_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        fs::write(&path, vec![b'x'; MAX_LOG_BYTES as usize + 1]).unwrap();
        let log = LogFile::open(&path).unwrap();
        (&log).write_all(b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert!(dir.path().join("latch.log.1").exists());
    }

    #[test]
    fn colour_only_for_a_terminal() {
        assert!(!use_colour(false));
    }
}
