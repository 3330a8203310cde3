//! Completion (`completion/complete`) on a [`Connection`]: the values a server suggests for
//! one argument of a prompt or of a resource template, given what was typed so far and the
//! values already chosen for the other arguments (so a server can narrow one by another).
//! Both eras go through rmcp's `Peer::complete`.

use std::collections::{BTreeMap, HashMap};

use rmcp::model::{ArgumentInfo, CompleteRequestParams, CompletionContext, Reference};
use serde::Serialize;

use super::{CallError, Connection, resources::REQUEST_TIMEOUT};

/// What an argument to complete belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionTarget {
    /// A prompt, by name.
    Prompt(String),
    /// A resource template, by its URI template.
    Template(String),
}

/// The values the server suggests.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Completion {
    /// At most 100, best first.
    pub values: Vec<String>,
    /// How many there are in all, when the server says.
    pub total: Option<u32>,
    /// More values exist than were sent.
    pub has_more: bool,
}

impl Connection {
    /// Whether the server says it completes arguments (`capabilities.completions`).
    pub fn offers_completions(&self) -> bool {
        self.peer_info()
            .is_some_and(|info| info.capabilities.completions.is_some())
    }

    /// The server's suggestions for `argument` of `target`, starting from `prefix`;
    /// `context`: the values chosen for the other arguments.
    pub async fn complete(
        &self,
        target: &CompletionTarget,
        argument: &str,
        prefix: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<Completion, CallError> {
        let reference = match target {
            CompletionTarget::Prompt(name) => Reference::for_prompt(name.clone()),
            CompletionTarget::Template(uri) => Reference::for_resource(uri.clone()),
        };
        let mut params = CompleteRequestParams::new(reference, ArgumentInfo::new(argument, prefix));
        if !context.is_empty() {
            let values: HashMap<String, String> = context.clone().into_iter().collect();
            params.context = Some(CompletionContext::with_arguments(values));
        }
        let request = || async {
            tokio::time::timeout(REQUEST_TIMEOUT, self.peer().complete(params.clone()))
                .await
                .map_err(|_| CallError::TimedOut {
                    seconds: REQUEST_TIMEOUT.as_secs(),
                })?
                .map_err(|e| CallError::from_service(e, " while asking for completions"))
        };
        let result = self.signing_in_when_asked(request).await?;
        let info = result.completion;
        Ok(Completion {
            has_more: info.has_more.unwrap_or(false),
            total: info.total,
            values: info.values,
        })
    }
}
