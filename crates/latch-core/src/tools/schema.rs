//! Checking a call's arguments against the tool's input schema before anything is sent, so a
//! mistake costs no round trip and every problem is listed at once with its JSON path.
//! Remote `$ref`s are never fetched: a schema that needs one is not checked locally and the
//! server gets to judge.

use serde::Serialize;
use serde_json::Value;

/// One way the arguments break the schema.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// JSON pointer into the arguments (`/items/0/name`), `/` for the whole object.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The outcome of checking arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Valid,
    Invalid(Vec<Violation>),
    /// The schema itself could not be used (e.g. it refers to a remote `$ref`).
    Unchecked {
        reason: String,
    },
}

/// Check `arguments` against `schema`, listing every violation. Compiles the schema each time:
/// to check many calls against one schema, compile it once with [`CompiledSchema::new`].
pub fn check(schema: &Value, arguments: &Value) -> Check {
    CompiledSchema::new(schema).check(arguments)
}

/// An input schema compiled once (meta-schema check, `$ref` resolution, regexes) and then used
/// for every call of its tool — compiling costs far more than checking a call's arguments.
pub struct CompiledSchema(Result<jsonschema::Validator, String>);

impl CompiledSchema {
    pub fn new(schema: &Value) -> Self {
        Self(
            jsonschema::options()
                .should_validate_formats(false)
                // Never fetch a `$ref` from the network (MCP 2026-07-28: a client must not
                // dereference one), whatever features the crate is built with.
                .offline()
                .build(schema)
                .map_err(|error| error.to_string()),
        )
    }

    /// Check `arguments`, listing every violation.
    pub fn check(&self, arguments: &Value) -> Check {
        let validator = match &self.0 {
            Ok(validator) => validator,
            Err(reason) => {
                return Check::Unchecked {
                    reason: reason.clone(),
                };
            }
        };
        // The common case first: valid arguments need no error list.
        if validator.is_valid(arguments) {
            return Check::Valid;
        }
        let violations: Vec<Violation> = validator
            .iter_errors(arguments)
            .map(|e| {
                let path = e.instance_path().to_string();
                Violation {
                    path: if path.is_empty() { "/".into() } else { path },
                    message: e.to_string(),
                }
            })
            .collect();
        if violations.is_empty() {
            Check::Valid
        } else {
            Check::Invalid(violations)
        }
    }
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Ok(_) => f.write_str("CompiledSchema"),
            Err(reason) => write!(f, "CompiledSchema(unusable: {reason})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_every_violation_with_its_path() {
        let schema = json!({"type": "object", "required": ["a", "b"], "properties": {
            "a": {"type": "number"}, "b": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}}
        }});
        let Check::Invalid(v) = check(&schema, &json!({"a": "x", "tags": ["ok", 3]})) else {
            panic!("expected violations");
        };
        let paths: Vec<&str> = v.iter().map(|v| v.path.as_str()).collect();
        assert!(paths.contains(&"/a"), "{v:?}");
        assert!(paths.contains(&"/tags/1"), "{v:?}");
        assert!(
            paths.contains(&"/"),
            "missing `b` is reported at the root: {v:?}"
        );
        assert_eq!(check(&schema, &json!({"a": 1, "b": 2})), Check::Valid);
    }

    #[test]
    fn remote_refs_are_not_fetched() {
        let schema = json!({"type": "object", "properties": {
            "x": {"$ref": "http://127.0.0.1:9/never.json"}
        }});
        assert!(matches!(
            check(&schema, &json!({"x": 1})),
            Check::Unchecked { .. }
        ));
    }

    /// A `$ref` to a live address makes no request: the listener has no connection waiting.
    #[test]
    fn a_remote_ref_to_a_live_server_makes_no_request() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let schema = json!({"type": "object", "properties": {
            "x": {"$ref": format!("http://127.0.0.1:{port}/x")}
        }});
        assert!(matches!(
            check(&schema, &json!({"x": 1})),
            Check::Unchecked { .. }
        ));
        let https = json!({"$ref": format!("https://127.0.0.1:{port}/x")});
        assert!(matches!(check(&https, &json!({})), Check::Unchecked { .. }));
        listener.set_nonblocking(true).unwrap();
        let accepted = listener.accept();
        assert!(
            matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "nothing connected: {accepted:?}"
        );
    }

    /// 2020-12 keywords are understood, not just carried.
    #[test]
    fn json_schema_2020_12_keywords_check_as_written() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"pos": {"$anchor": "pos", "type": "integer", "minimum": 1}},
            "properties": {
                "n": {"$ref": "#pos"},
                "kind": {"enum": ["a", "b"]},
                "v": {"anyOf": [{"type": "string"}, {"type": "number"}]}
            },
            "allOf": [{"required": ["n"]}],
            "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
            "then": {"required": ["v"]},
            "else": {},
            "additionalProperties": false
        });
        assert_eq!(check(&schema, &json!({"n": 2})), Check::Valid);
        assert_eq!(
            check(&schema, &json!({"n": 2, "kind": "a", "v": 1})),
            Check::Valid
        );
        for wrong in [
            json!({}),
            json!({"n": 0}),
            json!({"n": 2, "kind": "a"}),
            json!({"n": 2, "extra": true}),
            json!({"n": 2, "kind": "b", "v": []}),
        ] {
            assert!(
                matches!(check(&schema, &wrong), Check::Invalid(_)),
                "{wrong}"
            );
        }
    }

    #[test]
    fn local_refs_and_defs_work() {
        let schema = json!({"type": "object", "$defs": {"n": {"type": "integer"}},
            "properties": {"x": {"$ref": "#/$defs/n"}}});
        assert!(matches!(
            check(&schema, &json!({"x": "no"})),
            Check::Invalid(_)
        ));
        assert_eq!(check(&schema, &json!({"x": 3})), Check::Valid);
    }

    #[test]
    fn a_compiled_schema_checks_many_calls_alike() {
        let schema = json!({"type": "object", "required": ["n"],
            "properties": {"n": {"type": "integer", "minimum": 1}}});
        let compiled = CompiledSchema::new(&schema);
        for arguments in [
            json!({"n": 2}),
            json!({"n": 0}),
            json!({}),
            json!({"n": "x"}),
        ] {
            assert_eq!(
                compiled.check(&arguments),
                check(&schema, &arguments),
                "{arguments}"
            );
        }
        assert_eq!(compiled.check(&json!({"n": 2})), Check::Valid);
        let unusable = CompiledSchema::new(&json!({"$ref": "http://127.0.0.1:9/never.json"}));
        assert!(matches!(
            unusable.check(&json!({})),
            Check::Unchecked { .. }
        ));
    }
}
