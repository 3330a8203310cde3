//! What an MCP App asks of Latch that reaches the core: its tool calls, which pass the
//! `visibility` rules of SEP-1865 for an app (a tool only for people and agents is refused;
//! one only for the app is allowed, though the person's own calls refuse it), and the files
//! it hands the person to save (`ui/download-file`), written only to the path the person
//! chose in the save dialog.

use base64::Engine;
use serde_json::Value;

use super::super::{AppError, CallRecord, Latch, Result};
use crate::tools::{CallOrigin, ResourceContents};

/// A file an app offers bigger than this is not written.
const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

impl Latch {
    /// A call the server's app makes from its frame: as [`Latch::call_tool`] (the same record
    /// in the history, the same errors), but a tool only for people and agents
    /// (`visibility: ["model"]`) is refused, and one only for the app is allowed.
    pub async fn call_tool_from_app(
        &self,
        name: &str,
        tool: &str,
        arguments: Value,
        call_id: &str,
    ) -> Result<CallRecord> {
        self.run_tool(name, tool, arguments, call_id, CallOrigin::App)
            .await
    }

    /// Write a file an app offered (an embedded resource of its `ui/download-file`) to `path`,
    /// which the person chose in the save dialog; the bytes written.
    pub async fn save_app_file(&self, file: ResourceContents, path: &str) -> Result<u64> {
        let bytes = file_bytes(&file).map_err(|reason| {
            AppError::new("save", format!("Could not save {}: {reason}.", file.uri))
        })?;
        let len = bytes.len() as u64;
        tokio::fs::write(path, bytes).await.map_err(|e| {
            AppError::new(
                "save",
                format!("Could not write {} to {path}: {e}.", file.uri),
            )
        })?;
        Ok(len)
    }
}

/// The bytes of a file an app offers: its blob decoded, else its text.
fn file_bytes(file: &ResourceContents) -> std::result::Result<Vec<u8>, String> {
    let bytes = match (&file.blob, &file.text) {
        (Some(blob), _) => base64::engine::general_purpose::STANDARD
            .decode(blob.trim())
            .map_err(|_| "the app sent a blob that is not valid base64".to_owned())?,
        (None, Some(text)) => text.clone().into_bytes(),
        (None, None) => return Err("the app sent no contents".to_owned()),
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "it is larger than {} MB",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::test_peers::{NodePeer, latch_over, latch_with};

    fn file(text: Option<&str>, blob: Option<&str>) -> ResourceContents {
        ResourceContents {
            uri: "file:///report.csv".into(),
            mime_type: Some("text/csv".into()),
            text: text.map(str::to_owned),
            blob: blob.map(str::to_owned),
        }
    }

    /// The file is written where the person chose, text as UTF-8 or a blob decoded; a
    /// broken blob is refused in words naming the file.
    #[tokio::test]
    async fn an_apps_file_is_written_where_the_person_chose() {
        assert_eq!(file_bytes(&file(Some("a,b\n"), None)).unwrap(), b"a,b\n");
        assert_eq!(file_bytes(&file(None, Some("aGk="))).unwrap(), b"hi");
        assert!(file_bytes(&file(None, None)).is_err());
        let dir = tempfile::tempdir().unwrap();
        let latch = latch_over(dir.path(), &json!({"mcpServers": {}}));
        let to = dir.path().join("chosen.csv");
        let written = latch
            .save_app_file(file(Some("a,b\n"), None), to.to_str().unwrap())
            .await
            .unwrap();
        assert_eq!(written, 4);
        assert_eq!(std::fs::read(&to).unwrap(), b"a,b\n");
        let error = latch
            .save_app_file(file(None, Some("not base64!")), to.to_str().unwrap())
            .await
            .unwrap_err();
        assert_eq!(
            error.message,
            "Could not save file:///report.csv: the app sent a blob that is not valid base64."
        );
    }

    /// Against `tests/peers/hostile-app-server.mjs --model-only` (`report` only for its app,
    /// `purge` only for people and agents): the person's call of `report` (as "Run again" on
    /// a call the app made) is refused, the app's goes through; the app's call of `purge` is
    /// refused, the person's goes through. Refused calls never reach the server.
    #[tokio::test]
    async fn visibility_is_kept_both_ways() {
        let server = NodePeer::hostile_app(&["--model-only"]);
        let dir = tempfile::tempdir().unwrap();
        let latch = latch_with(dir.path(), "hostile", &server.url);
        let findings = json!({"findings": "{}"});
        let outcome = async {
            latch.connect("hostile").await?;
            let person_report = latch
                .call_tool("hostile", "report", findings.clone(), "p1")
                .await;
            let app_report = latch
                .call_tool_from_app("hostile", "report", findings.clone(), "app-1")
                .await;
            let app_purge = latch
                .call_tool_from_app("hostile", "purge", json!({}), "app-2")
                .await;
            let person_purge = latch.call_tool("hostile", "purge", json!({}), "p2").await;
            // The server does not know resources/templates/list (-32601): no templates.
            let listed = latch.list_resources("hostile").await?;
            Ok::<_, AppError>((person_report, app_report, app_purge, person_purge, listed))
        }
        .await;
        drop(server);
        let (person_report, app_report, app_purge, person_purge, listed) = outcome.unwrap();
        assert_eq!(listed.resources.len(), 1);
        assert!(listed.templates.is_empty());
        let refused = person_report.unwrap_err();
        assert_eq!(refused.kind, "notForCaller");
        assert_eq!(
            refused.message,
            "report is a tool for the app of hostile only (MCP Apps); you cannot call it."
        );
        let app_report = app_report.unwrap();
        assert!(
            app_report.result.is_some_and(|r| !r.is_error),
            "the app may call report"
        );
        let refused = app_purge.unwrap_err();
        assert_eq!(refused.kind, "notForCaller");
        assert_eq!(
            refused.message,
            "purge is a tool of hostile for people and agents only (MCP Apps); its app cannot call it."
        );
        let person_purge = person_purge.unwrap();
        let said = serde_json::to_string(&person_purge.result).unwrap();
        assert!(said.contains("purged 1"), "{said}");
        let history = latch.history("hostile").await.unwrap();
        let ids: Vec<&str> = history.iter().map(|r| r.id.as_str()).collect();
        assert!(
            ids.contains(&"app-1")
                && ids.contains(&"p2")
                && !ids.contains(&"p1")
                && !ids.contains(&"app-2"),
            "only the calls made are kept: {ids:?}"
        );
    }
}
