//! `latch tools NAME`: connect and list the server's tools.

use std::process::ExitCode;

use crate::output;

pub async fn run(name: &str, account: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let connection = super::connect(name, account).await?;
    let tools = connection.list_tools().await;
    connection.close().await;
    let tools = tools?;
    if json {
        output::json(&*tools)?;
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
