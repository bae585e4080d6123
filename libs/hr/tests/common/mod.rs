//! What the tests share: the demo sources of the `make run` configuration
//! (read from the real file), the fixtures, and signatures made without
//! the crate's own code.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use scimbus_hr::{Source, SourceSpec};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The demo HR secret `make run` sets (SCIMBUS_DEMO_HR_SECRET's default).
pub const DEMO_SECRET: &[u8] = b"scimbus-dev-hr-secret";

/// The same bytes in the Standard Webhooks form (SCIMBUS_DEMO_HR_WHSEC's
/// default).
pub fn demo_whsec() -> String {
    format!("whsec_{}", STANDARD.encode(DEMO_SECRET))
}

#[derive(Deserialize)]
struct File {
    tenants: Vec<Tenant>,
}

#[derive(Deserialize)]
struct Tenant {
    name: String,
    #[serde(default)]
    hr_sources: Vec<SourceSpec>,
}

/// The demo tenant's HR sources, as deploy/local/scimbus.toml writes them.
pub fn demo_specs() -> Vec<SourceSpec> {
    let text = include_str!("../../../../deploy/local/scimbus.toml");
    let file: File = toml::from_str(text).expect("the make run configuration reads");
    let demo = file.tenants.into_iter().next().expect("a tenant");
    assert_eq!(demo.name, "demo");
    demo.hr_sources
}

pub fn demo_spec(name: &str) -> SourceSpec {
    demo_specs()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no demo source {name}"))
}

/// A demo source compiled with the demo secret.
pub fn demo_source(name: &str) -> Source {
    let spec = demo_spec(name);
    let secret = match spec.auth {
        scimbus_hr::AuthSpec::Hmac { .. } => DEMO_SECRET.to_vec(),
        scimbus_hr::AuthSpec::StandardWebhooks { .. } => demo_whsec().into_bytes(),
        scimbus_hr::AuthSpec::Bearer {} => {
            return Source::compile(&spec, vec![]).expect("the demo source compiles");
        }
    };
    Source::compile(&spec, vec![secret]).expect("the demo source compiles")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// HMAC-SHA256 as RFC 2104 defines it, on `sha2` (not the `ring` the crate
/// verifies with), checked against RFC 4231 in the signature tests.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| block.map(|k| k ^ b);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}
