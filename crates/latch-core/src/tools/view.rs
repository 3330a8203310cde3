//! Latch's own view of a tool, mapped from rmcp's (non-exhaustive, not ours) type through its
//! wire form. This is what the UI and `--json` output see.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One tool as the person sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ToolView {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default)]
    pub annotations: ToolAnnotations,
}

/// Hints a server gives about a tool's behaviour (never trusted for security decisions).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ToolAnnotations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

impl ToolView {
    pub(crate) fn from_rmcp(tool: &rmcp::model::Tool) -> Self {
        let wire = serde_json::to_value(tool).unwrap_or_default();
        let text = |key: &str| wire.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            name: tool.name.to_string(),
            title: text("title"),
            description: text("description"),
            input_schema: wire
                .get("inputSchema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"})),
            output_schema: wire.get("outputSchema").cloned(),
            annotations: wire
                .get("annotations")
                .and_then(|a| serde_json::from_value(a.clone()).ok())
                .unwrap_or_default(),
        }
    }

    /// The title to show: the tool's title, its annotations' title, or its name.
    pub fn display_title(&self) -> &str {
        self.title
            .as_deref()
            .or(self.annotations.title.as_deref())
            .unwrap_or(&self.name)
    }
}
