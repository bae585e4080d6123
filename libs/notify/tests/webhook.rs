//! Standard Webhooks signatures, verified by the `standardwebhooks` crate
//! (an independent implementation of the spec).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::whsec;
use http::{HeaderMap, HeaderValue};
use scimbus_notify::{WebhookSecret, webhook_signature};
use standardwebhooks::Webhook;

const ID: &str = "0190a8f2-7b3c-7d4e-8f10-1a2b3c4d5e6f";
const BODY: &[u8] = br#"{"specversion":"1.0","id":"0190a8f2-7b3c-7d4e-8f10-1a2b3c4d5e6f"}"#;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn headers(id: &str, timestamp: i64, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("webhook-id", HeaderValue::from_str(id).unwrap());
    h.insert(
        "webhook-timestamp",
        HeaderValue::from_str(&timestamp.to_string()).unwrap(),
    );
    h.insert(
        "webhook-signature",
        HeaderValue::from_str(signature).unwrap(),
    );
    h
}

#[test]
fn a_signature_verifies_with_the_reference_implementation() {
    let secret = whsec(0x5a, 32);
    let ts = now();
    let sig = webhook_signature(&[WebhookSecret::parse(&secret).unwrap()], ID, ts, BODY);
    assert!(sig.starts_with("v1,") && !sig.contains(' '), "{sig}");
    Webhook::new(&secret)
        .unwrap()
        .verify(BODY, &headers(ID, ts, &sig))
        .unwrap();
    // Both sign the same bytes the same way.
    let theirs = Webhook::new(&secret).unwrap().sign(ID, ts, BODY).unwrap();
    assert_eq!(sig, theirs);
}

#[test]
fn while_a_secret_rotates_either_secret_verifies() {
    let (new, old) = (whsec(1, 24), whsec(2, 64));
    let secrets = [
        WebhookSecret::parse(&new).unwrap(),
        WebhookSecret::parse(&old).unwrap(),
    ];
    let ts = now();
    let sig = webhook_signature(&secrets, ID, ts, BODY);
    assert_eq!(sig.split(' ').count(), 2, "{sig}");
    for secret in [&new, &old] {
        Webhook::new(secret)
            .unwrap()
            .verify(BODY, &headers(ID, ts, &sig))
            .unwrap();
    }
    let stranger = whsec(3, 32);
    assert!(
        Webhook::new(&stranger)
            .unwrap()
            .verify(BODY, &headers(ID, ts, &sig))
            .is_err()
    );
}

#[test]
fn a_tampered_message_fails() {
    let secret = whsec(7, 32);
    let ts = now();
    let sig = webhook_signature(&[WebhookSecret::parse(&secret).unwrap()], ID, ts, BODY);
    let hook = Webhook::new(&secret).unwrap();
    let mut tampered = BODY.to_vec();
    tampered[5] ^= 1;
    assert!(hook.verify(&tampered, &headers(ID, ts, &sig)).is_err());
    assert!(hook.verify(BODY, &headers("other-id", ts, &sig)).is_err());
    assert!(hook.verify(BODY, &headers(ID, ts - 1, &sig)).is_err());
}
