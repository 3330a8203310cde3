//! The other MCP clients Latch imports from and exports to, and where each keeps its file.
//! Claude Desktop and Cursor use the `mcpServers` shape Latch itself uses; VS Code uses
//! `servers` with a `type` on every entry.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// An MCP client whose configuration Latch can read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternalApp {
    /// Claude Desktop: `claude_desktop_config.json`.
    Claude,
    /// Visual Studio Code: `mcp.json` (user or `.vscode/` in a workspace).
    VsCode,
    /// Cursor: `~/.cursor/mcp.json` or `.cursor/mcp.json` in a project.
    Cursor,
}

impl ExternalApp {
    /// All apps, in the order the CLI lists them.
    pub const ALL: [ExternalApp; 3] = [Self::Claude, Self::VsCode, Self::Cursor];

    /// The name used on the command line (`claude`, `vscode`, `cursor`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::VsCode => "vscode",
            Self::Cursor => "cursor",
        }
    }

    /// The name people know the app by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Claude => "Claude Desktop",
            Self::VsCode => "VS Code",
            Self::Cursor => "Cursor",
        }
    }

    /// Where the app keeps its MCP servers, most likely first. The config folder is
    /// `~/.config` on Linux, `~/Library/Application Support` on macOS and `%APPDATA%` on
    /// Windows; workspace files are looked up in the current directory.
    pub fn default_paths(self) -> Vec<PathBuf> {
        let base = directories::BaseDirs::new();
        let config = base.as_ref().map(|b| b.config_dir().to_path_buf());
        let home = base.as_ref().map(|b| b.home_dir().to_path_buf());
        let cwd = std::env::current_dir().ok();
        let mut paths = Vec::new();
        match self {
            Self::Claude => {
                paths.extend(config.map(|c| c.join("Claude").join("claude_desktop_config.json")));
            }
            Self::VsCode => {
                paths.extend(config.map(|c| c.join("Code").join("User").join("mcp.json")));
                paths.extend(cwd.map(|d| d.join(".vscode").join("mcp.json")));
            }
            Self::Cursor => {
                paths.extend(home.map(|h| h.join(".cursor").join("mcp.json")));
                paths.extend(cwd.map(|d| d.join(".cursor").join("mcp.json")));
            }
        }
        paths
    }
}

impl fmt::Display for ExternalApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

impl FromStr for ExternalApp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "claude" | "claude-desktop" => Ok(Self::Claude),
            "vscode" | "vs-code" | "code" => Ok(Self::VsCode),
            "cursor" => Ok(Self::Cursor),
            _ => Err(format!("unknown app `{s}` — use claude, vscode or cursor")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_paths_end_in_the_app_files() {
        let claude = ExternalApp::Claude.default_paths();
        assert!(
            claude
                .iter()
                .all(|p| p.ends_with("Claude/claude_desktop_config.json"))
        );
        let code = ExternalApp::VsCode.default_paths();
        assert!(code.iter().any(|p| p.ends_with("Code/User/mcp.json")));
        assert!(code.iter().any(|p| p.ends_with(".vscode/mcp.json")));
        let cursor = ExternalApp::Cursor.default_paths();
        assert!(cursor.iter().all(|p| p.ends_with(".cursor/mcp.json")));
        for app in ExternalApp::ALL {
            assert_eq!(app.as_str().parse::<ExternalApp>().unwrap(), app);
        }
    }
}
