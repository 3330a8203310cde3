//! `latch prompts NAME` (the server's prompts and their arguments) and
//! `latch prompt NAME PROMPT [KEY=VALUE]…` (one prompt's messages: each role, then its text;
//! images, audio and resources summarised in a line; `--json` the whole result).

use std::{collections::BTreeMap, process::ExitCode};

use anyhow::bail;
use clap::Args;
use latch_core::ContentView;
use tokio_util::sync::CancellationToken;

use crate::output;

#[derive(Debug, Args)]
pub struct PromptsArgs {
    /// The server's name (see `latch servers list`).
    pub name: String,
    /// Use this account's sign-in (see `latch login NAME --account LABEL`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// The server's name.
    pub name: String,
    /// The prompt's name (see `latch prompts NAME`).
    pub prompt: String,
    /// The prompt's arguments, `KEY=VALUE` (values are text).
    #[arg(value_name = "KEY=VALUE")]
    pub pairs: Vec<String>,
    /// Use this account's sign-in (see `latch login NAME --account LABEL`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
}

/// `KEY=VALUE` words as a map; `what` names them in errors (e.g. "a prompt argument").
pub fn pairs(words: &[String], what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            bail!("{what} must be KEY=VALUE, not `{word}`");
        };
        if key.is_empty() {
            bail!("{what} must be KEY=VALUE, and `{word}` has no KEY");
        }
        map.insert(key.to_owned(), value.to_owned());
    }
    Ok(map)
}

pub async fn list(args: PromptsArgs, json: bool) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    let connection = super::connect(name, args.account.as_deref()).await?;
    let prompts = connection.list_prompts().await;
    let offers = connection.offers_prompts();
    connection.close().await;
    let prompts = prompts?;
    if json {
        output::json(&prompts)?;
    } else if prompts.is_empty() {
        if offers {
            println!("{name} lists no prompts.");
        } else {
            println!("{name} offers no prompts.");
        }
    } else {
        let rows: Vec<Vec<String>> = prompts
            .iter()
            .map(|p| {
                let arguments = p
                    .arguments
                    .iter()
                    .map(|a| {
                        if a.required {
                            a.name.clone()
                        } else {
                            format!("[{}]", a.name)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                vec![
                    p.name.clone(),
                    arguments,
                    output::one_line(
                        p.description
                            .as_deref()
                            .or(p.title.as_deref())
                            .unwrap_or_default(),
                        80,
                    ),
                ]
            })
            .collect();
        output::table(&["PROMPT", "ARGUMENTS", "DESCRIPTION"], &rows);
        println!(
            "\n{} prompts ([optional] arguments). Get one with `latch prompt {name} PROMPT KEY=VALUE…`.",
            prompts.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn get(args: PromptArgs, json: bool, no_input: bool) -> anyhow::Result<ExitCode> {
    let arguments = pairs(&args.pairs, "a prompt argument")?;
    let host = crate::ask::TerminalHost::new(no_input, &[])?;
    let connection = super::connect_with(&args.name, args.account.as_deref(), Some(host)).await?;
    let cancel = CancellationToken::new();
    let ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let result = connection
        .get_prompt(&args.prompt, &arguments, &cancel)
        .await;
    ctrl_c.abort();
    connection.close().await;
    let result = result?;
    if json {
        output::json(&result)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(description) = &result.description {
        println!("{description}\n");
    }
    for (i, message) in result.messages.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{}:", message.role);
        println!("{}", summary(&message.content));
    }
    Ok(ExitCode::SUCCESS)
}

/// A content block as text for a terminal: text as is, the rest in one bracketed line.
fn summary(content: &ContentView) -> String {
    let size = |c: &ContentView| match c.decoded_bytes() {
        Some(Ok(bytes)) => format!(", {} bytes", bytes.len()),
        _ => String::new(),
    };
    match content {
        ContentView::Text { text } => text.clone(),
        ContentView::Image { mime_type, .. } => format!("[image, {mime_type}{}]", size(content)),
        ContentView::Audio { mime_type, .. } => format!("[audio, {mime_type}{}]", size(content)),
        ContentView::Resource { resource } => match &resource.text {
            Some(text) => format!("[resource {}]\n{text}", resource.uri),
            None => format!(
                "[resource {}, {}{}]",
                resource.uri,
                resource
                    .mime_type
                    .as_deref()
                    .unwrap_or("application/octet-stream"),
                size(content)
            ),
        },
        ContentView::ResourceLink { uri, .. } => {
            format!("[link to resource {uri} — `latch read` it]")
        }
        ContentView::Unknown { raw } => format!(
            "[content of type {} that Latch does not show; --json has it]",
            raw.get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("unknown")
        ),
    }
}
