//! The operator console in Chromium, against the whole hub and a fake
//! target: sign in, watch a target go from in step to failing to parked
//! when the target fails, replay the parked change once it is back, find
//! a person and where it is provisioned, a read-only token without
//! actions, a forged action refused. Every page is saved as a screenshot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use scimbus_console_tests::{Browser, READER, Stack};
use scimbus_e2e::ADMIN_TOKEN;

/// The health word of target `crm` on the page (overview row or the
/// target's page).
async fn health(b: &Browser, css: &str) -> String {
    match b.driver.find(thirtyfour::By::Css(css)).await {
        Ok(e) => e
            .attr("data-health")
            .await
            .ok()
            .flatten()
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn sign_in(b: &Browser, stack: &Stack, token: &str) {
    b.goto(&stack.console()).await;
    assert!(
        b.url().await.contains("/admin/sign-in"),
        "{}",
        b.url().await
    );
    b.find("#token").await.send_keys(token).await.unwrap();
    b.find("form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    // The overview's own section: the sign-in page has none.
    b.wait_for("section.errors").await;
    let h1 = b.text("main > h1").await;
    assert_eq!(h1, "Overview");
}

#[tokio::test]
async fn an_operator_sees_a_target_fail_park_and_recover_and_finds_a_person() {
    let stack = Stack::start().await;
    let b = Browser::start().await;

    // Signing in: the page asks for the token, the browser keeps a cookie
    // it cannot read from script.
    b.goto(&stack.console()).await;
    b.screenshot("sign-in").await;
    sign_in(&b, &stack, ADMIN_TOKEN).await;
    let cookie = b
        .cookie("scimbus_console")
        .await
        .expect("the session cookie");
    assert_eq!(cookie.http_only, Some(true));
    assert!(cookie.value.len() >= 43, "32 random bytes");

    // A user pushed to crm: in step.
    let first = stack.create_user("grace.hopper", "grace@example.com").await;
    let row = "table[data-kind=targets] tr[data-name=crm] .badge";
    b.reload_until("crm in step", Duration::from_secs(30), || async {
        health(&b, row).await == "in step"
            && b.text("table[data-kind=targets] tr[data-name=crm] td:nth-child(4)")
                .await
                != "0"
    })
    .await;
    // The outbound samples every target's counters each minute; take this
    // minute's now, so that the charts have a start.
    scimbus_db::console::take_samples(&stack.env.pool, 24)
        .await
        .unwrap();
    b.driver.refresh().await.unwrap();
    b.wait_for("table[data-kind=targets] svg.chart").await;
    b.screenshot("overview").await;

    // The target fails: a new user's push is retried (failing), then parked.
    stack.fake.fail_with(503);
    let second = stack.create_user("alan.turing", "alan@example.com").await;
    b.goto(&format!("{}tenants/acme/targets/crm", stack.console()))
        .await;
    let badge = "section.summary .badge";
    b.reload_until("crm failing", Duration::from_secs(30), || async {
        health(&b, badge).await == "failing"
    })
    .await;
    b.reload_until("crm parked", Duration::from_secs(60), || async {
        health(&b, badge).await == "parked changes"
    })
    .await;
    let reason = b.text("#parked td.error").await;
    assert!(
        reason.contains("503"),
        "the reason names the answer: {reason}"
    );
    assert!(b.text("#parked").await.contains(&second));
    b.screenshot("target-parked").await;

    // It recovers; the operator replays the parked change: in step again,
    // and the target holds the user.
    stack.fake.recover();
    b.find("#parked form.action button")
        .await
        .click()
        .await
        .unwrap();
    b.wait_url("done=replay").await;
    let notice = b.wait_for("p.notice").await.text().await.unwrap();
    assert!(notice.contains("Replay requested"), "{notice}");
    b.reload_until(
        "crm in step after the replay",
        Duration::from_secs(30),
        || async { health(&b, badge).await == "in step" },
    )
    .await;
    assert!(b.all("#parked").await.is_empty(), "nothing parked");
    assert!(
        stack
            .fake
            .held()
            .iter()
            .any(|u| u["userName"] == "alan.turing"),
        "the replayed user reached the target"
    );
    b.screenshot("target").await;

    // Finding a person by email, and where it is provisioned.
    b.goto(&format!("{}tenants/acme/people", stack.console()))
        .await;
    b.find("#q")
        .await
        .send_keys("ALAN@example.com")
        .await
        .unwrap();
    b.find("form.search button").await.click().await.unwrap();
    b.wait_for("#results a").await;
    b.screenshot("people-search").await;
    b.find("#results a").await.click().await.unwrap();
    b.wait_url(&format!("/people/{second}")).await;
    let crm = b.wait_for("#targets tr[data-target=crm]").await;
    let text = crm.text().await.unwrap();
    assert!(text.contains("in step"), "{text}");
    assert!(text.contains("users-"), "the remote id: {text}");
    assert!(b.text("section.audit").await.contains("create"));
    b.screenshot("person").await;

    // The other pages read.
    b.goto(&format!(
        "{}tenants/acme/subscriptions/bus",
        stack.console()
    ))
    .await;
    assert_eq!(b.text("h1").await, "Subscription bus");
    b.screenshot("subscription").await;
    b.goto(&format!("{}tenants/acme/audit", stack.console()))
        .await;
    assert!(b.text("table.audit").await.contains(&first));
    b.screenshot("audit").await;
    b.goto(&format!("{}tenants/acme/hr-events", stack.console()))
        .await;
    assert_eq!(b.text("h1").await, "HR events");
    b.screenshot("hr-events").await;

    // A forged action — the session's cookie without its CSRF token — is
    // refused and changes nothing.
    let (status, body) = stack
        .post_form(
            "/admin/tenants/acme/targets/crm/pause",
            &format!("scimbus_console={}", cookie.value),
            &[],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    b.goto(&format!("{}tenants/acme/targets/crm", stack.console()))
        .await;
    assert!(b.text("section.summary").await.contains("(running)"));

    b.quit().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_read_only_token_sees_no_action_buttons() {
    let stack = Stack::start().await;
    let b = Browser::start().await;
    sign_in(&b, &stack, READER).await;
    assert_eq!(b.text("header .who").await, "read-only");
    b.goto(&format!("{}tenants/acme/targets/crm", stack.console()))
        .await;
    assert_eq!(b.text("h1").await, "Target crm");
    assert!(
        b.all("form.action").await.is_empty(),
        "no actions for a read-only token"
    );
    assert!(b.all("section.actions").await.is_empty());
    b.goto(&format!(
        "{}tenants/acme/subscriptions/bus",
        stack.console()
    ))
    .await;
    assert!(b.all("form.action").await.is_empty());
    b.screenshot("target-read-only").await;
    b.quit().await;
    stack.stop().await;
}
