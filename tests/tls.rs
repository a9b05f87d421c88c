//! `runed` over HTTPS (SPEC §4.1 `server.tls`): the real binary on a loopback port with a
//! self-signed certificate made at test time, and a small blocking rustls client that trusts only
//! that certificate. Covers the API over TLS (1.3 and 1.2), refused plain HTTP and untrusted
//! clients, the key formats, unusable certificate files, the flags and the config file, and a
//! graceful stop on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, StreamOwned};

/// How long runed may take to say that it listens, to answer, or to stop after SIGTERM.
const PATIENCE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/// A self-signed certificate for `localhost` and `127.0.0.1`, written as PEM files.
pub struct Certificate {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub der: CertificateDer<'static>,
    /// The private key as PKCS#8 DER (rcgen's ECDSA P-256 key).
    pkcs8: Vec<u8>,
}

impl Certificate {
    fn new(dir: &Path, name: &str) -> Self {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("generate a self-signed certificate");
        let cert_file = dir.join(format!("{name}.crt"));
        let key_file = dir.join(format!("{name}.key"));
        std::fs::write(&cert_file, certified.cert.pem()).expect("write the certificate");
        std::fs::write(&key_file, certified.signing_key.serialize_pem()).expect("write the key");
        Self {
            cert_file,
            key_file,
            der: certified.cert.der().clone(),
            pkcs8: certified.signing_key.serialize_der(),
        }
    }

    fn tls_args(&self) -> Vec<String> {
        tls_args(&self.cert_file, &self.key_file)
    }
}

pub fn tls_args(cert_file: &Path, key_file: &Path) -> Vec<String> {
    vec![
        "--tls-cert".to_owned(),
        cert_file.display().to_string(),
        "--tls-key".to_owned(),
        key_file.display().to_string(),
    ]
}

/// One DER element: its tag, its contents and what follows it.
fn der_element(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let (len, header) = match input[1] {
        short if short < 0x80 => (usize::from(short), 2),
        long => {
            let count = usize::from(long & 0x7f);
            let len = input[2..2 + count]
                .iter()
                .fold(0, |len, byte| len << 8 | usize::from(*byte));
            (len, 2 + count)
        }
    };
    (
        input[0],
        &input[header..header + len],
        &input[header + len..],
    )
}

/// The SEC1 `ECPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (RFC 5208: version, algorithm,
/// privateKey OCTET STRING).
fn pkcs8_to_sec1(pkcs8: &[u8]) -> Vec<u8> {
    let (tag, info, _) = der_element(pkcs8);
    assert_eq!(tag, 0x30, "PrivateKeyInfo is a SEQUENCE");
    let (_, _version, rest) = der_element(info);
    let (_, _algorithm, rest) = der_element(rest);
    let (tag, key, _) = der_element(rest);
    assert_eq!(tag, 0x04, "privateKey is an OCTET STRING");
    key.to_vec()
}

fn pem(label: &str, der: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// `runed --data-dir D ARGS…` with an environment free of the developer's `RUNE_*` variables.
pub fn runed_command(data_dir: &Path, args: &[String]) -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runed"));
    command.arg("--data-dir").arg(data_dir).args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("RUNE_") {
            command.env_remove(&name);
        }
    }
    command.stdin(Stdio::null()).stdout(Stdio::null());
    command
}

/// A running `runed`; killed when dropped, so a failing test never leaves a server behind.
pub struct Server {
    pub child: Child,
    log: Arc<Mutex<String>>,
    pub port: u16,
}

