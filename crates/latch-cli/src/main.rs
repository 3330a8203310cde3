//! `latch` — add MCP servers, sign in to them, and use their tools, resources, prompts and
//! completions from a terminal or a script, or bridge them to agents.
//! A thin layer over `latch-core`: it parses words, calls the core, prints the answer
//! (a table for people, `--json` for scripts) and exits non-zero with one line on failure.

mod ask;
mod commands;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{call::CallArgs, servers::ServersCommand};

/// Sign in to MCP servers and use them by hand or from scripts (tools, resources, prompts,
/// completions), or bridge them to agents.
#[derive(Debug, Parser)]
#[command(name = "latch", version, propagate_version = true)]
#[command(
    after_help = "Config lives in $LATCH_HOME (default: ~/.config/latch on Linux); log lines go to\n\
$LATCH_HOME/logs/latch.log (and to stderr with -v or RUST_LOG).\n\
Examples:\n  latch servers add everything http://127.0.0.1:3001/mcp\n  latch tools everything\n  latch call everything get-sum a=2 b=3"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Also print log lines on stderr, with the details behind an error (they always go to
    /// the log file, $LATCH_HOME/logs/latch.log).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Never ask at the terminal: decline what a server asks for mid-call (a form, a page to
    /// open, a model reply), for scripts. Without a terminal, forms get their defaults.
    #[arg(long, global = true)]
    no_input: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add, list, remove, import and export servers.
    #[command(subcommand)]
    Servers(ServersCommand),
    /// Connect to a server and list its tools.
    Tools {
        /// The server's name (see `latch servers list`).
        name: String,
        /// Use this account's sign-in (see `latch login NAME --account LABEL`).
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
    },
    /// Call a tool: `latch call NAME TOOL a=2 b=3`.
    Call(CallArgs),
    /// Connect to a server and list its resources and resource templates.
    Resources(commands::resources::ResourcesArgs),
    /// Read a resource: text is printed; binary contents only with --output FILE.
    Read(commands::resources::ReadArgs),
    /// Connect to a server and list its prompts and their arguments.
    Prompts(commands::prompts::PromptsArgs),
    /// Get a prompt's messages: `latch prompt NAME PROMPT city=Paris`.
    Prompt(commands::prompts::PromptArgs),
    /// The values a server suggests for a prompt's or a resource template's argument.
    Complete(commands::complete::CompleteArgs),
    /// Sign in to a server; the tokens go to the system keychain.
    #[command(
        after_help = "Several accounts on one server (two workspaces, two ad accounts): sign in to each\n\
under its own label, then pick one with --account on tools, call and bridge (status lists each):\n  \
latch login notion --account work\n  latch login notion --account home\n  \
latch call notion search --account home query=plans\n\
Without --account the sign-in is the account `default`.\n\n\
No keychain running (a server, a container)? login asks whether to keep sign-ins in a file only\n\
you can read ($LATCH_HOME/secrets.json); in a script, say yes with --keep-in-file."
    )]
    Login {
        /// The server's name.
        #[arg(required_unless_present = "org")]
        name: Option<String>,
        /// Sign in to your company's identity provider instead (`latch org add`), then to every
        /// server using it (`"auth": {"org": NAME}`), with no browser per server.
        #[arg(long, value_name = "NAME", conflicts_with_all = ["name", "account", "flow"])]
        org: Option<String>,
        /// Sign in as this account: a label of your choice (letters, digits, `-_.@`, at most
        /// 64), so one server can have several sign-ins. Default: the account `default`.
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// Which sign-in to run (default: what the server's `auth` entry says, else the browser).
        #[arg(long, value_enum, default_value_t = commands::login::FlowArg::Auto)]
        flow: commands::login::FlowArg,
        /// How to reach the sign-in page.
        #[arg(long, value_enum, default_value_t = commands::login::BrowserArg::System)]
        browser: commands::login::BrowserArg,
        /// When no keychain is running: keep sign-ins in `secrets.json` in $LATCH_HOME,
        /// readable only by you (what answering yes to login's question does at a terminal).
        /// Later commands, and the app, keep using that file without the flag.
        #[arg(long)]
        keep_in_file: bool,
    },
    /// The companies whose identity provider signs you in to servers (enterprise sign-in).
    #[command(subcommand)]
    Org(commands::org::OrgCommand),
    /// Sign out of a server: delete its tokens.
    Logout {
        /// The server's name.
        name: String,
        /// Sign out of this account only (default: the account `default`); the others stay.
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
    },
    /// Connect to a server now and explain each step (for a workload-identity server: the
    /// platform token, its claims, the sign-in server, the exchange), with what to do.
    Doctor(commands::doctor::DoctorArgs),
    /// Connect to every server (or one) and say how it stands, one row per signed-in account.
    Status {
        /// Only this server.
        name: Option<String>,
    },
    /// Store or remove the client id and secret (or key) that machine-to-machine servers sign
    /// in with, by a name several servers can share.
    #[command(subcommand)]
    Credentials(commands::credentials::CredentialsCommand),
    /// Serve a remote server to an agent over stdio, signed in with Latch.
    #[command(
        long_about = "Serve the remote server NAME to an agent over stdin/stdout (MCP stdio): \
tools, resources, prompts, progress, cancellation, logging, and the server's sampling, roots and \
elicitation requests back to the agent. Latch signs in with the stored grant and keeps it fresh \
(shared with the Latch app and the CLI); a token is never printed. Warnings go to stderr \
(every log line with -v); log lines also go to $LATCH_HOME/logs/latch.log.",
        after_help = "Configure an agent (Claude Desktop, Cursor, …) with:\n  \
{\"mcpServers\": {\"notion\": {\"command\": \"latch\", \"args\": [\"bridge\", \"notion\"]}}}\n\
Sign in first with the Latch app or `latch login notion`; until then the agent gets an error\n\
saying so. With --login-if-needed the bridge opens the browser itself, once.\n\
One bridge per account: `latch bridge notion --account work` uses the sign-in made with\n\
`latch login notion --account work`."
    )]
    Bridge {
        /// The server's name (see `latch servers list`).
        name: String,
        /// Use this account's sign-in (see `latch login NAME --account LABEL`).
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// When the server needs a sign-in, open the system browser (once) instead of answering
        /// the agent with an error.
        #[arg(long)]
        login_if_needed: bool,
    },
    /// Run the bundled demo MCP server (with its own sign-in) on 127.0.0.1 until Ctrl-C.
    Demo {
        /// The port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = latch_demo::DEFAULT_PORT)]
        port: u16,
        /// How long its access tokens last, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = latch_demo::DEFAULT_ACCESS_TOKEN_TTL.as_secs())]
        token_ttl: u64,
    },
}

