//! `latch tools NAME`: connect and list the server's tools — every tool the server offers a
//! client that answers sampling, roots and elicitation (forms and pages): servers hide the
//! tools that need what a client does not announce, and listing asks nothing of anyone. Tools
//! only the server's app may call (MCP Apps, `visibility: ["app"]`) are left out.

use std::{process::ExitCode, sync::Arc};

use latch_core::{
    DefaultsHost, ElicitationRequest, ElicitationResponse, Host,
    host::{HostCapabilities, HostFuture},
};

use crate::output;

/// Announces everything a client can answer, so the list is the server's whole list; what
/// the server asks while listing (roots, on connecting) gets no roots, and the rest declined.
pub(super) struct Listing;

impl Host for Listing {
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse> {
        DefaultsHost.elicit(request)
    }

    fn capabilities(&self) -> HostCapabilities {
        HostCapabilities {
            open_pages: true,
            sampling: true,
            roots: true,
        }
    }
}

pub async fn run(name: &str, account: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let connection = super::connect_with(name, account, Some(Arc::new(Listing))).await?;
    let tools = connection.list_tools().await;
    connection.close().await;
    // The tools only the server's app may call are not the person's (nor a script's).
    let tools: Vec<_> = latch_core::tools::listed(&tools?).cloned().collect();
    if json {
        output::json(&tools)?;
    } else if tools.is_empty() {
        println!("{name} offers no tools.");
    } else {
        let rows: Vec<Vec<String>> = tools
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    output::one_line(t.description.as_deref().unwrap_or(t.display_title()), 100),
                ]
            })
            .collect();
        output::table(&["TOOL", "DESCRIPTION"], &rows);
        println!(
            "\n{} tools. Call one with `latch call {name} TOOL KEY=VALUE…`.",
            tools.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
