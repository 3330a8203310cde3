//! `latch call NAME TOOL [KEY=VALUE]…`: build the arguments (typed by the tool's schema),
//! call the tool with a progress bar, cancel on Ctrl-C, print the result — text as text,
//! images and audio saved to files whose paths are printed. What the server asks for
//! mid-call is asked at the terminal ([`crate::ask`]). A tool only the server's app may call
//! (MCP Apps, `visibility: ["app"]`) is refused in one line, as the bridge refuses it to agents:
//! a host calls such a tool only for the app.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use latch_core::{
    CallOptions, ContentView, ToolResult,
    tools::{Progress, coerce},
};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::output;

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The server's name.
    pub name: String,
    /// The tool to call.
    pub tool: String,
    /// Arguments: `KEY=VALUE` (typed by the tool's schema), `KEY:=JSON`, `a.b=1` for nested objects.
    #[arg(value_name = "KEY=VALUE")]
    pub pairs: Vec<String>,
    /// All arguments as one JSON object (KEY=VALUE words are applied on top).
    #[arg(long, value_name = "JSON")]
    pub args: Option<String>,
    /// Give up after this many seconds without an answer or progress.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// Send the arguments without checking them against the tool's schema first.
    #[arg(long)]
    pub no_validate: bool,
    /// Where to save images, audio and binary resources (default: the system's temp folder).
    #[arg(long, value_name = "DIR")]
    pub save_dir: Option<PathBuf>,
    /// Use this account's sign-in (see `latch login NAME --account LABEL`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
    /// Offer this folder to the server when it asks which folders you work in (roots);
    /// repeat for several. By default the folders saved for the server in the app (its
    /// entry's `roots`), else none.
    #[arg(long = "root", value_name = "PATH")]
    pub roots: Vec<PathBuf>,
}

pub async fn run(args: CallArgs, json: bool, no_input: bool) -> anyhow::Result<ExitCode> {
    if args.timeout == 0 {
        bail!("--timeout must be at least 1 second");
    }
    let mut arguments: Map<String, Value> = match &args.args {
        Some(text) => match serde_json::from_str(text).context("--args is not valid JSON")? {
            Value::Object(map) => map,
            _ => bail!("--args must be a JSON object, like '{{\"a\": 2}}'"),
        },
        None => Map::new(),
    };
    let roots = if args.roots.is_empty() {
        crate::ask::saved_roots(&args.name)
    } else {
        args.roots.clone()
    };
    let host = crate::ask::TerminalHost::new(no_input, &roots)?;
    let connection =
        super::connect_with(&args.name, args.account.as_deref(), Some(host.clone())).await?;
    let outcome = async {
        // The call needs the list anyway (for the schema); listed now, it is not listed again.
        let tools = connection.list_tools().await?;
        let tool = tools.iter().find(|t| t.name == args.tool);
        if let Some(tool) = tool.filter(|t| !t.is_listed()) {
            bail!("{}", tool.app_only_refusal(&args.name, "latch call"));
        }
        if !args.pairs.is_empty() {
            let schema = tool.map(|t| t.input_schema.clone()).unwrap_or(Value::Null);
            arguments.extend(coerce::arguments(&schema, &args.pairs)?);
        }
        call_with_progress(&connection, &host, &args, arguments, json).await
    }
    .await;
    connection.close().await;
    let result = outcome?;
    if json {
        output::json(&result)?;
    } else {
        print_result(&result, &args)?;
    }
    Ok(if result.is_error {
        if !json {
            eprintln!("latch: {} reported an error", args.tool);
        }
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn call_with_progress(
    connection: &latch_core::Connection,
    host: &crate::ask::TerminalHost,
    args: &CallArgs,
    arguments: Map<String, Value>,
    json: bool,
) -> anyhow::Result<ToolResult> {
    let cancel = CancellationToken::new();
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<Progress>();
    let options = CallOptions {
        timeout: Duration::from_secs(args.timeout),
        cancel: cancel.clone(),
        progress: Some(progress_tx),
        validate: !args.no_validate,
    };
    // Ctrl-C cancels the call (the server is told); a second Ctrl-C is left to the OS.
    let ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let bar = (!json).then(|| {
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        host.hide_while_asking(&bar);
        bar
    });
    let call = connection.call_tool(&args.tool, arguments, options);
    tokio::pin!(call);
    let result = loop {
        tokio::select! {
            result = &mut call => break result,
            Some(p) = progress_rx.recv() => {
                if let Some(bar) = &bar {
                    if bar.is_hidden() {
                        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                        if p.task.is_some() {
                            // A task says its status, not how far it is: no bar, no count.
                            bar.set_style(
                                ProgressStyle::with_template("{spinner} {msg}")
                                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                            );
                        }
                    }
                    bar.set_length(p.total.unwrap_or(0.0).max(p.progress).round() as u64);
                    bar.set_position(p.progress.round() as u64);
                    if let Some(message) = p.words() { bar.set_message(message); }
                }
            }
        }
    };
    ctrl_c.abort();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(result?)
}

fn print_result(result: &ToolResult, args: &CallArgs) -> anyhow::Result<()> {
    let dir = args.save_dir.clone().unwrap_or_else(std::env::temp_dir);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut saved = 0;
    let mut save = |bytes: Vec<u8>, mime: &str| -> anyhow::Result<PathBuf> {
        saved += 1;
        let safe_tool: String = args
            .tool
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!(
            "latch-{safe_tool}-{stamp}-{saved}.{}",
            extension(mime)
        ));
        std::fs::write(&path, bytes)
            .with_context(|| format!("could not save to {}", path.display()))?;
        Ok(path)
    };
    for block in &result.content {
        match block {
            ContentView::Text { text } => println!("{text}"),
            ContentView::Image { mime_type, .. } | ContentView::Audio { mime_type, .. } => {
                let bytes = block
                    .decoded_bytes()
                    .unwrap_or(Ok(Vec::new()))
                    .context("the server sent data that is not valid base64")?;
                let size = bytes.len();
                let path = save(bytes, mime_type)?;
                println!("[{mime_type}, {size} bytes] saved to {}", path.display());
            }
            ContentView::Resource { resource } => {
                if let Some(text) = &resource.text {
                    println!("[resource {}]\n{text}", resource.uri);
                } else if let Some(Ok(bytes)) = block.decoded_bytes() {
                    let mime = resource
                        .mime_type
                        .as_deref()
                        .unwrap_or("application/octet-stream");
                    let size = bytes.len();
                    let path = save(bytes, mime)?;
                    println!(
                        "[resource {}, {mime}, {size} bytes] saved to {}",
                        resource.uri,
                        path.display()
                    );
                } else {
                    println!("[resource {}]", resource.uri);
                }
            }
            ContentView::ResourceLink {
                uri,
                name,
                description,
                ..
            } => {
                let label = name.as_deref().unwrap_or(uri);
                match description {
                    Some(d) => println!("[link] {label} <{uri}> — {d}"),
                    None => println!("[link] {label} <{uri}>"),
                }
            }
            ContentView::Unknown { raw } => println!("[unknown content] {raw}"),
        }
    }
    if let Some(structured) = &result.structured_content {
        println!(
            "structured content:\n{}",
            serde_json::to_string_pretty(structured)?
        );
    }
    Ok(())
}

fn extension(mime: &str) -> &str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "audio/wav" | "audio/x-wav" => "wav",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "application/pdf" => "pdf",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => "bin",
    }
}
