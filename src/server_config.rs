//! runed's configuration as read from a server runefile (SPEC §4.1). `rune lint` validates it
//! offline; runed reads it at start.

use std::path::PathBuf;

use crate::limits::Limits;

/// Where the key-encryption key comes from.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum KekSource {
    Env,
    #[default]
    File,
    Generated,
}

#[derive(Clone, Debug, Eq, PartialEq)]
pub struct KekConfig {
    pub env_var: String,
    pub file_path: Option<PathBuf>,
    pub generate_if_missing: bool,
    pub source: KekSource,
}

impl Default for KekConfig {
    fn default() -> Self {
        Self {
            env_var: "RUNE_MASTER_KEY".to_owned(),
            file_path: None,
            generate_if_missing: true,
            source: KekSource::File,
        }
    }
}

/// The uids (and gids, the same numbers) runed gives its services, one each (SPEC §5).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct UidRange {
    pub first: u32,
    pub last: u32,
}

impl UidRange {
    pub const DEFAULT: Self = Self {
        first: 200_000,
        last: 265_535,
    };

    pub fn contains(self, uid: u32) -> bool {
        (self.first..=self.last).contains(&uid)
    }
}

impl Default for UidRange {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl std::fmt::Display for UidRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// `server.tls`: what runed serves HTTPS with; SIGHUP re-reads all three files.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    /// With it, runed requires a client certificate signed by one of these CAs (mTLS).
    pub client_ca_file: Option<PathBuf>,
    pub key_file: PathBuf,
}

/// How long runed waits for a client (SPEC §4.4: request headers and bodies have read
/// timeouts), so that a client that stalls cannot hold a connection, a task and a buffer
/// forever (issue #12).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ReadTimeouts {
    /// `server.header-read-timeout`: from the connection (or the end of the previous request) to
    /// the end of the request's headers.
    pub header: std::time::Duration,
    /// `server.body-read-timeout`: from the first read of a body to its end.
    pub body: std::time::Duration,
}

impl Default for ReadTimeouts {
    fn default() -> Self {
        Self {
            header: std::time::Duration::from_secs(10),
            body: std::time::Duration::from_secs(60),
        }
    }
}

/// Where the PostgreSQL URL comes from (`storage.postgres`): it holds a password, so runed
/// reads it at start and keeps it only in memory, never in a log line.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum UrlSource {
    /// `url-env`: an environment variable.
    Env(String),
    /// `url-file`: a file holding the URL (surrounding whitespace ignored).
    File(PathBuf),
}

/// `storage.postgres`: the database replicas share (SPEC §4.5).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PostgresConfig {
    pub url: UrlSource,
    pub pool_size: u32,
    /// `ca-file`: PEM certificates to trust for the database's TLS instead of the web PKI
    /// roots (a managed database's own CA).
    pub ca_file: Option<PathBuf>,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            url: UrlSource::Env("RUNE_POSTGRES_URL".to_owned()),
            pool_size: 8,
            ca_file: None,
        }
    }
}

/// `storage.backend`.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub enum StorageBackend {
    /// One file in the data directory, one runed (the default).
    #[default]
    Redb,
    Postgres(PostgresConfig),
}

/// The whole server configuration, with SPEC defaults for what the file leaves out.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ServerConfig {
    /// `storage.audit-retention`: how long audit records are kept (zero: for good).
    pub audit_retention: std::time::Duration,
    /// `true`: every request needs a token; `false`: open on loopback until a token exists.
    pub auth_required: bool,
    pub data_dir: Option<PathBuf>,
    pub kek: KekConfig,
    pub limits: Limits,
    pub listen: std::net::SocketAddr,
    /// `server.header-read-timeout`, `server.body-read-timeout`.
    pub read_timeouts: ReadTimeouts,
    /// `crypto.previous-keks`: older KEKs, kept only until `rune admin kek rewrap` ends.
    pub previous_keks: Vec<KekConfig>,
    /// `runner.uid-range`: where each service's own uid comes from.
    pub uid_range: UidRange,
    pub tls: Option<TlsConfig>,
    /// `storage.backend` (and `storage.postgres`).
    pub storage: StorageBackend,
    pub versions_kept: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            audit_retention: std::time::Duration::from_secs(90 * 24 * 3600),
            auth_required: false,
            data_dir: None,
            kek: KekConfig::default(),
            limits: Limits::default(),
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 7861)),
            read_timeouts: ReadTimeouts::default(),
            previous_keks: Vec::new(),
            uid_range: UidRange::DEFAULT,
            tls: None,
            storage: StorageBackend::Redb,
            versions_kept: 10,
        }
    }
}
