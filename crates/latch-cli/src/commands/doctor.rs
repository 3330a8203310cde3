//! `latch doctor NAME`: connect to a server now and explain each step — its settings, the
//! stored sign-in, reaching it, the handshake, its tools — with what to do about the step that
//! failed. For a workload-identity server (`"auth": {"type": "workload"}`) the sign-in is
//! explained step by step first: where the platform token is read and whether it could be
//! (never printing it), its issuer, subject, audience and expiry (decoded, not verified), the
//! authorization server and whether it offers the jwt-bearer grant, and the exchange.

use std::process::ExitCode;

use latch_core::app::StepStatus;

use crate::output;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// The server's name (see `latch servers list`).
    pub name: String,
    /// Use this account's sign-in (see `latch login NAME --account LABEL`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
}

pub async fn run(args: DoctorArgs, json: bool) -> anyhow::Result<ExitCode> {
    let account = super::account(args.account.as_deref())?;
    let account = account.as_deref();
    let name = args.name.as_str();
    let config = super::load_config()?;
    let server = config.server(name)?;
    let secrets = super::secret_store()?;
    let mut options = latch_core::app::connect_options_for(&secrets, name, account, &server);
    options.watch_lists = false;
    // The tool count the doctor reports is the one `latch tools` shows.
    options.host = std::sync::Arc::new(super::tools::Listing);
    let grant_store = latch_core::app::grant(&secrets, name, account);
    let grant = tokio::task::spawn_blocking(move || grant_store.metadata().ok().flatten())
        .await
        .ok()
        .flatten()
        .filter(|m| m.has_access_token);
    let report = latch_core::app::doctor_examine(name, &server, options, grant).await;
    let healthy = report.steps.iter().all(|s| s.status != StepStatus::Failed);
    if json {
        output::json(&report)?;
    } else {
        println!("Doctor for {name}:");
        for step in &report.steps {
            let mark = match step.status {
                StepStatus::Ok => "✓",
                StepStatus::Failed => "✗",
                StepStatus::Skipped => "-",
            };
            println!("{mark} {}: {}", step.name, step.detail);
            if let Some(fix) = &step.fix {
                println!("    What to do: {fix}");
            }
        }
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
