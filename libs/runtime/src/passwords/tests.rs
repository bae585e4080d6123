use super::*;

fn key_text(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// Keys `a` and `b` from files of their own (tests run in parallel; the
/// environment is shared).
fn cfg(current: &str) -> PasswordsConfig {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("scimbus-pwkeys-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut keys = Vec::new();
    for (id, byte) in [("a", 1u8), ("b", 2u8)] {
        let path = dir.join(id);
        std::fs::write(&path, format!("{}\n", key_text(byte))).unwrap();
        keys.push(KeyConfig {
            id: id.into(),
            key: format!("file:{}", path.display()),
        });
    }
    PasswordsConfig {
        current_key: current.into(),
        keys,
        ttl_hours: 2,
    }
}

fn keys(current: &str) -> PasswordKeys {
    PasswordKeys::resolve(&cfg(current)).unwrap()
}

#[test]
fn a_sealed_password_opens_for_its_resource_only_and_hides_its_text() {
    let k = keys("a");
    let s = k
        .seal("t1", "r1", "s3cret pässword", vec!["crm".into()], 1_000)
        .unwrap();
    assert_eq!(s.key_id, "a");
    assert_eq!(s.nonce.len(), 12);
    assert_eq!(s.targets, vec!["crm".to_string()]);
    assert_eq!(s.expires_at_unix_micros, 1_000 + 2 * 3_600_000_000);
    assert!(!s.ciphertext.windows(6).any(|w| w == b"s3cret".as_slice()));
    let open = |t: &str, r: &str, kid: &str, ct: &[u8]| k.open(t, r, kid, &s.nonce, ct);
    assert_eq!(
        open("t1", "r1", "a", &s.ciphertext).unwrap(),
        "s3cret pässword"
    );
    assert!(matches!(
        open("t1", "r2", "a", &s.ciphertext),
        Err(OpenError::Refused(_))
    ));
    assert!(matches!(
        open("t2", "r1", "a", &s.ciphertext),
        Err(OpenError::Refused(_))
    ));
    // Claimed to be of the other key: refused, not opened with it.
    assert!(matches!(
        open("t1", "r1", "b", &s.ciphertext),
        Err(OpenError::Refused(_))
    ));
    let mut altered = s.ciphertext.clone();
    altered[0] ^= 1;
    assert!(matches!(
        open("t1", "r1", "a", &altered),
        Err(OpenError::Refused(_))
    ));
    assert!(matches!(
        open("t1", "r1", "zz", &s.ciphertext),
        Err(OpenError::UnknownKey(id)) if id == "zz"
    ));
    // Two seals of one password differ (fresh nonces).
    let again = k.seal("t1", "r1", "s3cret pässword", vec![], 0).unwrap();
    assert_ne!(again.nonce, s.nonce);
    assert_ne!(again.ciphertext, s.ciphertext);
}

#[test]
fn after_a_rotation_what_the_old_key_sealed_still_opens() {
    let old = keys("a").seal("t", "r", "pw", vec![], 0).unwrap();
    let rotated = keys("b");
    let new = rotated.seal("t", "r", "pw2", vec![], 0).unwrap();
    assert_eq!(new.key_id, "b");
    assert_eq!(
        rotated
            .open("t", "r", &old.key_id, &old.nonce, &old.ciphertext)
            .unwrap(),
        "pw"
    );
    // Without the old key it does not.
    let mut only_b = cfg("b");
    only_b.keys.retain(|k| k.id == "b");
    let k = PasswordKeys::resolve(&only_b).unwrap();
    assert!(matches!(
        k.open("t", "r", &old.key_id, &old.nonce, &old.ciphertext),
        Err(OpenError::UnknownKey(_))
    ));
}

#[test]
fn the_section_is_checked_and_bad_keys_are_named_without_their_value() {
    let mut c = cfg("a");
    assert_eq!(c.problem(), None);
    c.current_key = "c".into();
    assert!(c.problem().unwrap().contains("passwords.current_key"));
    let mut c = cfg("a");
    c.keys.push(c.keys[0].clone());
    assert!(c.problem().unwrap().contains("given twice"));
    let mut c = cfg("a");
    c.keys[1].id = "b/c".into();
    assert!(c.problem().unwrap().contains("\"b/c\""));
    let mut c = cfg("a");
    c.ttl_hours = 0;
    assert!(c.problem().unwrap().contains("ttl_hours"));

    let mut c = cfg("a");
    c.keys[0].key = "env:SCIMBUS_TEST_PASSWORD_KEY_UNSET".to_string();
    let e = PasswordKeys::resolve(&c).unwrap_err().to_string();
    assert!(
        e.starts_with("passwords.keys.a: environment variable"),
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("scimbus-pwkeys-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
    for (i, text) in [short.as_str(), "not base64!"].iter().enumerate() {
        let path = dir.join(format!("key{i}"));
        std::fs::write(&path, text).unwrap();
        let mut c = cfg("a");
        c.keys[1].key = format!("file:{}", path.display());
        let e = PasswordKeys::resolve(&c).unwrap_err().to_string();
        assert_eq!(
            e,
            "passwords.keys.b: must be 32 bytes in base64 (openssl rand -base64 32)"
        );
        assert!(!e.contains(text));
    }
    let debug = format!("{:?}", keys("a"));
    assert!(!debug.contains(&key_text(1)), "{debug}");
}
