//! "Use in…" in the app: the same plan-then-write export as `latch servers export APP`, over
//! [`crate::config::agents`]. The entries start the `latch` command-line tool, so the app has to
//! find it — next to the app's own binary, else on `PATH` — and says so in the plan when it
//! cannot. The plan is not kept between the two calls: [`Latch::apply_export`] plans again and
//! writes only when the diff is still the one the person saw.

use std::path::{Path, PathBuf};

use super::{AppError, ExportDone, ExportPlanView, ImportSource, Latch, Result, config_error};
use crate::config::{self, ConfigFile, ExportPlan, ExternalApp};

impl Latch {
    /// What "Use in…" would write into `app`'s config file for `names` (every server when
    /// empty). Nothing is written.
    pub async fn plan_export(
        &self,
        app: ImportSource,
        names: Vec<String>,
    ) -> Result<ExportPlanView> {
        let config = self.load_config()?;
        let latch = find_latch_binary();
        plan(&config, app, &names, latch.as_deref(), None).map(|(view, _)| view)
    }

    /// Writes what [`plan_export`](Self::plan_export) showed: the old file is backed up first.
    /// `diff` is the diff the person saw; when the file (or Latch's servers) changed since,
    /// nothing is written and the error asks them to look again.
    pub async fn apply_export(
        &self,
        app: ImportSource,
        names: Vec<String>,
        diff: String,
    ) -> Result<ExportDone> {
        let config = self.load_config()?;
        let latch = find_latch_binary();
        apply(&config, app, &names, latch.as_deref(), None, &diff)
    }
}

/// The `latch` command: beside the running binary, else the first on `PATH`; absolute and
/// with symlinks resolved, since the other app starts it without Latch's environment.
/// Installed from the .deb or .rpm, that is `/usr/bin/latch` beside `/usr/bin/latch-app`.
pub fn find_latch_binary() -> Option<PathBuf> {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    find_latch_from(me, std::env::var_os("PATH"))
}

/// [`find_latch_binary`] for a given running binary (canonical) and `PATH`.
fn find_latch_from(me: Option<PathBuf>, path: Option<std::ffi::OsString>) -> Option<PathBuf> {
    let name = format!("latch{}", std::env::consts::EXE_SUFFIX);
    let beside = me
        .as_deref()
        .and_then(Path::parent)
        .map(|dir| dir.join(&name));
    let on_path: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(&p).map(|d| d.join(&name)).collect())
        .unwrap_or_default();
    beside
        .into_iter()
        .chain(on_path)
        .filter(|p| p.is_absolute() && is_executable(p))
        .filter_map(|p| p.canonicalize().ok())
        // On a case-insensitive disk `latch` beside `Latch.app/…/Latch` is the app itself.
        .find(|p| Some(p) != me.as_ref())
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn external(app: ImportSource) -> ExternalApp {
    match app {
        ImportSource::Claude => ExternalApp::Claude,
        ImportSource::Vscode => ExternalApp::VsCode,
        ImportSource::Cursor => ExternalApp::Cursor,
    }
}

fn plan(
    config: &ConfigFile,
    app: ImportSource,
    names: &[String],
    latch: Option<&Path>,
    target: Option<&Path>,
) -> Result<(ExportPlanView, Option<ExportPlan>)> {
    let external = external(app);
    let Some(latch) = latch else {
        let path = target
            .map(Path::to_path_buf)
            .or_else(|| external.default_paths().into_iter().next())
            .unwrap_or_default();
        let view = ExportPlanView {
            app,
            path: path.display().to_string(),
            diff: String::new(),
            added: Vec::new(),
            updated: Vec::new(),
            unchanged: Vec::new(),
            conflicts: Vec::new(),
            latch: None,
            problem: Some(format!(
                "{} starts Latch's servers through the `latch` command-line tool, and Latch could not find it next to the app or on your PATH. Install the `latch` command, then try again.",
                external.display_name()
            )),
        };
        return Ok((view, None));
    };
    let plan =
        config::plan_export(config, external, names, latch, target, false).map_err(config_error)?;
    let view = ExportPlanView {
        app,
        path: plan.path.display().to_string(),
        diff: plan.diff.clone(),
        added: plan.added.clone(),
        updated: plan.updated.clone(),
        unchanged: plan.unchanged.clone(),
        conflicts: plan.conflicts.clone(),
        latch: Some(latch.display().to_string()),
        problem: None,
    };
    Ok((view, Some(plan)))
}

