//! Compact JWS (RFC 7515) signing of JWTs, here Security Event Tokens:
//! HS256 with a subscription's secret, or RS256 / ES256 with the key the
//! operator configured, published as a JWKS so receivers can verify
//! without sharing a secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use ring::{digest, hmac, rsa};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};

/// Why a key could not be loaded or a token signed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the signing key is not a PEM \"PRIVATE KEY\" (PKCS#8): {0}")]
    Pem(String),
    #[error(
        "the signing key is neither an RSA key (RS256, 2048 bits or more) nor a P-256 EC key (ES256): {0}"
    )]
    Unsupported(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("the token could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// An asymmetric signing key: RS256 (RSA) or ES256 (P-256), with its public
/// JWK and RFC 7638 thumbprint (the `kid`) computed once at load.
pub struct SigningKey {
    pair: Pair,
    kid: String,
    jwk: Value,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads the first `PRIVATE KEY` (PKCS#8) block of `pem`: an RSA key
    /// signs RS256, a P-256 key ES256.
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey, KeyError> {
        let der =
            PrivatePkcs8KeyDer::from_pem_slice(pem).map_err(|e| KeyError::Pem(e.to_string()))?;
        let der = der.secret_pkcs8_der();
        let rng = SystemRandom::new();
        let pair = match RsaKeyPair::from_pkcs8(der) {
            Ok(rsa) => Pair::Rsa(rsa),
            Err(rsa_err) => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                .map(Pair::Ec)
                .map_err(|ec_err| {
                    KeyError::Unsupported(format!("as RSA: {rsa_err}; as P-256: {ec_err}"))
                })?,
        };
        // RFC 7638 §3.2: the required members only, in lexicographic order,
        // without whitespace. Written by hand so the order does not hang on
        // how serde_json orders maps; base64url needs no JSON escaping.
        let (alg, canonical, jwk) = match &pair {
            Pair::Rsa(k) => {
                let c = rsa::PublicKeyComponents::<Vec<u8>>::from(k.public());
                let (n, e) = (URL_SAFE_NO_PAD.encode(&c.n), URL_SAFE_NO_PAD.encode(&c.e));
                let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
                ("RS256", canonical, json!({"kty": "RSA", "n": n, "e": e}))
            }
            Pair::Ec(k) => {
                // An uncompressed SEC1 point: 0x04 || X (32) || Y (32).
                let (x, y) = match k.public_key().as_ref() {
                    [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                    _ => return Err(KeyError::Unsupported("unexpected EC point".into())),
                };
                let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
                let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
                (
                    "ES256",
                    canonical,
                    json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
                )
            }
        };
        let kid = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
        let mut jwk = jwk;
        if let Some(m) = jwk.as_object_mut() {
            m.insert("use".into(), "sig".into());
            m.insert("alg".into(), alg.into());
            m.insert("kid".into(), kid.clone().into());
        }
        Ok(SigningKey {
            pair,
            kid,
            jwk,
            rng,
        })
    }

    /// The JWS algorithm: `RS256` or `ES256`.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::Ec(_) => "ES256",
        }
    }

    /// The RFC 7638 JWK thumbprint (base64url SHA-256), used as `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key set receivers fetch: `{"keys":[{kty, use, alg, kid,
    /// n, e | crv, x, y}]}`.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.jwk.clone()]})
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &self.rng, input, &mut sig)
                    .map_err(|e| KeyError::Sign(e.to_string()))?;
                Ok(sig)
            }
            // FIXED signing gives r || s, the form JWS wants (RFC 7518 §3.4).
            Pair::Ec(k) => k
                .sign(&self.rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| KeyError::Sign(e.to_string())),
        }
    }
}

/// What signs a token: a shared secret (HS256) or the configured key.
#[derive(Debug, Clone, Copy)]
pub enum Signer<'a> {
    Hs256(&'a [u8]),
    Key(&'a SigningKey),
}

/// A compact JWS of `claims` with the header `{"typ":"secevent+jwt",
/// "alg":…}` plus `"kid"` for a key (RFC 8417 §2.3 asks for that `typ`).
pub fn sign_jwt(claims: &Value, signer: &Signer<'_>) -> Result<String, KeyError> {
    let header = match signer {
        Signer::Hs256(_) => json!({"typ": "secevent+jwt", "alg": "HS256"}),
        Signer::Key(k) => json!({"typ": "secevent+jwt", "alg": k.alg(), "kid": k.kid()}),
    };
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
    let sig = match signer {
        Signer::Hs256(secret) => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
            hmac::sign(&key, token.as_bytes()).as_ref().to_vec()
        }
        Signer::Key(k) => k.sign(token.as_bytes())?,
    };
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Ok(token)
}
