//! The platform's token: read fresh from where `auth.tokenFile`, `auth.tokenEnv` or
//! `auth.tokenCommand` say each time a sign-in needs it (platforms rotate it: a projected
//! Kubernetes token is rewritten in place, GitHub Actions hands out a new one per request), and
//! its claims decoded — not verified, that is the authorization server's job — so messages and
//! the doctor can say which audience or expiry is wrong. The token itself never leaves this
//! module except as the grant's assertion: `Debug` and every message leave it out.

use std::time::Duration;

use base64::Engine as _;

use super::super::WorkloadToken;

/// How long `auth.tokenCommand` may take before it is stopped.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A platform token, kept out of `Debug` output.
pub(crate) struct PlatformToken(String);

impl std::fmt::Debug for PlatformToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformToken([REDACTED])")
    }
}

impl PlatformToken {
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }

    #[cfg(test)]
    pub(crate) fn for_test(token: &str) -> Self {
        Self(token.to_owned())
    }

    /// The claims of the token when it is a JWT (decoded, not verified).
    pub(crate) fn claims(&self) -> Option<Claims> {
        Claims::decode(&self.0)
    }

    /// `text` with every occurrence of the token replaced, for a message from elsewhere.
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "[token]")
        }
    }
}

/// Where the token comes from, in words: "the file /var/run/…/token".
pub(crate) fn describe(source: &WorkloadToken) -> String {
    match source {
        WorkloadToken::File(path) => format!("the file {}", path.display()),
        WorkloadToken::Env(var) => format!("the environment variable {var}"),
        WorkloadToken::Command(argv) => format!("the command `{}`", argv.join(" ")),
    }
}

/// Read the token now. The error is a reason in plain words (never the token).
pub(crate) async fn read(source: &WorkloadToken) -> Result<PlatformToken, String> {
    let text = match source {
        WorkloadToken::File(path) => tokio::fs::read_to_string(path).await.map_err(|e| match e
            .kind()
        {
            std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
            std::io::ErrorKind::PermissionDenied => "Latch may not read it".to_owned(),
            _ => format!("it could not be read ({e})"),
        })?,
        WorkloadToken::Env(var) => match std::env::var(var) {
            Ok(value) => value,
            Err(std::env::VarError::NotPresent) => return Err("it is not set".into()),
            Err(std::env::VarError::NotUnicode(_)) => return Err("it is not text".into()),
        },
        WorkloadToken::Command(argv) => run(argv).await?,
    };
    let token = text.trim();
    if token.is_empty() {
        return Err("it is empty".into());
    }
    if token.chars().any(char::is_whitespace) {
        return Err("it holds more than one word; it should hold only the token".into());
    }
    Ok(PlatformToken(token.to_owned()))
}

/// Run `argv` (no shell), with no input, for at most [`COMMAND_TIMEOUT`]: its output.
async fn run(argv: &[String]) -> Result<String, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("no command is given".into());
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{program} was not found"),
            _ => format!("{program} could not be started ({e})"),
        })?;
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| format!("it did not finish within {} s", COMMAND_TIMEOUT.as_secs()))?
        .map_err(|e| format!("its output could not be read ({e})"))?;
    if !output.status.success() {
        // Its last line of errors says why, usually ("not logged in"); never its output.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(": {}", crate::auth::one_line(l)))
            .unwrap_or_default();
        return Err(format!("it failed ({}){said}", output.status));
    }
    String::from_utf8(output.stdout).map_err(|_| "its output is not text".to_owned())
}

/// What a JWT says about itself (decoded without checking its signature).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Claims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    pub(crate) aud: Vec<String>,
    /// Unix seconds.
    pub(crate) exp: Option<u64>,
}

