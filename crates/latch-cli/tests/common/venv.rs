//! A Python venv for a test peer, installed from its pinned `requirements.lock` under
//! `target/tmp/` the first time a test needs it — once, under a lock directory, even when
//! several test processes start together. The provider peers (`providers.rs`) and the Python
//! SDK 2.x peer (`sdk2.rs`) each get their own venv from here.

use std::{
    fs,
    io::ErrorKind,
    path::{Path, PathBuf},
    process::Command,
    thread,
    time::{Duration, Instant, SystemTime},
};

/// What to install: `target/tmp/{name}-python-venv` from `lock_file`, described as `what` in
/// messages; `require_hashes` when the lock pins every package with its hashes.
pub struct Venv<'a> {
    pub name: &'a str,
    pub what: &'a str,
    pub lock_file: PathBuf,
    pub require_hashes: bool,
}

impl Venv<'_> {
    /// The venv's python with the lock file installed, installing it unless a venv stamped with
    /// this exact lock file is there. Panics with pip's output when Python 3.10+ or PyPI is
    /// missing.
    pub fn install(&self) -> PathBuf {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let venv = target.join(format!("{}-python-venv", self.name));
        let python = venv.join("bin/python");
        let stamp = venv.join("requirements.installed");
        let lock_file = &self.lock_file;
        let wanted = fs::read_to_string(lock_file)
            .unwrap_or_else(|e| panic!("could not read {}: {e}", lock_file.display()));
        let ready = || fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str());
        if ready() && python.is_file() {
            return python;
        }
        let _lock = DirLock::acquire(&target.join(format!("{}-venv.lock", self.name)), &ready);
        if ready() && python.is_file() {
            return python;
        }
        let system_python = ["python3", "python"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .args(["-c", "import sys; sys.exit(sys.version_info < (3, 10))"])
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .unwrap_or_else(|| panic!("installing {} needs Python 3.10+ on PATH", self.what));
        let _ = fs::remove_dir_all(&venv);
        eprintln!(
            "installing {}: a venv in {} from {}",
            self.what,
            venv.display(),
            lock_file.display()
        );
        run(Command::new(system_python).args(["-m", "venv"]).arg(&venv));
        let mut pip = Command::new(&python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]);
        if self.require_hashes {
            pip.arg("--require-hashes");
        }
        run(pip.arg("-r").arg(lock_file));
        fs::write(&stamp, &wanted).expect("the venv's stamp");
        python
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("could not run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A lock directory (creating one is atomic across processes), removed when dropped. A lock
/// older than 10 minutes was left by a holder that died and is taken over.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: &Path, done: &dyn Fn() -> bool) -> Option<DirLock> {
        fs::create_dir_all(path.parent().expect("the lock's parent")).expect("target/tmp");
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            match fs::create_dir(path) {
                Ok(()) => return Some(DirLock(path.to_owned())),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if done() {
                        return None;
                    }
                    let age = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|age| age > Duration::from_secs(600)) {
                        let _ = fs::remove_dir(path);
                    }
                    assert!(
                        Instant::now() < deadline,
                        "waited 15 min for {}",
                        path.display()
                    );
                    thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("could not create {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}
