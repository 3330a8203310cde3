//! What a person does with Latch in each conformance scenario, once connected: which tools
//! they call and with what. The suite describes it in each scenario's text (and for some,
//! in `MCP_CONFORMANCE_CONTEXT`); this file writes it down, so `main.rs` stays the plumbing.
//! Nothing here speaks the protocol: every request goes through latch-core's public API.

use latch_core::{CallOptions, Connection, tools::ToolView};
use serde_json::{Map, Value, json};

/// What to do after listing the tools.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Call these tools with these arguments, in order; a call that fails fails the run.
    Call(Vec<(String, Map<String, Value>)>),
    /// Call these tools with exactly the arguments the suite gives, unchecked, as
    /// `latch call --no-validate` does: `http-custom-headers` sends `null` for a boolean to
    /// see the header left out, which Latch's own check would stop before it is sent.
    CallAsGiven(Vec<(String, Map<String, Value>)>),
    /// Echo one tool's input schema, as `latch tools` shows it, to another tool as its
    /// `schema` argument (json-schema-2020-12-preservation).
    EchoSchema { of: &'static str, to: &'static str },
    /// Try every listed tool, filling each required argument as a person would; a refusal
    /// (scopes never granted, a tool the core excluded) is the scenario's business.
    TryEach,
    /// Only list the tools.
    ListOnly,
}

/// The plan for `scenario`, given the suite's context for it (`toolCalls` when the scenario
/// names the calls and their arguments).
pub fn plan(scenario: &str, context: &Value) -> Plan {
    if let Some(calls) = context.get("toolCalls").and_then(Value::as_array) {
        return Plan::CallAsGiven(
            calls
                .iter()
                .filter_map(|call| {
                    let name = call.get("name")?.as_str()?.to_owned();
                    let arguments = call
                        .get("arguments")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    Some((name, arguments))
                })
                .collect(),
        );
    }
    let one = |tool: &str, arguments: Value| {
        Plan::Call(vec![(
            tool.to_owned(),
            arguments.as_object().cloned().unwrap_or_default(),
        )])
    };
    match scenario {
        "tools_call" => one("add_numbers", json!({"a": 2, "b": 3})),
        "elicitation-sep1034-client-defaults" => one("test_client_elicitation_defaults", json!({})),
        "sse-retry" => one("test_reconnection", json!({})),
        "json-schema-2020-12-preservation" => Plan::EchoSchema {
            of: "json_schema_2020_12_tool",
            to: "json_schema_echo",
        },
        "sep-2322-client-request-state" | "http-standard-headers" | "http-invalid-tool-headers" => {
            Plan::TryEach
        }
        s if s.starts_with("auth/") => Plan::TryEach,
        _ => Plan::ListOnly,
    }
}

/// Arguments a person would type for a tool: each required property's default, first enum
/// value, or a plain value of its type.
pub fn arguments_for(schema: &Value) -> Map<String, Value> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    let mut arguments = Map::new();
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let property = properties.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
        let value = property
            .get("default")
            .or_else(|| property.get("enum").and_then(|e| e.get(0)))
            .cloned()
            .unwrap_or_else(|| match property.get("type").and_then(Value::as_str) {
                Some("integer" | "number") => json!(1),
                Some("boolean") => json!(true),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ => json!("example"),
            });
        arguments.insert(name.to_owned(), value);
    }
    arguments
}

/// Carry out `plan` on `connection`, whose tools are `tools`.
pub async fn carry_out(
    plan: Plan,
    connection: &Connection,
    tools: &[ToolView],
) -> anyhow::Result<()> {
    match plan {
        Plan::ListOnly => {}
        Plan::Call(calls) => call_each(connection, calls, true).await?,
        Plan::CallAsGiven(calls) => call_each(connection, calls, false).await?,
        Plan::EchoSchema { of, to } => {
            let schema = tools
                .iter()
                .find(|t| t.name == of)
                .map(|t| t.input_schema.clone())
                .ok_or_else(|| anyhow::anyhow!("the server lists no tool {of}"))?;
            let mut arguments = Map::new();
            arguments.insert("schema".to_owned(), schema);
            let result = connection
                .call_tool(to, arguments, CallOptions::default())
                .await?;
            eprintln!("{to}: {}", result.text());
        }
        Plan::TryEach => {
            for tool in tools {
                let arguments = arguments_for(&tool.input_schema);
                match connection
                    .call_tool(&tool.name, arguments, CallOptions::default())
                    .await
                {
                    Ok(result) => eprintln!("{}: {}", tool.name, result.text()),
                    Err(error) => eprintln!("{}: {error}", tool.name),
                }
            }
        }
    }
    Ok(())
}

/// Call each tool in turn, checking the arguments against its schema first or not
/// (`validate`); the first failure ends the run.
async fn call_each(
    connection: &Connection,
    calls: Vec<(String, Map<String, Value>)>,
    validate: bool,
) -> anyhow::Result<()> {
    for (tool, arguments) in calls {
        let options = CallOptions {
            validate,
            ..CallOptions::default()
        };
        let result = connection.call_tool(&tool, arguments, options).await?;
        eprintln!("{tool}: {}", result.text());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_tool_calls_are_called_as_given() {
        let context = json!({"toolCalls": [
            {"name": "test_custom_headers", "arguments": {"region": "us-west1", "priority": 42}},
            {"name": "test_custom_headers_null", "arguments": {"verbose": null}},
        ]});
        let Plan::CallAsGiven(calls) = plan("http-custom-headers", &context) else {
            panic!("expected calls");
        };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].0, "test_custom_headers");
        assert_eq!(calls[0].1["priority"], json!(42));
        assert_eq!(calls[1].1["verbose"], Value::Null);
    }

    #[test]
    fn required_arguments_are_filled_by_type_default_and_enum() {
        let schema = json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "count": {"type": "integer"},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "level": {"type": "number", "default": 3},
                "optional": {"type": "string"}
            },
            "required": ["region", "count", "mode", "level"]
        });
        let arguments = arguments_for(&schema);
        assert_eq!(
            Value::Object(arguments),
            json!({"region": "example", "count": 1, "mode": "fast", "level": 3})
        );
    }

    #[test]
    fn scenarios_map_to_what_a_person_does() {
        assert_eq!(
            plan("json-schema-ref-no-deref", &Value::Null),
            Plan::ListOnly
        );
        assert_eq!(plan("auth/scope-step-up", &Value::Null), Plan::TryEach);
        assert!(
            matches!(plan("tools_call", &Value::Null), Plan::Call(calls) if calls[0].0 == "add_numbers")
        );
    }
}
