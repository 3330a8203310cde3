//! A server's prompts on a [`Connection`]: listing them (every page) with their arguments, and
//! getting one with argument values — the messages it gives, each a role and a content block
//! (text, image, audio, an embedded resource or a link), in the same [`ContentView`] tool
//! results use. Both eras go through rmcp's `Peer` (`prompts/list`, `prompts/get`); a 2026
//! server that needs input first gets it the way a tool call does. A prompt the server does
//! not have is said in words naming it.

use std::collections::BTreeMap;

use rmcp::model::{ErrorCode, GetPromptRequestParams, GetPromptResponse};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::{
    CallError, Connection, LatchHandler,
    input_required::{self, Continuation, MAX_ROUNDS, Round},
    resources::{REQUEST_TIMEOUT, all_pages, text, unknown_answer},
};
use crate::tools::{ContentView, ToolResult};

/// One prompt the server lists.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PromptView {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub arguments: Vec<PromptArgumentView>,
}

/// One argument of a prompt.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PromptArgumentView {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub required: bool,
}

/// What getting a prompt gave.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PromptResult {
    pub description: Option<String>,
    pub messages: Vec<PromptMessageView>,
}

/// One message of a prompt: who says it (`user` or `assistant`) and what.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PromptMessageView {
    pub role: String,
    pub content: ContentView,
}

/// Why prompts could not be listed or got.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    #[error("{server} has no prompt `{prompt}` — run `latch prompts {server}` to see its prompts")]
    UnknownPrompt { server: String, prompt: String },
    #[error(transparent)]
    Call(#[from] CallError),
}

impl PromptView {
    fn from_wire(wire: &Value) -> Self {
        let arguments = match wire.get("arguments") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|a| PromptArgumentView {
                    name: text(a, "name").unwrap_or_default(),
                    title: text(a, "title"),
                    description: text(a, "description"),
                    required: a.get("required").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            name: text(wire, "name").unwrap_or_default(),
            title: text(wire, "title"),
            description: text(wire, "description"),
            arguments,
        }
    }
}

impl PromptResult {
    /// From a `prompts/get` result as sent on the wire.
    pub fn from_wire(wire: &Value) -> Self {
        let messages = match wire.get("messages") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|m| PromptMessageView {
                    role: text(m, "role").unwrap_or_default(),
                    content: content_of(m.get("content").cloned().unwrap_or_default()),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            description: text(wire, "description"),
            messages,
        }
    }
}

/// One content block, read the way a tool result's blocks are.
fn content_of(block: Value) -> ContentView {
    ToolResult::from_wire(&json!({ "content": [block] }))
        .content
        .pop()
        .unwrap_or(ContentView::Unknown { raw: Value::Null })
}

impl Connection {
    /// Whether the server says it has prompts (`capabilities.prompts`).
    pub fn offers_prompts(&self) -> bool {
        self.peer_info()
            .is_some_and(|info| info.capabilities.prompts.is_some())
    }

    /// Every prompt the server lists (all pages); none when it offers no prompts.
    pub async fn list_prompts(&self) -> Result<Vec<PromptView>, CallError> {
        if !self.offers_prompts() {
            return Ok(Vec::new());
        }
        let list = || {
            all_pages(" while listing prompts", |params| async move {
                let page = self.peer().list_prompts(params).await?;
                let items = page
                    .prompts
                    .into_iter()
                    .filter_map(|p| serde_json::to_value(p).ok())
                    .collect();
                Ok((items, page.next_cursor))
            })
        };
        let items = self.signing_in_when_asked(list).await?;
        Ok(items.iter().map(PromptView::from_wire).collect())
    }

    /// Get the prompt `name` with `arguments`. `cancel` stops it (and any questions the server
    /// asks first).
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: &BTreeMap<String, String>,
        cancel: &CancellationToken,
    ) -> Result<PromptResult, PromptError> {
        let arguments: Map<String, Value> = arguments
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let handler = LatchHandler {
            shared: self.shared.clone(),
        };
        let got = input_required::drive(&handler, cancel, MAX_ROUNDS, |next| {
            let arguments = arguments.clone();
            async move {
                self.signing_in_when_asked(|| self.get_round(name, arguments.clone(), next.clone()))
                    .await
            }
        })
        .await;
        match got {
            Ok(result) => Ok(result),
            // Also what a missing argument gets: the list tells which it is.
            Err(CallError::Server { code, message }) if code == ErrorCode::INVALID_PARAMS.0 => {
                let listed = self.list_prompts().await.unwrap_or_default();
                if !listed.is_empty() && !listed.iter().any(|p| p.name == name) {
                    return Err(PromptError::UnknownPrompt {
                        server: self.server().to_owned(),
                        prompt: name.to_owned(),
                    });
                }
                Err(CallError::Server { code, message }.into())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// One `prompts/get` request (one round, on the 2026 wire).
    async fn get_round(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        next: Continuation,
    ) -> Result<Round<PromptResult>, CallError> {
        let mut params = GetPromptRequestParams::new(name).with_arguments(arguments);
        params.input_responses = next.input_responses;
        params.request_state = next.request_state;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.peer().get_prompt_once(params))
            .await
            .map_err(|_| CallError::TimedOut {
                seconds: REQUEST_TIMEOUT.as_secs(),
            })?
            .map_err(|e| CallError::from_service(e, " while getting a prompt"))?;
        Ok(match response {
            GetPromptResponse::Complete(result) => Round::Complete(PromptResult::from_wire(
                &serde_json::to_value(result).unwrap_or_default(),
            )),
            GetPromptResponse::InputRequired(asked) => Round::InputRequired(asked),
            _ => return Err(unknown_answer(" while getting a prompt")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_map_with_their_arguments() {
        let prompt = PromptView::from_wire(&json!({
            "name": "args-prompt", "title": "Arguments Prompt",
            "arguments": [
                {"name": "city", "description": "Name of the city", "required": true},
                {"name": "state"}
            ]
        }));
        assert_eq!(prompt.name, "args-prompt");
        assert_eq!(prompt.arguments.len(), 2);
        assert!(prompt.arguments[0].required);
        assert!(!prompt.arguments[1].required);
        assert_eq!(
            PromptView::from_wire(&json!({"name": "p"})).arguments,
            vec![]
        );
    }

    #[test]
    fn messages_keep_role_and_every_kind_of_content() {
        let result = PromptResult::from_wire(&json!({
            "description": "d",
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "hi"}},
                {"role": "assistant", "content": {"type": "image", "data": "AAAA", "mimeType": "image/png"}},
                {"role": "user", "content": {"type": "resource", "resource": {"uri": "demo://r", "text": "body"}}}
            ]
        }));
        assert_eq!(result.description.as_deref(), Some("d"));
        assert_eq!(result.messages[0].role, "user");
        assert_eq!(
            result.messages[0].content,
            ContentView::Text { text: "hi".into() }
        );
        assert!(matches!(
            result.messages[1].content,
            ContentView::Image { .. }
        ));
        assert!(
            matches!(&result.messages[2].content, ContentView::Resource { resource } if resource.uri == "demo://r")
        );
    }
}
