//! `make_report`, the demo's background **task** (the `io.modelcontextprotocol/tasks` extension,
//! SEP-2663): a client that declared the extension gets a task at once (`resultType: "task"`)
//! and follows it with `tasks/get` — a status message that moves ("Counting notes…", "Writing
//! the report… 50%"), a question half-way (an elicitation form in `inputRequests`, answered with
//! `tasks/update`), then the report — and can stop it with `tasks/cancel`. rmcp's
//! [`TaskManager`] keeps the tasks (one for the whole server, in [`Shared`], since a 2026 client
//! may reach another session each request); this file only says what the work does.
//!
//! A client without the extension gets the same work as a plain call, with progress
//! notifications instead of status messages. The question goes as an `elicitation/create`
//! request on a session from before 2026-07-28; on 2026-07-28, which has no server-to-client
//! requests, the first half ends in an `input_required` result (SEP-2322) and the retry that
//! carries the answer does the second half. A client that declared no elicitation is not asked.

use std::{collections::BTreeMap, sync::atomic::Ordering, time::Duration};

use rmcp::{
    ErrorData, Peer, RoleServer,
    handler::server::{tool::InputResponses, wrapper::Parameters},
    model::{
        CallToolResponse, CallToolResult, ContentBlock, CreateTaskResult, ElicitRequest,
        ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema, InputRequest,
        InputRequiredResult, ProgressNotificationParam, ProgressToken, ProtocolVersion,
    },
    schemars::{self, JsonSchema},
    service::RequestContext,
    task_manager::{TaskContext, TaskExit, TaskOptions},
    tool, tool_router,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::tools::{DemoTools, Shared, initial_notes};

/// How often a client should poll `tasks/get`, in milliseconds.
pub const POLL_INTERVAL_MS: u64 = 500;

/// The key of the question in the task's `inputRequests`.
pub const QUESTION_KEY: &str = "include-deleted";

const QUESTION: &str = "Include the deleted notes too?";

/// The work is cut in this many steps; the question comes half-way.
const STEPS: u32 = 10;

fn six() -> u32 {
    6
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReportArgs {
    /// How long making the report takes, in seconds.
    #[serde(default = "six")]
    #[schemars(range(min = 1, max = 60))]
    pub seconds: u32,
}

/// The answer to the question half-way.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct IncludeDeleted {
    /// Also list the notes deleted since the demo started.
    #[schemars(title = "Include the deleted notes")]
    pub include_deleted: bool,
}
rmcp::elicit_safe!(IncludeDeleted);

#[tool_router(router = report_router, vis = "pub(crate)")]
impl DemoTools {
    #[tool(
        title = "Make a report",
        description = "Writes a short report of the notes. It runs as a background **task**: \
        it works for `seconds` seconds (1–60, default 6), says how far it is, and half-way \
        **asks you** whether to include the deleted notes.\n\nCancel it to see that the \
        server stops.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn make_report(
        &self,
        Parameters(args): Parameters<ReportArgs>,
        InputResponses(answers): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !(1..=60).contains(&args.seconds) {
            return Err(ErrorData::invalid_params(
                "seconds must be from 1 to 60",
                None,
            ));
        }
        let pause = Duration::from_secs(u64::from(args.seconds)) / STEPS;
        let capabilities = context.client_capabilities();
        let can_ask = capabilities
            .as_ref()
            .and_then(|caps| caps.elicitation.as_ref())
            .is_some_and(|e| e.form.is_some() || e.url.is_none());
        let shared = self.shared.clone();
        if capabilities.is_some_and(|caps| caps.supports_tasks()) {
            let options = TaskOptions::new()
                .with_poll_interval_ms(POLL_INTERVAL_MS)
                .with_status_message("Counting notes…");
            let task = self.shared.reports.spawn(options, move |task| {
                Box::pin(async move {
                    let question = if can_ask {
                        Question::InTask(task.clone())
                    } else {
                        Question::Skip
                    };
                    let runner = Runner::Task(task);
                    match run(&shared, &runner, question, pause).await? {
                        Done::Report(result) => Ok(result),
                        // A task asks in its `inputRequests`, never in a result.
                        Done::Ask => Err(TaskExit::Error(ErrorData::internal_error(
                            "the report could not ask its question",
                            None,
                        ))),
                    }
                })
            });
            return Ok(CallToolResponse::Task(CreateTaskResult::new(task)));
        }
        // 2026 forbids server-to-client requests: the question goes back in the result
        // (`input_required`, SEP-2322) and the retry that carries the answer does the rest.
        let modern = context
            .protocol_version()
            .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28);
        let question = match answers.as_ref().and_then(|a| a.get(QUESTION_KEY)) {
            Some(answer) => Question::Answered(said_yes(answer.clone())),
            None if modern && can_ask => Question::InResult,
            None if modern => Question::Skip,
            None => Question::Elicit(context.peer.clone()),
        };
        let runner = Runner::Inline {
            progress: context.meta.get_progress_token(),
            peer: context.peer,
            cancel: context.ct,
        };
        match run(&shared, &runner, question, pause).await {
            Ok(Done::Report(result)) => Ok(result.into()),
            Ok(Done::Ask) => {
                let requests = [(QUESTION_KEY.to_owned(), question_request()?)].into();
                Ok(InputRequiredResult::new(Some(requests), Some("half-way".to_owned())).into())
            }
            Err(TaskExit::Cancelled) => Err(ErrorData::internal_error("cancelled", None)),
            Err(TaskExit::Error(error)) => Err(error),
        }
    }
}

