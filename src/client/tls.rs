//! The CLI's side of TLS (SPEC §3 "Transport", issue #18): which CA to trust for runed's
//! certificate (`--ca-file`, `RUNE_CA_FILE`, a context's `ca-file`), which client certificate to
//! present to a runed that requires one (`--client-cert`/`--client-key`, a context's), and what a
//! failed handshake means in words a user can act on.
//!
//! In: the paths of those files, and later a ureq error. Out: a [`ureq::tls::TlsConfig`] (or a
//! [`TlsFileError`] naming the file at fault), and for a handshake failure a [`Handshake`] that
//! says which CA file (if any) was used and how to add one. With a CA file, rune trusts the
//! certificates in it instead of the public web roots, as `curl --cacert` and kubectl's
//! `certificate-authority` do. Must not happen here: key material in an error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
use zeroize::Zeroizing;

/// The TLS files a connection uses; all optional.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct TlsFiles {
    /// PEM certificates of the CAs trusted for runed's certificate.
    pub ca_file: Option<PathBuf>,
    /// The client certificate chain and its key, both PEM.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// A TLS file that cannot be used. Messages name the file, never its contents.
#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    #[error("cannot read the {what} file `{}`: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the {what} file `{}` is not valid PEM: {detail}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("the {what} file `{}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)", path.display())]
    NoCertificate { what: &'static str, path: PathBuf },
    #[error("the client key file `{}` holds no PEM private key", path.display())]
    NoKey { path: PathBuf },
    #[error("the client key `{}` does not belong to the certificate `{}`", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("the client key `{}` cannot be used with the certificate `{}`: {detail}", key.display(), cert.display())]
    Unusable {
        cert: PathBuf,
        detail: String,
        key: PathBuf,
    },
}

/// The ureq TLS configuration for `files` (the defaults where a file is not given).
pub fn config(files: &TlsFiles) -> Result<TlsConfig, TlsFileError> {
    let mut builder = TlsConfig::builder();
    if let Some(path) = &files.ca_file {
        let roots: Vec<Certificate<'static>> = certificates("CA", path)?
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        builder = builder.root_certs(RootCerts::Specific(Arc::new(roots)));
    }
    if let Some((cert, key)) = &files.client_cert {
        builder = builder.client_cert(Some(client_cert(cert, key)?));
    }
    Ok(builder.build())
}

fn client_cert(cert_path: &Path, key_path: &Path) -> Result<ClientCert, TlsFileError> {
    let chain = certificates("client certificate", cert_path)?;
    let text = read("client key", key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&text).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsFileError::NoKey {
            path: key_path.to_owned(),
        },
        other => TlsFileError::Pem {
            what: "client key",
            path: key_path.to_owned(),
            detail: other.to_string(),
        },
    })?;
    // ureq would panic on a key that does not match the certificate: check it here first.
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).map_err(
        |e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                TlsFileError::KeyMismatch {
                    cert: cert_path.to_owned(),
                    key: key_path.to_owned(),
                }
            }
            other => TlsFileError::Unusable {
                cert: cert_path.to_owned(),
                detail: other.to_string(),
                key: key_path.to_owned(),
            },
        },
    )?;
    // The same PEM, read by ureq for its own key type (it knows the key's kind from the label).
    let key = PrivateKey::from_pem(&text).map_err(|e| TlsFileError::Pem {
        what: "client key",
        path: key_path.to_owned(),
        detail: e.to_string(),
    })?;
    let chain: Vec<Certificate<'static>> = chain
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    Ok(ClientCert::new_with_certs(&chain, key))
}

fn read(what: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>, TlsFileError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| TlsFileError::Read {
            what,
            path: path.to_owned(),
            source,
        })
}

fn certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let text = read(what, path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsFileError::Pem {
            what,
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsFileError::NoCertificate {
            what,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// A failed TLS handshake, explained.
#[derive(Debug, Eq, PartialEq)]
pub enum Handshake {
    /// runed's certificate is not trusted: rune cannot know it is talking to runed (exit 8).
    Untrusted(String),
    /// runed refused rune's client certificate, or wanted one: an authentication failure (exit 3).
    Refused(String),
}

/// What a ureq error means, when it is a TLS handshake failure.
pub fn explain(error: &ureq::Error, files: &TlsFiles) -> Option<Handshake> {
    let tls = match error {
        ureq::Error::Rustls(tls) => tls,
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>()?,
        _ => return None,
    };
    match tls {
        rustls::Error::InvalidCertificate(problem) => {
            Some(Handshake::Untrusted(untrusted(problem, files)))
        }
        rustls::Error::AlertReceived(alert) if is_client_cert_alert(*alert) => {
            Some(Handshake::Refused(refused(*alert, files)))
        }
        _ => None,
    }
}

fn untrusted(problem: &rustls::CertificateError, files: &TlsFiles) -> String {
    let trusted = match &files.ca_file {
        Some(path) => format!("the CA file `{}`", path.display()),
        None => "the public web roots (no CA file given)".to_owned(),
    };
    let what = match problem {
        rustls::CertificateError::UnknownIssuer => "is signed by an unknown issuer".to_owned(),
        other => format!("is not accepted ({other:?})"),
    };
    format!(
        "the server's TLS certificate {what}; rune trusted {trusted}. If runed uses a private CA, give rune that CA's certificate: `--ca-file FILE`, `RUNE_CA_FILE=FILE`, or `rune login NAME --server URL --ca-file FILE` to keep it in a context"
    )
}

fn is_client_cert_alert(alert: rustls::AlertDescription) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        alert,
        A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::AccessDenied
    )
}

fn refused(alert: rustls::AlertDescription, files: &TlsFiles) -> String {
    match &files.client_cert {
        None => format!(
            "the server requires a client certificate (TLS alert {alert:?}): pass `--client-cert FILE --client-key FILE`, or keep them in a context with `rune login NAME --server URL --client-cert FILE --client-key FILE`"
        ),
        Some((cert, _)) => format!(
            "the server refused the client certificate `{}` (TLS alert {alert:?}): it must be signed by a CA in runed's `server.tls.client-ca-file`",
            cert.display()
        ),
    }
}