fn apply(
    config: &ConfigFile,
    app: ImportSource,
    names: &[String],
    latch: Option<&Path>,
    target: Option<&Path>,
    seen_diff: &str,
) -> Result<ExportDone> {
    let (view, plan) = plan(config, app, names, latch, target)?;
    let Some(plan) = plan else {
        return Err(AppError::new(
            "latchNotFound",
            view.problem.unwrap_or_default(),
        ));
    };
    if plan.diff != seen_diff {
        return Err(AppError::new(
            "changed",
            format!(
                "{} changed since you looked at it — nothing was written. Look at the changes again.",
                plan.path.display()
            ),
        ));
    }
    let done = config::agents::apply(&plan).map_err(config_error)?;
    Ok(ExportDone {
        path: done.path.display().to_string(),
        backup: done.backup.map(|b| b.display().to_string()),
        written: done.written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServerConfig;

    fn config(dir: &Path) -> ConfigFile {
        let mut c = ConfigFile::new(dir.join("servers.json"));
        c.add_server("notion", ServerConfig::remote("https://mcp.notion.com/mcp"))
            .unwrap();
        c
    }

    #[test]
    fn plan_then_apply_what_was_seen() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let file = dir.path().join("mcp.json");
        let latch = Path::new("/usr/local/bin/latch");
        let (view, _) = plan(&c, ImportSource::Vscode, &[], Some(latch), Some(&file)).unwrap();
        assert_eq!(view.added, ["notion"]);
        assert_eq!(view.latch.as_deref(), Some("/usr/local/bin/latch"));
        assert!(view.diff.contains("+    \"notion\": {"), "{}", view.diff);

        let e = apply(
            &c,
            ImportSource::Vscode,
            &[],
            Some(latch),
            Some(&file),
            "stale",
        )
        .unwrap_err();
        assert_eq!(e.kind, "changed");
        assert!(!file.exists());

        let done = apply(
            &c,
            ImportSource::Vscode,
            &[],
            Some(latch),
            Some(&file),
            &view.diff,
        )
        .unwrap();
        assert!(done.written);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(v["servers"]["notion"]["command"], "/usr/local/bin/latch");
    }

    #[test]
    fn a_missing_latch_command_is_said_in_the_plan_and_blocks_writing() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let file = dir.path().join("c.json");
        let (view, plan_) = plan(&c, ImportSource::Claude, &[], None, Some(&file)).unwrap();
        assert!(plan_.is_none());
        assert!(view.problem.unwrap().contains("could not find it"));
        let e = apply(&c, ImportSource::Claude, &[], None, Some(&file), "").unwrap_err();
        assert_eq!(e.kind, "latchNotFound");
        assert!(!file.exists());
    }

    #[cfg(unix)]
    fn executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_installed_app_finds_the_latch_command_beside_it_before_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let app = root.join("usr/bin/latch-app");
        let installed = root.join("usr/bin/latch");
        let elsewhere = root.join("home/.cargo/bin/latch");
        executable(&app);
        executable(&installed);
        executable(&elsewhere);
        let path = Some(elsewhere.parent().unwrap().as_os_str().to_owned());
        assert_eq!(
            find_latch_from(Some(app.clone()), path.clone()),
            Some(installed.clone())
        );
        // Not beside it (a development build): the one on PATH.
        std::fs::remove_file(&installed).unwrap();
        assert_eq!(
            find_latch_from(Some(app.clone()), path),
            Some(elsewhere.clone())
        );
        // Not executable, or nowhere: none.
        std::fs::remove_file(&elsewhere).unwrap();
        std::fs::write(&installed, "").unwrap();
        assert_eq!(find_latch_from(Some(app), None), None);
    }

    #[test]
    fn found_latch_is_absolute_and_not_this_binary() {
        if let Some(p) = find_latch_binary() {
            assert!(p.is_absolute());
            assert_ne!(Some(p), std::env::current_exe().ok());
        }
    }
}
