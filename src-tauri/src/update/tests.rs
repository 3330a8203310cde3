//! The updater against a manifest served on 127.0.0.1: the real `tauri-plugin-updater` in Tauri's
//! mock runtime, a minisign key made here, Tauri's `latest.json` format. A newer signed release
//! is offered and installs (over a stand-in AppImage); a tampered signature or artifact is
//! refused and nothing is written; an older release is not offered; with no address nothing is
//! asked.

use std::{
    collections::HashMap,
    io::Cursor,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use base64::Engine as _;
use latch_core::app::UpdateView;
use serde_json::json;
use tauri::{App, test::MockRuntime};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use super::{Installer, Updates, endpoint};

const ARTIFACT: &[u8] = b"Latch 99.0.0 AppImage (test build)";
const OLD_BUILD: &[u8] = b"the running Latch";

/// A key pair made for this test, in the encodings Tauri's config and manifest use.
struct Signer {
    keys: minisign::KeyPair,
}

impl Signer {
    fn new() -> Self {
        Signer {
            keys: minisign::KeyPair::generate_unencrypted_keypair().unwrap(),
        }
    }

    /// `plugins.updater.pubkey`: base64 of the minisign public key file.
    fn pubkey(&self) -> String {
        let text = self.keys.pk.to_box().unwrap().to_string();
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// A platform's `signature`: base64 of the `.sig` file, with the version in the trusted
    /// comment as the Tauri CLI writes it.
    fn sign(&self, data: &[u8], version: &str) -> String {
        let trusted =
            format!("timestamp:1767225600\tfile:Latch_{version}_amd64.AppImage\tversion:{version}");
        let signature = minisign::sign(
            Some(&self.keys.pk),
            &self.keys.sk,
            Cursor::new(data),
            Some(&trusted),
            Some("signature from tauri secret key"),
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(signature.to_string())
    }
}

/// A static file server on 127.0.0.1 that counts the requests it answers.
#[derive(Clone, Default)]
struct Server {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    requests: Arc<AtomicUsize>,
    port: u16,
}

impl Server {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server {
            port: listener.local_addr().unwrap().port(),
            ..Server::default()
        };
        let state = server.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    state.requests.fetch_add(1, Ordering::SeqCst);
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let body = state.files.lock().unwrap().get(&path).cloned();
                    let response = match body {
                        Some(body) => {
                            let mut r = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            )
                            .into_bytes();
                            r.extend(body);
                            r
                        }
                        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                    };
                    let _ = stream.write_all(&response).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), body.into());
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Tauri's static `latest.json` for one Linux x86_64 artifact.
    fn publish(&self, version: &str, artifact: &[u8], signature: &str) {
        self.put("/Latch.AppImage", artifact);
        let platform = platform_key();
        let manifest = json!({
            "version": version,
            "notes": format!("What is new in {version}."),
            "pub_date": "2026-12-01T12:00:00Z",
            "platforms": {
                platform: {
                    "url": self.url("/Latch.AppImage"),
                    "signature": signature,
                }
            }
        });
        self.put("/latest.json", manifest.to_string());
    }
}

/// The manifest key the plugin looks for on this machine (`linux-x86_64` on CI).
fn platform_key() -> String {
    tauri_plugin_updater::target().expect("a platform the updater supports")
}

/// The real plugin in Tauri's mock runtime, configured from the shipped `tauri.conf.json` with
/// this test's key, running the workspace's version.
fn app(pubkey: &str) -> App<MockRuntime> {
    let shipped: serde_json::Value =
        serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
    let mut updater = shipped["plugins"]["updater"].clone();
    assert_eq!(
        updater["requireSignedVersion"], true,
        "the shipped config binds signatures to versions"
    );
    updater["pubkey"] = json!(pubkey);
    let mut context = tauri::test::mock_context(tauri::test::noop_assets());
    context
        .config_mut()
        .plugins
        .0
        .insert("updater".into(), updater);
    context.package_info_mut().version = env!("CARGO_PKG_VERSION").parse().unwrap();
    tauri::test::mock_builder()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .build(context)
        .unwrap()
}

/// A stand-in for the running AppImage, which an install replaces.
fn running_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Latch.AppImage");
    std::fs::write(&path, OLD_BUILD).unwrap();
    (dir, path)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_newer_signed_release_is_offered_verified_and_installed() {
    let signer = Signer::new();
    let app = app(&signer.pubkey());
    let (_dir, path) = running_copy();
    runtime().block_on(async {
        let server = Server::start().await;
        server.publish("99.0.0", ARTIFACT, &signer.sign(ARTIFACT, "99.0.0"));
        let updates = Updates::new(
            Some(server.url("/latest.json").parse().unwrap()),
            Installer::InApp(Some(path.clone())),
        );

        let view = updates.check(app.handle()).await;
        assert_eq!(
            view,
            UpdateView::Available {
                version: "99.0.0".into(),
                notes: Some("What is new in 99.0.0.".into()),
                can_install: true,
                download_url: server.url("/Latch.AppImage"),
            }
        );
        assert_eq!(updates.view(), view);
        assert_eq!(
            updates.tray_label().as_deref(),
            Some("Latch 99.0.0 is available — install it")
        );
        // The manifest, and the artifact downloaded and verified before it was offered.
        assert_eq!(server.requests(), 2);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            OLD_BUILD,
            "checking installs nothing"
        );

        // A second check of the same release does not download it again.
        updates.check(app.handle()).await;
        assert_eq!(server.requests(), 3);

        assert_eq!(updates.install().await, Ok("99.0.0".to_owned()));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            ARTIFACT,
            "the AppImage was replaced"
        );
    });
}