impl Claims {
    fn decode(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let aud = match value.get("aud") {
            Some(serde_json::Value::String(one)) => vec![one.clone()],
            Some(serde_json::Value::Array(many)) => many
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Some(Self {
            iss: text("iss"),
            sub: text("sub"),
            aud,
            exp: value.get("exp").and_then(serde_json::Value::as_u64),
        })
    }

    /// Whether the token's audience names the authorization server (its issuer or its token
    /// endpoint, with or without a trailing slash). `None`: nothing to compare.
    pub(crate) fn audience_matches(
        &self,
        issuer: Option<&str>,
        token_endpoint: &str,
    ) -> Option<bool> {
        if self.aud.is_empty() {
            return None;
        }
        let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
        Some(
            self.aud.iter().any(|aud| {
                issuer.is_some_and(|issuer| same(aud, issuer)) || same(aud, token_endpoint)
            }),
        )
    }

    /// Seconds since the token expired, when it has.
    pub(crate) fn expired_for(&self, now: u64) -> Option<u64> {
        self.exp.filter(|exp| *exp <= now).map(|exp| now - exp)
    }

    /// "issuer X, subject Y, audience Z, expires in N s" — what the doctor shows.
    pub(crate) fn summary(&self, now: u64) -> String {
        let mut parts = Vec::new();
        if let Some(iss) = &self.iss {
            parts.push(format!("issuer {iss}"));
        }
        if let Some(sub) = &self.sub {
            parts.push(format!("subject {sub}"));
        }
        if !self.aud.is_empty() {
            parts.push(format!("audience {}", self.aud.join(", ")));
        }
        match (self.exp, self.expired_for(now)) {
            (Some(_), Some(ago)) => parts.push(format!("expired {} ago", span(ago))),
            (Some(exp), None) => parts.push(format!("expires in {}", span(exp - now))),
            (None, _) => parts.push("no expiry".to_owned()),
        }
        parts.join(", ")
    }
}

/// "45 s", "12 min", "3 h".
pub(crate) fn span(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.c2ln",
            b64(br#"{"alg":"ES256"}"#),
            b64(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn claims_are_decoded_and_compared_with_the_sign_in_server() {
        let token = jwt(serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": "repo:acme/app:ref:refs/heads/main",
            "aud": "https://as.example/",
            "exp": 1_000,
        }));
        let claims = Claims::decode(&token).unwrap();
        assert_eq!(claims.aud, vec!["https://as.example/".to_owned()]);
        assert_eq!(
            claims.audience_matches(Some("https://as.example"), "https://as.example/token"),
            Some(true)
        );
        assert_eq!(
            claims.audience_matches(Some("https://other.example"), "https://other.example/t"),
            Some(false)
        );
        assert_eq!(claims.expired_for(1_060), Some(60));
        assert_eq!(claims.expired_for(900), None);
        assert_eq!(
            claims.summary(900),
            "issuer https://token.actions.githubusercontent.com, subject repo:acme/app:ref:refs/heads/main, audience https://as.example/, expires in 100 s"
        );
        let many = Claims::decode(&jwt(serde_json::json!({"aud": ["a", "b"]}))).unwrap();
        assert_eq!(many.aud.len(), 2);
        assert_eq!(Claims::decode("opaque-token"), None);
    }

    #[tokio::test]
    async fn tokens_are_read_fresh_trimmed_and_never_shown() {
        let dir = std::env::temp_dir().join(format!("latch-workload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "first-token\n").unwrap();
        let source = WorkloadToken::File(file.clone());
        assert_eq!(read(&source).await.unwrap().secret(), "first-token");
        std::fs::write(&file, "second-token").unwrap();
        let token = read(&source).await.unwrap();
        assert_eq!(token.secret(), "second-token");
        assert!(!format!("{token:?}").contains("second-token"));
        assert_eq!(token.scrub("bad second-token here"), "bad [token] here");

        std::fs::write(&file, "  \n").unwrap();
        assert_eq!(read(&source).await.unwrap_err(), "it is empty");
        let missing = WorkloadToken::File(dir.join("nope"));
        assert_eq!(read(&missing).await.unwrap_err(), "it does not exist");
        std::fs::remove_dir_all(&dir).unwrap();

        let command = WorkloadToken::Command(vec!["echo".into(), "from-command".into()]);
        assert_eq!(read(&command).await.unwrap().secret(), "from-command");
        let failing = WorkloadToken::Command(vec![
            "sh".into(),
            "-c".into(),
            "echo not logged in >&2; exit 3".into(),
        ]);
        let error = read(&failing).await.unwrap_err();
        assert!(
            error.contains("not logged in") && error.contains('3'),
            "{error}"
        );
        let unknown = WorkloadToken::Command(vec!["latch-no-such-program".into()]);
        assert!(read(&unknown).await.unwrap_err().contains("was not found"));
        let unset = WorkloadToken::Env("LATCH_TEST_SURELY_UNSET_VARIABLE".into());
        assert_eq!(read(&unset).await.unwrap_err(), "it is not set");
        assert_eq!(
            describe(&WorkloadToken::Env("CI_TOKEN".into())),
            "the environment variable CI_TOKEN"
        );
    }
}