impl Server {
    /// Starts runed on a loopback port with `args` and waits for `listening on https://…`.
    #[track_caller]
    pub fn start(data_dir: &Path, args: &[String]) -> Self {
        let mut command = runed_command(data_dir, args);
        command
            .args(["--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped());
        Self::spawn(command)
    }

    #[track_caller]
    pub fn spawn(mut command: std::process::Command) -> Self {
        let mut child = command.spawn().expect("spawn runed");
        let stderr = child.stderr.take().expect("runed's stderr is piped");
        let (log, port_rx, _reader) = crate::util::follow_log(stderr, "https");
        let mut server = Self {
            child,
            log,
            port: 0,
        };
        match port_rx.recv_timeout(PATIENCE) {
            Ok(port) => server.port = port,
            Err(error) => panic!(
                "runed did not report `listening on https://` ({error}); its log:\n{}",
                server.log()
            ),
        }
        server
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Waits until the log contains `text`.
    #[track_caller]
    pub fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "runed's log never said `{text}`:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM (through `kill`, no libc).
    fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits for runed to exit, within `limit`.
    #[track_caller]
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll runed") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "runed did not exit within {limit:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A client configuration that trusts only `root`, limited to `versions`.
pub fn client(
    root: &CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("a usable root certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("supported protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

pub fn trusting(root: &CertificateDer<'static>) -> Arc<ClientConfig> {
    client(root, rustls::DEFAULT_VERSIONS)
}

pub fn tcp(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to runed");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    stream
        .set_write_timeout(Some(PATIENCE))
        .expect("set a write timeout");
    stream
}

/// A TLS connection to runed, handshake done; `server_name` is what the certificate must match.
pub fn connect(port: u16, config: Arc<ClientConfig>, server_name: &str) -> std::io::Result<Tls> {
    let name = ServerName::try_from(server_name.to_owned()).expect("a valid server name");
    let connection = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(connection, tcp(port));
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Reads one HTTP/1.1 response (runed's JSON responses carry a `content-length`).
pub fn read_response(stream: &mut impl Read) -> Response {
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).expect("read the response head");
        assert!(n > 0, "the connection closed before a response: {bytes:?}");
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("no content-length in {head:?}"));
    while bytes.len() < head_end + length {
        let n = stream.read(&mut chunk).expect("read the response body");
        assert!(n > 0, "the connection closed inside the body");
        bytes.extend_from_slice(&chunk[..n]);
    }
    Response {
        status,
        body: String::from_utf8_lossy(&bytes[head_end..head_end + length]).into_owned(),
    }
}

pub fn request(stream: &mut Tls, method: &str, path: &str, body: &str) -> Response {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    read_response(stream)
}

/// `GET path` on a new connection.
pub fn get(port: u16, config: Arc<ClientConfig>, server_name: &str, path: &str) -> Response {
    let mut tls = connect(port, config, server_name).expect("a TLS connection to runed");
    request(&mut tls, "GET", path, "")
}

// ---------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------

#[test]
fn serves_the_api_over_https() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let server = Server::start(&dir.path().join("data"), &cert.tls_args());
    let config = trusting(&cert.der);

    let health = get(server.port, config.clone(), "127.0.0.1", "/healthz");
    assert_eq!(health.status, 200, "{health:?}");
    let health: serde_json::Value = serde_json::from_str(&health.body).expect("JSON");
    assert_eq!(health, serde_json::json!({"status": "ok", "store": "ok"}));

    // The certificate's DNS name works as well as its IP address.
    let namespaces = get(server.port, config.clone(), "localhost", "/v1/namespaces");
    assert_eq!(namespaces.status, 200, "{namespaces:?}");
    let namespaces: serde_json::Value = serde_json::from_str(&namespaces.body).expect("JSON");
    assert!(
        namespaces["items"].is_array(),
        "a namespace list: {namespaces}"
    );

    // Several requests on one kept-alive TLS connection, a write among them.
    let mut tls = connect(server.port, config, "localhost").expect("a TLS connection");
    let created = request(
        &mut tls,
        "POST",
        "/v1/namespaces",
        r#"{"kind":"namespace","name":"over-tls","spec":{}}"#,
    );
    assert_eq!(created.status, 201, "{created:?}");
    let listed = request(&mut tls, "GET", "/v1/namespaces/over-tls", "");
    assert_eq!(listed.status, 200, "{listed:?}");
    assert!(listed.body.contains("\"over-tls\""), "{listed:?}");
    assert!(
        !server.log().contains("listening on http://"),
        "{}",
        server.log()
    );
}

#[test]
fn speaks_tls_1_3_and_tls_1_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let server = Server::start(&dir.path().join("data"), &cert.tls_args());
    for (versions, expected) in [
        (rustls::DEFAULT_VERSIONS, ProtocolVersion::TLSv1_3),
        (&[&rustls::version::TLS12][..], ProtocolVersion::TLSv1_2),
        (&[&rustls::version::TLS13][..], ProtocolVersion::TLSv1_3),
    ] {
        let mut tls = connect(server.port, client(&cert.der, versions), "localhost")
            .expect("a TLS connection");
        assert_eq!(tls.conn.protocol_version(), Some(expected));
        let health = request(&mut tls, "GET", "/healthz", "");
        assert_eq!(health.status, 200, "{expected:?}: {health:?}");
    }
}

#[test]
fn plain_http_to_the_tls_port_fails_and_is_logged() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let server = Server::start(&dir.path().join("data"), &cert.tls_args());

    let mut plain = tcp(server.port);
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .expect("send a plain request");
    let mut reply = Vec::new();
    // The server answers with a TLS alert (or nothing) and closes; a reset is fine too.
    let _ = plain.read_to_end(&mut reply);
    assert!(
        !reply.starts_with(b"HTTP/"),
        "plain HTTP got an HTTP answer: {:?}",
        String::from_utf8_lossy(&reply)
    );
    assert!(
        !String::from_utf8_lossy(&reply).contains("\"status\""),
        "plain HTTP reached the API"
    );
    server.wait_for_log("TLS handshake with 127.0.0.1:");

    // The failed handshake did not take the server down.
    let health = get(server.port, trusting(&cert.der), "localhost", "/healthz");
    assert_eq!(health.status, 200, "{health:?}");
}

#[test]
fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let other = Certificate::new(dir.path(), "other");
    let server = Server::start(&dir.path().join("data"), &cert.tls_args());

    let error = connect(server.port, trusting(&other.der), "localhost")
        .expect_err("a client trusting another certificate must fail the handshake");
    assert!(
        error.to_string().contains("certificate"),
        "a certificate error: {error}"
    );
    server.wait_for_log("TLS handshake with 127.0.0.1:");
    // A name the certificate does not cover fails as well.
    let error = connect(server.port, trusting(&cert.der), "example.test")
        .expect_err("a server name outside the certificate must fail");
    assert!(
        error.to_string().contains("certificate"),
        "a certificate error: {error}"
    );

    let health = get(server.port, trusting(&cert.der), "127.0.0.1", "/healthz");
    assert_eq!(health.status, 200, "{health:?}");
}

#[test]
fn sec1_ec_keys_are_accepted() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let sec1_file = dir.path().join("server-sec1.key");
    std::fs::write(
        &sec1_file,
        pem("EC PRIVATE KEY", &pkcs8_to_sec1(&cert.pkcs8)),
    )
    .expect("write the SEC1 key");
    let server = Server::start(
        &dir.path().join("data"),
        &tls_args(&cert.cert_file, &sec1_file),
    );
    let health = get(server.port, trusting(&cert.der), "localhost", "/healthz");
    assert_eq!(health.status, 200, "{health:?}");
}

#[test]
fn the_server_runefile_turns_tls_on_and_the_flags_override_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let data = dir.path().join("data");
    let runefile = |cert_file: &Path, key_file: &Path| {
        let path = dir.path().join("server.yaml");
        std::fs::write(
            &path,
            format!(
                "server:\n  listen: 127.0.0.1:0\n  data-dir: {}\n  tls:\n    cert-file: {}\n    key-file: {}\n",
                data.display(),
                cert_file.display(),
                key_file.display()
            ),
        )
        .expect("write the server runefile");
        path
    };

    let config = runefile(&cert.cert_file, &cert.key_file);
    let mut command = runed_command(
        &data,
        &["--config".to_owned(), config.display().to_string()],
    );
    command.stderr(Stdio::piped());
    let server = Server::spawn(command);
    let health = get(server.port, trusting(&cert.der), "localhost", "/healthz");
    assert_eq!(health.status, 200, "{health:?}");
    drop(server);

    // Files the runefile names that do not exist: the flags win.
    let config = runefile(&dir.path().join("gone.crt"), &dir.path().join("gone.key"));
    let mut args = vec!["--config".to_owned(), config.display().to_string()];
    args.extend(cert.tls_args());
    let mut command = runed_command(&data, &args);
    command.stderr(Stdio::piped());
    let server = Server::spawn(command);
    let health = get(server.port, trusting(&cert.der), "localhost", "/healthz");
    assert_eq!(health.status, 200, "{health:?}");
}

// ---------------------------------------------------------------------------------------------
// Refusing to start
// ---------------------------------------------------------------------------------------------

/// Runs runed with `args` to completion (it must not start serving).
fn runed_fails(data_dir: &Path, args: &[String]) -> (Option<i32>, String) {
    let mut command = runed_command(data_dir, args);
    command.args(["--listen", "127.0.0.1:0"]);
    let output = assert_cmd::Command::from_std(command)
        .timeout(Duration::from_secs(20))
        .output()
        .expect("run runed");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_missing_certificate_file_refuses_the_start() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let data = dir.path().join("data");
    let missing = dir.path().join("missing.crt");
    let (code, stderr) = runed_fails(&data, &tls_args(&missing, &cert.key_file));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("`{}`", missing.display())),
        "names the file: {stderr}"
    );
    assert!(stderr.contains("certificate"), "{stderr}");
    // Nothing was created: no data directory, no generated KEK.
    assert!(!data.exists(), "the data directory was created");
}