#[test]
fn a_tampered_signature_is_refused_and_nothing_is_installed() {
    let signer = Signer::new();
    let app = app(&signer.pubkey());
    let (_dir, path) = running_copy();
    runtime().block_on(async {
        let server = Server::start().await;
        // Signed, but by another key.
        let stranger = Signer::new();
        server.publish("99.0.0", ARTIFACT, &stranger.sign(ARTIFACT, "99.0.0"));
        let updates = Updates::new(
            Some(server.url("/latest.json").parse().unwrap()),
            Installer::InApp(Some(path.clone())),
        );
        let view = updates.check(app.handle()).await;
        let UpdateView::Failed { message } = &view else {
            panic!("a release signed by another key was offered: {view:?}");
        };
        assert_eq!(
            message,
            "Latch 99.0.0 was offered but its download does not match Latch's signing key, so it was not installed."
        );
        assert_eq!(updates.tray_label(), None);
        assert!(updates.install().await.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), OLD_BUILD);

        // Our key's signature over other bytes.
        server.publish("99.0.0", ARTIFACT, &signer.sign(b"something else", "99.0.0"));
        assert_eq!(updates.check(app.handle()).await, view);

        // Our key, the right bytes, but signed for an older version than announced.
        server.publish("99.0.0", ARTIFACT, &signer.sign(ARTIFACT, "0.0.1"));
        assert_eq!(updates.check(app.handle()).await, view);
        assert_eq!(std::fs::read(&path).unwrap(), OLD_BUILD);
    });
}

#[test]
fn an_artifact_swapped_after_the_offer_is_not_installed() {
    let signer = Signer::new();
    let app = app(&signer.pubkey());
    let (_dir, path) = running_copy();
    runtime().block_on(async {
        let server = Server::start().await;
        server.publish("99.0.0", ARTIFACT, &signer.sign(ARTIFACT, "99.0.0"));
        let updates = Updates::new(
            Some(server.url("/latest.json").parse().unwrap()),
            Installer::InApp(Some(path.clone())),
        );
        assert!(matches!(
            updates.check(app.handle()).await,
            UpdateView::Available { .. }
        ));
        server.put("/Latch.AppImage", b"Latch 99.0.0, tampered".to_vec());

        let refused = updates.install().await.unwrap_err();
        assert!(
            refused.contains("does not match Latch's signing key"),
            "{refused}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            OLD_BUILD,
            "nothing was written"
        );
        assert!(matches!(updates.view(), UpdateView::Failed { .. }));
    });
}

#[test]
fn an_older_or_same_release_is_not_offered() {
    let signer = Signer::new();
    let app = app(&signer.pubkey());
    runtime().block_on(async {
        let server = Server::start().await;
        let updates = Updates::new(
            Some(server.url("/latest.json").parse().unwrap()),
            Installer::InApp(None),
        );
        for version in ["0.0.1", env!("CARGO_PKG_VERSION")] {
            server.publish(version, ARTIFACT, &signer.sign(ARTIFACT, version));
            let view = updates.check(app.handle()).await;
            assert!(
                matches!(view, UpdateView::UpToDate { .. }),
                "{version}: {view:?}"
            );
            assert_eq!(updates.tray_label(), None);
        }
        // Only the manifest was asked for, twice; nothing was downloaded.
        assert_eq!(server.requests(), 2);
    });
}

#[test]
fn a_package_install_links_to_the_download_instead() {
    let signer = Signer::new();
    let app = app(&signer.pubkey());
    runtime().block_on(async {
        let server = Server::start().await;
        server.publish("99.0.0", ARTIFACT, &signer.sign(ARTIFACT, "99.0.0"));
        let updates = Updates::new(
            Some(server.url("/latest.json").parse().unwrap()),
            Installer::Download,
        );
        let view = updates.check(app.handle()).await;
        assert!(
            matches!(
                view,
                UpdateView::Available {
                    can_install: false,
                    ..
                }
            ),
            "{view:?}"
        );
        assert_eq!(
            updates.tray_label().as_deref(),
            Some("Latch 99.0.0 is available — download it")
        );
        assert_eq!(
            updates.install().await,
            Err(format!(
                "Latch 99.0.0 is available — download it from {}",
                server.url("/Latch.AppImage")
            ))
        );
    });
}

#[test]
fn with_no_address_nothing_is_asked() {
    let signer = Signer::new();
    let app = app(&signer.pubkey());
    // The shipped config has no address; an empty LATCH_UPDATE_URL turns a configured one off.
    assert_eq!(endpoint(None, app.config()), Ok(None));
    assert_eq!(endpoint(Some("  ".into()), app.config()), Ok(None));
    let mut config = app.config().clone();
    config.plugins.0.get_mut("updater").unwrap()["endpoints"] =
        json!(["https://releases.example/latest.json"]);
    assert_eq!(endpoint(Some(String::new()), &config), Ok(None));
    assert_eq!(
        endpoint(None, &config).unwrap().map(String::from),
        Some("https://releases.example/latest.json".to_owned())
    );
    // No signing key: off, and says why.
    config.plugins.0.get_mut("updater").unwrap()["pubkey"] = json!("");
    assert!(
        endpoint(None, &config)
            .unwrap_err()
            .contains("no update signing key")
    );

    runtime().block_on(async {
        let server = Server::start().await;
        server.publish("99.0.0", ARTIFACT, &signer.sign(ARTIFACT, "99.0.0"));
        let updates = Updates::new(None, Installer::InApp(None));
        assert!(!updates.enabled());
        assert_eq!(updates.check(app.handle()).await, UpdateView::Off);
        assert_eq!(updates.view(), UpdateView::Off);
        assert_eq!(server.requests(), 0);
    });
}
