//! `https://` targets: HTTP/2 or HTTP/1.1 by ALPN, or as forced.
//!
//! The target is hyper's server behind rustls, with a certificate made in
//! the test and offering `h2` and `http/1.1` by ALPN; the binary trusts the
//! certificate through `SSL_CERT_FILE` (read by the platform verifier on
//! Linux), so nothing else in the test process changes.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use bytes::Bytes;
use http::{Response, Version};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Requests the TLS target saw, by version.
#[derive(Default)]
struct Counts {
    http1: AtomicU64,
    http2: AtomicU64,
}

/// A TLS target on 127.0.0.1:0 offering `alpn`; returns its URL (as
/// `localhost`), the certificate's PEM file, and its counts.
async fn tls_target(alpn: &[&[u8]]) -> (String, PathBuf, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = std::env::temp_dir().join(format!("obslab-alpn-{}-{port}.pem", std::process::id()));
    std::fs::write(&pem, key.cert.pem()).unwrap();
    let private = PrivatePkcs8KeyDer::from(key.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![key.cert.der().clone()], PrivateKeyDer::Pkcs8(private))
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let url = format!("https://localhost:{port}");
    let counts = Arc::new(Counts::default());
    let seen = counts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return; // the ALPN probe may close before the handshake ends
                };
                let service = service_fn(move |request: http::Request<_>| {
                    let counter = match request.version() {
                        Version::HTTP_2 => &seen.http2,
                        _ => &seen.http1,
                    };
                    counter.fetch_add(1, SeqCst);
                    async { Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from("ok")))) }
                });
                let builder = Builder::new(TokioExecutor::new());
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, pem, counts)
}

/// Runs the binary against `url` trusting `pem`, with `extra` options;
/// the JSON report.
async fn loadgen(url: &str, pem: &PathBuf, extra: &[&str]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obslab-loadgen"));
    cmd.args([
        "--progress",
        "off",
        "--output",
        "json",
        "--target",
        url,
        "--mix",
        "GET /=1",
    ])
    .args(extra)
    .env("SSL_CERT_FILE", pem)
    .env("RUST_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_negotiates_http2_by_alpn_unless_http1_is_forced() {
    let (url, pem, counts) = tls_target(&[b"h2", b"http/1.1"]).await;
    let closed = ["--concurrency", "4", "--requests", "100"];
    let report = loadgen(&url, &pem, &closed).await;
    assert_eq!(report["responses"], 100, "{report}");
    assert_eq!(report["protocol"], "HTTP/2");
    assert_eq!(counts.http2.load(SeqCst), 100);
    let open = ["--rate", "500", "--requests", "100"];
    let report = loadgen(&url, &pem, &open).await;
    assert_eq!(report["endpoints"][0]["protocol"], "HTTP/2", "{report}");
    assert_eq!(counts.http2.load(SeqCst), 200);

    let forced = ["--http1", "--rate", "500", "--requests", "50"];
    let report = loadgen(&url, &pem, &forced).await;
    assert_eq!(report["protocol"], "HTTP/1.1", "{report}");
    assert_eq!(counts.http1.load(SeqCst), 50);
    assert_eq!(counts.http2.load(SeqCst), 200);
    let _ = std::fs::remove_file(pem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_without_h2_in_alpn_speaks_http1() {
    let (url, pem, counts) = tls_target(&[b"http/1.1"]).await;
    let report = loadgen(&url, &pem, &["--concurrency", "2", "--requests", "40"]).await;
    assert_eq!(report["protocol"], "HTTP/1.1", "{report}");
    assert_eq!(
        (counts.http1.load(SeqCst), counts.http2.load(SeqCst)),
        (40, 0)
    );
    let _ = std::fs::remove_file(pem);
}