#[test]
fn a_missing_key_file_refuses_the_start() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let missing = dir.path().join("missing.key");
    let (code, stderr) = runed_fails(
        &dir.path().join("data"),
        &tls_args(&cert.cert_file, &missing),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("`{}`", missing.display())),
        "names the file: {stderr}"
    );
}

#[test]
fn files_that_are_not_pem_refuse_the_start() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let data = dir.path().join("data");
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "this is not PEM\n").expect("write junk");
    let broken = dir.path().join("broken.crt");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .expect("write a broken certificate");

    for (cert_file, key_file, named, says) in [
        (&junk, &cert.key_file, &junk, "holds no PEM certificate"),
        (&cert.cert_file, &junk, &junk, "holds no PEM private key"),
        (&broken, &cert.key_file, &broken, "is not valid PEM"),
        // The halves swapped: a key where the certificate belongs.
        (
            &cert.key_file,
            &cert.cert_file,
            &cert.key_file,
            "holds no PEM certificate",
        ),
    ] {
        let (code, stderr) = runed_fails(&data, &tls_args(cert_file, key_file));
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("`{}`", named.display())) && stderr.contains(says),
            "expected `{}` and {says:?}: {stderr}",
            named.display()
        );
    }
    assert!(!data.exists(), "the data directory was created");
}

