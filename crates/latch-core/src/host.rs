//! What the core needs from whoever runs it: a person (or a policy) to answer a server's
//! elicitation request. The desktop shell shows a form, an interactive CLI could prompt, and
//! non-interactive callers use [`DefaultsHost`], which accepts with the schema's defaults.

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

/// Boxed future returned by [`Host`] methods, so the trait stays object safe.
pub type HostFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The host environment of the core (the app, the CLI, a test).
pub trait Host: Send + Sync + 'static {
    /// Answer an elicitation request.
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse>;
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

/// The default of every property of an object schema, or `None` when a required property
/// has no default.
pub fn schema_defaults(schema: &Value) -> Option<Map<String, Value>> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
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
