//! VS Code's `mcp.json` and `settings.json` are JSONC: JSON with `//` and `/* */` comments and
//! trailing commas. This turns such text into plain JSON by blanking those bytes with spaces —
//! strings (and the `//` inside URLs) are left alone, and every other byte keeps its place, so
//! a parse error's line and column still point into the user's file.

/// Plain JSON from JSONC text, same length, same line breaks.
pub(crate) fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut pending_comma: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                pending_comma = None;
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    out[i] = b' ';
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                out[i] = b' ';
                out[i + 1] = b' ';
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    if b[i] != b'\n' && b[i] != b'\r' {
                        out[i] = b' ';
                    }
                    i += 1;
                }
                out[i..(i + 2).min(b.len())].fill(b' ');
                i += 2;
            }
            b',' => {
                pending_comma = Some(i);
                i += 1;
            }
            b'}' | b']' => {
                if let Some(comma) = pending_comma.take() {
                    out[comma] = b' ';
                }
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                pending_comma = None;
                i += 1;
            }
        }
    }
    // Only whole characters (comments) were replaced, so this is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::strip;
    use serde_json::json;

    #[test]
    fn strips_comments_and_trailing_commas() {
        let text = "{\n  // a comment, with a comma,\n  \"url\": \"https://x.example/a//b\", /* block\n é */\n  \"a\": [1, 2,],\n  \"s\": \"/* not a comment */\",\n}\n";
        let plain = strip(text);
        assert_eq!(plain.len(), text.len());
        assert_eq!(plain.lines().count(), text.lines().count());
        let v: serde_json::Value = serde_json::from_str(&plain).unwrap();
        assert_eq!(
            v,
            json!({"url": "https://x.example/a//b", "a": [1, 2], "s": "/* not a comment */"})
        );
    }

    #[test]
    fn escaped_quotes_in_strings() {
        let v: serde_json::Value =
            serde_json::from_str(&strip(r#"{"a": "x\"//y", "b": "\\"} // c"#)).unwrap();
        assert_eq!(v, json!({"a": "x\"//y", "b": "\\"}));
    }

    #[test]
    fn comma_between_values_is_kept() {
        let v: serde_json::Value = serde_json::from_str(&strip("[1, /* c */ 2]")).unwrap();
        assert_eq!(v, json!([1, 2]));
    }
}
