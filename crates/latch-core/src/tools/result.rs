//! The result of a tool call as Latch models it: every content type MCP defines (text, image,
//! audio, embedded resource, resource link), structured content, and `isError`. Built from
//! the wire form so a newer server's extra fields never break it.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a tool call returned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ToolResult {
    pub content: Vec<ContentView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// The tool itself reported a failure (as opposed to a protocol error).
    pub is_error: bool,
}

/// One block of a tool's output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(tag = "type", rename_all = "camelCase")]
#[ts(export)]
pub enum ContentView {
    Text {
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    Image {
        /// Base64, as sent.
        data: String,
        mime_type: String,
    },
    #[serde(rename_all = "camelCase")]
    Audio {
        data: String,
        mime_type: String,
    },
    /// An embedded resource.
    Resource {
        resource: ResourceContents,
    },
    #[serde(rename_all = "camelCase")]
    ResourceLink {
        uri: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
    },
    /// A content type this version of Latch does not know, kept as sent.
    Unknown {
        raw: Value,
    },
}

/// The contents of an embedded resource: text or a base64 blob.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ResourceContents {
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

impl ContentView {
    /// One block as sent; a block of an unknown type, or one that does not parse, is kept as
    /// [`ContentView::Unknown`]. Takes the block by value: a large one (an image, a blob) is
    /// moved, never copied.
    fn from_wire(mut block: Value) -> Self {
        let link = match block.get("type").and_then(Value::as_str) {
            Some("text" | "image" | "audio" | "resource") => false,
            Some("resource_link") => true,
            _ => return Self::Unknown { raw: block },
        };
        // Our tag is camelCase; the wire's is snake_case for links.
        if link && let Some(obj) = block.as_object_mut() {
            obj.insert("type".into(), "resourceLink".into());
        }
        match Self::deserialize(&block) {
            Ok(parsed) => parsed,
            Err(_) => {
                if link && let Some(obj) = block.as_object_mut() {
                    obj.insert("type".into(), "resource_link".into());
                }
                Self::Unknown { raw: block }
            }
        }
    }

    /// The decoded bytes of an image, audio clip or blob resource.
    pub fn decoded_bytes(&self) -> Option<Result<Vec<u8>, base64::DecodeError>> {
        let data = match self {
            Self::Image { data, .. } | Self::Audio { data, .. } => data,
            Self::Resource {
                resource:
                    ResourceContents {
                        blob: Some(blob), ..
                    },
            } => blob,
            _ => return None,
        };
        Some(base64::engine::general_purpose::STANDARD.decode(data.trim()))
    }
}

impl ToolResult {
    pub(crate) fn from_rmcp(result: rmcp::model::CallToolResult) -> Self {
        let wire = serde_json::to_value(result).unwrap_or_default();
        Self::from_wire_value(wire)
    }

    /// Build from a `tools/call` result as sent on the wire.
    pub fn from_wire(wire: &Value) -> Self {
        Self::from_wire_value(wire.clone())
    }

    /// [`ToolResult::from_wire`], moving the content out of `wire` instead of copying it.
    fn from_wire_value(mut wire: Value) -> Self {
        let is_error = wire
            .get("isError")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(wire) = wire.as_object_mut() else {
            return Self {
                content: Vec::new(),
                structured_content: None,
                is_error,
            };
        };
        let content = match wire.remove("content") {
            Some(Value::Array(blocks)) => blocks.into_iter().map(ContentView::from_wire).collect(),
            _ => Vec::new(),
        };
        Self {
            content,
            structured_content: wire.remove("structuredContent"),
            is_error,
        }
    }

    /// All text blocks joined by newlines.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|c| match c {
                ContentView::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_content_type_maps() {
        let result = ToolResult::from_wire(&json!({
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
                {"type": "resource", "resource": {"uri": "test://a", "text": "body", "mimeType": "text/plain"}},
                {"type": "resource_link", "uri": "test://b", "name": "b"},
                {"type": "hologram", "x": 1}
            ],
            "structuredContent": {"sum": 5},
            "isError": true
        }));
        assert!(result.is_error);
        assert_eq!(result.structured_content, Some(json!({"sum": 5})));
        assert_eq!(result.text(), "hi");
        assert!(
            matches!(&result.content[1], ContentView::Image { mime_type, .. } if mime_type == "image/png")
        );
        assert_eq!(
            result.content[1].decoded_bytes().unwrap().unwrap(),
            b"\x89PNG\r\n\x1a\n"
        );
        assert!(matches!(&result.content[2], ContentView::Audio { .. }));
        assert!(
            matches!(&result.content[3], ContentView::Resource { resource } if resource.text.as_deref() == Some("body"))
        );
        assert!(
            matches!(&result.content[4], ContentView::ResourceLink { uri, .. } if uri == "test://b")
        );
        assert!(matches!(&result.content[5], ContentView::Unknown { .. }));
    }

    #[test]
    fn a_block_that_does_not_parse_is_kept_as_sent() {
        let link = json!({"type": "resource_link", "name": "no uri"});
        let text = json!({"type": "text", "text": 5});
        let result = ToolResult::from_wire(&json!({"content": [link, text]}));
        assert_eq!(
            result.content,
            vec![
                ContentView::Unknown { raw: link },
                ContentView::Unknown { raw: text }
            ]
        );
        assert!(!result.is_error);
        assert_eq!(result.structured_content, None);
    }
}
