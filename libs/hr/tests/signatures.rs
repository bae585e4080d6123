//! Request signatures: each scheme accepts a signature made independently
//! of the crate (HMAC on `sha2`, checked against RFC 4231; Standard
//! Webhooks by the `standardwebhooks` crate), with either of two secrets,
//! and refuses a tampered body, a wrong secret, a missing or malformed
//! header and a timestamp beyond the tolerance either way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{
    DEMO_SECRET, demo_source, demo_spec, demo_whsec, fixture, headers, hex, hmac_sha256, utc,
};
use scimbus_hr::{AuthError, AuthSpec, Encoding, Source, SourceSpec};
use standardwebhooks::Webhook;

/// RFC 4231, test case 2.
const RFC4231_KEY: &[u8] = b"Jefe";
const RFC4231_DATA: &[u8] = b"what do ya want for nothing?";
const RFC4231_MAC: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

fn hmac_spec(encoding: Encoding, prefix: Option<&str>, secrets: usize) -> SourceSpec {
    let mut spec = demo_spec("workday");
    spec.auth = AuthSpec::Hmac {
        header: "X-Hub-Signature".into(),
        encoding,
        prefix: prefix.map(String::from),
        timestamp_header: None,
        signed: "{body}".into(),
        tolerance_secs: 300,
        secrets: (0..secrets).map(|i| format!("env:HR_SECRET_{i}")).collect(),
    };
    spec
}

