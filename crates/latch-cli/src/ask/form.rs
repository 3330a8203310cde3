//! A server's form (an elicitation schema: a flat object of strings, numbers, integers,
//! booleans and enums) asked at the terminal one field at a time: the field's title, type,
//! choices and default shown, required fields marked, an empty answer taking the default (or
//! leaving an optional field out), anything that does not fit the type asked again, and
//! Ctrl-D (end of input) declining the whole form.

use std::io::{BufRead, Write};

use serde_json::{Map, Number, Value};

/// One line of input without its line ending; `None` at end of input (Ctrl-D).
pub fn read_line(input: &mut dyn BufRead) -> Option<String> {
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
    }
}

/// Ask every field of `schema`; `None` when the person declined (Ctrl-D).
pub fn ask(
    schema: &Value,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Option<Map<String, Value>> {
    let required = latch_core::host::required_fields(schema);
    let mut values = Map::new();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Some(values);
    };
    let _ = writeln!(
        output,
        "(Enter takes the default in brackets; * is required; Ctrl-D declines.)"
    );
    for (name, field) in properties {
        let required = required.contains(&name.as_str());
        if let Some(value) = ask_field(name, field, required, input, output)? {
            values.insert(name.clone(), value);
        }
    }
    Some(values)
}

/// The choices of an enum field: `(value, label)`.
fn choices(field: &Value) -> Vec<(Value, String)> {
    if let Some(values) = field.get("enum").and_then(Value::as_array) {
        let names = field.get("enumNames").and_then(Value::as_array);
        return values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let label = names
                    .and_then(|n| n.get(i))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| plain(v));
                (v.clone(), label)
            })
            .collect();
    }
    field
        .get("oneOf")
        .or_else(|| field.get("anyOf"))
        .and_then(Value::as_array)
        .map(|options| {
            options
                .iter()
                .filter_map(|o| {
                    let value = o.get("const")?.clone();
                    let label = o
                        .get("title")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| plain(&value));
                    Some((value, label))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn plain(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string())
}

/// Ask one field until the answer fits; `Some(None)`: left out; `None`: declined.
fn ask_field(
    name: &str,
    field: &Value,
    required: bool,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Option<Option<Value>> {
    let kind = field
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let choices = choices(field);
    let default = field.get("default");
    let title = field.get("title").and_then(Value::as_str).unwrap_or(name);
    let mut header = format!("  {title}{}", if required { " *" } else { "" });
    if let Some(description) = field.get("description").and_then(Value::as_str) {
        header.push_str(&format!(" — {description}"));
    }
    let _ = writeln!(output, "{header}");
    for (i, (_, label)) in choices.iter().enumerate() {
        let _ = writeln!(output, "    {}. {label}", i + 1);
    }
    let hint = if choices.is_empty() {
        match kind {
            "boolean" => "yes/no".to_owned(),
            other => other.to_owned(),
        }
    } else {
        format!("1-{}", choices.len())
    };
    loop {
        let shown_default = default
            .map(|d| format!(" [{}]", plain(d)))
            .unwrap_or_default();
        let _ = write!(output, "  {name} ({hint}){shown_default}: ");
        let _ = output.flush();
        let answer = read_line(input)?;
        let answer = answer.trim();
        if answer.is_empty() {
            if let Some(default) = default {
                return Some(Some(default.clone()));
            }
            if !required {
                return Some(None);
            }
            let _ = writeln!(output, "  {name} is required.");
            continue;
        }
        match parse(answer, kind, &choices) {
            Ok(value) => return Some(Some(value)),
            Err(why) => {
                let _ = writeln!(output, "  {why}; try again.");
            }
        }
    }
}

/// The answer as a value of the field's type (or one of its choices, by number or value).
fn parse(answer: &str, kind: &str, choices: &[(Value, String)]) -> Result<Value, String> {
    if !choices.is_empty() {
        if let Ok(n) = answer.parse::<usize>()
            && (1..=choices.len()).contains(&n)
        {
            return Ok(choices[n - 1].0.clone());
        }
        return choices
            .iter()
            .find(|(value, label)| plain(value) == answer || label == answer)
            .map(|(value, _)| value.clone())
            .ok_or_else(|| format!("pick a number from 1 to {}", choices.len()));
    }
    match kind {
        "integer" => answer
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "that is not a whole number".to_owned()),
        "number" => answer
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "that is not a number".to_owned()),
        "boolean" => match answer.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" => Ok(Value::Bool(true)),
            "n" | "no" | "false" => Ok(Value::Bool(false)),
            _ => Err("answer yes or no".to_owned()),
        },
        _ => Ok(Value::String(answer.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fill(schema: Value, typed: &str) -> (Option<Map<String, Value>>, String) {
        let mut input = std::io::Cursor::new(typed.as_bytes().to_vec());
        let mut output = Vec::new();
        let values = ask(&schema, &mut input, &mut output);
        (values, String::from_utf8(output).unwrap())
    }

    #[test]
    fn each_type_is_asked_with_defaults_and_invalid_answers_asked_again() {
        let schema = json!({"type": "object", "required": ["name", "age"], "properties": {
            "name": {"type": "string", "title": "Your name"},
            "age": {"type": "integer"},
            "score": {"type": "number", "default": 9.5},
            "ok": {"type": "boolean"},
            "color": {"type": "string", "enum": ["red", "blue"]},
            "note": {"type": "string"}
        }});
        // name: empty (required, asked again), then Ada; age: "x" (asked again), then 36;
        // score: default; ok: "maybe" then yes; color: 2; note: left out.
        let (values, shown) = fill(schema, "\nAda\nx\n36\n\nmaybe\ny\n2\n\n");
        let values = values.unwrap();
        assert_eq!(
            Value::Object(values),
            json!({"name": "Ada", "age": 36, "score": 9.5, "ok": true, "color": "blue"})
        );
        assert!(shown.contains("Your name *"), "{shown}");
        assert!(shown.contains("name is required"), "{shown}");
        assert!(shown.contains("not a whole number; try again"), "{shown}");
        assert!(shown.contains("score (number) [9.5]"), "{shown}");
        assert!(shown.contains("2. blue"), "{shown}");
    }

    #[test]
    fn end_of_input_declines_the_form() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "string"}, "b": {"type": "string"}
        }});
        let (values, _) = fill(schema, "first\n");
        assert_eq!(values, None);
    }
}
