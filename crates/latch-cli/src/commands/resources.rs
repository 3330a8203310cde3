//! `latch resources NAME` (the server's resources and resource templates) and
//! `latch read NAME URI` (one resource: text printed as is; binary contents named by mime type
//! and size, and written to a file only with `--output`, never to the terminal). With
//! `--watch`, `latch read` follows the resource and prints it again each time the server says
//! it changed, until Ctrl-C.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use base64::Engine;
use clap::Args;
use latch_core::{Event, connection::ResourceRead, tools::ResourceContents};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::output;

#[derive(Debug, Args)]
pub struct ResourcesArgs {
    /// The server's name (see `latch servers list`).
    pub name: String,
    /// Use this account's sign-in (see `latch login NAME --account LABEL`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The server's name.
    pub name: String,
    /// The resource's URI (see `latch resources NAME`; a template's URI with its values filled in).
    pub uri: String,
    /// Write the contents (binary or text) to this file instead of printing them.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Follow the resource: print it again each time the server says it changed (until Ctrl-C).
    #[arg(long, conflicts_with = "output")]
    pub watch: bool,
    /// Use this account's sign-in (see `latch login NAME --account LABEL`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
}

pub async fn list(args: ResourcesArgs, json: bool) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    let connection = super::connect(name, args.account.as_deref()).await?;
    let listed = async {
        let resources = connection.list_resources().await?;
        let templates = connection.list_resource_templates().await?;
        anyhow::Ok((resources, templates))
    }
    .await;
    let offers = connection.offers_resources();
    connection.close().await;
    let (resources, templates) = listed?;
    if json {
        output::json(&serde_json::json!({ "resources": resources, "templates": templates }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if !offers {
        println!("{name} offers no resources.");
        return Ok(ExitCode::SUCCESS);
    }
    if resources.is_empty() {
        println!("{name} lists no resources.");
    } else {
        let rows: Vec<Vec<String>> = resources
            .iter()
            .map(|r| {
                vec![
                    r.uri.clone(),
                    r.mime_type.clone().unwrap_or_default(),
                    output::one_line(
                        r.description
                            .as_deref()
                            .or(r.title.as_deref())
                            .unwrap_or(&r.name),
                        80,
                    ),
                ]
            })
            .collect();
        output::table(&["URI", "TYPE", "DESCRIPTION"], &rows);
    }
    if !templates.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = templates
            .iter()
            .map(|t| {
                vec![
                    t.uri_template.clone(),
                    t.mime_type.clone().unwrap_or_default(),
                    output::one_line(
                        t.description
                            .as_deref()
                            .or(t.title.as_deref())
                            .unwrap_or(&t.name),
                        80,
                    ),
                ]
            })
            .collect();
        output::table(&["TEMPLATE", "TYPE", "DESCRIPTION"], &rows);
    }
    println!(
        "\n{} resources, {} templates. Read one with `latch read {name} URI`.",
        resources.len(),
        templates.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn read(args: ReadArgs, json: bool, no_input: bool) -> anyhow::Result<ExitCode> {
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
    let read = connection.read_resource(&args.uri, &cancel).await;
    ctrl_c.abort();
    if args.watch {
        return watch(connection, &args, json, read?).await;
    }
    connection.close().await;
    let read = read?;
    if let Some(path) = &args.output {
        let mut bytes = Vec::new();
        for contents in &read.contents {
            bytes.extend(bytes_of(contents)?);
        }
        std::fs::write(path, &bytes)
            .with_context(|| format!("could not write {}", path.display()))?;
        if json {
            output::json(&serde_json::json!({
                "uri": args.uri, "savedTo": path, "size": bytes.len(),
                "mimeTypes": read.contents.iter().filter_map(|c| c.mime_type.clone()).collect::<Vec<_>>(),
            }))?;
        } else {
            eprintln!("{} bytes saved to {}", bytes.len(), path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if json {
        output::json(&read)?;
        return Ok(ExitCode::SUCCESS);
    }
    print_read(&args, &read)?;
    Ok(ExitCode::SUCCESS)
}

/// `latch read --watch`: print the resource, follow it, and print it again after each update
/// the server announces; Ctrl-C stops following it and ends with success. With `--json`, one
/// compact JSON line per read.
async fn watch(
    connection: latch_core::Connection,
    args: &ReadArgs,
    json: bool,
    first: ResourceRead,
) -> anyhow::Result<ExitCode> {
    let show = |read: &ResourceRead| -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string(read)?);
            Ok(())
        } else {
            print_read(args, read)
        }
    };
    let mut events = connection.events().subscribe();
    let followed = async {
        show(&first)?;
        connection.subscribe_resource(&args.uri).await?;
        eprintln!("Following {} on {}; Ctrl-C stops.", args.uri, args.name);
        loop {
            match events.recv().await {
                Ok(Event::ResourceUpdated { uri, .. }) if uri == args.uri => {}
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => {
                    bail!("the connection to {} closed", args.name)
                }
            }
            let read = connection
                .read_resource(&args.uri, &CancellationToken::new())
                .await?;
            if !json {
                eprintln!("— {} changed —", args.uri);
            }
            show(&read)?;
        }
    };
    let outcome = tokio::select! {
        outcome = followed => outcome,
        _ = tokio::signal::ctrl_c() => {
            let _ = connection.unsubscribe_resource(&args.uri).await;
            Ok(())
        }
    };
    connection.close().await;
    outcome?;
    Ok(ExitCode::SUCCESS)
}

/// A read as a person sees it: text as is, binary named by mime type and size.
fn print_read(args: &ReadArgs, read: &ResourceRead) -> anyhow::Result<()> {
    if read.contents.is_empty() {
        bail!("{} sent no contents for {}", args.name, args.uri);
    }
    let several = read.contents.len() > 1;
    for contents in &read.contents {
        if several {
            println!("[{}]", contents.uri);
        }
        match &contents.text {
            Some(text) => println!("{text}"),
            None => {
                let size = bytes_of(contents)?.len();
                let mime = contents
                    .mime_type
                    .as_deref()
                    .unwrap_or("application/octet-stream");
                println!(
                    "[binary, {mime}, {size} bytes] — pass --output FILE to save it (it is not printed)"
                );
            }
        }
    }
    Ok(())
}

/// The bytes of one content: its text as UTF-8, or its blob decoded.
fn bytes_of(contents: &ResourceContents) -> anyhow::Result<Vec<u8>> {
    match (&contents.text, &contents.blob) {
        (Some(text), _) => Ok(text.as_bytes().to_vec()),
        (None, Some(blob)) => base64::engine::general_purpose::STANDARD
            .decode(blob.trim())
            .with_context(|| {
                format!(
                    "the server sent {} as data that is not valid base64",
                    contents.uri
                )
            }),
        (None, None) => Ok(Vec::new()),
    }
}