#[test]
fn the_tests_hmac_is_rfc_4231s() {
    assert_eq!(hex(&hmac_sha256(RFC4231_KEY, RFC4231_DATA)), RFC4231_MAC);
    // A key over the block size is hashed first (RFC 4231, test case 6).
    assert_eq!(
        hex(&hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn hmac_accepts_the_rfc_4231_vector_in_hex_and_base64_with_and_without_prefix() {
    let now = utc("2027-01-01T00:00:00Z");
    let mac = hmac_sha256(RFC4231_KEY, RFC4231_DATA);
    let cases = [
        (Encoding::Hex, None, RFC4231_MAC.to_string()),
        (Encoding::Hex, None, RFC4231_MAC.to_uppercase()),
        (
            Encoding::Hex,
            Some("sha256="),
            format!("sha256={RFC4231_MAC}"),
        ),
        (
            Encoding::Hex,
            Some("sha256="),
            format!("SHA256={RFC4231_MAC}"),
        ),
        (Encoding::Base64, None, STANDARD.encode(mac)),
        (
            Encoding::Base64,
            Some("v1="),
            format!("v1={}", STANDARD.encode(mac)),
        ),
    ];
    for (encoding, prefix, header) in cases {
        let source =
            Source::compile(&hmac_spec(encoding, prefix, 1), vec![RFC4231_KEY.to_vec()]).unwrap();
        // Header names are case-insensitive: the spec says X-Hub-Signature.
        let h = headers(&[("x-hub-signature", &header)]);
        assert_eq!(
            source.verify(&h, RFC4231_DATA, now),
            Ok(()),
            "{encoding:?} {prefix:?} {header}"
        );
        assert_eq!(
            source.verify(&h, b"what do ya want for something?", now),
            Err(AuthError::Mismatch),
            "{encoding:?} {prefix:?}: a tampered body"
        );
    }
}

#[test]
fn hmac_accepts_either_of_two_secrets_while_one_is_rotated() {
    let now = utc("2027-01-01T00:00:00Z");
    let source = Source::compile(
        &hmac_spec(Encoding::Hex, None, 2),
        vec![b"new-secret".to_vec(), b"old-secret".to_vec()],
    )
    .unwrap();
    let body = b"{\"a\":1}";
    for key in [&b"new-secret"[..], b"old-secret"] {
        let h = headers(&[("X-Hub-Signature", &hex(&hmac_sha256(key, body)))]);
        assert_eq!(source.verify(&h, body, now), Ok(()));
    }
    let h = headers(&[("X-Hub-Signature", &hex(&hmac_sha256(b"other", body)))]);
    assert_eq!(source.verify(&h, body, now), Err(AuthError::Mismatch));
}

#[test]
fn workday_refuses_a_wrong_secret_a_missing_header_and_a_malformed_signature() {
    let source = demo_source("workday");
    let now = utc("2027-01-12T10:20:05Z");
    let body = fixture("workday-hire.json");
    let good = format!("sha256={}", hex(&hmac_sha256(DEMO_SECRET, &body)));
    assert_eq!(
        source.verify(&headers(&[("X-Signature", &good)]), &body, now),
        Ok(())
    );
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        source.verify(&headers(&[("X-Signature", &good)]), &tampered, now),
        Err(AuthError::Mismatch)
    );
    let wrong = format!("sha256={}", hex(&hmac_sha256(b"not-the-secret", &body)));
    assert_eq!(
        source.verify(&headers(&[("X-Signature", &wrong)]), &body, now),
        Err(AuthError::Mismatch)
    );
    assert_eq!(
        source.verify(&headers(&[]), &body, now),
        Err(AuthError::Missing("x-signature".into()))
    );
    let unprefixed = hex(&hmac_sha256(DEMO_SECRET, &body));
    let short = format!("sha256={}", &unprefixed[..63]);
    let not_hex = format!("sha256={}", unprefixed.replace('a', "g"));
    for bad in [unprefixed.as_str(), short.as_str(), not_hex.as_str()] {
        let e = source
            .verify(&headers(&[("X-Signature", bad)]), &body, now)
            .unwrap_err();
        assert!(matches!(e, AuthError::Malformed(_)), "{bad}: {e:?}");
    }
}

/// BambooHR-like: hex HMAC of the body followed by the timestamp header.
fn bamboo_headers(body: &[u8], stamp: &str, key: &[u8]) -> http::HeaderMap {
    let signed = [body, stamp.as_bytes()].concat();
    headers(&[
        ("X-BambooHR-Signature", &hex(&hmac_sha256(key, &signed))),
        ("X-BambooHR-Timestamp", stamp),
    ])
}

#[test]
fn bamboohr_signs_the_body_and_the_timestamp_and_refuses_stale_and_future_ones() {
    let source = demo_source("bamboohr");
    let body = fixture("bamboohr-changed.json");
    let now = utc("2027-03-04T09:30:20Z");
    let at = |secs: i64| (now.timestamp() + secs).to_string();
    for within in [0, -300, 300] {
        let h = bamboo_headers(&body, &at(within), DEMO_SECRET);
        assert_eq!(source.verify(&h, &body, now), Ok(()), "{within} s off");
    }
    let h = bamboo_headers(&body, &at(-301), DEMO_SECRET);
    assert_eq!(
        source.verify(&h, &body, now),
        Err(AuthError::Stale { age_secs: 301 })
    );
    let h = bamboo_headers(&body, &at(301), DEMO_SECRET);
    assert_eq!(
        source.verify(&h, &body, now),
        Err(AuthError::Stale { age_secs: -301 })
    );
    // The timestamp is signed: another one with the same signature fails.
    let mut h = bamboo_headers(&body, &at(0), DEMO_SECRET);
    h.insert("X-BambooHR-Timestamp", at(-1).parse().unwrap());
    assert_eq!(source.verify(&h, &body, now), Err(AuthError::Mismatch));
    // The body alone is not what this source signs.
    let h = headers(&[
        (
            "X-BambooHR-Signature",
            &hex(&hmac_sha256(DEMO_SECRET, &body)),
        ),
        ("X-BambooHR-Timestamp", &at(0)),
    ]);
    assert_eq!(source.verify(&h, &body, now), Err(AuthError::Mismatch));
    let h = bamboo_headers(&body, &at(0), b"not-the-secret");
    assert_eq!(source.verify(&h, &body, now), Err(AuthError::Mismatch));
    let h = bamboo_headers(&body, "yesterday", DEMO_SECRET);
    assert!(matches!(
        source.verify(&h, &body, now),
        Err(AuthError::Malformed(_))
    ));
    let mut h = bamboo_headers(&body, &at(0), DEMO_SECRET);
    h.remove("X-BambooHR-Timestamp");
    assert_eq!(
        source.verify(&h, &body, now),
        Err(AuthError::Missing("x-bamboohr-timestamp".into()))
    );
}

/// Standard Webhooks headers signed by the `standardwebhooks` crate.
fn sw_headers(secret: &str, id: &str, stamp: i64, body: &[u8]) -> http::HeaderMap {
    let sig = Webhook::new(secret).unwrap().sign(id, stamp, body).unwrap();
    headers(&[
        ("webhook-id", id),
        ("webhook-timestamp", &stamp.to_string()),
        ("webhook-signature", &sig),
    ])
}

#[test]
fn personio_accepts_standard_webhooks_signed_by_the_reference_crate() {
    let source = demo_source("personio");
    let body = fixture("personio-created.json");
    let now = utc("2027-05-02T07:45:03Z");
    let t = now.timestamp();
    let h = sw_headers(&demo_whsec(), "msg_1", t, &body);
    assert_eq!(source.verify(&h, &body, now), Ok(()));
    // Several signatures, the valid one among them.
    let valid = h["webhook-signature"].to_str().unwrap().to_string();
    let other = Webhook::new(&format!("whsec_{}", STANDARD.encode([9u8; 32])))
        .unwrap()
        .sign("msg_1", t, &body)
        .unwrap();
    let mut h2 = h.clone();
    h2.insert(
        "webhook-signature",
        format!("v1a,Zm9v {other} {valid}").parse().unwrap(),
    );
    assert_eq!(source.verify(&h2, &body, now), Ok(()));
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert_eq!(source.verify(&h, &tampered, now), Err(AuthError::Mismatch));
    let mut other_id = h.clone();
    other_id.insert("webhook-id", "msg_2".parse().unwrap());
    assert_eq!(
        source.verify(&other_id, &body, now),
        Err(AuthError::Mismatch)
    );
    let wrong = sw_headers(
        &format!("whsec_{}", STANDARD.encode([9u8; 32])),
        "msg_1",
        t,
        &body,
    );
    assert_eq!(source.verify(&wrong, &body, now), Err(AuthError::Mismatch));
    for (off, age) in [(-301, 301), (301, -301)] {
        let h = sw_headers(&demo_whsec(), "msg_1", t + off, &body);
        assert_eq!(
            source.verify(&h, &body, now),
            Err(AuthError::Stale { age_secs: age })
        );
    }
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let mut h = h.clone();
        h.remove(name);
        assert_eq!(
            source.verify(&h, &body, now),
            Err(AuthError::Missing(name.into()))
        );
    }
    for bad in ["v1", "v2,abc", "v1,not base64!"] {
        let mut h = h.clone();
        h.insert("webhook-signature", bad.parse().unwrap());
        assert!(
            matches!(source.verify(&h, &body, now), Err(AuthError::Malformed(_))),
            "{bad}"
        );
    }
    let mut h3 = h.clone();
    h3.insert("webhook-timestamp", "soon".parse().unwrap());
    assert!(matches!(
        source.verify(&h3, &body, now),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn standard_webhooks_rotation_takes_either_whsec_secret() {
    let mut spec = demo_spec("personio");
    spec.auth = AuthSpec::StandardWebhooks {
        tolerance_secs: 60,
        secrets: vec!["env:NEW".into(), "env:OLD".into()],
    };
    let old = format!("whsec_{}", STANDARD.encode([1u8; 24]));
    let source = Source::compile(
        &spec,
        vec![demo_whsec().into_bytes(), old.clone().into_bytes()],
    )
    .unwrap();
    let now = utc("2027-05-02T07:45:03Z");
    for secret in [demo_whsec(), old] {
        let h = sw_headers(&secret, "m", now.timestamp() - 60, b"{}");
        assert_eq!(source.verify(&h, b"{}", now), Ok(()));
    }
    let h = sw_headers(&demo_whsec(), "m", now.timestamp() - 61, b"{}");
    assert_eq!(
        source.verify(&h, b"{}", now),
        Err(AuthError::Stale { age_secs: 61 })
    );
}

#[test]
fn secrets_are_checked_when_compiled_and_never_shown() {
    let spec = demo_spec("personio");
    let e = Source::compile(&spec, vec![b"c2NpbWJ1cw==".to_vec()]).unwrap_err();
    assert_eq!(e.field, "auth.secrets[0]");
    assert!(!e.to_string().contains("c2NpbWJ1cw"), "{e}");
    let e = Source::compile(&spec, vec![]).unwrap_err();
    assert_eq!(e.field, "auth.secrets");
    let e = Source::compile(&demo_spec("workday"), vec![Vec::new()]).unwrap_err();
    assert_eq!(e.to_string(), "auth.secrets[0]: is empty");
    let shown = format!("{:?}", demo_source("workday"));
    assert!(!shown.contains("scimbus-dev-hr-secret"), "{shown}");
    let shown = format!("{:?}", demo_source("personio"));
    assert!(!shown.contains(&demo_whsec()[6..]), "{shown}");
}
