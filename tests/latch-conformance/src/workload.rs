//! `auth/wif-jwt-bearer` (SEP-1933): the scenario hands out a workload's platform token
//! (`valid_jwt`); a person's platform would write it to a file Latch reads, so the adapter
//! writes it to a file of its own (readable only by this user, removed when the run ends) and
//! gives the server `"auth": {"type": "workload", "tokenFile": PATH, "clientId": …}`.

use std::path::PathBuf;

use latch_core::config::ServerConfig;
use serde_json::{Value, json};

/// The token file, removed when dropped.
pub struct TokenFile(PathBuf);

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `server` as a person running a workload would write it for `scenario`, and the token file
/// it reads (keep it until the run ends). Other scenarios pass through unchanged.
pub fn configure(
    scenario: &str,
    context: &Value,
    mut server: ServerConfig,
) -> anyhow::Result<(ServerConfig, Option<TokenFile>)> {
    let (true, Some(jwt), ServerConfig::Remote(remote)) = (
        scenario.starts_with("auth/wif-"),
        context.get("valid_jwt").and_then(Value::as_str),
        &mut server,
    ) else {
        return Ok((server, None));
    };
    let path =
        std::env::temp_dir().join(format!("latch-conformance-wif-{}.jwt", std::process::id()));
    write_private(&path, jwt)?;
    let file = TokenFile(path.clone());
    let mut auth = json!({ "type": "workload", "tokenFile": path });
    if let Some(client_id) = context.get("client_id") {
        auth["clientId"] = client_id.clone();
    }
    remote.auth = Some(auth);
    Ok((server, Some(file)))
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
