//! `--ca-cert` read as `curl --cacert` reads it: a certificate of the file
//! that the server presents as itself is trusted as it is.
//!
//! The plain `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost
//! -addext subjectAltName=DNS:localhost,IP:127.0.0.1` makes a self-signed
//! certificate marked `CA:TRUE`. Given as a root, webpki refuses it as the
//! server's own (`CaUsedAsEndEntity`: a CA must not be an end entity),
//! while curl, through OpenSSL, finds the certificate in its trust store
//! and accepts it. [`GivenCertificates`] wraps the webpki verifier: when
//! the end-entity certificate is byte for byte one of the `--ca-cert`
//! certificates, the name and the validity dates are checked here (the
//! name by rustls's own webpki function) and the chain is not built, the
//! certificate being its own anchor; any other certificate goes to the
//! wrapped verifier unchanged. The handshake's signatures are always the
//! wrapped verifier's to check, so the server must hold the key.
//!
//! `--insecure` is the same verifier with nothing wrapped: every
//! certificate is taken as it is, unchecked, and the signatures are
//! checked with the provider's algorithms, so the session keys are still
//! those of the certificate presented.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_name;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// The certificates trusted when presented as they are, and how any other
/// is judged.
#[derive(Debug)]
pub(super) struct GivenCertificates {
    given: Vec<CertificateDer<'static>>,
    others: Others,
}

/// How a certificate that is not one of the given ones is judged.
#[derive(Debug)]
enum Others {
    /// By the wrapped verifier (webpki, along its chain).
    Chains(Arc<dyn ServerCertVerifier>),
    /// Not at all (`--insecure`); signatures by these algorithms.
    Unchecked(WebPkiSupportedAlgorithms),
}

impl GivenCertificates {
    /// Trusts `given` when presented exactly, anything else as `chains`
    /// judges it.
    pub(super) fn new(
        given: Vec<CertificateDer<'static>>,
        chains: Arc<dyn ServerCertVerifier>,
    ) -> Self {
        let others = Others::Chains(chains);
        Self { given, others }
    }

    /// `--insecure`: any certificate, the handshake's signatures checked
    /// with `algorithms`.
    pub(super) fn any(algorithms: WebPkiSupportedAlgorithms) -> Self {
        let others = Others::Unchecked(algorithms);
        Self {
            given: Vec::new(),
            others,
        }
    }
}

impl ServerCertVerifier for GivenCertificates {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chains = match &self.others {
            Others::Unchecked(_) => return Ok(ServerCertVerified::assertion()),
            Others::Chains(chains) => chains,
        };
        if !self.given.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            return chains.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            );
        }
        verify_server_name(&ParsedCertificate::try_from(end_entity)?, server_name)?;
        within_validity(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match &self.others {
            Others::Chains(chains) => chains.verify_tls12_signature(message, cert, dss),
            Others::Unchecked(algs) => {
                rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
            }
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match &self.others {
            Others::Chains(chains) => chains.verify_tls13_signature(message, cert, dss),
            Others::Unchecked(algs) => {
                rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
            }
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match &self.others {
            Others::Chains(chains) => chains.supported_verify_schemes(),
            Others::Unchecked(algs) => algs.supported_schemes(),
        }
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        match &self.others {
            Others::Chains(chains) => chains.root_hint_subjects(),
            Others::Unchecked(_) => None,
        }
    }
}

/// `now` within the certificate's `notBefore..=notAfter` (RFC 5280
/// §4.1.2.5), with the errors webpki gives for a chain.
fn within_validity(cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let validity = parsed.validity();
    let unix = |t: i64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.max(0) as u64));
    let (not_before, not_after) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    let time = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let reason = if time < not_before {
        CertificateError::NotValidYetContext {
            time: now,
            not_before: unix(not_before),
        }
    } else if time > not_after {
        CertificateError::ExpiredContext {
            time: now,
            not_after: unix(not_after),
        }
    } else {
        return Ok(());
    };
    Err(rustls::Error::InvalidCertificate(reason))
}
