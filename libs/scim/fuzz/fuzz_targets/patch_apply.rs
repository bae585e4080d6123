//! Any JSON body: PATCH answers Ok or a 400 SCIM error, never panics, and a
//! result is a canonical resource.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimbus_scim::Registry;
use scimbus_scim::patch::{PatchRequest, apply};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };
    let reg = Registry::standard().unwrap();
    let docs = [
        ("User", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "h@x.org", "type": "home"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tours", "manager": {"value": "m"}}})),
        ("Group", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": "u1", "type": "User"}, {"value": "u2"}]})),
    ];
    for (rt_name, doc) in docs {
        let rt = reg.resource_type(rt_name).unwrap();
        let doc = normalize(&reg, rt, &doc, Intent::Create, Leniency::default()).unwrap();
        match PatchRequest::parse(&body).and_then(|r| apply(&reg, rt, &doc, &r, Leniency::default())) {
            Ok(out) => {
                let again = normalize(&reg, rt, &out.resource, Intent::Replace { existing: &out.resource }, Leniency::default());
                assert_eq!(again.as_ref(), Ok(&out.resource));
            }
            Err(e) => assert!(e.status == 400 && e.scim_type.is_some(), "{e}"),
        }
    }
});