/// Whom the work reports to: a task's status message, or an inline call's progress
/// notifications.
enum Runner {
    Task(TaskContext),
    Inline {
        peer: Peer<RoleServer>,
        progress: Option<ProgressToken>,
        cancel: CancellationToken,
    },
}

impl Runner {
    async fn say(&self, step: u32, message: String) {
        match self {
            Runner::Task(task) => task.set_status_message(message),
            Runner::Inline {
                peer,
                progress: Some(token),
                ..
            } => {
                let report = ProgressNotificationParam::new(token.clone(), f64::from(step))
                    .with_total(f64::from(STEPS))
                    .with_message(message);
                // A client that went away cannot be told; the call ends at its cancellation.
                let _ = peer.notify_progress(report).await;
            }
            Runner::Inline { progress: None, .. } => {}
        }
    }

    async fn cancelled(&self) {
        match self {
            Runner::Task(task) => task.cancelled().await,
            Runner::Inline { cancel, .. } => cancel.cancelled().await,
        }
    }
}

/// How the question half-way is asked, or why it is not.
enum Question {
    /// In the task's `inputRequests`, answered with `tasks/update`.
    InTask(TaskContext),
    /// As an `elicitation/create` request (a session from before 2026-07-28).
    Elicit(Peer<RoleServer>),
    /// In an `input_required` result (2026-07-28 without tasks).
    InResult,
    /// Already answered, in the retry of an `input_required` result.
    Answered(bool),
    /// The client cannot be asked.
    Skip,
}

/// How the work ended when it was not stopped.
enum Done {
    Report(CallToolResult),
    /// The question must go back to the client in the result.
    Ask,
}

/// The question as an `elicitation/create` form.
fn question_request() -> Result<InputRequest, ErrorData> {
    let schema = ElicitationSchema::from_type::<IncludeDeleted>()
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
    Ok(InputRequest::Elicitation(ElicitRequest::new(
        ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: QUESTION.to_owned(),
            requested_schema: schema,
        },
    )))
}

/// Whether an elicitation result says "include them"; a decline or a dismissal is "no".
fn said_yes(answer: Value) -> bool {
    serde_json::from_value::<ElicitResult>(answer)
        .ok()
        .filter(|answer| answer.action == ElicitationAction::Accept)
        .and_then(|answer| answer.content)
        .and_then(|content| serde_json::from_value::<IncludeDeleted>(content).ok())
        .is_some_and(|answer| answer.include_deleted)
}

