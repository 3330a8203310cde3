//! Turning `KEY=VALUE` words from a command line into JSON arguments, typed by the tool's
//! input schema: `a=2` becomes the number 2 when `a` is a number, `on=yes` a boolean, `tags=a,b`
//! an array. `KEY:=JSON` takes raw JSON, and `a.b=1` builds nested objects.

use serde_json::{Map, Value};

/// A word that could not be turned into an argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{word}`: {reason}")]
pub struct CoerceError {
    pub word: String,
    pub reason: String,
}

/// Build an arguments object from `KEY=VALUE` / `KEY:=JSON` words.
pub fn arguments(schema: &Value, words: &[String]) -> Result<Map<String, Value>, CoerceError> {
    let mut out = Map::new();
    for word in words {
        let fail = |reason: String| CoerceError {
            word: word.clone(),
            reason,
        };
        let (key, value) = match (word.find(":="), word.find('=')) {
            (Some(i), Some(j)) if i < j => {
                let raw = &word[i + 2..];
                let json = serde_json::from_str(raw)
                    .map_err(|e| fail(format!("not valid JSON after `:=` ({e})")))?;
                (&word[..i], json)
            }
            (_, Some(j)) => {
                let key = &word[..j];
                let property = property_schema(schema, key);
                let value = coerce(&word[j + 1..], property.as_ref()).map_err(fail)?;
                (key, value)
            }
            _ => return Err(fail("expected KEY=VALUE or KEY:=JSON".into())),
        };
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(fail("the key is empty".into()));
        }
        insert(&mut out, key, value);
    }
    Ok(out)
}

/// The schema of a (dotted) property, following local `$ref`s.
fn property_schema(root: &Value, dotted: &str) -> Option<Value> {
    let mut current = resolve(root, root)?;
    for part in dotted.split('.') {
        let next = current.get("properties")?.get(part)?;
        current = resolve(root, next)?;
    }
    Some(current.clone())
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    let mut schema = schema;
    for _ in 0..16 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => schema = root.pointer(&r[1..])?,
            Some(_) => return None,
            None => return Some(schema),
        }
    }
    None
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => {
            // An enum without a type: infer from its members.
            match schema
                .get("enum")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
            {
                Some(Value::Number(_)) => vec!["number"],
                Some(Value::Bool(_)) => vec!["boolean"],
                Some(Value::String(_)) => vec!["string"],
                _ => vec![],
            }
        }
    }
}

fn coerce(raw: &str, schema: Option<&Value>) -> Result<Value, String> {
    let Some(schema) = schema else {
        // Unknown to the schema: JSON scalars keep their type, anything else is text.
        return Ok(match serde_json::from_str::<Value>(raw) {
            Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => v,
            _ => Value::String(raw.to_owned()),
        });
    };
    let types = types(schema);
    if types.is_empty() {
        return coerce(raw, None);
    }
    let mut reasons = Vec::new();
    for t in &types {
        match coerce_as(raw, t, schema) {
            Ok(v) => return Ok(v),
            Err(reason) => reasons.push(reason),
        }
    }
    Err(reasons.join("; "))
}

fn coerce_as(raw: &str, t: &str, schema: &Value) -> Result<Value, String> {
    match t {
        "string" => Ok(Value::String(raw.to_owned())),
        "integer" => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("expected a whole number, got `{raw}`")),
        "number" => {
            let n: f64 = raw
                .trim()
                .parse()
                .map_err(|_| format!("expected a number, got `{raw}`"))?;
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                Ok(Value::from(n as i64))
            } else {
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| format!("`{raw}` is not a finite number"))
            }
        }
        "boolean" => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, got `{raw}`")),
        },
        "null" if raw == "null" => Ok(Value::Null),
        "null" => Err(format!("expected null, got `{raw}`")),
        "array" => {
            if raw.trim_start().starts_with('[') {
                return serde_json::from_str(raw).map_err(|e| format!("not a JSON array ({e})"));
            }
            let items = schema.get("items");
            raw.split(',')
                .filter(|s| !s.is_empty())
                .map(|item| coerce(item, items))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "object" => serde_json::from_str::<Value>(raw)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| "expected a JSON object (use KEY:={...} or KEY.sub=VALUE)".to_owned()),
        other => Err(format!("unsupported type `{other}`")),
    }
}

fn insert(out: &mut Map<String, Value>, dotted: &str, value: Value) {
    let mut parts = dotted.split('.').peekable();
    let mut current = out;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return;
        }
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        current = entry.as_object_mut().expect("just made an object");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn coerces_by_schema_type() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "number"}, "n": {"type": "integer"}, "s": {"type": "string"},
            "flag": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "integer"}},
            "maybe": {"type": ["integer", "null"]},
            "filter": {"type": "object", "properties": {"limit": {"type": "integer"}}}
        }});
        let args = arguments(
            &schema,
            &words(&[
                "a=2.5",
                "n=3",
                "s=007",
                "flag=yes",
                "tags=1,2",
                "maybe=null",
                "filter.limit=10",
                "raw:={\"x\":[1]}",
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(args),
            json!({"a": 2.5, "n": 3, "s": "007", "flag": true, "tags": [1, 2], "maybe": null,
                   "filter": {"limit": 10}, "raw": {"x": [1]}})
        );
    }

    #[test]
    fn bad_values_name_the_word() {
        let schema = json!({"properties": {"n": {"type": "integer"}}});
        let error = arguments(&schema, &words(&["n=three"])).unwrap_err();
        assert_eq!(error.word, "n=three");
        assert!(error.reason.contains("whole number"));
        assert!(arguments(&schema, &words(&["novalue"])).is_err());
        assert!(arguments(&schema, &words(&["x:={bad"])).is_err());
    }

    #[test]
    fn unknown_keys_keep_json_scalars() {
        let args = arguments(&json!({}), &words(&["x=5", "y=hello", "z=true"])).unwrap();
        assert_eq!(
            Value::Object(args),
            json!({"x": 5, "y": "hello", "z": true})
        );
    }

    #[test]
    fn follows_local_refs() {
        let schema = json!({"$defs": {"n": {"type": "integer"}}, "properties": {"x": {"$ref": "#/$defs/n"}}});
        assert_eq!(
            Value::Object(arguments(&schema, &words(&["x=4"])).unwrap()),
            json!({"x": 4})
        );
    }
}
