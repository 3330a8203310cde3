//! One refresh per grant at a time, inside the process and across processes: the app, the CLI
//! and the bridge may all find the same token expired at once, and a second refresh with an
//! already-rotated refresh token gets the whole grant revoked by servers like oidc-provider or
//! Notion. rmcp takes this guard before it loads the grant and keeps it through the token
//! request and the save, so whoever comes second loads the rotated token.

use std::{
    collections::HashMap,
    fs::File,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::Duration,
};

use rmcp::transport::auth::{AuthError, CredentialRefreshGuard};

/// How long to wait for another process's refresh before giving up.
const WAIT: Duration = Duration::from_secs(60);

/// Take the refresh lock of grant `key`: a `flock` on `dir/locks/<hash>.lock` when the store
/// lives on disk or in the keychain (other processes see it), else an in-process mutex.
pub(crate) async fn acquire(
    dir: Option<PathBuf>,
    key: &str,
) -> Result<CredentialRefreshGuard, AuthError> {
    let Some(dir) = dir else {
        let mutex = in_process(key);
        let guard = tokio::time::timeout(WAIT, mutex.lock_owned())
            .await
            .map_err(|_| {
                AuthError::CredentialStoreError(
                    "another refresh of this sign-in is taking too long".into(),
                )
            })?;
        return Ok(CredentialRefreshGuard::new(guard));
    };
    let path = dir.join("locks").join(format!("{:016x}.lock", fnv1a(key)));
    let locking = tokio::task::spawn_blocking(move || lock_file(&path));
    match tokio::time::timeout(WAIT, locking).await {
        Ok(Ok(Ok(file))) => Ok(CredentialRefreshGuard::new(file)),
        Ok(Ok(Err(error))) => Err(AuthError::CredentialStoreError(format!(
            "could not take the refresh lock: {error}"
        ))),
        Ok(Err(_)) => Err(AuthError::CredentialStoreError(
            "the refresh lock task failed".into(),
        )),
        Err(_) => Err(AuthError::CredentialStoreError(
            "another process has been refreshing this sign-in for over a minute".into(),
        )),
    }
}

fn lock_file(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // Released when the file is closed — also when the process dies mid-refresh.
    fs4::FileExt::lock(&file)?;
    Ok(file)
}

fn in_process(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
        OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks.entry(key.to_owned()).or_default().clone()
}

/// A stable, dependency-free file name for a key (keys hold `:` and `%`, which some file
/// systems refuse).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_holder_at_a_time_on_disk_and_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        for place in [Some(dir.path().to_path_buf()), None] {
            let inside = Arc::new(AtomicU32::new(0));
            let most = Arc::new(AtomicU32::new(0));
            let tasks = (0..8).map(|_| {
                let (place, inside, most) = (place.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _guard = acquire(place, "grant:x").await.unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            });
            futures::future::join_all(tasks).await;
            assert_eq!(
                most.load(Ordering::SeqCst),
                1,
                "never two refreshes at once"
            );
        }
    }
}
