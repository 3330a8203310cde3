//! `latch complete NAME (--prompt P | --template URI) ARG PREFIX`: the values the server
//! suggests for one argument of a prompt or a resource template, one per line.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use latch_core::connection::CompletionTarget;

use crate::output;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["prompt", "template"]))]
pub struct CompleteArgs {
    /// The server's name.
    pub name: String,
    /// The argument to complete.
    pub argument: String,
    /// What has been typed so far (may be empty: "").
    #[arg(default_value = "")]
    pub prefix: String,
    /// Complete an argument of this prompt (see `latch prompts NAME`).
    #[arg(long, value_name = "PROMPT")]
    pub prompt: Option<String>,
    /// Complete a variable of this resource template, e.g. `demo://resource/dynamic/text/{resourceId}`.
    #[arg(long, value_name = "URI_TEMPLATE")]
    pub template: Option<String>,
    /// A value already chosen for another argument, `KEY=VALUE` (some servers narrow one
    /// argument's values by another's); repeat for several.
    #[arg(long = "with", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Use this account's sign-in (see `latch login NAME --account LABEL`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
}

pub async fn run(args: CompleteArgs, json: bool) -> anyhow::Result<ExitCode> {
    let context = super::prompts::pairs(&args.context, "--with")?;
    let target = match (args.prompt, args.template) {
        (Some(prompt), _) => CompletionTarget::Prompt(prompt),
        (None, Some(template)) => CompletionTarget::Template(template),
        (None, None) => anyhow::bail!("say what to complete: --prompt PROMPT or --template URI"),
    };
    let connection = super::connect(&args.name, args.account.as_deref()).await?;
    let offers = connection.offers_completions();
    let completion = if offers {
        Some(
            connection
                .complete(&target, &args.argument, &args.prefix, &context)
                .await,
        )
    } else {
        None
    };
    connection.close().await;
    let Some(completion) = completion else {
        anyhow::bail!("{} offers no completions", args.name);
    };
    let completion = completion
        .with_context(|| format!("{} could not complete `{}`", args.name, args.argument))?;
    if json {
        output::json(&completion)?;
        return Ok(ExitCode::SUCCESS);
    }
    if completion.values.is_empty() {
        eprintln!("(no suggestions)");
    }
    for value in &completion.values {
        println!("{value}");
    }
    if completion.has_more {
        let total = completion
            .total
            .map(|t| format!(" of {t}"))
            .unwrap_or_default();
        eprintln!(
            "({} shown{total}; type more to narrow them)",
            completion.values.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
