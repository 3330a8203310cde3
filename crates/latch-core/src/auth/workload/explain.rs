//! What `latch doctor` says about a workload server, step by step, by doing each step now:
//! where the platform token is read from and whether it could be (never showing it), what it
//! says about itself (issuer, subject, audience, expiry — decoded, not verified), the
//! authorization server and whether it offers the jwt-bearer grant, whether the token is meant
//! for it, and the exchange itself (which stores the grant, as a sign-in does).

use super::{
    super::{AuthSettings, SignInOptions, WorkloadToken},
    WorkloadError, authorization_server, now, platform, read_token,
};
use crate::app::{DoctorStep, StepStatus};

/// The steps, and whether the exchange gave a token.
pub(crate) async fn explain(
    server: &str,
    url: &str,
    settings: &AuthSettings,
    options: &SignInOptions,
) -> (Vec<DoctorStep>, bool) {
    let mut steps = Vec::new();
    let Some(source) = settings.workload_token.as_ref() else {
        let error = WorkloadError::NotConfigured {
            server: server.to_owned(),
        };
        steps.push(failed(
            "Read the platform token",
            error.to_string(),
            "Say where the platform writes its token: `auth.tokenFile`, `auth.tokenEnv` or `auth.tokenCommand`.",
        ));
        return (steps, false);
    };
    let token = read_token(server, source).await;
    let claims = match &token {
        Ok(token) => {
            steps.push(ok(
                "Read the platform token",
                format!(
                    "Read from {} (the token is not shown).",
                    platform::describe(source)
                ),
            ));
            let claims = token.claims();
            steps.push(match &claims {
                None => failed(
                    "Read the token's claims",
                    "The token is not a JWT, so it cannot be the assertion of a jwt-bearer grant."
                        .into(),
                    "Give the platform's OIDC token (a JWT), not another kind of token.",
                ),
                Some(claims) if claims.expired_for(now()).is_some() => failed(
                    "Read the token's claims",
                    format!("{} (decoded, not verified).", capitalised(&claims.summary(now()))),
                    "The platform should renew it: check that Latch reads the token the platform keeps fresh.",
                ),
                Some(claims) => ok(
                    "Read the token's claims",
                    format!("{} (decoded, not verified).", capitalised(&claims.summary(now()))),
                ),
            });
            claims
        }
        Err(error) => {
            steps.push(failed(
                "Read the platform token",
                error.to_string(),
                &source_fix(source),
            ));
            None
        }
    };
    let found = match authorization_server(server, url, None, settings, options).await {
        Ok(found) => found,
        Err(error) => {
            let fix = match &error {
                super::super::SignInError::Workload(WorkloadError::NotOffered { .. }) => {
                    "Ask the sign-in server's owner to enable the jwt-bearer grant (workload identity federation)."
                }
                _ => {
                    "Check the server's address; it must say where to sign in (its protected resource metadata)."
                }
            };
            steps.push(failed("Find the sign-in server", error.to_string(), fix));
            steps.push(skipped("Exchange the platform token", "Not tried."));
            return (steps, false);
        }
    };
    let metadata = &found.metadata;
    let named = metadata
        .issuer
        .clone()
        .unwrap_or_else(|| crate::net::shown(&metadata.token_endpoint));
    steps.push(ok(
        "Find the sign-in server",
        format!(
            "{named} (token endpoint {}); {}.",
            crate::net::shown(&metadata.token_endpoint),
            match found.lists_jwt_bearer {
                Some(_) => "it lists the jwt-bearer grant",
                None => "it lists no grant types, so Latch tries jwt-bearer",
            }
        ),
    ));
    if let Some(claims) = &claims {
        match claims.audience_matches(metadata.issuer.as_deref(), &metadata.token_endpoint) {
            Some(true) => steps.push(ok(
                "Match the token's audience",
                format!("The token is meant for {}, the sign-in server.", claims.aud.join(", ")),
            )),
            Some(false) => steps.push(failed(
                "Match the token's audience",
                format!(
                    "The token is meant for {}, but the sign-in server is {named}.",
                    claims.aud.join(", ")
                ),
                &format!(
                    "Have the platform issue the token for the audience {named} (the projected volume's `audience` in Kubernetes; the `audience` asked for in GitHub Actions)."
                ),
            )),
            None => steps.push(skipped(
                "Match the token's audience",
                "The token names no audience.",
            )),
        }
    }
    if token.is_err() {
        steps.push(skipped(
            "Exchange the platform token",
            "Not tried: no token.",
        ));
        return (steps, false);
    }
    match super::sign_in(server, url, settings, None, options).await {
        Ok(signed_in) => {
            let scopes = if signed_in.scopes.is_empty() {
                String::new()
            } else {
                format!(" for {}", signed_in.scopes.join(" "))
            };
            steps.push(ok(
                "Exchange the platform token",
                format!("The sign-in server gave an access token{scopes} (jwt-bearer grant)."),
            ));
            (steps, true)
        }
        Err(error) => {
            let fix = match &error {
                super::super::SignInError::Workload(WorkloadError::Refused { code, .. })
                    if code == "invalid_scope" =>
                {
                    "Set `auth.scopes` to scopes the workload may have."
                }
                super::super::SignInError::Workload(WorkloadError::Refused { code, .. })
                    if code.ends_with("_client") =>
                {
                    "Ask the sign-in server's owner to let this workload use the jwt-bearer grant, or check `auth.clientId`."
                }
                _ => {
                    "Fix what the message names (the token's audience, its expiry, the trust between the platform and the sign-in server), then run the doctor again."
                }
            };
            steps.push(failed(
                "Exchange the platform token",
                error.to_string(),
                fix,
            ));
            (steps, false)
        }
    }
}

fn source_fix(source: &WorkloadToken) -> String {
    match source {
        WorkloadToken::File(path) => format!(
            "Check that the platform writes its token to {} (a projected service-account token's path) and that Latch may read it.",
            path.display()
        ),
        WorkloadToken::Env(var) => format!(
            "Set {var} to the platform's token before running Latch (in GitHub Actions, request the OIDC token first; the job needs `permissions: id-token: write`)."
        ),
        WorkloadToken::Command(_) => {
            "Run the command yourself: it must succeed and print only the token.".to_owned()
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn ok(name: &str, detail: String) -> DoctorStep {
    step(name, StepStatus::Ok, detail, None)
}

fn skipped(name: &str, detail: &str) -> DoctorStep {
    step(name, StepStatus::Skipped, detail.to_owned(), None)
}

fn failed(name: &str, detail: String, fix: &str) -> DoctorStep {
    step(name, StepStatus::Failed, detail, Some(fix.to_owned()))
}

fn step(name: &str, status: StepStatus, detail: String, fix: Option<String>) -> DoctorStep {
    DoctorStep {
        name: name.to_owned(),
        status,
        detail,
        fix,
    }
}
