//! The demo's MCP tools, one per thing the app should be seen doing: plain text (`echo`),
//! structured content (`add`), progress and cancellation (`long_task`), an image (`image`), a
//! destructive tool that asks for confirmation (`delete_note`, with `list_notes` to see the
//! effect), a tool whose input schema uses every feature the schema form supports
//! (`create_event`: enum, boolean, array, nested object by `$ref`, defaults, required), and a
//! background task with a status, a question half-way and cancellation (`make_report`, in
//! `report.rs`, for clients that declared the tasks extension).

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use rmcp::{
    ErrorData, Peer, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, tool::schema_for_output, wrapper::Parameters},
    model::{
        CallToolResult, CancelTaskParams, ContentBlock, GetTaskParams, GetTaskResult,
        Implementation, ProgressNotificationParam, RequestMetaObject, ServerCapabilities,
        ServerConfig, UpdateTaskParams,
    },
    schemars::{self, JsonSchema},
    service::RequestContext,
    task_manager::TaskManager,
    tool, tool_handler, tool_router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The notes `delete_note` can delete, shared by every session of one demo server.
pub type Notes = Arc<Mutex<BTreeMap<String, String>>>;

/// What every session of one demo server shares.
#[derive(Clone)]
pub struct Shared {
    pub notes: Notes,
    /// `long_task` calls ended by the client's cancellation.
    pub tasks_cancelled: Arc<AtomicU64>,
    /// The `make_report` tasks (`tasks/get`, `tasks/update`, `tasks/cancel` go here).
    pub reports: TaskManager,
    /// `make_report` runs (tasks or plain calls) stopped by the client's cancellation.
    pub reports_cancelled: Arc<AtomicU64>,
}

impl Shared {
    pub fn new() -> Self {
        Self {
            notes: initial_notes(),
            tasks_cancelled: Arc::default(),
            reports: TaskManager::new(),
            reports_cancelled: Arc::default(),
        }
    }
}

/// The notes a fresh demo starts with.
pub(crate) fn initial_notes() -> Notes {
    let notes = [
        ("note-1", "Buy milk"),
        ("note-2", "Call the dentist"),
        ("note-3", "Try every tool of the Latch demo"),
    ];
    Arc::new(Mutex::new(
        notes
            .into_iter()
            .map(|(id, text)| (id.to_owned(), text.to_owned()))
            .collect(),
    ))
}

const INSTRUCTIONS: &str = "Latch's bundled demo server. It runs on this computer only and \
approves every sign-in at once. Try `add`, `long_task` (watch the progress, then cancel one), \
`image`, `delete_note` (it asks first), `create_event` (every kind of form field) and \
`make_report` (a background task that asks a question half-way).";

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// The text to send back.
    pub message: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddArgs {
    /// The first number.
    pub a: f64,
    /// The second number.
    pub b: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AddOutput {
    /// `a + b`.
    pub sum: f64,
}

fn five() -> u32 {
    5
}
fn ten() -> u32 {
    10
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LongTaskArgs {
    /// How long the task runs, in seconds.
    #[serde(default = "five")]
    #[schemars(range(min = 1, max = 60))]
    pub seconds: u32,
    /// How many progress reports to send along the way.
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = 100))]
    pub steps: u32,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteNoteArgs {
    /// The note to delete, like `note-1` (see `list_notes`).
    pub id: String,
}

/// What kind of event it is.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    #[default]
    Meeting,
    Call,
    Focus,
    Social,
}

/// When and where the event takes place.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Schedule {
    /// Start, as an RFC 3339 date and time, e.g. `2030-01-31T09:30:00Z`.
    #[schemars(extend("format" = "date-time"))]
    pub start: String,
    /// Length of the event in minutes.
    #[serde(default = "thirty")]
    #[schemars(range(min = 5, max = 480))]
    pub duration_minutes: u32,
    /// A room, an address or a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

