//! A throwaway PostgreSQL cluster for the tests (issue #16): `initdb` in a temporary directory,
//! `postgres` on a free loopback port with its Unix socket in that directory, one database per
//! test (`CREATE DATABASE t_<pid>_<n>`).
//!
//! Shared by the library's unit tests (the engine suite, through `#[path]`) and the integration
//! binary, so both start the cluster the same way; one cluster serves every test of a binary.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the cluster runs as `nobody`
//! (setpriv drops the ids). Its server process gets a parent-death signal bound to a thread that
//! never ends, so it stops with the test process however that ends; the directories of clusters
//! whose test process is gone are removed by the next start. A [`Cluster`] started on its own
//! ([`Cluster::start`]) is stopped and removed when dropped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const PREFIX: &str = "rune-pg-";

/// A running cluster: where it listens, as whom it runs.
#[derive(Debug)]
pub struct Cluster {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub port: u16,
    /// `Some((uid, gid))` when the server runs as another user than the tests.
    pub owner: Option<(u32, u32)>,
    child: Mutex<Option<Child>>,
    /// `-c name=value` settings beyond the defaults (TLS).
    settings: Vec<String>,
    /// Removed when dropped; `false` for the shared cluster (statics are never dropped).
    owned: bool,
}

/// The directory of the newest installed PostgreSQL's server binaries.
pub fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The cluster every test of this binary shares, started on first use; `Err` says why it
/// cannot run here.
pub fn shared() -> Result<&'static Cluster, String> {
    static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| Cluster::spawn(false, None))
        .as_ref()
        .map_err(Clone::clone)
}

/// What a start gave, or a failure that says how to install PostgreSQL: its server binaries are a
/// prerequisite of `cargo test` (README, Set-up), so a test that needs them fails rather than
/// pass without running.
#[track_caller]
pub fn required<T>(started: Result<T, String>) -> T {
    started.unwrap_or_else(|why| {
        panic!("PostgreSQL cannot start ({why}); the tests need its server: apt-get install -y postgresql")
    })
}

/// A fresh database on the shared cluster: its connection URL.
pub fn database() -> Result<String, String> {
    shared()?.create_database()
}

impl Cluster {
    /// A cluster of its own, stopped and removed on drop (for tests that stop PostgreSQL).
    pub fn start() -> Result<Self, String> {
        Self::spawn(true, None)
    }

    /// A cluster of its own that serves TLS with this PEM certificate chain and key.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Result<Self, String> {
        Self::spawn(true, Some((cert_pem, key_pem)))
    }

    fn spawn(removed_on_drop: bool, tls: Option<(&str, &str)>) -> Result<Self, String> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let bin = bin_dir().ok_or("no PostgreSQL server under /usr/lib/postgresql/*/bin")?;
        sweep_stale();
        let dir = std::env::temp_dir().join(format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let owner = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("nobody")
                .ok()
                .flatten()
                .ok_or("running as root and there is no user `nobody` to run PostgreSQL as")?;
            nix::unistd::chown(&dir, Some(user.uid), Some(user.gid))
                .map_err(|e| format!("chown {}: {e}", dir.display()))?;
            Some((user.uid.as_raw(), user.gid.as_raw()))
        } else {
            None
        };
        let mut cluster = Self {
            bin,
            dir,
            port: 0,
            owner,
            child: Mutex::new(None),
            settings: Vec::new(),
            owned: removed_on_drop,
        };
        let initdb = cluster
            .command("initdb")
            .args(["-D", "data", "-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .args(["--no-sync", "--no-instructions"])
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !initdb.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&initdb.stderr)
            ));
        }
        if let Some((cert, key)) = tls {
            for (name, text) in [("server.crt", cert), ("server.key", key)] {
                let path = cluster.dir.join("data").join(name);
                std::fs::write(&path, text).map_err(|e| format!("{name}: {e}"))?;
                std::fs::set_permissions(
                    &path,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .map_err(|e| format!("{name}: {e}"))?;
                if let Some((uid, gid)) = cluster.owner {
                    nix::unistd::chown(
                        &path,
                        Some(nix::unistd::Uid::from_raw(uid)),
                        Some(nix::unistd::Gid::from_raw(gid)),
                    )
                    .map_err(|e| format!("chown {name}: {e}"))?;
                }
            }
            cluster.settings = vec!["ssl=on".to_owned()];
        }
        cluster.port = free_port()?;
        cluster.run_server()?;
        cluster.wait_ready()?;
        Ok(cluster)
    }

    /// A command running one of the server binaries in the cluster's directory, as its owner.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new("setpriv");
        if let Some((uid, gid)) = self.owner {
            command.args([
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".to_owned(),
            ]);
        }
        command
            .arg("--pdeathsig=TERM")
            .arg(self.bin.join(program))
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        command
    }

    /// Starts the server process; it dies with the thread that started it, so that thread is
    /// one that lives as long as the test process (for the shared cluster) or this value.
    fn run_server(&self) -> Result<(), String> {
        let mut command = self.command("postgres");
        command
            .args(["-D", "data", "-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=300", "-c", "shared_buffers=32MB"])
            .args(self.settings.iter().flat_map(|s| ["-c", s.as_str()]))
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.dir.join("server.log"))
                    .map_err(|e| format!("server.log: {e}"))?,
            );
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("postgres-keeper".to_owned())
            .spawn(move || {
                let _ = sender.send(command.spawn());
                // Parked for good: the parent-death signal fires when this thread ends.
                loop {
                    std::thread::park();
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let child = receiver
            .recv()
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        *self.child.lock().unwrap() = Some(child);
        Ok(())
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "postgres exited ({status}): {}",
                    std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
                ));
            }
            if postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("postgres did not accept connections within 60 s".to_owned())
    }

    /// The URL of one database (trust authentication on loopback: no password).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?connect_timeout=10",
            self.port
        )
    }

    /// A new, empty database: its URL.
    pub fn create_database(&self) -> Result<String, String> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .map_err(|e| format!("connect: {e}"))?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("CREATE DATABASE: {e}"))?;
        Ok(self.url(&name))
    }

    /// Stops the server (fast shutdown) and waits for it.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGINT,
            );
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data (after [`Cluster::stop`]).
    pub fn restart(&self) -> Result<(), String> {
        self.run_server()?;
        self.wait_ready()
    }

    /// `pg_dump` of one database (plain SQL text), as the cluster's owner.
    pub fn dump(&self, database_url: &str) -> Result<Vec<u8>, String> {
        let output = self
            .command("pg_dump")
            .arg(database_url)
            .output()
            .map_err(|e| format!("pg_dump: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        Ok(output.stdout)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        if self.owned {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes the cluster directories of test processes that no longer exist.
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}
