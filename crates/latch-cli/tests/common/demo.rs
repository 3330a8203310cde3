//! The bundled demo server (`latch-demo`) run in-process on 127.0.0.1, added to a
//! `LATCH_HOME` as `demo` and signed in to with headless consent: the start of the tests of
//! tasks (`tasks_extension.rs`, `bridge_tasks.rs`) and of the demo itself (`demo.rs`).

use std::{path::Path, time::Duration};

use latch_demo::{DemoOptions, DemoServer};

use super::{latch_home, latch_ok};

/// An in-process demo issuing access tokens that live `ttl`, added as `demo` to `home` and
/// signed in to by `latch login` (run off the async workers). It stops when stopped or dropped.
pub async fn signed_in_demo(home: &Path, ttl: Duration) -> DemoServer {
    let demo = DemoServer::start(DemoOptions {
        port: 0,
        access_token_ttl: ttl,
    })
    .await
    .expect("the demo starts");
    let (home, url) = (home.to_owned(), demo.url());
    tokio::task::spawn_blocking(move || {
        latch_ok(&home, &["servers", "add", "demo", &url]);
        latch_ok(&home, &["login", "demo", "--browser", "headless"]);
    })
    .await
    .unwrap();
    demo
}

/// `test` with a fresh `LATCH_HOME` holding a signed-in demo (default token lifetime) and
/// the demo itself; the demo is stopped at the end.
pub fn with_demo(test: impl FnOnce(&Path, &DemoServer)) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let home = latch_home();
    let ttl = DemoOptions::default().access_token_ttl;
    let demo = runtime.block_on(signed_in_demo(home.path(), ttl));
    test(home.path(), &demo);
    runtime.block_on(demo.stop());
}
