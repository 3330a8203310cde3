//! What `latch call` answers when a server asks its client for something mid-call: at a
//! terminal (stdin and stderr), the person is asked — a form field by field, a page to open
//! (its URL and host shown first), a model reply typed by hand; Ctrl-D declines. `--no-input`
//! declines everything (for scripts), and without a terminal Latch answers as it always has:
//! a form with its defaults, or declined. Roots are the `--root PATH` folders — or, without
//! any, the folders saved for the server (its entry's `roots`, set in the app) — never asked.

use std::{
    io::{BufRead, IsTerminal, Write},
    path::Path,
    sync::Arc,
};

use latch_core::host::{
    DefaultsHost, ElicitationRequest, ElicitationResponse, Host, HostCapabilities, HostFuture,
    Root, SamplingRequest, SamplingResponse,
};
use serde_json::{Map, Value};

mod form;

/// How the CLI answers a server's requests for input.
pub struct TerminalHost {
    mode: Mode,
    roots: Vec<Root>,
    /// One question at a time: a round may ask several things at once.
    turn: tokio::sync::Mutex<()>,
    /// The call's progress line, hidden while the person is asked something.
    progress: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A person is at the terminal.
    Ask,
    /// Nobody to ask: defaults, or declined.
    Defaults,
    /// `--no-input`: declined.
    Decline,
}

impl TerminalHost {
    /// `no_input`: decline everything; `roots`: the `--root` paths (made absolute).
    pub fn new(no_input: bool, roots: &[std::path::PathBuf]) -> anyhow::Result<Arc<Self>> {
        let mode = if no_input {
            Mode::Decline
        } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            Mode::Ask
        } else {
            Mode::Defaults
        };
        let roots = roots
            .iter()
            .map(|path| root(path))
            .collect::<anyhow::Result<_>>()?;
        Ok(Arc::new(Self {
            mode,
            roots,
            turn: tokio::sync::Mutex::new(()),
            progress: std::sync::Mutex::new(None),
        }))
    }

    /// Keep `bar` (the call's progress line) off the screen while a question is asked.
    pub fn hide_while_asking(&self, bar: &indicatif::ProgressBar) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
    }

    /// Run `ask` with the terminal, on a thread that may block on stdin.
    async fn at_terminal<T: Send + 'static>(
        &self,
        ask: impl FnOnce(&mut dyn BufRead, &mut dyn Write) -> T + Send + 'static,
    ) -> Option<T> {
        let _turn = self.turn.lock().await;
        let bar = self
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        tokio::task::spawn_blocking(move || {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            let mut output = std::io::stderr();
            match bar {
                // The line is cleared while the person answers and drawn again after.
                Some(bar) => bar.suspend(|| ask(&mut input, &mut output)),
                None => ask(&mut input, &mut output),
            }
        })
        .await
        .ok()
    }
}

/// The folders saved for `server` in the servers file (its entry's `roots`, set in the app's
/// Roots tab); none when the file or the entry cannot be read.
pub fn saved_roots(server: &str) -> Vec<std::path::PathBuf> {
    latch_core::config::ConfigFile::load_default()
        .and_then(|config| config.server(server))
        .map(|entry| {
            latch_core::app::entry_roots(&entry)
                .into_iter()
                .map(Into::into)
                .collect()
        })
        .unwrap_or_default()
}

/// `PATH` as a root: an absolute `file://` URI named after its last component.
fn root(path: &Path) -> anyhow::Result<Root> {
    let absolute =
        std::path::absolute(path).map_err(|e| anyhow::anyhow!("--root {}: {e}", path.display()))?;
    Ok(latch_core::app::file_root(&absolute))
}

impl Host for TerminalHost {
    fn elicit(&self, request: ElicitationRequest) -> HostFuture<'_, ElicitationResponse> {
        Box::pin(async move {
            match self.mode {
                Mode::Decline => ElicitationResponse::Decline,
                Mode::Defaults => DefaultsHost.elicit(request).await,
                Mode::Ask => self
                    .at_terminal(move |input, output| ask_elicitation(&request, input, output))
                    .await
                    .unwrap_or(ElicitationResponse::Decline),
            }
        })
    }

    fn capabilities(&self) -> HostCapabilities {
        HostCapabilities {
            open_pages: self.mode == Mode::Ask,
            sampling: self.mode == Mode::Ask,
            roots: !self.roots.is_empty(),
        }
    }

    fn sample(&self, request: SamplingRequest) -> HostFuture<'_, SamplingResponse> {
        Box::pin(async move {
            let reason = match self.mode {
                Mode::Ask => {
                    return self
                        .at_terminal(move |input, output| ask_sampling(&request, input, output))
                        .await
                        .unwrap_or(SamplingResponse::Decline {
                            reason: "the person at the terminal declined".to_owned(),
                        });
                }
                Mode::Decline => "declined: latch runs with --no-input",
                Mode::Defaults => "declined: nobody is at a terminal to write the reply",
            };
            SamplingResponse::Decline {
                reason: reason.to_owned(),
            }
        })
    }

    fn roots(&self, _server: String) -> HostFuture<'_, Vec<Root>> {
        Box::pin(async move { self.roots.clone() })
    }
}

