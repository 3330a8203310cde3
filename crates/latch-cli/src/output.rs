//! Printing for people and for scripts: aligned tables, JSON, and the one-line error.

use std::io::Write;

use serde::Serialize;

/// Print `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Print rows as a table with a header, columns padded to fit; the last column runs free.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        println!("{}", text.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Shorten `text` to its first line and at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    if first.chars().count() <= max {
        first.to_owned()
    } else {
        let cut: String = first.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The single line a failure prints: `latch: reason` on stderr (and `{"error": …}` on stdout
/// with `--json`). The error as written goes to the log (stderr too with `-v`); the line
/// leaves out Rust type paths a library's message may hold, the last resort behind the core's
/// own words.
pub fn error_line(error: &anyhow::Error, json: bool) {
    let raw = format!("{error:#}");
    tracing::debug!(error = %raw, "the command failed");
    let message = plain_line(&raw);
    if json {
        println!("{}", serde_json::json!({ "error": message }));
    }
    eprintln!("latch: {message}");
}

/// `text` on one line, without Rust type paths.
fn plain_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let plain = latch_core::connection::without_type_paths(&flat);
    if plain.is_empty() {
        "something failed without saying why (run again with -v for the details)".to_owned()
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_is_one_line_without_type_paths() {
        assert_eq!(
            plain_line(
                "http://127.0.0.1:9/mcp did not complete the MCP handshake:\n  Transport \
                 [rmcp::transport::worker::WorkerTransport<a::b::C<D>>] error: closed"
            ),
            "http://127.0.0.1:9/mcp did not complete the MCP handshake: Transport error: closed"
        );
        assert!(plain_line("rmcp::service::ServiceError").contains("-v"));
    }
}
