//! `/metrics` of the three services after known traffic: each counter and
//! gauge moved as the traffic says, and `promtool check metrics`
//! (Prometheus's own linter) finds nothing to say about any of them.

use std::time::Duration;

use reqwest::Method;

use crate::fake_target::FakeTarget;
use crate::support::{Hub, eventually, user};

/// The value of the sample `name{labels}` (labels as written, in order),
/// if the text has it.
pub fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let key = if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{labels}}}")
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(&key)?.strip_prefix(' ')?.parse().ok())
}

/// Whether any sample of `name` has a label set containing `part`.
fn has_series(text: &str, name: &str, part: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with(&format!("{name}{{")) && l.contains(part))
}

fn promtool_accepts(what: &str, text: &str) {
    let promtool = std::env::var("SCIMBUS_PROMTOOL").unwrap_or_else(|_| {
        panic!(
            "SCIMBUS_PROMTOOL is not set: run the tests with `make test`, which unpacks promtool \
             (tests/tools/promtool.sh)"
        )
    });
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {promtool}: {e}"));
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics on the {what}'s /metrics: {said}\n{text}"
    );
}

#[tokio::test]
async fn each_service_counts_what_it_did_and_promtool_accepts_it() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![crate::support::target("t", &t.url())])
        .await;

    let id = hub.create_user("metered", "eng").await;
    let (status, _) = hub
        .call(Method::POST, "/Users", Some(user("metered", "eng")))
        .await;
    assert_eq!(status, 409);
    let (status, _) = hub.call(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(status, 200);
    let missing = uuid::Uuid::now_v7();
    let (status, _) = hub
        .call(Method::GET, &format!("/Users/{missing}"), None)
        .await;
    assert_eq!(status, 404);
    eventually(
        "the target has the user",
        Duration::from_secs(30),
        || async {
            let [_, _, outbound] = hub.metrics().await;
            let labels = r#"tenant="acme",target="t""#;
            let pushed = sample(
                &outbound,
                "scimbus_outbound_pushes_total",
                &format!(r#"{labels},outcome="pushed""#),
            );
            // The lag is written with the position, a moment after the push.
            let pending = sample(&outbound, "scimbus_outbound_pending_changes", labels);
            match (pushed, pending) {
                (Some(1.0), Some(0.0)) => Ok(()),
                other => Err(format!("pushed, pending: {other:?}")),
            }
        },
    )
    .await;

    let [ingress, store, outbound] = hub.metrics().await;
    let req = "scimbus_http_requests_total";
    let users = r#"route="/scim/v2/{tenant}/{rtype}""#;
    let one = r#"route="/scim/v2/{tenant}/{rtype}/{id}""#;
    assert_eq!(
        sample(
            &ingress,
            req,
            &format!(r#"{users},method="POST",status="201""#)
        ),
        Some(1.0),
        "{ingress}"
    );
    assert_eq!(
        sample(
            &ingress,
            req,
            &format!(r#"{users},method="POST",status="409""#)
        ),
        Some(1.0),
        "{ingress}"
    );
    assert_eq!(
        sample(
            &ingress,
            req,
            &format!(r#"{one},method="GET",status="200""#)
        ),
        Some(1.0),
        "{ingress}"
    );
    assert_eq!(
        sample(
            &ingress,
            req,
            &format!(r#"{one},method="GET",status="404""#)
        ),
        Some(1.0),
        "{ingress}"
    );
    assert_eq!(
        sample(
            &ingress,
            "scimbus_http_request_duration_seconds_count",
            &format!(r#"{users},method="POST""#)
        ),
        Some(2.0),
        "{ingress}"
    );
    assert!(
        !ingress.contains(&id),
        "no resource id in a label: {ingress}"
    );
    assert!(
        has_series(&ingress, "scimbus_db_pool_connections", r#"pool="read""#),
        "{ingress}"
    );

    let cmds = "scimbus_store_commands_total";
    assert_eq!(
        sample(&store, cmds, r#"outcome="applied""#),
        Some(1.0),
        "{store}"
    );
    assert_eq!(
        sample(&store, cmds, r#"outcome="conflict""#),
        Some(1.0),
        "{store}"
    );
    let batches = sample(&store, "scimbus_store_batch_size_count", "").unwrap_or(0.0);
    assert!((1.0..=2.0).contains(&batches), "{store}");
    assert_eq!(
        sample(&store, "scimbus_store_batch_size_sum", ""),
        Some(2.0),
        "{store}"
    );
    assert_eq!(
        sample(&store, "scimbus_store_apply_seconds_count", ""),
        Some(batches),
        "{store}"
    );
    assert!(
        has_series(
            &store,
            "scimbus_jetstream_consumer_pending",
            r#"consumer="store-p"#
        ),
        "{store}"
    );
    assert!(
        has_series(
            &store,
            "scimbus_db_pool_connections",
            r#"pool="primary",state="idle""#
        ),
        "{store}"
    );

    assert_eq!(
        sample(
            &outbound,
            "scimbus_outbound_circuit_open",
            r#"tenant="acme",target="t""#
        ),
        Some(0.0),
        "{outbound}"
    );
    assert_eq!(
        sample(
            &outbound,
            "scimbus_outbound_pending_changes",
            r#"tenant="acme",target="t""#
        ),
        Some(0.0),
        "{outbound}"
    );
    assert!(
        has_series(
            &outbound,
            "scimbus_db_pool_max_connections",
            r#"pool="links""#
        ),
        "{outbound}"
    );

    for (what, text) in [
        ("ingress", &ingress),
        ("store", &store),
        ("outbound", &outbound),
    ] {
        promtool_accepts(what, text);
    }
    hub.teardown().await;
}

#[test]
fn a_lint_problem_is_seen_by_promtool() {
    // The check above can fail: a counter without `_total` is refused.
    let promtool = std::env::var("SCIMBUS_PROMTOOL").expect("SCIMBUS_PROMTOOL (make test)");
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"# HELP scimbus_things Things.\n# TYPE scimbus_things counter\nscimbus_things 1\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() || !said.trim().is_empty(),
        "promtool said nothing"
    );
}
