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
    /// The MCP App (SEP-1865) the tool shows, or that it is for an app only: `_meta.ui`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<ToolUi>,
}

/// What a tool's `_meta.ui` says (or the older `_meta["ui/resourceUri"]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ToolUi {
    /// The `ui://` resource to render after a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_uri: Option<String>,
    /// Only an app may call it (`visibility: ["app"]`): kept out of the list people see.
    #[serde(default)]
    pub app_only: bool,
    /// Only people and agents may call it (`visibility: ["model"]`): an app's call is refused.
    #[serde(default)]
    pub model_only: bool,
}

impl ToolUi {
    /// From a tool's wire `_meta`; `None` when it says nothing about apps. A resource URI
    /// that is not `ui://` is ignored.
    fn from_meta(meta: Option<&Value>) -> Option<Self> {
        let meta = meta?;
        let ui = meta.get("ui");
        let uri = ui
            .and_then(|ui| ui.get("resourceUri"))
            .or_else(|| meta.get("ui/resourceUri"))
            .and_then(Value::as_str)
            .filter(|uri| uri.starts_with("ui://"))
            .map(str::to_owned);
        let app_only = ui
            .and_then(|ui| ui.get("visibility"))
            .and_then(Value::as_array)
            .is_some_and(|seen| {
                !seen.is_empty() && !seen.iter().any(|v| v.as_str() == Some("model"))
            });
        let model_only = ui
            .and_then(|ui| ui.get("visibility"))
            .and_then(Value::as_array)
            .is_some_and(|seen| {
                !seen.is_empty() && !seen.iter().any(|v| v.as_str() == Some("app"))
            });
        (uri.is_some() || app_only || model_only).then_some(Self {
            resource_uri: uri,
            app_only,
            model_only,
        })
    }
}

/// The tools people and agents see ([`ToolView::is_listed`]), in the server's order.
pub fn listed(tools: &[ToolView]) -> impl Iterator<Item = &ToolView> {
    tools.iter().filter(|tool| tool.is_listed())
}

/// Why a call to the app-only tool `tool` of `server` from `who` is refused.
pub(crate) fn app_only_refusal(server: &str, tool: &str, who: &str) -> String {
    format!("{tool} is a tool for the app of {server} only (MCP Apps); {who} cannot call it.")
}

/// Who asks for a call: the rules of SEP-1865's `visibility` differ by caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOrigin {
    /// The person (the tool list, "Run again", the CLI) or an agent.
    Person,
    /// The server's own MCP App, from its frame.
    App,
}

