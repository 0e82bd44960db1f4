//! `https://` targets: HTTP/2 or HTTP/1.1 by ALPN, or as forced.
//!
//! The target is hyper's server behind rustls, with a certificate made in
//! the test and offering `h2` and `http/1.1` by ALPN; the binary trusts the
//! certificate through `SSL_CERT_FILE` (read by the platform verifier on
//! Linux), so nothing else in the test process changes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tokio_rustls::TlsAcceptor;

use crate::servers::{Counts, accept_each, serve_counting};
use crate::util::{loadgen_command, output};

/// A TLS target on 127.0.0.1:0 offering `alpn`, served by
/// [`serve_counting`]; returns its URL (as `localhost`), the certificate's
/// PEM file, and its counts.
async fn tls_target(alpn: &[&[u8]]) -> (String, PathBuf, Arc<Counts>) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
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
    let counts = Arc::new(Counts::default());
    let seen = counts.clone();
    let addr = accept_each(move |stream| {
        let (acceptor, seen) = (acceptor.clone(), seen.clone());
        async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return; // the ALPN probe may close before the handshake ends
            };
            serve_counting(stream, seen).await;
        }
    })
    .await;
    let port = addr.port();
    let pem = std::env::temp_dir().join(format!("obslab-alpn-{}-{port}.pem", std::process::id()));
    std::fs::write(&pem, key.cert.pem()).unwrap();
    (format!("https://localhost:{port}"), pem, counts)
}

/// Runs the binary against `url` trusting `pem`, with `extra` options;
/// the JSON report.
async fn loadgen(url: &str, pem: &PathBuf, extra: &[&str]) -> Value {
    let words = ["--progress", "off", "--output", "json", "--target", url];
    let mut cmd = loadgen_command(&[&words[..], &["--mix", "GET /=1"], extra].concat());
    cmd.env("SSL_CERT_FILE", pem);
    let out = output(cmd).await;
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
