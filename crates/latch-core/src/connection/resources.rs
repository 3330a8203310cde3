//! A server's resources on a [`Connection`]: listing them and their templates (every page,
//! bounded) and reading one (text or a base64 blob, with its mime type). Both eras go through
//! rmcp's `Peer` (`resources/list`, `resources/templates/list`, `resources/read`); a 2026
//! server that needs input before it answers a read gets it the way a tool call does
//! ([`super::input_required`]). A URI the server does not know (-32602 on the 2026 wire,
//! -32002 before) is said in words naming the URI.
//!
//!
//! Following a resource's updates: on the 2025 wire `resources/subscribe` (the updates come on
//! the session's stream, to the handler); on the 2026 wire the URI joins the filter of the
//! connection's `subscriptions/listen` stream ([`super::era::listen`]). Either way each update
//! is published as [`crate::Event::ResourceUpdated`].

use std::{future::Future, time::Duration};

use rmcp::{
    RoleClient,
    model::{
        ErrorCode, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
        SubscribeRequestParams, UnsubscribeRequestParams,
    },
    service::{Peer, ServiceError},
};
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{
    CallError, Connection, LatchHandler,
    input_required::{self, Continuation, MAX_ROUNDS, Round},
};
use crate::tools::ResourceContents;

/// How long one page of a list, or one read, may take.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// At most this many pages, and this many items, are listed: a server that hands out cursors
/// forever gets an error, not an endless loop.
const MAX_PAGES: usize = 1_000;
const MAX_ITEMS: usize = 100_000;

/// One resource the server lists.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ResourceView {
    pub uri: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    /// The size in bytes, when the server says.
    #[ts(type = "number | null")]
    pub size: Option<u64>,
}

/// One resource template (RFC 6570 URI template) the server lists.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ResourceTemplateView {
    pub uri_template: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
}

/// What reading a resource gave: one or more contents, each text or a base64 blob.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ResourceRead {
    pub contents: Vec<ResourceContents>,
}

/// Why resources could not be listed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    #[error(
        "{server} has no resource {uri} (it said: {said}) — run `latch resources {server}` to see its resources"
    )]
    NotFound {
        server: String,
        uri: String,
        said: String,
    },
    #[error("{server} does not announce updates of its resources, so {uri} cannot be followed")]
    NoUpdates { server: String, uri: String },
    #[error(transparent)]
    Call(#[from] CallError),
}

/// `text` of a string field of `wire`.
pub(super) fn text(wire: &Value, key: &str) -> Option<String> {
    wire.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Every page of a list (`page` fetches one, given the cursor), each within
/// [`REQUEST_TIMEOUT`], bounded in pages and items. `what`: " while listing resources".
pub(super) async fn all_pages<T, F, Fut>(what: &'static str, page: F) -> Result<Vec<T>, CallError>
where
    F: Fn(Option<PaginatedRequestParams>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), ServiceError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let params = PaginatedRequestParams::default().with_cursor(cursor);
        // Dropping the request on timeout cancels it (rmcp tells the server).
        let (page, next) = tokio::time::timeout(REQUEST_TIMEOUT, page(Some(params)))
            .await
            .map_err(|_| CallError::TimedOut {
                seconds: REQUEST_TIMEOUT.as_secs(),
            })?
            .map_err(|e| CallError::from_service(e, what))?;
        items.extend(page);
        if items.len() > MAX_ITEMS {
            return Err(CallError::Disconnected {
                while_: what,
                reason: format!("the server lists more than {MAX_ITEMS} items"),
            });
        }
        cursor = next;
        if cursor.is_none() {
            return Ok(items);
        }
    }
    Err(CallError::Disconnected {
        while_: what,
        reason: format!("the server's list goes on for more than {MAX_PAGES} pages"),
    })
}

impl ResourceView {
    fn from_wire(wire: &Value) -> Self {
        Self {
            uri: text(wire, "uri").unwrap_or_default(),
            name: text(wire, "name").unwrap_or_default(),
            title: text(wire, "title"),
            description: text(wire, "description"),
            mime_type: text(wire, "mimeType"),
            size: wire.get("size").and_then(Value::as_u64),
        }
    }
}

impl ResourceTemplateView {
    fn from_wire(wire: &Value) -> Self {
        Self {
            uri_template: text(wire, "uriTemplate").unwrap_or_default(),
            name: text(wire, "name").unwrap_or_default(),
            title: text(wire, "title"),
            description: text(wire, "description"),
            mime_type: text(wire, "mimeType"),
        }
    }
}

