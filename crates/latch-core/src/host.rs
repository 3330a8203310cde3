//! What the core needs from whoever runs it: a person (or a policy) to answer what a server
//! asks of its client — input (elicitation), a model reply (sampling) and the folders the
//! person works in (roots). The desktop shell shows a form, the CLI asks at the terminal, and
//! non-interactive callers use [`DefaultsHost`], which accepts a form with the schema's
//! defaults. Sampling and roots have defaults (declined, none), so a host answers only what it
//! can, and says so in [`Host::capabilities`] (what Latch announces to servers).

use std::{future::Future, pin::Pin};

use serde_json::{Map, Value};

/// A server asked the person for input (`elicitation/create`).
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitationRequest {
    /// The server's name in the config.
    pub server: String,
    /// The server's message to the person.
    pub message: String,
    /// The requested schema (form mode); `None` for URL mode.
    pub schema: Option<Value>,
    /// The URL to open (URL mode).
    pub url: Option<String>,
}

/// The person's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitationResponse {
    Accept(Map<String, Value>),
    Decline,
    Cancel,
}

/// A server asked for a model reply (`sampling/createMessage`).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingRequest {
    /// The server's name in the config.
    pub server: String,
    /// The conversation so far, oldest first.
    pub messages: Vec<SamplingMessage>,
    /// The system prompt the server proposes, if any.
    pub system_prompt: Option<String>,
    /// The most tokens the reply may have.
    pub max_tokens: u32,
    /// The server's model preferences (`hints`, priorities), as sent; `None` when it sent none.
    pub model_preferences: Option<Value>,
    /// The tools the reply may call (sampling with tools), as sent; empty when none.
    pub tools: Vec<Value>,
}

/// One message of a [`SamplingRequest`]; content that is not text is described in words
/// (e.g. `[image, image/png]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingMessage {
    /// `user` or `assistant`.
    pub role: String,
    pub text: String,
}

/// The answer to a [`SamplingRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum SamplingResponse {
    /// The reply text, and who wrote it (a model name, or e.g. `person at the terminal`).
    Reply { text: String, model: String },
    /// No reply; `reason` says why in words (the server is told).
    Decline { reason: String },
}

/// A folder (or file) the person works in, offered to servers that ask for roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// A `file://` URI.
    pub uri: String,
    pub name: Option<String>,
}

/// What a host can answer beyond a form (which every host answers, if only by declining).
/// Latch announces URL-mode elicitation, `sampling` and `roots` to servers only when the host
/// says it can.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCapabilities {
    /// It can show a page's URL and open it for the person (URL-mode elicitation).
    pub open_pages: bool,
    pub sampling: bool,
    pub roots: bool,
}

/// Why the default [`Host::sample`] declines.
pub const NO_SAMPLING: &str = "Latch has no model to answer with here";

/// Boxed future returned by [`Host`] methods, so the trait stays object safe.
pub type HostFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The host environment of the core (the app, the CLI, a test).
pub trait Host: Send + Sync + 'static {
    /// Answer an elicitation request.
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse>;

    /// What this host can answer; by default neither sampling nor roots.
    fn capabilities(&self) -> HostCapabilities {
        HostCapabilities::default()
    }

    /// Whether it shows MCP Apps (a tool's `ui://` page); announced to servers as the
    /// `io.modelcontextprotocol/ui` extension. By default not.
    fn shows_apps(&self) -> bool {
        false
    }

    /// Answer a request for a model reply; by default declined.
    fn sample(&self, request: SamplingRequest) -> HostFuture<'_, SamplingResponse> {
        let _ = request;
        Box::pin(async {
            SamplingResponse::Decline {
                reason: NO_SAMPLING.to_owned(),
            }
        })
    }

    /// The roots to offer the server `server`; by default none.
    fn roots(&self, server: String) -> HostFuture<'_, Vec<Root>> {
        let _ = server;
        Box::pin(async { Vec::new() })
    }
}

/// Open a page a server asks the person to visit (URL-mode elicitation) in the system
/// browser the way sign-in pages are opened: only a plain `http(s)` URL without credentials,
/// handed to the platform's opener as one argument, never through a shell. `Err` says in
/// words why it was not opened.
pub fn open_page(url: &str) -> Result<(), String> {
    use std::process::Stdio;
    let checked = crate::net::check_url_to_open(url)?;
    crate::auth::system_opener(&checked)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("could not start the program that opens the browser ({e})"))
}

/// A host with no person at hand: accepts a form with its schema's defaults when every
/// required field has one, and declines otherwise (and always declines URL requests).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultsHost;

impl Host for DefaultsHost {
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse> {
        Box::pin(async move {
            match request.schema.as_ref().and_then(schema_defaults) {
                Some(values) => ElicitationResponse::Accept(values),
                None => {
                    tracing::info!(
                        server = %request.server,
                        "declined an elicitation request: it needs answers nobody is here to give"
                    );
                    ElicitationResponse::Decline
                }
            }
        })
    }
}

/// The names an object schema lists as `required` (none when it lists none).
pub fn required_fields(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The default of every property of an object schema, or `None` when a required property
/// has no default.
pub fn schema_defaults(schema: &Value) -> Option<Map<String, Value>> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let required = required_fields(schema);
    let mut values = Map::new();
    if let Some(properties) = properties {
        for (name, property) in properties {
            if let Some(default) = property.get("default") {
                values.insert(name.clone(), default.clone());
            }
        }
    }
    required
        .iter()
        .all(|name| values.contains_key(*name))
        .then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_every_property_that_has_one() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "note": {"type": "string"}
        }});
        let values = schema_defaults(&schema).unwrap();
        assert_eq!(values["name"], "John Doe");
        assert_eq!(values["age"], 30);
        assert!(!values.contains_key("note"));
    }

    #[test]
    fn a_required_field_without_default_declines() {
        let schema = json!({"type": "object", "required": ["email"], "properties": {
            "email": {"type": "string"}
        }});
        assert_eq!(schema_defaults(&schema), None);
    }
}
