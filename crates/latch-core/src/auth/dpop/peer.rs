//! A tiny HTTP/1.1 server on 127.0.0.1 for the DPoP tests: each request's headers go to a
//! handler that answers with a status, headers and a body. The
//! server stops when the [`Peer`] is dropped.

use std::{collections::HashMap, sync::Arc};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    task::JoinHandle,
};

pub(crate) struct Request {
    pub(crate) headers: HashMap<String, String>,
}

impl Request {
    /// The claims of the request's DPoP proof.
    pub(crate) fn proof_claims(&self) -> serde_json::Value {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
        let proof = self.headers.get("dpop").cloned().unwrap_or_default();
        let claims = proof.split('.').nth(1).unwrap_or_default();
        serde_json::from_slice(&B64.decode(claims).unwrap_or_default()).unwrap_or_default()
    }
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

pub(crate) struct Peer {
    pub(crate) url: String,
    task: JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Peer {
    pub(crate) async fn start(
        handler: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.is_err() {
                        return;
                    }
                    let mut headers = HashMap::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.trim_end().split_once(':') {
                            headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
                        }
                    }
                    let length: usize = headers
                        .get("content-length")
                        .and_then(|l| l.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body).await;
                    let answer = handler(&Request { headers });
                    let mut text = format!(
                        "HTTP/1.1 {} X\r\nconnection: close\r\ncontent-length: {}\r\n",
                        answer.status,
                        answer.body.len()
                    );
                    for (name, value) in answer.headers {
                        text.push_str(&format!("{name}: {value}\r\n"));
                    }
                    text.push_str("\r\n");
                    text.push_str(&answer.body);
                    let _ = write.write_all(text.as_bytes()).await;
                    let _ = write.shutdown().await;
                });
            }
        });
        Self { url, task }
    }
}
