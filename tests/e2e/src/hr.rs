//! HR sources in tests: the demo sources of the shipped configuration
//! (`deploy/local/scimbus.toml`, tenant `demo`: `workday`, `bamboohr`,
//! `personio`) and requests signed the way each one's sender signs them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The demo sources' secret.
pub const SECRET: &str = "scimbus-dev-hr-secret";
pub const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The demo tenant's HR sources as the shipped configuration writes them.
pub fn demo_sources() -> Vec<scimbus_hr::SourceSpec> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/local/scimbus.toml"
    );
    let file = scimbus_runtime::FileConfig::load(path).unwrap();
    let demo = file.tenants.iter().find(|t| t.name == "demo").unwrap();
    assert_eq!(
        demo.hr_sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["workday", "bamboohr", "personio"]
    );
    demo.hr_sources.clone()
}

/// A source compiled with the demo secret (its whsec_ form for Standard
/// Webhooks).
pub fn compile(spec: &scimbus_hr::SourceSpec) -> scimbus_hr::Source {
    let secret = match spec.auth {
        scimbus_hr::AuthSpec::StandardWebhooks { .. } => {
            format!("whsec_{}", STANDARD.encode(SECRET))
        }
        _ => SECRET.to_string(),
    };
    scimbus_hr::Source::compile(spec, vec![secret.into_bytes()]).unwrap()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&k, data).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The headers a source's sender signs `body` with, at unix time `ts`.
pub fn signed(source: &str, secret: &str, body: &[u8], ts: i64) -> Vec<(String, String)> {
    match source {
        "workday" => vec![(
            "X-Signature".into(),
            format!("sha256={}", hex(&hmac(secret.as_bytes(), body))),
        )],
        "bamboohr" => {
            let mut data = body.to_vec();
            data.extend_from_slice(ts.to_string().as_bytes());
            vec![
                (
                    "X-BambooHR-Signature".into(),
                    hex(&hmac(secret.as_bytes(), &data)),
                ),
                ("X-BambooHR-Timestamp".into(), ts.to_string()),
            ]
        }
        "personio" => {
            let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
            let mut data = format!("{id}.{ts}.").into_bytes();
            data.extend_from_slice(body);
            vec![
                ("webhook-id".into(), id),
                ("webhook-timestamp".into(), ts.to_string()),
                (
                    "webhook-signature".into(),
                    format!("v1,{}", STANDARD.encode(hmac(secret.as_bytes(), &data))),
                ),
            ]
        }
        other => panic!("no signer for {other}"),
    }
}

pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An RFC 3339 time `secs` from now.
pub fn in_secs(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