impl CallOrigin {
    /// Why `origin` may not call `tool` of `server` (one line in words), or `None` when it
    /// may: the person never calls an app-only tool, an app never calls a model-only one.
    pub fn refusal(self, server: &str, tool: &ToolView) -> Option<String> {
        let ui = tool.ui.as_ref()?;
        match self {
            Self::Person if ui.app_only => Some(app_only_refusal(server, &tool.name, "you")),
            Self::App if ui.model_only => Some(format!(
                "{} is a tool of {server} for people and agents only (MCP Apps); its app cannot call it.",
                tool.name
            )),
            _ => None,
        }
    }
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
            ui: ToolUi::from_meta(wire.get("_meta")),
        }
    }

    /// Whether people and agents see this tool: every tool but one only the server's app may
    /// call (`_meta.ui.visibility: ["app"]`, SEP-1865: a host keeps those out of the model's
    /// tool list and refuses calls to them that do not come from the app). The one place that
    /// decides it: `latch tools`, the server card's count, `latch call` and the bridge ask here.
    pub fn is_listed(&self) -> bool {
        !self.ui.as_ref().is_some_and(|ui| ui.app_only)
    }

    /// Whether the tool `tool` of the server's wire list (as the bridge forwards it) is listed.
    pub(crate) fn is_listed_on_wire(tool: &rmcp::model::Tool) -> bool {
        let meta = tool.meta.as_ref().map(|meta| Value::Object(meta.0.clone()));
        !ToolUi::from_meta(meta.as_ref()).is_some_and(|ui| ui.app_only)
    }

    /// Why a call to this app-only tool of `server` from `who` (the CLI, an agent) is refused:
    /// one line in words.
    pub fn app_only_refusal(&self, server: &str, who: &str) -> String {
        app_only_refusal(server, &self.name, who)
    }

    /// The title to show: the tool's title, its annotations' title, or its name.
    pub fn display_title(&self) -> &str {
        self.title
            .as_deref()
            .or(self.annotations.title.as_deref())
            .unwrap_or(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What `latch tools --json` shows is the schema as the server sent it: JSON Schema
    /// 2020-12 keywords (the conformance fixture's) are neither dropped nor rewritten.
    #[test]
    fn the_input_schema_is_kept_as_sent() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {"$anchor": "addr", "type": "object",
                    "properties": {"street": {"type": "string"}}, "additionalProperties": false}
            },
            "properties": {
                "home": {"$ref": "#addr"},
                "remote": {"$ref": "http://127.0.0.1:9/profile.json"},
                "contact": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]},
                "kind": {"enum": ["a", "b"]}
            },
            "allOf": [{"required": ["home"]}],
            "if": {"properties": {"kind": {"const": "a"}}},
            "then": {"required": ["contact"]},
            "else": {"not": {"required": ["contact"]}},
            "additionalProperties": false,
            "x-vendor": {"kept": true}
        });
        let output = json!({"type": "object", "$defs": {"n": {"type": "number"}}});
        let tool: rmcp::model::Tool = serde_json::from_value(json!({
            "name": "t", "inputSchema": schema, "outputSchema": output
        }))
        .unwrap();
        let view = ToolView::from_rmcp(&tool);
        assert_eq!(view.input_schema, schema);
        assert_eq!(view.output_schema, Some(output));
        let shown = serde_json::to_value(&view).unwrap();
        assert_eq!(shown["inputSchema"], schema, "and so is what --json prints");
    }

    /// `_meta.ui` (and the older flat key) names the app; `visibility: ["app"]` marks a tool
    /// only an app may call; a resource that is not `ui://` is no app.
    #[test]
    fn a_tools_app_and_visibility_are_read_from_its_meta() {
        let ui = |meta: serde_json::Value| {
            let tool: rmcp::model::Tool = serde_json::from_value(json!({
                "name": "t", "inputSchema": {"type": "object"}, "_meta": meta
            }))
            .unwrap();
            ToolView::from_rmcp(&tool).ui
        };
        assert_eq!(
            ui(json!({"ui": {"resourceUri": "ui://a/app.html"}})),
            Some(ToolUi {
                resource_uri: Some("ui://a/app.html".into()),
                app_only: false,
                model_only: false
            })
        );
        assert_eq!(
            ui(json!({"ui/resourceUri": "ui://old/app.html"}))
                .unwrap()
                .resource_uri
                .as_deref(),
            Some("ui://old/app.html")
        );
        assert_eq!(
            ui(json!({"ui": {"visibility": ["app"]}})),
            Some(ToolUi {
                resource_uri: None,
                app_only: true,
                model_only: false
            })
        );
        assert_eq!(
            ui(json!({"ui": {"visibility": ["model"]}})),
            Some(ToolUi {
                resource_uri: None,
                app_only: false,
                model_only: true
            })
        );
        assert_eq!(ui(json!({"ui": {"visibility": ["model", "app"]}})), None);
        assert_eq!(
            ui(json!({"ui": {"resourceUri": "https://evil.example/x"}})),
            None
        );
        assert_eq!(ui(json!({"other": 1})), None);
    }

    /// People and agents see every tool but the app-only ones, whether Latch holds the tool
    /// as its view or as the wire form the bridge forwards.
    #[test]
    fn app_only_tools_are_not_listed() {
        let wire = |name: &str, meta: serde_json::Value| -> rmcp::model::Tool {
            serde_json::from_value(json!({
                "name": name, "inputSchema": {"type": "object"}, "_meta": meta
            }))
            .unwrap()
        };
        let tools = [
            wire("plain", json!({})),
            wire(
                "shows-app",
                json!({"ui": {"resourceUri": "ui://a/app.html"}}),
            ),
            wire("for-app", json!({"ui": {"visibility": ["app"]}})),
            wire("both", json!({"ui": {"visibility": ["app", "model"]}})),
        ];
        let views: Vec<ToolView> = tools.iter().map(ToolView::from_rmcp).collect();
        let names: Vec<&str> = listed(&views).map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["plain", "shows-app", "both"]);
        let on_wire: Vec<bool> = tools.iter().map(ToolView::is_listed_on_wire).collect();
        assert_eq!(on_wire, [true, true, false, true]);
        assert_eq!(
            views[2].app_only_refusal("hostile", "an agent"),
            "for-app is a tool for the app of hostile only (MCP Apps); an agent cannot call it."
        );
    }

    /// Visibility works both ways: the person is refused an app-only tool, the app a
    /// model-only one; a tool for both (or saying nothing) is open to both.
    #[test]
    fn each_caller_is_refused_the_tools_not_meant_for_it() {
        let tool = |name: &str, meta: serde_json::Value| {
            ToolView::from_rmcp(
                &serde_json::from_value(json!({
                    "name": name, "inputSchema": {"type": "object"}, "_meta": meta
                }))
                .unwrap(),
            )
        };
        let for_app = tool("report", json!({"ui": {"visibility": ["app"]}}));
        let for_model = tool("purge", json!({"ui": {"visibility": ["model"]}}));
        let both = tool("both", json!({"ui": {"visibility": ["model", "app"]}}));
        let plain = tool("plain", json!({}));
        assert_eq!(
            CallOrigin::Person.refusal("hostile", &for_app).as_deref(),
            Some("report is a tool for the app of hostile only (MCP Apps); you cannot call it.")
        );
        assert_eq!(CallOrigin::App.refusal("hostile", &for_app), None);
        assert_eq!(
            CallOrigin::App.refusal("hostile", &for_model).as_deref(),
            Some(
                "purge is a tool of hostile for people and agents only (MCP Apps); its app cannot call it."
            )
        );
        assert_eq!(CallOrigin::Person.refusal("hostile", &for_model), None);
        assert!(for_model.is_listed(), "people see a model-only tool");
        for open in [&both, &plain] {
            assert_eq!(CallOrigin::Person.refusal("hostile", open), None);
            assert_eq!(CallOrigin::App.refusal("hostile", open), None);
        }
    }
}