fn thirty() -> u32 {
    30
}
fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CreateEventArgs {
    /// A short title.
    #[schemars(length(min = 1, max = 100))]
    pub title: String,
    #[serde(default)]
    pub kind: EventKind,
    pub when: Schedule,
    /// Email addresses of the people to invite.
    #[serde(default)]
    #[schemars(inner(email), length(max = 20))]
    pub attendees: Vec<String>,
    /// Send the invitations now.
    #[serde(default = "yes")]
    pub notify: bool,
    /// Anything else to say (markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// `5` rather than `5.0` for a whole number (both are JSON numbers; people read the first).
fn json_number(value: f64) -> serde_json::Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer up to it is exact
    if value.fract() == 0.0 && value.abs() <= EXACT {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// The MCP side of the demo: the tools, for one session.
#[derive(Clone)]
pub struct DemoTools {
    pub(crate) shared: Shared,
    tool_router: ToolRouter<Self>,
}

impl DemoTools {
    pub fn new(shared: Shared) -> Self {
        Self {
            shared,
            tool_router: Self::tool_router() + Self::report_router(),
        }
    }

    fn notes(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.shared.notes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[tool_router]
impl DemoTools {
    #[tool(
        title = "Echo",
        description = "Sends your **message** back, unchanged.\n\nThe simplest tool there is: \
        use it to check that calling works.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    fn echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        args.message
    }

    #[tool(
        title = "Add two numbers",
        description = "Adds `a` and `b`.\n\nAnswers with text *and* with **structured \
        content** `{\"sum\": …}` that matches the tool's output schema.",
        output_schema = schema_for_output::<AddOutput>(),
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> CallToolResult {
        let sum = a + b;
        let mut result =
            CallToolResult::success(vec![ContentBlock::text(format!("{a} + {b} = {sum}"))]);
        result.structured_content = Some(json!({ "sum": json_number(sum) }));
        result
    }

    #[tool(
        title = "Long task",
        description = "Works for `seconds` seconds (1–60, default 5) and reports its \
        **progress** `steps` times (default 10) along the way, then answers `done`.\n\n\
        Cancel it to see that the server stops.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn long_task(
        &self,
        Parameters(args): Parameters<LongTaskArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        if !(1..=60).contains(&args.seconds) {
            return Err(ErrorData::invalid_params(
                "seconds must be from 1 to 60",
                None,
            ));
        }
        if !(1..=100).contains(&args.steps) {
            return Err(ErrorData::invalid_params(
                "steps must be from 1 to 100",
                None,
            ));
        }
        let token = meta.get_progress_token();
        let pause = Duration::from_secs(u64::from(args.seconds)) / args.steps;
        for step in 1..=args.steps {
            tokio::select! {
                () = cancel.cancelled() => {
                    tracing::info!(step, "long_task cancelled");
                    self.shared.tasks_cancelled.fetch_add(1, Ordering::Relaxed);
                    return Err(ErrorData::internal_error("cancelled", None));
                }
                () = tokio::time::sleep(pause) => {}
            }
            if let Some(token) = &token {
                let report = ProgressNotificationParam::new(token.clone(), f64::from(step))
                    .with_total(f64::from(args.steps))
                    .with_message(format!("step {step} of {}", args.steps));
                // A client that went away cannot be told; the task ends at its cancellation.
                let _ = peer.notify_progress(report).await;
            }
        }
        Ok(CallToolResult::success(vec![ContentBlock::text("done")]))
    }

    #[tool(
        title = "A picture",
        description = "Returns a small **PNG image** (a 64×64 colour gradient), to see how \
        images are shown.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    fn image(&self) -> CallToolResult {
        let png = STANDARD.encode(crate::png::gradient());
        CallToolResult::success(vec![
            ContentBlock::image(png, "image/png"),
            ContentBlock::text("A 64×64 gradient, drawn by the demo server."),
        ])
    }

    #[tool(
        title = "List notes",
        description = "Lists the demo's notes (`id`: text). `delete_note` removes them; they \
        come back when the demo restarts.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    fn list_notes(&self) -> CallToolResult {
        let notes = self.notes();
        let text = if notes.is_empty() {
            "No notes left.".to_owned()
        } else {
            notes
                .iter()
                .map(|(id, text)| format!("- `{id}`: {text}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "notes": *notes }));
        result
    }

    #[tool(
        title = "Delete a note",
        description = "Deletes the note `id` **for good**.\n\n⚠️ Marked *destructive*: Latch \
        asks before it runs.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    fn delete_note(&self, Parameters(args): Parameters<DeleteNoteArgs>) -> CallToolResult {
        match self.notes().remove(&args.id) {
            Some(text) => CallToolResult::success(vec![ContentBlock::text(format!(
                "Deleted {}: {text}",
                args.id
            ))]),
            None => CallToolResult::error(vec![ContentBlock::text(format!(
                "There is no note {} (see list_notes).",
                args.id
            ))]),
        }
    }

    #[tool(
        title = "Create an event",
        description = "Creates a calendar event — nothing is sent anywhere; the demo only \
        answers with what it would create.\n\nIts form shows every kind of field: a required \
        text, a **choice** (`kind`), a **yes/no** (`notify`), a **list** (`attendees`), and a \
        **nested group** (`when`) with defaults.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    fn create_event(&self, Parameters(args): Parameters<CreateEventArgs>) -> CallToolResult {
        let who = if args.attendees.is_empty() {
            "nobody invited".to_owned()
        } else {
            format!(
                "{} invited{}",
                args.attendees.join(", "),
                if args.notify { "" } else { " (not notified)" }
            )
        };
        let text = format!(
            "Created {:?} “{}” at {} for {} min — {who}.",
            args.kind, args.title, args.when.start, args.when.duration_minutes
        );
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "event": args, "id": "event-1" }));
        result
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DemoTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tasks()
                .build(),
        )
        .with_server_info(
            Implementation::new("latch-demo", env!("CARGO_PKG_VERSION")).with_title("Latch demo"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    // SEP-2663: rmcp routes these here only for clients that declared the tasks extension.
    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        let task = self.shared.reports.get_task(&request.task_id)?;
        Ok(GetTaskResult::new(task))
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.shared
            .reports
            .update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.shared.reports.cancel_task(&request.task_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_is_listed_with_a_title_and_the_rich_schema_has_refs() {
        let tools = DemoTools::new(Shared::new()).tool_router.list_all();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        for name in [
            "echo",
            "add",
            "long_task",
            "image",
            "list_notes",
            "delete_note",
            "create_event",
            "make_report",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        for tool in &tools {
            assert!(
                tool.title.is_some() && tool.description.is_some(),
                "{}",
                tool.name
            );
        }
        let delete = tools.iter().find(|t| t.name == "delete_note").unwrap();
        assert_eq!(
            delete.annotations.as_ref().unwrap().destructive_hint,
            Some(true)
        );
        let add = tools.iter().find(|t| t.name == "add").unwrap();
        assert!(add.output_schema.is_some());
        let event = tools.iter().find(|t| t.name == "create_event").unwrap();
        let schema = serde_json::to_value(&*event.input_schema).unwrap();
        assert_eq!(
            schema["properties"]["when"]["$ref"], "#/$defs/Schedule",
            "{schema:#}"
        );
        assert_eq!(
            schema["$defs"]["EventKind"]["enum"],
            json!(["meeting", "call", "focus", "social"])
        );
        assert_eq!(schema["properties"]["notify"]["default"], true);
        assert_eq!(
            schema["properties"]["attendees"]["items"]["format"],
            "email"
        );
        assert_eq!(schema["required"], json!(["title", "when"]));
        let long = tools.iter().find(|t| t.name == "long_task").unwrap();
        let schema = serde_json::to_value(&*long.input_schema).unwrap();
        assert_eq!(schema["properties"]["seconds"]["default"], 5);
        assert_eq!(schema["properties"]["seconds"]["maximum"], 60);
    }
}
