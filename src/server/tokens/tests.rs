use super::*;

#[test]
fn tokens_are_shown_once_and_stored_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let (token, info) = create(
        dir.path(),
        "ci",
        Grant {
            namespaces: vec!["prod".into()],
            ..Grant::default()
        },
    )
    .unwrap();
    let on_disk = std::fs::read_to_string(tokens_path(dir.path())).unwrap();
    assert!(!on_disk.contains(token.expose().as_str()));
    assert!(on_disk.contains(&info.hash));
    let tokens = Tokens::new(dir.path());
    assert_eq!(tokens.authenticate(token.expose()).unwrap(), Some(info));
    assert_eq!(tokens.authenticate("rune_wrong").unwrap(), None);
    assert!(matches!(
        create(dir.path(), "ci", Grant::default()),
        Err(TokenError::Exists(_))
    ));
}

/// A new token gets `read,cast` unless told otherwise, and leaves the fail-closed marker,
/// which revoking it (or deleting the token file) does not remove.
#[test]
fn tokens_carry_permissions_and_mark_the_store() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!fail_closed::marked(dir.path()));
    let (_, info) = create(dir.path(), "ci", Grant::default()).unwrap();
    assert_eq!(info.permissions(), Permissions::DEFAULT);
    let (_, ops) = create(dir.path(), "ops", Grant::of(Permissions::ALL)).unwrap();
    assert_eq!(
        list(dir.path()).unwrap()[1].permissions(),
        ops.permissions()
    );
    revoke(dir.path(), "ci").unwrap();
    revoke(dir.path(), "ops").unwrap();
    std::fs::remove_file(tokens_path(dir.path())).unwrap();
    assert!(fail_closed::marked(dir.path()));
}

#[test]
fn revoked_tokens_stop_working_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (token, _) = create(dir.path(), "ci", Grant::default()).unwrap();
    let tokens = Tokens::new(dir.path());
    assert!(tokens.authenticate(token.expose()).unwrap().is_some());
    revoke(dir.path(), "ci").unwrap();
    assert!(tokens.authenticate(token.expose()).unwrap().is_none());
    assert!(matches!(
        revoke(dir.path(), "ci"),
        Err(TokenError::NotFound(_))
    ));
}

/// The file keeps what it is given through the trait, refuses a taken name and removes by
/// name; a token created in it is stored as its hash only.
#[test]
fn the_token_file_is_a_token_store() {
    let dir = tempfile::tempdir().unwrap();
    let store: &dyn TokenStore = &TokenFileStore::new(dir.path());
    assert!(store.entries().unwrap().is_empty());
    let (token, info) = create_in(store, "deploy", Grant::default()).unwrap();
    assert_eq!(store.entries().unwrap(), std::slice::from_ref(&info));
    assert_ne!(&info.hash, token.expose());
    assert!(matches!(store.insert(info), Err(TokenError::Exists(_))));
    store.remove("deploy").unwrap();
    assert!(matches!(
        store.remove("deploy"),
        Err(TokenError::NotFound(_))
    ));
    assert!(store.entries().unwrap().is_empty());
}

/// A token past its expiry is refused with an error that says so; entries written before
/// expiry existed (no `expiresAt`) keep working.
#[test]
fn expired_tokens_are_refused_and_old_entries_never_expire() {
    let dir = tempfile::tempdir().unwrap();
    let (token, info) = create(
        dir.path(),
        "ci",
        Grant {
            ttl: Some(Duration::from_secs(3600)),
            ..Grant::default()
        },
    )
    .unwrap();
    assert!(info.expires_at.is_some());
    let tokens = Tokens::new(dir.path());
    assert!(tokens.authenticate(token.expose()).unwrap().is_some());
    let now = clock::now_unix();
    assert!(!info.is_expired(now));
    assert!(!info.is_expired(now + 3599));
    assert!(info.is_expired(now + 3601));
    let mut file = read(&tokens_path(dir.path())).unwrap();
    file.tokens[0].expires_at = Some(clock::format_unix(now - 1));
    write(&tokens_path(dir.path()), &file).unwrap();
    assert!(matches!(
        tokens.authenticate(token.expose()),
        Err(TokenError::Expired { name, .. }) if name == "ci"
    ));

    let (_, far) = create(
        dir.path(),
        "far",
        Grant {
            ttl: Some(Duration::MAX),
            ..Grant::default()
        },
    )
    .unwrap();
    assert_eq!(far.expires_at.as_deref(), Some("9999-12-31T23:59:59Z"));
    assert!(!far.is_expired(now));

    let old = r#"{"tokens":[{"createdAt":"2026-01-01T00:00:00Z","hash":"00","name":"old"}]}"#;
    std::fs::write(tokens_path(dir.path()), old).unwrap();
    let listed = list(dir.path()).unwrap();
    assert_eq!(listed[0].expires_at, None);
    assert_eq!(listed[0].permissions, None);
    assert_eq!(listed[0].permissions(), Permissions::LEGACY);
    assert!(!listed[0].is_expired(u64::MAX));
}

#[cfg(unix)]
#[test]
fn token_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    create(dir.path(), "ci", Grant::default()).unwrap();
    let mode = std::fs::metadata(tokens_path(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
