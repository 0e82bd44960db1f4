//! HTTPS targets with a certificate no public CA signed: a TLS server made
//! here (hyper over tokio-rustls, a self-signed certificate from rcgen for
//! 127.0.0.1), trusted with `--ca-cert`, accepted with `--insecure`, and
//! refused at once without either.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::util::{dead_target, run};

/// A TLS server on 127.0.0.1:0 answering every request `200 ok`.
pub struct TlsServer {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// Requests answered.
    answered: Arc<AtomicU64>,
    /// A directory holding `cert.pem`, the server's certificate.
    pub dir: PathBuf,
}

impl TlsServer {
    /// Starts one with a fresh self-signed certificate for 127.0.0.1
    /// (rcgen's, without basic constraints).
    pub async fn start(name: &str) -> TlsServer {
        let certified =
            rcgen::generate_simple_self_signed(["127.0.0.1".to_owned()]).expect("certificate");
        TlsServer::serving(name, certified).await
    }

    /// Starts one presenting `certified` (its certificate alone, no chain).
    pub async fn serving(name: &str, certified: rcgen::CertifiedKey<rcgen::KeyPair>) -> TlsServer {
        let rcgen::CertifiedKey { cert, signing_key } = certified;
        let dir =
            std::env::temp_dir().join(format!("obslab-loadgen-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("cert.pem"), cert.pem()).expect("write cert.pem");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
        .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("https://{}", listener.local_addr().expect("local addr"));
        let answered = Arc::new(AtomicU64::new(0));
        let count = answered.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, count) = (acceptor.clone(), count.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends here.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                        count.fetch_add(1, Ordering::SeqCst);
                        async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok")))) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsServer { url, answered, dir }
    }

    /// The path of `cert.pem`.
    pub fn cert(&self) -> String {
        self.dir.join("cert.pem").display().to_string()
    }

    /// Requests answered so far.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the binary with `words` (progress off) and `env`, on a blocking
/// thread.
async fn loadgen(words: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obslab-loadgen"));
    cmd.args(["--progress", "off", "--mix", "GET /=1"])
        .args(words)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied());
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_ca_cert_every_request_is_answered_in_both_models() {
    let server = TlsServer::start("ca-cert").await;
    let mut sent = 0;
    for model in [["--rate", "200"], ["--concurrency", "3"]] {
        let words = ["--target", &server.url, "--ca-cert", &server.cert()];
        let words = [
            &words[..],
            &["--mix", "GET /=1", "--requests", "30"],
            &model[..],
        ]
        .concat();
        let s = run(&words).await;
        sent += 30;
        assert_eq!((s.requests, s.responses), (30, 30), "{model:?}: {s:?}");
        assert_eq!(s.status_codes.get("200"), Some(&30), "{model:?}");
        assert_eq!(server.answered(), sent, "{model:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_accepts_the_certificate_and_says_so_on_stderr() {
    let server = TlsServer::start("insecure").await;
    let out = loadgen(
        &[
            "--target",
            &server.url,
            "--insecure",
            "--requests",
            "25",
            "--output",
            "json",
        ],
        &[],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let warnings: Vec<_> = stderr
        .lines()
        .filter(|l| l.contains("--insecure"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("not verified"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(doc["responses"], 25);
    assert_eq!(server.answered(), 25);

    // The environment twin: any value but a false one turns it on.
    let words = ["--target", &server.url, "--requests", "5"];
    let on = loadgen(&words, &[("LOADGEN_INSECURE", "1")]).await;
    assert_eq!(
        on.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    assert!(String::from_utf8_lossy(&on.stderr).contains("--insecure"));
    let off = loadgen(&words, &[("LOADGEN_INSECURE", "false")]).await;
    assert_eq!(
        off.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&off.stderr)
    );

    // In-process, both models.
    for model in [["--rate", "200"], ["--concurrency", "2"]] {
        let s = run(&[
            &["--target", &server.url, "--insecure", "--requests", "10"][..],
            &model[..],
        ]
        .concat())
        .await;
        assert_eq!(s.responses, 10, "{model:?}");
    }
    assert_eq!(server.answered(), 25 + 5 + 20);
}

/// Without `--ca-cert` or `--insecure` the run stops before any request,
/// exit 2, naming the target and the reason; nothing reached the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_stops_the_run_at_once() {
    let server = TlsServer::start("untrusted").await;
    for model in [["--rate", "100"], ["--concurrency", "2"]] {
        let words = [
            &["--target", &server.url, "--requests", "10"][..],
            &model[..],
        ]
        .concat();
        let out = loadgen(&words, &[]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let expected = format!(
            "{}: TLS certificate not trusted: UnknownIssuer (use --ca-cert FILE or --insecure)",
            server.url
        );
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(out.stdout.is_empty(), "a report was written");
    }
    assert_eq!(server.answered(), 0);

    // Another certificate than the target's does not help either.
    let other = TlsServer::start("untrusted-other").await;
    let out = loadgen(&["--target", &server.url, "--ca-cert", &other.cert()], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not trusted"));
    assert_eq!(server.answered(), 0);
}

/// Only a certificate stops the run: an `https://` target that is down, or
/// that accepts connections but never finishes the handshake, is counted
/// request by request as for `http://`, and the run ends (the first
/// connection is given up after `--timeout`, as a request would be).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_or_silent_https_target_is_counted_not_refused() {
    let (dead, _reserved) = dead_target();
    let dead = dead.replace("http://", "https://");
    let s = run(&["--target", &dead, "--rate", "200", "--requests", "5"]).await;
    assert_eq!((s.requests, s.responses, s.errors.connect), (5, 0, 5));

    // Listening, never accepting: the TCP handshake completes in the
    // backlog, the TLS one never does.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let target = format!("https://{}", silent.local_addr().expect("local addr"));
    let words = [
        "--target",
        &target,
        "--rate",
        "200",
        "--requests",
        "3",
        "--timeout",
        "200ms",
    ];
    let s = run(&words).await;
    assert_eq!((s.requests, s.responses, s.errors.timeout), (3, 0, 3));
}

/// `SSL_CERT_FILE` replaces the system's store, as before `--ca-cert`; with
/// an empty store, `--ca-cert` alone is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_cert_file_still_works_and_ca_cert_needs_no_system_store() {
    let server = TlsServer::start("ssl-cert-file").await;
    let cert = server.cert();
    let words = ["--target", &server.url, "--requests", "4"];
    let out = loadgen(&words, &[("SSL_CERT_FILE", &cert)]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let no_store = [
        ("SSL_CERT_FILE", "/dev/null"),
        ("SSL_CERT_DIR", "/nonexistent"),
    ];
    let out = loadgen(&[&words[..], &["--ca-cert", &cert]].concat(), &no_store).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two paths in the environment twin, comma separated.
    let both = format!("{cert},{cert}");
    let out = loadgen(&words, &[("LOADGEN_CA_CERT", &both)]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.answered(), 12);
}

/// A `--ca-cert` that cannot be used stops the command line with exit 2,
/// naming the file, before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_ca_cert_file_exits_2_naming_it() {
    let server = TlsServer::start("bad-file").await;
    let dir = &server.dir;
    let key_only = write(
        dir,
        "key.pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let text = write(dir, "notes.txt", "not a certificate\n");
    let broken = write(dir, "broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n");
    let not_x509 = write(
        dir,
        "not-x509.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    let missing = dir.join("missing.pem").display().to_string();
    let cases = [
        (missing.as_str(), "cannot read"),
        (key_only.as_str(), "holds no certificate"),
        (text.as_str(), "holds no certificate"),
        (broken.as_str(), "is not valid PEM"),
        (not_x509.as_str(), "cannot use these certificates"),
    ];
    for (file, why) in cases {
        let out = loadgen(&["--target", &server.url, "--ca-cert", file], &[]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains("--ca-cert") && stderr.contains(file),
            "{stderr}"
        );
        assert!(stderr.contains(why), "{file}: {stderr}");
    }
    assert_eq!(server.answered(), 0);
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}
