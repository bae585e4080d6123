use super::*;

#[test]
fn files_are_checked() {
    let c = FileConfig::parse(
        "[[tenants]]\nname = \"a\"\ntokens = [\"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"]\n[[tenants]]\nname = \"b\"\n",
    )
    .unwrap();
    assert_eq!(c.tenant_names(), vec!["a", "b"]);
    let t = c.resolve_tenants().unwrap();
    assert_eq!(t[0].token_hashes, vec![crate::token_hash("abc")]);
    let e = FileConfig::parse("[[tenants]]\nname = \"A!\"").unwrap_err();
    assert!(matches!(e, FileError::TenantName(_)), "{e:?}");
    assert!(e.to_string().contains("not a valid tenant"), "{e}");
    let e = FileConfig::parse("[[tenants]]\nname = \"a\"\n[[tenants]]\nname = \"a\"").unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    let e = FileConfig::parse("[[tenants]]\nname = \"a\"\ntoken = []").unwrap_err();
    assert!(
        e.to_string().contains("unknown field `token`"),
        "unknown keys are refused: {e}"
    );
    let e = FileConfig::parse(
        "[[tenants]]\nname = \"a\"\n[[tenants.targets]]\nname = \"t\"\nurl = \"ftp://x\"",
    )
    .unwrap_err();
    assert!(
        matches!(&e, FileError::Target { tenant, source: TargetError::Url { .. } } if tenant == "a"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "tenant \"a\": target \"t\": url \"ftp://x\" is not an http(s) URL"
    );
    let sub = "[[tenants.subscriptions]]\nname = \"s\"\ndelivery = { type = \"nats\" }\n";
    let c = FileConfig::parse(&format!("[[tenants]]\nname = \"a\"\n{sub}")).unwrap();
    assert_eq!(c.subscriptions().len(), 1);
    let e = FileConfig::parse(&format!("[[tenants]]\nname = \"a\"\n{sub}{sub}")).unwrap_err();
    assert!(matches!(e, FileError::SubscriptionTwice { .. }), "{e:?}");
    let e = FileConfig::parse(
        "[[tenants]]\nname = \"a\"\n[[tenants.subscriptions]]\nname = \"s\"\ndelivery = { type = \"webhook\", url = \"ftp://x\", secret = \"env:S\" }",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("tenant \"a\": subscriptions[0]: delivery.url"),
        "{e}"
    );
    let c = FileConfig::parse("[[tenants]]\nname = \"a\"\ntokens = [\"inline\"]").unwrap();
    let e = c.resolve_tenants().unwrap_err();
    assert!(e.to_string().starts_with("tenants.a.tokens[0]: "), "{e}");
    assert!(matches!(e.source, SecretError::Inline), "{e:?}");
}

#[test]
fn targets_that_get_passwords_need_the_keys_and_users() {
    let target = "[[tenants]]\nname = \"a\"\n[[tenants.targets]]\nname = \"t\"\nurl = \"http://x\"\nsend_passwords = true\n";
    let e = FileConfig::parse(target).unwrap_err();
    assert!(matches!(e, FileError::NoPasswordKeys { .. }), "{e:?}");
    let keys = "[passwords]\ncurrent_key = \"k\"\nkeys = [{ id = \"k\", key = \"env:K\" }]\n";
    let c = FileConfig::parse(&format!("{keys}{target}")).unwrap();
    assert!(c.targets()[0].1.send_passwords);
    assert_eq!(c.passwords.as_ref().unwrap().ttl_hours, 72);
    let e =
        FileConfig::parse(&format!("{keys}{target}resource_types = [\"Group\"]\n")).unwrap_err();
    assert!(e.to_string().contains("send_passwords needs User"), "{e}");
    let e =
        FileConfig::parse(&keys.replace("current_key = \"k\"", "current_key = \"j\"")).unwrap_err();
    assert!(matches!(e, FileError::Passwords(_)), "{e:?}");
}

