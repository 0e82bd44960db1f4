//! `--ca-cert` as `curl --cacert`: a certificate of the file that the server
//! presents as itself is trusted, even marked `CA:TRUE` (what the plain
//! `openssl req -x509` makes, which webpki alone refuses as
//! `CaUsedAsEndEntity`); its name and validity dates are still checked,
//! and any other certificate is judged as before. Certificates by rcgen,
//! served by the TLS server of `tls.rs`.

use rcgen::{BasicConstraints, CertificateParams, CertifiedKey, IsCa, KeyPair};

use crate::tls::TlsServer;
use crate::util::{plan, run};

/// A self-signed `CA:TRUE` certificate for `names`, valid from `from` to
/// `until` (years, January 1st), whose subject is `CN=cn`.
fn self_signed_ca(cn: &str, names: &[&str], (from, until): (i32, i32)) -> CertifiedKey<KeyPair> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("names");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(until, 1, 1);
    let signing_key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&signing_key).expect("certificate");
    CertifiedKey { cert, signing_key }
}

/// A TLS server presenting a fresh [`self_signed_ca`] certificate.
async fn serve(name: &str, cn: &str, names: &[&str], dates: (i32, i32)) -> TlsServer {
    TlsServer::serving(name, self_signed_ca(cn, names, dates)).await
}

/// Valid from a year ago for years to come.
const VALID: (i32, i32) = (2024, 2100);

/// Why a run at `server` with `--ca-cert ca` is refused before it starts.
async fn refusal(server: &TlsServer, ca: &str) -> String {
    let words = ["--target", &server.url, "--ca-cert", ca, "--requests", "5"];
    match obslab_loadgen::run(plan(&words), std::future::pending()).await {
        Ok(s) => panic!("the run was not refused: {s:?}"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_true_certificate_presented_as_itself_is_trusted_in_both_models() {
    let server = serve(
        "given-ca-true",
        "localhost",
        &["localhost", "127.0.0.1"],
        VALID,
    )
    .await;
    let cert = server.cert();
    for (n, model) in [(1, ["--rate", "200"]), (2, ["--concurrency", "3"])] {
        let words = [
            &["--target", &server.url, "--ca-cert", &cert][..],
            &["--mix", "GET /=1", "--requests", "20"],
            &model[..],
        ]
        .concat();
        let s = run(&words).await;
        assert_eq!((s.requests, s.responses), (20, 20), "{model:?}: {s:?}");
        assert_eq!(server.answered(), 20 * n, "{model:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_certificate_still_needs_its_name_and_dates_and_no_other_helps() {
    // The right certificate for another name.
    let elsewhere = serve(
        "given-wrong-name",
        "elsewhere",
        &["elsewhere.example"],
        VALID,
    )
    .await;
    let why = refusal(&elsewhere, &elsewhere.cert()).await;
    assert!(
        why.contains("TLS certificate not trusted")
            && why.contains("not valid for name \"127.0.0.1\""),
        "{why}"
    );

    // Expired, and not valid yet.
    for (name, dates, reason) in [
        ("given-expired", (2020, 2021), "certificate expired"),
        ("given-not-yet", (2090, 2100), "certificate not valid yet"),
    ] {
        let server = serve(name, "localhost", &["127.0.0.1"], dates).await;
        let why = refusal(&server, &server.cert()).await;
        assert!(why.contains(reason), "{name}: {why}");
        assert_eq!(server.answered(), 0, "{name}");
    }

    // Another self-signed CA:TRUE certificate for the same name: not the
    // one presented, which webpki judges as before (a CA as end entity).
    let server = serve("given-other-served", "localhost", &["127.0.0.1"], VALID).await;
    let other = serve("given-other-given", "other", &["127.0.0.1"], VALID).await;
    let why = refusal(&server, &other.cert()).await;
    assert!(
        why.contains("TLS certificate not trusted") && why.contains("CaUsedAsEndEntity"),
        "{why}"
    );
    assert_eq!(elsewhere.answered() + server.answered(), 0);
}
