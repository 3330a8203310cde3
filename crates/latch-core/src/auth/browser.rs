//! Opening an authorization URL for the person. Only `http` and `https` URLs without
//! credentials are ever opened, and never through a shell: the URL is one argument to the
//! platform's opener (mcp-remote's CVE-2025-6514 came from a shell).

use url::Url;

/// How the person reaches the authorization page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrowserMode {
    /// The system browser (and the URL printed, in case it did not open).
    #[default]
    System,
    /// Only print the URL.
    Print,
    /// Latch's own HTTP client follows the redirects — for automated tests only.
    Headless,
}

/// Ask the platform to open `url` in the default browser, without a shell.
pub(crate) fn open_in_system_browser(url: &Url) -> std::io::Result<()> {
    use std::process::Stdio;
    system_opener(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
}

/// The platform's opener for `url` (`open`, `xdg-open`, `rundll32`), with the URL as its
/// one argument.
pub(crate) fn system_opener(url: &Url) -> std::process::Command {
    use std::process::Command;
    if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg(url.as_str());
        c
    } else if cfg!(windows) {
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler").arg(url.as_str());
        c
    } else {
        let mut c = Command::new("xdg-open");
        c.arg(url.as_str());
        c
    }
}