/// `latch tools x | head`: when the reader stops early, end the way Unix tools do (quietly,
/// status 141 as for SIGPIPE) instead of panicking in `println!` — Rust ignores SIGPIPE, and
/// restoring it would take `unsafe`.
fn end_quietly_on_a_closed_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info)
    }));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    end_quietly_on_a_closed_pipe();
    // The bridge's stderr is the agent's view of the server's log: warnings always go there.
    let stderr = match cli.command {
        Command::Bridge { .. } => latch_core::logging::Stderr::Warnings,
        _ => latch_core::logging::Stderr::WhenAsked,
    };
    latch_core::logging::init(stderr, cli.verbose);
    // One thread: every command waits on the network, a child process or the agent, and a
    // second worker only adds wake-ups between threads (a fifth of the bridge's CPU time per
    // call). Blocking work (keychain, file locks) runs on tokio's blocking pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("latch: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.json;
    let no_input = cli.no_input;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Servers(command) => commands::servers::run(command, json).await,
            Command::Tools { name, account } => {
                commands::tools::run(&name, account.as_deref(), json).await
            }
            Command::Call(args) => commands::call::run(args, json, no_input).await,
            Command::Resources(args) => commands::resources::list(args, json).await,
            Command::Read(args) => commands::resources::read(args, json, no_input).await,
            Command::Prompts(args) => commands::prompts::list(args, json).await,
            Command::Prompt(args) => commands::prompts::get(args, json, no_input).await,
            Command::Complete(args) => commands::complete::run(args, json).await,
            Command::Login {
                name,
                org,
                account,
                flow,
                browser,
                keep_in_file,
            } => match (org, name) {
                (Some(org), _) => commands::org::login(&org, browser, keep_in_file, json).await,
                (None, name) => {
                    let name = name.unwrap_or_default();
                    commands::login::login(
                        &name,
                        account.as_deref(),
                        flow,
                        browser,
                        keep_in_file,
                        json,
                    )
                    .await
                }
            },
            Command::Org(command) => commands::org::run(command, json).await,
            Command::Logout { name, account } => {
                commands::login::logout(&name, account.as_deref(), json).await
            }
            Command::Doctor(args) => commands::doctor::run(args, json).await,
            Command::Status { name } => commands::status::run(name.as_deref(), json).await,
            Command::Credentials(command) => commands::credentials::run(command, json).await,
            Command::Bridge {
                name,
                account,
                login_if_needed,
            } => commands::bridge::run(&name, account.as_deref(), login_if_needed).await,
            Command::Demo { port, token_ttl } => commands::demo::run(port, token_ttl, json).await,
        }
    });
    // Don't wait for servers that ignore the session's end: everything we own is closed.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(error) => {
            output::error_line(&error, json);
            ExitCode::FAILURE
        }
    }
}