impl ResourceRead {
    /// From a `resources/read` result as rmcp parsed it.
    fn from_rmcp(result: rmcp::model::ReadResourceResult) -> Self {
        let wire = serde_json::to_value(result).unwrap_or_default();
        let contents = match wire.get("contents") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| ResourceContents {
                    uri: text(item, "uri").unwrap_or_default(),
                    mime_type: text(item, "mimeType"),
                    text: text(item, "text"),
                    blob: text(item, "blob"),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self { contents }
    }
}

/// `message` without the "MCP error -32602: " the TypeScript SDK puts before its words.
fn without_error_code(message: &str) -> &str {
    message
        .strip_prefix("MCP error ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(code, _)| code.parse::<i32>().is_ok())
        .map_or(message, |(_, words)| words)
}

/// An answer of a kind this version of Latch does not know.
pub(super) fn unknown_answer(while_: &'static str) -> CallError {
    CallError::Disconnected {
        while_,
        reason: "the server answered with a kind of result Latch does not know".to_owned(),
    }
}

/// One page of a list: its items as sent, and the cursor of the next.
type Page = (Vec<Value>, Option<String>);

/// Each item of a page, as sent on the wire (rmcp's types are not Latch's to show).
fn wire_items<T: Serialize>(items: Vec<T>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

/// One page of the list, each item as sent.
async fn resources_page(
    peer: &Peer<RoleClient>,
    params: Option<PaginatedRequestParams>,
) -> Result<Page, ServiceError> {
    let page = peer.list_resources(params).await?;
    Ok((wire_items(page.resources), page.next_cursor))
}

/// One page of the list, each item as sent.
async fn templates_page(
    peer: &Peer<RoleClient>,
    params: Option<PaginatedRequestParams>,
) -> Result<Page, ServiceError> {
    let page = peer.list_resource_templates(params).await?;
    Ok((wire_items(page.resource_templates), page.next_cursor))
}

impl Connection {
    /// Whether the server says it has resources (`capabilities.resources`).
    pub fn offers_resources(&self) -> bool {
        self.peer_info()
            .is_some_and(|info| info.capabilities.resources.is_some())
    }

    /// Every resource the server lists (all pages); none when it offers no resources.
    pub async fn list_resources(&self) -> Result<Vec<ResourceView>, CallError> {
        if !self.offers_resources() {
            return Ok(Vec::new());
        }
        let list = || {
            all_pages(" while listing resources", |p| {
                resources_page(self.peer(), p)
            })
        };
        let items = self.signing_in_when_asked(list).await?;
        Ok(items.iter().map(ResourceView::from_wire).collect())
    }

    /// Every resource template the server lists (all pages); none when it offers no resources.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplateView>, CallError> {
        if !self.offers_resources() {
            return Ok(Vec::new());
        }
        let list = || {
            all_pages(" while listing resource templates", |p| {
                templates_page(self.peer(), p)
            })
        };
        let items = match self.signing_in_when_asked(list).await {
            Ok(items) => items,
            // Servers with resources but no templates may not know the method (the TypeScript
            // SDK's low-level `Server` by default): that is no templates, not a failure.
            Err(CallError::Server { code: -32601, .. }) => Vec::new(),
            Err(error) => return Err(error),
        };
        Ok(items.iter().map(ResourceTemplateView::from_wire).collect())
    }

    /// Whether the server announces updates of the resources it is asked to follow
    /// (`capabilities.resources.subscribe`).
    pub fn offers_resource_updates(&self) -> bool {
        self.peer_info().is_some_and(|info| {
            info.capabilities
                .resources
                .as_ref()
                .is_some_and(|r| r.subscribe == Some(true))
        })
    }

    /// Follow the resource `uri`: each update the server announces is published as
    /// [`crate::Event::ResourceUpdated`] until [`Connection::unsubscribe_resource`] or the
    /// connection closes. Following it twice is following it once.
    pub async fn subscribe_resource(&self, uri: &str) -> Result<(), ResourceError> {
        if !self.offers_resource_updates() {
            return Err(ResourceError::NoUpdates {
                server: self.server().to_owned(),
                uri: uri.to_owned(),
            });
        }
        if self.speaks_2026() {
            if self.followed.add(uri) {
                super::era::listen::spawn(
                    self.peer().clone(),
                    self.shared.clone(),
                    self.background.clone(),
                    self.followed.clone(),
                );
            }
            return Ok(());
        }
        if self.followed.contains(uri) {
            return Ok(());
        }
        #[allow(deprecated)] // legacy-only, and this is the legacy wire
        let request = || async {
            tokio::time::timeout(
                REQUEST_TIMEOUT,
                self.peer().subscribe(SubscribeRequestParams::new(uri)),
            )
            .await
            .map_err(|_| CallError::TimedOut {
                seconds: REQUEST_TIMEOUT.as_secs(),
            })?
            .map_err(|e| CallError::from_service(e, " while following a resource"))
        };
        match self.signing_in_when_asked(request).await {
            Ok(()) => {
                self.followed.add(uri);
                Ok(())
            }
            Err(error) => Err(self.not_found(uri, error)),
        }
    }

    /// Stop following the resource `uri` (nothing happens when it was not followed).
    pub async fn unsubscribe_resource(&self, uri: &str) -> Result<(), ResourceError> {
        if !self.followed.remove(uri) || self.speaks_2026() {
            return Ok(());
        }
        #[allow(deprecated)] // legacy-only, and this is the legacy wire
        let request = || async {
            tokio::time::timeout(
                REQUEST_TIMEOUT,
                self.peer().unsubscribe(UnsubscribeRequestParams::new(uri)),
            )
            .await
            .map_err(|_| CallError::TimedOut {
                seconds: REQUEST_TIMEOUT.as_secs(),
            })?
            .map_err(|e| CallError::from_service(e, " while leaving a resource"))
        };
        self.signing_in_when_asked(request)
            .await
            .map_err(|error| self.not_found(uri, error))
    }

    /// Whether this connection is on the 2026 stateless wire.
    fn speaks_2026(&self) -> bool {
        self.peer_info().is_some_and(|info| {
            super::era::Era::of(&info.protocol_version) == super::era::Era::Modern
        })
    }

    /// A server's "no such resource" said in words naming `uri`; other errors as they are.
    fn not_found(&self, uri: &str, error: CallError) -> ResourceError {
        match error {
            CallError::Server { code, message }
                if code == ErrorCode::INVALID_PARAMS.0
                    || code == ErrorCode::RESOURCE_NOT_FOUND.0 =>
            {
                ResourceError::NotFound {
                    server: self.server().to_owned(),
                    uri: uri.to_owned(),
                    said: without_error_code(&message).to_owned(),
                }
            }
            error => error.into(),
        }
    }

    /// Read the resource `uri`. `cancel` stops it (and any questions the server asks first).
    pub async fn read_resource(
        &self,
        uri: &str,
        cancel: &CancellationToken,
    ) -> Result<ResourceRead, ResourceError> {
        let handler = LatchHandler {
            shared: self.shared.clone(),
        };
        let read = input_required::drive(&handler, cancel, MAX_ROUNDS, |next| async move {
            self.signing_in_when_asked(|| self.read_round(uri, next.clone()))
                .await
        })
        .await;
        read.map_err(|error| self.not_found(uri, error))
    }

    /// One `resources/read` request (one round, on the 2026 wire).
    async fn read_round(
        &self,
        uri: &str,
        next: Continuation,
    ) -> Result<Round<ResourceRead>, CallError> {
        let mut params = ReadResourceRequestParams::new(uri);
        params.input_responses = next.input_responses;
        params.request_state = next.request_state;
        let response =
            tokio::time::timeout(REQUEST_TIMEOUT, self.peer().read_resource_once(params))
                .await
                .map_err(|_| CallError::TimedOut {
                    seconds: REQUEST_TIMEOUT.as_secs(),
                })?
                .map_err(|e| CallError::from_service(e, " while reading a resource"))?;
        Ok(match response {
            ReadResourceResponse::Complete(result) => {
                Round::Complete(ResourceRead::from_rmcp(result))
            }
            ReadResourceResponse::InputRequired(asked) => Round::InputRequired(asked),
            _ => return Err(unknown_answer(" while reading a resource")),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resources_and_templates_map_from_the_wire() {
        let resource = ResourceView::from_wire(&json!({
            "uri": "demo://a", "name": "a", "mimeType": "text/plain", "size": 12, "extra": true
        }));
        assert_eq!(resource.uri, "demo://a");
        assert_eq!(resource.mime_type.as_deref(), Some("text/plain"));
        assert_eq!(resource.size, Some(12));
        assert_eq!(resource.title, None);
        let template = ResourceTemplateView::from_wire(&json!({
            "uriTemplate": "demo://t/{id}", "name": "t", "description": "d"
        }));
        assert_eq!(template.uri_template, "demo://t/{id}");
        assert_eq!(template.description.as_deref(), Some("d"));
    }

    #[test]
    fn the_sdks_error_code_prefix_is_dropped() {
        assert_eq!(
            without_error_code("MCP error -32602: Resource demo://x not found"),
            "Resource demo://x not found"
        );
        assert_eq!(without_error_code("not found: x"), "not found: x");
    }

    #[test]
    fn a_read_keeps_text_and_blob_apart() {
        let result: rmcp::model::ReadResourceResult = serde_json::from_value(json!({
            "contents": [
                {"uri": "demo://t", "mimeType": "text/plain", "text": "hello"},
                {"uri": "demo://b", "mimeType": "image/png", "blob": "iVBORw0KGgo="}
            ]
        }))
        .unwrap();
        let read = ResourceRead::from_rmcp(result);
        assert_eq!(read.contents.len(), 2);
        assert_eq!(read.contents[0].text.as_deref(), Some("hello"));
        assert_eq!(read.contents[0].blob, None);
        assert_eq!(read.contents[1].blob.as_deref(), Some("iVBORw0KGgo="));
        assert_eq!(read.contents[1].mime_type.as_deref(), Some("image/png"));
    }
}