#[test]
fn rate_limits_default_high_and_must_be_at_least_one() {
    let c = FileConfig::parse("[[tenants]]\nname = \"a\"").unwrap();
    assert_eq!(c.tenants[0].rate_limit, RateLimit::default());
    let c = FileConfig::parse(
        "[[tenants]]\nname = \"a\"\n[tenants.rate_limit]\nrequests_per_second = 5\ntoken_burst = 2",
    )
    .unwrap();
    let r = c.tenants[0].rate_limit;
    assert_eq!((r.requests_per_second, r.token_burst), (5.0, 2.0));
    assert_eq!(r.burst, RateLimit::default().burst);
    let e = FileConfig::parse("[[tenants]]\nname = \"a\"\n[tenants.rate_limit]\nburst = 0")
        .unwrap_err();
    assert!(e.to_string().contains("rate_limit.burst"), "{e}");
    let e =
        FileConfig::parse("[[tenants]]\nname = \"a\"\n[tenants.rate_limit]\nrps = 3").unwrap_err();
    assert!(e.to_string().contains("rps"), "{e}");
}

#[test]
fn the_local_stack_publishes_the_demo_tenants_events_on_nats() {
    let c = FileConfig::parse(include_str!("../../../../deploy/local/scimbus.toml")).unwrap();
    let subs = c.subscriptions();
    let registry = scimbus_scim::Registry::standard().unwrap();
    let (tenant, events) = subs
        .iter()
        .find(|(_, s)| s.name.as_deref() == Some("events"))
        .expect("make run's demo subscription");
    assert_eq!(tenant, "demo");
    let checked = events.check("events", &registry, false).unwrap();
    assert_eq!(checked.delivery, scimbus_notify::Delivery::Nats);
}

#[test]
fn hr_sources_are_checked_for_form_and_named_once() {
    let source = |name: &str, extra: &str| {
        format!(
            "[[tenants.hr_sources]]\nname = \"{name}\"\n{extra}\
             [tenants.hr_sources.auth]\nscheme = \"hmac\"\nheader = \"X-Signature\"\n\
             secrets = [\"env:HR_SECRET\"]\n\
             [tenants.hr_sources.mapping]\nemployee_id = \"event.id\"\nkind = \"'update'\"\n"
        )
    };
    let ok = format!(
        "[[tenants]]\nname = \"a\"\n{}{}",
        source("workday", ""),
        source("bamboohr", "events = \"employees\"\n")
    );
    let c = FileConfig::parse(&ok).unwrap();
    let names: Vec<String> = c.hr_sources().into_iter().map(|(_, s)| s.name).collect();
    assert_eq!(names, ["workday", "bamboohr"]);
    let e = FileConfig::parse(&format!(
        "[[tenants]]\nname = \"demo\"\n{}{}",
        source("workday", ""),
        source("bamboohr", "time_zone = \"Mars/Olympus\"\n")
    ))
    .unwrap_err();
    assert!(matches!(&e, FileError::HrSource { index: 1, .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("tenant \"demo\": hr_sources[1]: time_zone: "),
        "{e}"
    );
    let e = FileConfig::parse(&format!(
        "[[tenants]]\nname = \"a\"\n{}{}",
        source("workday", ""),
        source("workday", "")
    ))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "tenant \"a\": HR source \"workday\" is declared twice"
    );
}

#[test]
fn the_local_stack_has_the_demo_hr_sources() {
    let c = FileConfig::parse(include_str!("../../../../deploy/local/scimbus.toml")).unwrap();
    let sources: Vec<(String, String)> = c
        .hr_sources()
        .into_iter()
        .map(|(t, s)| (t, s.name))
        .collect();
    let demo = |n: &str| ("demo".to_string(), n.to_string());
    assert_eq!(
        sources,
        [demo("workday"), demo("bamboohr"), demo("personio")]
    );
}
