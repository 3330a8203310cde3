//! Resources, prompts and completions from the app: the server's resources and templates,
//! reading one (and saving it to a file), following a resource's updates, its prompts and
//! getting one, and the values a server suggests for an argument as the person types. Each
//! uses the app's live connection the way the tools do (connecting on demand, a lost
//! connection dropped, a 401 marking the server as needing a sign-in), and says what went
//! wrong in words naming the server and the URI or prompt.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::{AppError, Latch, Result};
use crate::connection::{
    Completion, CompletionTarget, PromptError, PromptResult, PromptView, ResourceError,
    ResourceRead, ResourceTemplateView, ResourceView,
};

/// A server's resources and resource templates (both empty when it offers none).
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ResourceListView {
    pub resources: Vec<ResourceView>,
    pub templates: Vec<ResourceTemplateView>,
}

/// What an argument to complete belongs to, as the UI names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum CompletionTargetInput {
    /// An argument of the prompt `name`.
    Prompt { name: String },
    /// A variable of the resource template `uri` (the URI template as listed).
    Template { uri: String },
}

impl From<CompletionTargetInput> for CompletionTarget {
    fn from(input: CompletionTargetInput) -> Self {
        match input {
            CompletionTargetInput::Prompt { name } => CompletionTarget::Prompt(name),
            CompletionTargetInput::Template { uri } => CompletionTarget::Template(uri),
        }
    }
}

impl Latch {
    /// The server's resources and templates (connecting first when needed).
    pub async fn list_resources(&self, name: &str) -> Result<ResourceListView> {
        let connection = self.connection(name).await?;
        let resources = match connection.list_resources().await {
            Ok(resources) => resources,
            Err(error) => return Err(self.call_failed(name, &error).await),
        };
        let templates = match connection.list_resource_templates().await {
            Ok(templates) => templates,
            Err(error) => return Err(self.call_failed(name, &error).await),
        };
        Ok(ResourceListView {
            resources,
            templates,
        })
    }

    /// Read the resource `uri`.
    pub async fn read_resource(&self, name: &str, uri: &str) -> Result<ResourceRead> {
        let connection = self.connection(name).await?;
        let read = connection
            .read_resource(uri, &CancellationToken::new())
            .await;
        drop(connection);
        match read {
            Ok(read) => Ok(read),
            Err(error) => Err(self.resource_failed(name, uri, error).await),
        }
    }

    /// Read the resource `uri` and write it to the file `path` (a blob decoded, text as
    /// UTF-8); returns how many bytes were written.
    pub async fn save_resource(&self, name: &str, uri: &str, path: &str) -> Result<u64> {
        let read = self.read_resource(name, uri).await?;
        let bytes = contents_bytes(&read, uri)
            .map_err(|reason| AppError::new("save", format!("Could not save {uri}: {reason}.")))?;
        let target = std::path::PathBuf::from(path);
        let len = bytes.len() as u64;
        tokio::fs::write(&target, bytes).await.map_err(|e| {
            AppError::new(
                "save",
                format!("Could not write {uri} to {}: {e}.", target.display()),
            )
        })?;
        Ok(len)
    }

    /// Follow the resource `uri`: each change the server announces reaches the UI as
    /// [`super::AppEvent::ResourceUpdated`].
    pub async fn subscribe_resource(&self, name: &str, uri: &str) -> Result<()> {
        let connection = self.connection(name).await?;
        let done = connection.subscribe_resource(uri).await;
        drop(connection);
        match done {
            Ok(()) => Ok(()),
            Err(error) => Err(self.resource_failed(name, uri, error).await),
        }
    }

    /// Stop following the resource `uri`.
    pub async fn unsubscribe_resource(&self, name: &str, uri: &str) -> Result<()> {
        // Nothing to stop when there is no live connection: its subscriptions went with it.
        let Some(connection) = self.live_connection(name) else {
            return Ok(());
        };
        let done = connection.unsubscribe_resource(uri).await;
        drop(connection);
        match done {
            Ok(()) => Ok(()),
            Err(error) => Err(self.resource_failed(name, uri, error).await),
        }
    }

    /// The server's prompts (connecting first when needed).
    pub async fn list_prompts(&self, name: &str) -> Result<Vec<PromptView>> {
        let connection = self.connection(name).await?;
        match connection.list_prompts().await {
            Ok(prompts) => Ok(prompts),
            Err(error) => Err(self.call_failed(name, &error).await),
        }
    }

    /// Get the prompt `prompt` with `arguments`.
    pub async fn get_prompt(
        &self,
        name: &str,
        prompt: &str,
        arguments: BTreeMap<String, String>,
    ) -> Result<PromptResult> {
        let connection = self.connection(name).await?;
        let got = connection
            .get_prompt(prompt, &arguments, &CancellationToken::new())
            .await;
        drop(connection);
        match got {
            Ok(result) => Ok(result),
            Err(PromptError::UnknownPrompt { server, prompt }) => Err(AppError::new(
                "notFound",
                format!("{server} has no prompt “{prompt}”."),
            )),
            Err(PromptError::Call(error)) => Err(self.call_failed(name, &error).await),
        }
    }

    /// The values the server suggests for `argument` of `target`, given `prefix` typed so far
    /// and `context`, the values of the other arguments. None when the server does not
    /// complete arguments.
    pub async fn complete(
        &self,
        name: &str,
        target: CompletionTargetInput,
        argument: &str,
        prefix: &str,
        context: BTreeMap<String, String>,
    ) -> Result<Completion> {
        let connection = self.connection(name).await?;
        if !connection.offers_completions() {
            return Ok(Completion {
                values: Vec::new(),
                total: None,
                has_more: false,
            });
        }
        let target = CompletionTarget::from(target);
        let done = connection
            .complete(&target, argument, prefix, &context)
            .await;
        drop(connection);
        match done {
            Ok(completion) => Ok(completion),
            Err(error) => Err(self.call_failed(name, &error).await),
        }
    }

    /// A resource error as the person sees it.
    async fn resource_failed(&self, name: &str, uri: &str, error: ResourceError) -> AppError {
        match error {
            ResourceError::NotFound { server, said, .. } => AppError::new(
                "notFound",
                format!("{server} has no resource {uri} (it said: {said})."),
            ),
            ResourceError::Call(error) => self.call_failed(name, &error).await,
            error => AppError::new("call", error),
        }
    }
}

/// The bytes of the content of `read` for `uri` (the first content when none names it).
fn contents_bytes(read: &ResourceRead, uri: &str) -> std::result::Result<Vec<u8>, String> {
    let content = read
        .contents
        .iter()
        .find(|c| c.uri == uri)
        .or_else(|| read.contents.first())
        .ok_or_else(|| "the server sent no contents".to_owned())?;
    if let Some(blob) = &content.blob {
        return base64::engine::general_purpose::STANDARD
            .decode(blob.trim())
            .map_err(|_| "the server sent a blob that is not valid base64".to_owned());
    }
    Ok(content.text.clone().unwrap_or_default().into_bytes())
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