/// The person's answer to the question, asked now (`None`: ask in the result instead).
async fn ask(question: Question, runner: &Runner) -> Result<Option<bool>, TaskExit> {
    match question {
        Question::InTask(task) => Ok(Some(said_yes(
            task.request_input(QUESTION_KEY, question_request()?)
                .await?,
        ))),
        Question::Elicit(peer) => tokio::select! {
            () = runner.cancelled() => Err(TaskExit::Cancelled),
            // Fails at once when the client did not declare elicitation: that is a "no".
            answer = peer.elicit::<IncludeDeleted>(QUESTION) => {
                Ok(Some(matches!(answer, Ok(Some(IncludeDeleted { include_deleted: true })))))
            }
        },
        Question::InResult => Ok(None),
        Question::Answered(answer) => Ok(Some(answer)),
        Question::Skip => Ok(Some(false)),
    }
}

/// The work itself, the same for a task and a plain call. A retry that carries the answer
/// starts after the question.
async fn run(
    shared: &Shared,
    runner: &Runner,
    question: Question,
    pause: Duration,
) -> Result<Done, TaskExit> {
    let half = STEPS / 2;
    let (first, mut include_deleted) = match question {
        Question::Answered(answer) => (half + 1, answer),
        _ => {
            runner.say(0, "Counting notes…".to_owned()).await;
            (1, false)
        }
    };
    let mut question = Some(question);
    for step in first..=STEPS {
        let mut stop = tokio::select! {
            () = runner.cancelled() => true,
            () = tokio::time::sleep(pause) => false,
        };
        if !stop && step == half {
            match ask(question.take().unwrap_or(Question::Skip), runner).await {
                Ok(Some(answer)) => include_deleted = answer,
                Ok(None) => return Ok(Done::Ask),
                Err(TaskExit::Cancelled) => stop = true,
                Err(error) => return Err(error),
            }
        }
        if stop {
            tracing::info!(step, "make_report cancelled");
            shared.reports_cancelled.fetch_add(1, Ordering::Relaxed);
            return Err(TaskExit::Cancelled);
        }
        let percent = step * 100 / STEPS;
        runner
            .say(step, format!("Writing the report… {percent}%"))
            .await;
    }
    Ok(Done::Report(report(shared, include_deleted)))
}

/// The report: the notes there are, and (if asked for) the ones deleted since the start.
fn report(shared: &Shared, include_deleted: bool) -> CallToolResult {
    let notes = shared
        .notes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let deleted: BTreeMap<String, String> = initial_notes()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(id, _)| !notes.contains_key(*id))
        .map(|(id, text)| (id.clone(), text.clone()))
        .collect();
    let list = |notes: &BTreeMap<String, String>| {
        notes
            .iter()
            .map(|(id, text)| format!("- `{id}`: {text}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut text = match notes.len() {
        0 => "Report: no notes left.".to_owned(),
        1 => format!("Report: 1 note.\n\n{}", list(&notes)),
        n => format!("Report: {n} notes.\n\n{}", list(&notes)),
    };
    if include_deleted {
        if deleted.is_empty() {
            text.push_str("\n\nNo note was deleted.");
        } else {
            text.push_str(&format!(
                "\n\nDeleted since the demo started: {}.\n\n{}",
                deleted.len(),
                list(&deleted)
            ));
        }
    } else if !deleted.is_empty() {
        let (count, s) = (deleted.len(), if deleted.len() == 1 { "" } else { "s" });
        text.push_str(&format!("\n\n({count} deleted note{s} left out.)"));
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({
        "notes": notes.len(),
        "deleted": include_deleted.then_some(deleted.len()),
    }));
    result
}

#[cfg(test)]
mod tests;
