//! A refused request with a large body (issue #13 item 2): runed answers 401/403 from the
//! headers before it reads the body, and `rune` reports that answer (exit 3), never a
//! "Broken pipe" that reads as "unreachable" (exit 8).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::util::{Server, Workspace, create_token, create_token_with};

/// Sixty configmaps of 50,000 bytes each: a plan request of about 3 MB.
fn big_runefile() -> String {
    let value = "x".repeat(50_000);
    let mut text = String::from("configmaps:\n");
    for i in 0..60 {
        let _ = writeln!(
            text,
            "  - name: big-{i:02}\n    data:\n      - key: blob\n        value: {value}"
        );
    }
    text
}

/// `rune --server URL --token TOKEN ARGS…` in the workspace.
fn rune(w: &Workspace, server: &Server, token: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = w
        .rune()
        .args(["--server", &server.url(""), "--token", token])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("rune runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A wrong token on a 3 MB cast or diff: exit 3, with runed's message and where the token came
/// from; a token without `cast`: its plan passes, its 3 MB apply is refused with 403, exit 3.
#[test]
fn a_refused_large_cast_is_an_authentication_failure() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("runed");
    let server = Server::start(&data, &[]);
    create_token(&data, "admin", &[]);
    let w = Workspace::new().file("big.yaml", &big_runefile());
    for args in [&["cast", "big.yaml"][..], &["diff", "big.yaml"]] {
        let (code, stderr) = rune(&w, &server, "not-a-valid-token", args);
        assert_eq!(code, Some(3), "rune {args:?}: {stderr}");
        assert!(
            stderr.contains("not valid") && stderr.contains("`--token`"),
            "rune {args:?}: {stderr}"
        );
        assert!(!stderr.contains("pipe"), "rune {args:?}: {stderr}");
    }
    let reader = create_token_with(&data, "reader", &[], "read");
    let (code, stderr) = rune(&w, &server, &reader, &["cast", "big.yaml"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("`cast` permission"), "{stderr}");
}

/// runed answers a request whose 3 MB body never comes: 401 for a wrong token, from the
/// headers alone (with and without `Expect: 100-continue`), and 403 for a plan without `read`.
#[test]
fn runed_refuses_before_reading_the_body() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("runed");
    let server = Server::start(&data, &[]);
    create_token(&data, "admin", &[]);
    let caster = create_token_with(&data, "caster", &[], "cast");
    let port = server
        .url("")
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();
    let cases = [
        ("not-a-valid-token", "", "401"),
        ("not-a-valid-token", "Expect: 100-continue\r\n", "401"),
        (caster.as_str(), "Expect: 100-continue\r\n", "403"),
        (caster.as_str(), "", "403"),
    ];
    for (token, expect, status) in cases {
        let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        write!(
            stream,
            "POST /v1/plan HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n{expect}\r\n"
        )
        .expect("send the headers");
        let mut answer = [0_u8; 12];
        stream
            .read_exact(&mut answer)
            .expect("an answer without the body");
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(answer, format!("HTTP/1.1 {status}"), "{token} {expect:?}");
    }
}