#[test]
fn a_key_that_does_not_belong_to_the_certificate_refuses_the_start() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let other = Certificate::new(dir.path(), "other");
    let (code, stderr) = runed_fails(
        &dir.path().join("data"),
        &tls_args(&cert.cert_file, &other.key_file),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("does not belong to the certificate")
            && stderr.contains(&other.key_file.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn the_tls_flags_come_in_pairs() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let data = dir.path().join("data");
    for (flag, file, missing) in [
        ("--tls-cert", &cert.cert_file, "--tls-key"),
        ("--tls-key", &cert.key_file, "--tls-cert"),
    ] {
        let (code, stderr) = runed_fails(&data, &[flag.to_owned(), file.display().to_string()]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(missing), "{stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// Stopping
// ---------------------------------------------------------------------------------------------

#[test]
fn sigterm_stops_cleanly_despite_idle_and_half_open_connections() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let mut server = Server::start(&dir.path().join("data"), &cert.tls_args());

    // A kept-alive connection that has finished its request, and one that never says hello.
    let mut idle = connect(server.port, trusting(&cert.der), "localhost").expect("connect");
    assert_eq!(request(&mut idle, "GET", "/healthz", "").status, 200);
    let _silent = tcp(server.port);
    std::thread::sleep(Duration::from_millis(200));

    server.terminate();
    // Well before the 10 s handshake timeout: neither connection holds the stop up.
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("INFO stopped"), "{log}");
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cert = Certificate::new(dir.path(), "server");
    let mut server = Server::start(&dir.path().join("data"), &cert.tls_args());

    // Half a request: the head and part of the body, then SIGTERM, then the rest.
    let body = r#"{"kind":"namespace","name":"in-flight","spec":{}}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut tls = connect(server.port, trusting(&cert.der), "localhost").expect("connect");
    write!(
        tls,
        "POST /v1/namespaces HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{first}",
        body.len()
    )
    .expect("send half a request");
    tls.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(500));

    server.terminate();
    server.wait_for_log("shutting down");
    assert!(
        server.child.try_wait().expect("poll runed").is_none(),
        "runed exited with a request in flight:\n{}",
        server.log()
    );
    tls.write_all(rest.as_bytes()).expect("send the rest");
    let created = read_response(&mut tls);
    assert_eq!(created.status, 201, "{created:?}");

    let status = server.wait_exit(PATIENCE);
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(
        server.log().contains("POST /v1/namespaces 201"),
        "{}",
        server.log()
    );
}
