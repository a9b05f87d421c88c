//! runed over HTTPS (SPEC §4.1 `server.tls`): the certificate chain and private key from PEM files,
//! optionally the CAs that sign client certificates (mTLS), and a rustls configuration on the
//! `ring` provider (TLS 1.2 and 1.3, HTTP/1.1). [`reload`] keeps the configuration in force and
//! swaps it on SIGHUP; [`serve`] is the connection loop.
//!
//! In: the paths of `server.tls`. Out: a [`rustls::ServerConfig`] (or a [`TlsError`] naming the
//! file at fault). Must not happen here: key material in an error or a log line; the key file's
//! bytes are zeroized once parsed.

pub mod reload;
pub mod serve;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::server_config::TlsConfig;

pub use reload::Certificates;
pub use serve::serve;

/// Why the TLS files could not be turned into a server configuration. Messages name the file;
/// none carries key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} file `{}`: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the TLS {what} file `{}` is not valid PEM: {detail}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("the TLS {what} file `{}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)", path.display())]
    NoCertificate { what: &'static str, path: PathBuf },
    #[error(
        "the TLS key file `{}` holds no PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, PKCS#1 `BEGIN RSA PRIVATE KEY` or SEC1 `BEGIN EC PRIVATE KEY`)",
        path.display()
    )]
    NoKey { path: PathBuf },
    #[error("the TLS key `{}` does not belong to the certificate `{}`", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("the TLS client CA file `{}` cannot be used: {detail}", path.display())]
    ClientCa { path: PathBuf, detail: String },
    #[error("the TLS certificate `{}` and key `{}` cannot be used: {source}", cert.display(), key.display())]
    Config {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
}

/// A server configuration built from the files, and the SHA-256 fingerprint of its leaf
/// certificate (public; logged so that an operator can tell which certificate is in force).
pub struct Loaded {
    pub config: Arc<rustls::ServerConfig>,
    pub fingerprint: String,
}

/// Reads the files `config` names and builds the rustls configuration.
pub fn load(config: &TlsConfig) -> Result<Loaded, TlsError> {
    let certs = certificates("certificate", &config.cert_file)?;
    let fingerprint = fingerprint(&certs[0]);
    let key = private_key(&config.key_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|source| config_error(config, source))?;
    let builder = match &config.client_ca_file {
        Some(path) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(
                Arc::new(client_roots(path)?),
                provider,
            )
            .build()
            .map_err(|e| TlsError::ClientCa {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut server = builder
        .with_single_cert(certs, key)
        .map_err(|source| config_error(config, source))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Loaded {
        config: Arc::new(server),
        fingerprint,
    })
}

fn config_error(config: &TlsConfig, source: rustls::Error) -> TlsError {
    match source {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            TlsError::KeyMismatch {
                cert: config.cert_file.clone(),
                key: config.key_file.clone(),
            }
        }
        source => TlsError::Config {
            cert: config.cert_file.clone(),
            key: config.key_file.clone(),
            source,
        },
    }
}

/// Hex SHA-256 of a certificate's DER, as `openssl x509 -fingerprint -sha256` shows it (without
/// the colons).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            use std::fmt::Write;
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn read(what: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>, TlsError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| TlsError::Read {
            what,
            path: path.to_owned(),
            source,
        })
}

fn certificates(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text = read(what, path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            what,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn client_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates("client CA", path)? {
        roots.add(cert).map_err(|e| TlsError::ClientCa {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    }
    Ok(roots)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let text = read("key", path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.to_owned(),
        },
        other => TlsError::Pem {
            what: "key",
            path: path.to_owned(),
            detail: other.to_string(),
        },
    })
}
