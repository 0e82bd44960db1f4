//! Which certificates a run trusts, and the rustls configuration built
//! from that.
//!
//! By default a target's certificate is checked against the system's store
//! (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), as curl and browsers do.
//! `--ca-cert FILE` adds the certificates of a PEM file to those roots, for
//! a staging target signed by a private CA or self-signed, and trusts each
//! when the server presents it as its own, as curl does, even marked
//! `CA:TRUE` (see [`super::given`]); `--insecure`
//! checks no certificate at all (the handshake's signatures still are, so
//! the session keys are the target's, whoever it is).
//!
//! A certificate that is not trusted can never become trusted during a run,
//! so it is not counted request after request as connection errors: the
//! run opens one connection first and stops at once, naming the target and
//! the reason ([`super::Client::check_certificate`]). A target that does not answer yet is
//! left to the run, which counts its connection errors as for plain HTTP.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

#[cfg(feature = "tls")]
pub(super) use self::config::{client_config, untrusted};

/// The certificates a run trusts beyond the system's, or none checked.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// `--ca-cert`: PEM files whose certificates are trusted roots too.
    pub ca_certs: Vec<CaCert>,
    /// `--insecure`: accept any certificate.
    pub insecure: bool,
}

/// One `--ca-cert` file, read and parsed.
#[derive(Debug, Clone)]
pub struct CaCert {
    /// The file, as given.
    pub path: PathBuf,
    /// Its certificates (at least one).
    pub certs: Vec<CertificateDer<'static>>,
}

/// `--ca-cert` value parser: reads the PEM file at `path` now, so that a
/// missing file or one without a certificate stops the command line (exit
/// 2) with a message naming it.
pub fn parse_ca_cert(path: &str) -> Result<CaCert, String> {
    let path = Path::new(path);
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{shown} is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "{shown} holds no certificate (expected PEM blocks \"-----BEGIN CERTIFICATE-----\")"
        ));
    }
    Ok(CaCert {
        path: path.to_owned(),
        certs,
    })
}

#[cfg(feature = "tls")]
mod config {
    use std::sync::Arc;

    use anyhow::Context as _;
    use rustls::ClientConfig;
    use rustls_platform_verifier::Verifier;
    use url::Url;

    use super::Trust;
    use crate::client::given::GivenCertificates;

    /// The rustls configuration for `target`: certificates checked against
    /// the system's store plus `trust.ca_certs`, or not at all with
    /// `trust.insecure`. The store is read only for an `https://` target,
    /// so a plain-HTTP run works on a machine without CA certificates; an
    /// empty store is an error only when no `--ca-cert` adds to it.
    pub fn client_config(target: &Url, trust: &Trust) -> anyhow::Result<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS")?;
        let builder = if target.scheme() != "https" {
            builder.with_root_certificates(rustls::RootCertStore::empty())
        } else if trust.insecure {
            // Any certificate, its key still the handshake's.
            let verifier = GivenCertificates::any(provider.signature_verification_algorithms);
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        } else {
            let given: Vec<_> = trust
                .ca_certs
                .iter()
                .flat_map(|f| f.certs.iter().cloned())
                .collect();
            let extra = given.iter().cloned();
            // Fails on a certificate of a --ca-cert file that is PEM but
            // not X.509, or on an empty store without any --ca-cert.
            let verifier = Verifier::new_with_extra_roots(extra, provider).map_err(|e| {
                let files: Vec<String> = trust
                    .ca_certs
                    .iter()
                    .map(|f| f.path.display().to_string())
                    .collect();
                if files.is_empty() {
                    anyhow::anyhow!(
                        "--target {target}: cannot load the system's CA certificates: {e} (give the target's with --ca-cert FILE)"
                    )
                } else {
                    anyhow::anyhow!("--ca-cert {}: cannot use these certificates: {e}", files.join(", "))
                }
            })?;
            // Presented as they are, they are trusted as curl trusts them.
            let verifier = GivenCertificates::new(given, Arc::new(verifier));
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        };
        Ok(builder.with_no_client_auth())
    }

    /// The reason `error` (from a connection attempt) gives when it is a
    /// certificate the configuration does not trust, searched in its cause
    /// chain (tokio-rustls wraps rustls's error in an `io::Error`).
    pub fn untrusted<'a>(
        error: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a rustls::CertificateError> {
        match rustls_error(error)? {
            rustls::Error::InvalidCertificate(reason) => Some(reason),
            _ => None,
        }
    }

    /// The rustls error in `error`'s cause chain. An `io::Error` is looked
    /// into, not past (its `source` skips what it wraps): hyper-rustls wraps
    /// tokio-rustls's `io::Error`, which wraps rustls's error.
    fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            next = match e.downcast_ref::<std::io::Error>() {
                Some(io) => io.get_ref().map(|inner| inner as _),
                None => e.source(),
            };
        }
        None
    }
}
