//! Any input: the filter parser answers Ok or a 400 invalidFilter, never
//! panics; what parses prints back to the same tree; evaluation never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimbus_scim::{Registry, filter};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match filter::parse(text) {
        Ok(f) => {
            let printed = f.to_string();
            assert_eq!(filter::parse(&printed).as_ref(), Ok(&f), "{printed}");
            let reg = Registry::standard().unwrap();
            let rt = reg.resource_type("User").unwrap();
            let user = json!({"userName": "bjensen", "name": {"givenName": "Barbara"}, "active": true,
                "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
                "meta": {"lastModified": "2011-05-13T04:42:34Z"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tours"}});
            let _ = filter::matches(&reg, rt, &user, &f);
        }
        Err(e) => assert_eq!((e.status, e.scim_type), (400, Some(scimbus_scim::ScimType::InvalidFilter))),
    }
});
