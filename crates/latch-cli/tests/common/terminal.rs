//! Running `latch` as a person at a terminal would: under a pseudo-terminal from `script(1)`
//! (util-linux), so Latch asks its questions, with what the person types piped in. The tests
//! of `latch call`'s questions (`input.rs`) and of tasks that ask mid-way (`tasks.rs`) share it.

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
};

/// `latch ARGS` under a pseudo-terminal (`script -qec`), with `typed` as what the person
/// types; what the terminal showed. `ARGS` is one shell line (quote paths in it). Fails the
/// test when latch does not end well.
pub fn at_a_terminal(home: &Path, args: &str, typed: &str) -> String {
    let latch = assert_cmd::cargo::cargo_bin("latch");
    let line = format!("'{}' {args}", latch.display());
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("LATCH_HOME", home)
        .env("LATCH_TOKEN_STORE", "file")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs (util-linux)");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(typed.as_bytes())
        .expect("typed");
    let output = child.wait_with_output().expect("script ends");
    let screen = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{screen}");
    screen
}
