//! JWS signing: HS256, RS256 and ES256 tokens verified by the
//! `jsonwebtoken` crate, the RS/ES keys taken from our JWKS (not the PEM).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::whsec;
use jsonwebtoken::jwk::{JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use scimbus_notify::{KeyError, Signer, SigningKey, WebhookSecret, sign_jwt};
use serde_json::{Value, json};

const RSA_PEM: &[u8] = include_bytes!("keys/rsa.pem");
const P256_PEM: &[u8] = include_bytes!("keys/p256.pem");
const P384_PEM: &[u8] = include_bytes!("keys/p384.pem");

fn claims() -> Value {
    json!({
        "iss": "https://scimbus.example.com/scim/v2/acme",
        "iat": 1_718_000_000,
        "jti": "0190a8f2-7b3c-7d4e-8f10-1a2b3c4d5e6f",
        "aud": "https://app.example.com/hook",
        "sub_id": {"format": "scim", "uri": "/Users/1"},
        "events": {"urn:ietf:params:scim:event:prov:delete": {}}
    })
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    // SETs carry no expiry (RFC 8417 §2.2 does not ask for one).
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_audience(&["https://app.example.com/hook"]);
    v.set_issuer(&["https://scimbus.example.com/scim/v2/acme"]);
    v
}

/// The decoding key built from the JWKS's public parameters.
fn key_from_jwks(key: &SigningKey) -> DecodingKey {
    let jwks = key.jwks();
    let k = &jwks["keys"][0];
    assert_eq!(
        (&k["use"], &k["alg"], &k["kid"]),
        (&json!("sig"), &json!(key.alg()), &json!(key.kid()))
    );
    let s = |name: &str| k[name].as_str().unwrap().to_string();
    match key.alg() {
        "RS256" => DecodingKey::from_rsa_components(&s("n"), &s("e")).unwrap(),
        "ES256" => {
            assert_eq!(k["crv"], "P-256");
            DecodingKey::from_ec_components(&s("x"), &s("y")).unwrap()
        }
        other => panic!("{other}"),
    }
}

#[test]
fn hs256_tokens_verify_with_the_secret() {
    let secret = WebhookSecret::parse(&whsec(4, 32)).unwrap();
    let token = sign_jwt(&claims(), &Signer::Hs256(secret.bytes())).unwrap();
    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    assert_eq!(header.kid, None);
    let got = decode::<Value>(
        &token,
        &DecodingKey::from_secret(secret.bytes()).unwrap(),
        &validation(Algorithm::HS256),
    )
    .unwrap();
    assert_eq!(got.claims, claims());
    let other = DecodingKey::from_secret(&[5; 32]).unwrap();
    assert!(decode::<Value>(&token, &other, &validation(Algorithm::HS256)).is_err());
}

#[test]
fn rs256_and_es256_tokens_verify_with_the_published_key() {
    for (pem, alg) in [(RSA_PEM, Algorithm::RS256), (P256_PEM, Algorithm::ES256)] {
        let key = SigningKey::from_pem(pem).unwrap();
        let token = sign_jwt(&claims(), &Signer::Key(&key)).unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, alg);
        assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        let got = decode::<Value>(&token, &key_from_jwks(&key), &validation(alg)).unwrap();
        assert_eq!(got.claims, claims());
    }
}

#[test]
fn a_tampered_token_fails() {
    let key = SigningKey::from_pem(P256_PEM).unwrap();
    let token = sign_jwt(&claims(), &Signer::Key(&key)).unwrap();
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let mut forged = claims();
    forged["jti"] = json!("someone-else");
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    let forged = parts.join(".");
    assert!(decode::<Value>(&forged, &key_from_jwks(&key), &validation(Algorithm::ES256)).is_err());
    // A key of another pair does not verify it either.
    let rsa = SigningKey::from_pem(RSA_PEM).unwrap();
    let token = sign_jwt(&claims(), &Signer::Key(&rsa)).unwrap();
    let ec = key_from_jwks(&key);
    assert!(decode::<Value>(&token, &ec, &validation(Algorithm::RS256)).is_err());
}

#[test]
fn the_kid_is_the_rfc7638_thumbprint_and_the_jwks_is_a_jwk_set() {
    for pem in [RSA_PEM, P256_PEM] {
        let key = SigningKey::from_pem(pem).unwrap();
        let set: JwkSet = serde_json::from_value(key.jwks()).unwrap();
        assert_eq!(set.keys.len(), 1);
        let jwk = &set.keys[0];
        assert_eq!(jwk.thumbprint(ThumbprintHash::SHA256).unwrap(), key.kid());
        assert_eq!(jwk.common.key_id.as_deref(), Some(key.kid()));
        // The JWK alone (as a receiver fetches it) verifies a token.
        let token = sign_jwt(&claims(), &Signer::Key(&key)).unwrap();
        let alg = if key.alg() == "RS256" {
            Algorithm::RS256
        } else {
            Algorithm::ES256
        };
        decode::<Value>(
            &token,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &validation(alg),
        )
        .unwrap();
    }
}

#[test]
fn keys_other_than_rsa_and_p256_pkcs8_are_refused() {
    assert!(matches!(
        SigningKey::from_pem(P384_PEM),
        Err(KeyError::Unsupported(_))
    ));
    assert!(matches!(
        SigningKey::from_pem(b"not a pem"),
        Err(KeyError::Pem(_))
    ));
    let public_only = b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
    assert!(matches!(
        SigningKey::from_pem(public_only),
        Err(KeyError::Pem(_))
    ));
}

#[test]
fn debug_shows_no_key_material() {
    let key = SigningKey::from_pem(RSA_PEM).unwrap();
    let shown = format!("{key:?}");
    assert!(
        shown.contains("RS256") && shown.contains(key.kid()),
        "{shown}"
    );
    let jwks = key.jwks();
    assert!(!shown.contains(jwks["keys"][0]["n"].as_str().unwrap()));
}