/// Ask an elicitation request at the terminal: a page to open (URL mode), or a form.
fn ask_elicitation(
    request: &ElicitationRequest,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> ElicitationResponse {
    let _ = writeln!(output, "\n{} asks: {}", request.server, request.message);
    if let Some(url) = &request.url {
        return ask_to_open(url, input, output, latch_core::host::open_page);
    }
    let schema = request.schema.clone().unwrap_or(Value::Null);
    match form::ask(&schema, input, output) {
        Some(values) => ElicitationResponse::Accept(values),
        None => {
            let _ = writeln!(output, "Declined.");
            ElicitationResponse::Decline
        }
    }
}

/// Show the page's URL and host, and open it when the person says yes.
fn ask_to_open(
    url: &str,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    open: impl FnOnce(&str) -> Result<(), String>,
) -> ElicitationResponse {
    let checked = match latch_core::auth::check_url_to_open(url) {
        Ok(checked) => checked,
        Err(reason) => {
            let _ = writeln!(
                output,
                "  It asks to open {url}, but Latch will not: {reason}. Declined."
            );
            return ElicitationResponse::Decline;
        }
    };
    let host = checked.host_str().unwrap_or_default();
    let _ = writeln!(output, "  Page: {url}\n  Host: {host}");
    let _ = write!(output, "Open this page in your browser? [y/N] ");
    let _ = output.flush();
    match form::read_line(input) {
        Some(answer) if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") => {
            match open(url) {
                Ok(()) => {
                    let _ = writeln!(output, "Opened {host} in your browser.");
                    ElicitationResponse::Accept(Map::new())
                }
                Err(reason) => {
                    let _ = writeln!(
                        output,
                        "Could not open the page ({reason}); open it yourself."
                    );
                    ElicitationResponse::Accept(Map::new())
                }
            }
        }
        _ => ElicitationResponse::Decline,
    }
}

/// Show a sampling request's messages and take the reply text (an empty line ends it; nothing
/// or Ctrl-D declines).
fn ask_sampling(
    request: &SamplingRequest,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> SamplingResponse {
    let _ = writeln!(
        output,
        "\n{} asks for a model reply (at most {} tokens) to:",
        request.server, request.max_tokens
    );
    if let Some(system) = &request.system_prompt {
        let _ = writeln!(output, "  [system] {system}");
    }
    for message in &request.messages {
        let _ = writeln!(output, "  [{}] {}", message.role, message.text);
    }
    let _ = writeln!(
        output,
        "Type the reply (an empty line ends it; an empty reply or Ctrl-D declines):"
    );
    let mut lines = Vec::new();
    while let Some(line) = form::read_line(input) {
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    if lines.is_empty() {
        let _ = writeln!(output, "Declined.");
        return SamplingResponse::Decline {
            reason: "the person at the terminal declined".to_owned(),
        };
    }
    SamplingResponse::Reply {
        text: lines.join("\n"),
        model: "person at the terminal".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latch_core::host::SamplingMessage;

    fn run<T>(text: &str, f: impl FnOnce(&mut dyn BufRead, &mut dyn Write) -> T) -> (T, String) {
        let mut input = std::io::Cursor::new(text.as_bytes().to_vec());
        let mut output = Vec::new();
        let value = f(&mut input, &mut output);
        (value, String::from_utf8(output).unwrap())
    }

    #[test]
    fn a_page_is_shown_with_its_host_and_opened_only_on_yes() {
        let url = "https://auth.example.com/connect?x=1";
        let mut opened = None;
        let (answer, shown) = run("y\n", |i, o| {
            ask_to_open(url, i, o, |u| {
                opened = Some(u.to_owned());
                Ok(())
            })
        });
        assert_eq!(answer, ElicitationResponse::Accept(Map::new()));
        assert_eq!(opened.as_deref(), Some(url));
        assert!(shown.contains("Host: auth.example.com"), "{shown}");
        let (answer, _) = run("\n", |i, o| {
            ask_to_open(url, i, o, |_| panic!("not opened without a yes"))
        });
        assert_eq!(answer, ElicitationResponse::Decline);
    }

    #[test]
    fn a_page_latch_refuses_is_declined_without_asking() {
        let (answer, shown) = run("y\n", |i, o| {
            ask_to_open("file:///etc/passwd", i, o, |_| panic!("never opened"))
        });
        assert_eq!(answer, ElicitationResponse::Decline);
        assert!(shown.contains("will not"), "{shown}");
    }

    #[test]
    fn a_sampling_reply_is_typed_or_declined() {
        let request = SamplingRequest {
            server: "s".into(),
            messages: vec![SamplingMessage {
                role: "user".into(),
                text: "Capital of France?".into(),
            }],
            system_prompt: None,
            max_tokens: 20,
            model_preferences: None,
            tools: Vec::new(),
        };
        let (answer, shown) = run("Paris\n\n", |i, o| ask_sampling(&request, i, o));
        assert!(shown.contains("[user] Capital of France?"), "{shown}");
        assert_eq!(
            answer,
            SamplingResponse::Reply {
                text: "Paris".into(),
                model: "person at the terminal".into()
            }
        );
        let (answer, _) = run("", |i, o| ask_sampling(&request, i, o));
        assert!(matches!(answer, SamplingResponse::Decline { .. }));
    }

    #[test]
    fn roots_are_file_uris() {
        let root = root(Path::new("/tmp/my project")).unwrap();
        assert_eq!(root.uri, "file:///tmp/my%20project");
        assert_eq!(root.name.as_deref(), Some("my project"));
    }
}
