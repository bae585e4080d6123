//! `/admin/`: the operator console's sessions, CSRF and origin checks,
//! security headers, read-only tokens, and the operator API it reads
//! through (people search, a resource's provisioning, history). The pages
//! in a real browser are `tests/console`.

use axum::body::Body;
use axum::http::{Method, Request, header};
use scimbus_e2e::http::send;
use scimbus_e2e::{IngressBuilder, StoreBuilder, TestEnv};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{ADMIN, Reply, crm_target};

const READER: &str = "read-only-admin-token";

struct Console {
    env: TestEnv,
    router: axum::Router,
    store: scimbus_runtime::Running<scimbus_store::Store>,
}

impl Console {
    async fn new() -> Console {
        let env = TestEnv::new().await;
        env.bus().await;
        let router = IngressBuilder::new(&env)
            .admin_read_tokens(&[READER])
            .targets(vec![("acme".into(), crm_target())])
            .router()
            .await;
        let store = StoreBuilder::new(&env)
            .tenants(["acme", "other"])
            .start()
            .await;
        Console { env, router, store }
    }

    async fn teardown(self) {
        self.store.stop().await.unwrap();
        self.env.teardown().await;
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::builder()
            .uri(path)
            .header(header::HOST, "127.0.0.1:8080");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        send(&self.router, req.body(Body::empty()).unwrap()).await
    }

    /// A form POST as a browser on the console's origin sends it.
    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
        self.post_from(path, cookie, form, "http://127.0.0.1:8080")
            .await
    }

    async fn post_from(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
        origin: &str,
    ) -> Reply {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let body = serde_urlencoded::to_string(form).unwrap();
        send(&self.router, req.body(Body::from(body)).unwrap()).await
    }

    /// Signs in with `token`: the cookie (`name=value`) and the CSRF token
    /// of the session.
    async fn sign_in(&self, token: &str) -> (String, String) {
        let r = self
            .post(
                "/admin/sign-in",
                None,
                &[("token", token), ("next", "/admin/")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let set = r.header("set-cookie").unwrap().to_string();
        let cookie = set.split(';').next().unwrap().to_string();
        let page = self.get("/admin/", Some(&cookie)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        (cookie, csrf_of(&page))
    }

    async fn target_ran(&self) {
        sqlx::query(
            "insert into target_progress (tenant, target, stream_seq, pushed) values ('acme', 'crm', 42, 7)",
        )
        .execute(&self.env.pool)
        .await
        .unwrap();
    }

    async fn paused(&self) -> bool {
        sqlx::query_scalar("select paused from target_progress where target = 'crm'")
            .fetch_one(&self.env.pool)
            .await
            .unwrap()
    }
}

fn html(r: &Reply) -> &str {
    r.body
        .as_str()
        .unwrap_or_else(|| panic!("not HTML: {}", r.body))
}

fn csrf_of(page: &Reply) -> String {
    let text = html(page);
    let at = text.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    text[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn a_session_is_a_cookie_whose_hash_only_is_stored_and_pages_need_it() {
    let c = Console::new().await;
    let r = c.get("/admin/", None).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/admin/sign-in?next=%2Fadmin%2F")
    );
    let r = c.get("/admin/sign-in", None).await;
    assert_eq!(r.status, 200);
    assert!(html(&r).contains("type=\"password\""));

    // A wrong token: no session, and the page says so.
    let r = c.post("/admin/sign-in", None, &[("token", "nope")]).await;
    assert_eq!(r.status, 401);
    assert!(r.header("set-cookie").is_none());
    assert!(html(&r).contains("not an admin token"));

    let r = c
        .post(
            "/admin/sign-in",
            None,
            &[("token", ADMIN), ("next", "/admin/tenants/acme/audit")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/admin/tenants/acme/audit"));
    let set = r.header("set-cookie").unwrap();
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=28800",
    ] {
        assert!(set.contains(part), "{part} in {set}");
    }
    assert!(!set.contains("Secure"), "the public URL is http: {set}");
    assert!(
        !set.contains(ADMIN),
        "the token is not in the cookie: {set}"
    );
    let cookie = set.split(';').next().unwrap();
    let value = cookie.split_once('=').unwrap().1;
    // Postgres holds the hashes, not the cookie nor the token.
    let (id_hash, token_hash): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("select id_hash, token_hash from console_sessions")
            .fetch_one(&c.env.pool)
            .await
            .unwrap();
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .unwrap();
    assert_eq!(id_hash, Sha256::digest(&raw).to_vec());
    assert_eq!(token_hash, Sha256::digest(ADMIN.as_bytes()).to_vec());

    let page = c.get("/admin/", Some(cookie)).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-security-policy"),
        Some(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'"
        )
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let text = html(&page);
    assert!(text.contains("<h1>Overview</h1>"), "{text}");
    assert!(
        text.contains("crm"),
        "the configured target is listed: {text}"
    );
    assert!(!text.contains("<script"), "no scripts: {text}");
    assert!(!text.contains("style=\""), "no inline styles: {text}");
    // The stylesheet is the one thing a page loads.
    let css = c.get("/admin/console.css", None).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));

    // A forged cookie is no session.
    let r = c.get("/admin/", Some("scimbus_console=AAAA")).await;
    assert_eq!(r.status, 303);

    // Signing out ends it, for this cookie everywhere.
    let csrf = csrf_of(&page);
    let r = c
        .post("/admin/sign-out", Some(cookie), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    let r = c.get("/admin/", Some(cookie)).await;
    assert_eq!(r.status, 303);
    c.teardown().await;
}

#[tokio::test]
async fn sign_in_goes_on_only_to_console_pages_and_refuses_other_origins() {
    let c = Console::new().await;
    let r = c
        .post(
            "/admin/sign-in",
            None,
            &[("token", ADMIN), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(r.header("location"), Some("/admin/"));
    let r = c
        .post_from(
            "/admin/sign-in",
            None,
            &[("token", ADMIN)],
            "http://evil.example",
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.header("set-cookie").is_none());
    c.teardown().await;
}

#[tokio::test]
async fn actions_need_the_session_s_csrf_token_and_its_origin() {
    let c = Console::new().await;
    c.target_ran().await;
    let (cookie, csrf) = c.sign_in(ADMIN).await;
    let pause = "/admin/tenants/acme/targets/crm/pause";
    // Forged: no token, a wrong one, the right one from another site.
    let r = c.post(pause, Some(&cookie), &[]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = c.post(pause, Some(&cookie), &[("csrf", "x")]).await;
    assert_eq!(r.status, 403);
    let r = c
        .post_from(
            pause,
            Some(&cookie),
            &[("csrf", &csrf)],
            "http://evil.example",
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!c.paused().await, "nothing forged was done");
    // Without a session: to the sign-in page, nothing done.
    let r = c.post(pause, None, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert!(!c.paused().await);

    let r = c.post(pause, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/admin/tenants/acme/targets/crm?done=pause")
    );
    assert!(c.paused().await);
    // Done through the operator API, so audited as an operator's action.
    let name: String = sqlx::query_scalar(
        "select actor_name from audit_log where actor_kind = 'operator' order by id desc limit 1",
    )
    .fetch_one(&c.env.pool)
    .await
    .unwrap();
    assert_eq!(name, "admin via the console");
    let page = c
        .get("/admin/tenants/acme/targets/crm?done=pause", Some(&cookie))
        .await;
    assert!(html(&page).contains("Pause requested"), "{}", page.body);
    assert!(html(&page).contains(">Resume<"));
    c.teardown().await;
}

#[tokio::test]
async fn a_read_only_token_sees_no_actions_and_the_api_refuses_them() {
    let c = Console::new().await;
    c.target_ran().await;
    let (cookie, csrf) = c.sign_in(READER).await;
    let page = c
        .get("/admin/tenants/acme/targets/crm", Some(&cookie))
        .await;
    assert_eq!(page.status, 200);
    assert!(html(&page).contains("Target crm"));
    assert!(!html(&page).contains("class=\"action\""), "no action forms");
    let r = c
        .post(
            "/admin/tenants/acme/targets/crm/pause",
            Some(&cookie),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(html(&r).contains("admin:write"));
    assert!(!c.paused().await);
    // A session of a token taken out of the configuration is over.
    let other = IngressBuilder::new(&c.env).router().await;
    let req = Request::builder()
        .uri("/admin/")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&other, req).await.status, 303);
    c.teardown().await;
}

async fn create(c: &Console, body: Value) -> String {
    let req = scimbus_e2e::http::request(
        Method::POST,
        "/scim/v2/acme/Users",
        scimbus_e2e::ACME_TOKEN,
        Some(&body),
        &[],
    );
    let r = send(&c.router, req).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn admin(c: &Console, path: &str) -> Reply {
    let req = scimbus_e2e::http::request(Method::GET, path, ADMIN, None, &[]);
    send(&c.router, req).await
}

#[tokio::test]
async fn a_person_is_found_by_what_an_operator_knows_and_shown_per_target() {
    let c = Console::new().await;
    let id = create(
        &c,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "Ada.Lovelace", "externalId": "E-1815", "active": false,
               "displayName": "<script>alert(1)</script>",
               "emails": [{"value": "Ada@Example.com", "primary": true}]}),
    )
    .await;
    for q in ["ada.lovelace", "ada@example.com", "E-1815", id.as_str()] {
        let r = admin(
            &c,
            &format!("/admin/v1/tenants/acme/resources?q={}", urlenc(q)),
        )
        .await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        let ids: Vec<&str> = r.body["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str()], "{q}");
    }
    // externalId is case-exact; nothing else matches.
    let r = admin(&c, "/admin/v1/tenants/acme/resources?q=e-1815").await;
    assert_eq!(r.body["resources"], json!([]));
    admin(&c, "/admin/v1/tenants/acme/resources?q=")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/resources?q=a&count=0")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/resources?q=a&x=1")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/nope/resources?q=a")
        .await
        .assert_error(404, None);

    // Inactive, and crm takes only active users: not in scope.
    let base = format!("/admin/v1/tenants/acme/resources/{id}");
    let r = admin(&c, &base).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["resource"]["userName"], "Ada.Lovelace");
    let crm = &r.body["targets"][0];
    assert_eq!(crm["target"], "crm");
    assert_eq!(crm["takes"], true);
    assert_eq!(crm["inScopeNow"], false);
    assert_eq!(crm["filter"], "active eq true");
    assert_eq!(crm["outcome"], "not in scope");
    assert_eq!(r.body["changes"][0]["operation"], "created");
    assert_eq!(r.body["changes"][0]["version"], 1);
    // The target holds an older version: behind; then a parked change.
    sqlx::query(
        "insert into target_links (tenant, target, resource_id, resource_type, remote_id, version, in_scope)
         values ('acme', 'crm', $1::uuid, 'User', 'r-77', 0, true)",
    )
    .bind(&id)
    .execute(&c.env.pool)
    .await
    .unwrap();
    let r = admin(&c, &base).await;
    assert_eq!(r.body["targets"][0]["outcome"], "behind");
    assert_eq!(r.body["targets"][0]["remoteId"], "r-77");
    sqlx::query(
        "insert into parked_changes (tenant, target, seq, resource_type, resource_id, payload, reason, attempts)
         values ('acme', 'crm', 9, 'User', $1::uuid, '', 'the target said 400: bad email', 3)",
    )
    .bind(&id)
    .execute(&c.env.pool)
    .await
    .unwrap();
    let r = admin(&c, &base).await;
    assert_eq!(r.body["targets"][0]["outcome"], "parked");
    assert_eq!(
        r.body["targets"][0]["parked"][0]["reason"],
        "the target said 400: bad email"
    );
    admin(&c, "/admin/v1/tenants/acme/resources/not-a-uuid")
        .await
        .assert_error(404, None);

    // The console's pages say the same, escaped.
    let (cookie, _) = c.sign_in(READER).await;
    let page = c
        .get("/admin/tenants/acme/people?q=ADA.LOVELACE", Some(&cookie))
        .await;
    assert!(
        html(&page).contains(&format!("/admin/tenants/acme/people/{id}")),
        "{}",
        page.body
    );
    let page = c
        .get(&format!("/admin/tenants/acme/people/{id}"), Some(&cookie))
        .await;
    assert_eq!(page.status, 200);
    let text = html(&page);
    assert!(text.contains("the target said 400: bad email"), "{text}");
    assert!(!text.contains("<script>alert(1)"), "escaped: {text}");
    assert!(text.contains("&lt;script&gt;alert(1)"), "{text}");
    c.teardown().await;
}

fn urlenc(s: &str) -> String {
    serde_urlencoded::to_string([("q", s)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn history_is_the_minutes_the_outbound_sampled() {
    let c = Console::new().await;
    c.target_ran().await;
    let taken = scimbus_db::console::take_samples(&c.env.pool, 24)
        .await
        .unwrap();
    assert_eq!(taken, 1);
    // The same minute again takes nothing.
    assert_eq!(
        scimbus_db::console::take_samples(&c.env.pool, 24)
            .await
            .unwrap(),
        0
    );
    let r = admin(&c, "/admin/v1/tenants/acme/targets/crm/history").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["samples"][0]["pushed"], 7);
    assert_eq!(r.body["samples"].as_array().unwrap().len(), 1);
    admin(&c, "/admin/v1/tenants/acme/targets/crm/history?minutes=0")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/targets/crm/history?hours=1")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/targets/nope/history")
        .await
        .assert_error(404, None);
    admin(&c, "/admin/v1/tenants/acme/subscriptions/nope/history")
        .await
        .assert_error(404, None);
    // Samples older than what is kept go at the next sampling.
    sqlx::query("update progress_samples set at = at - interval '25 hours'")
        .execute(&c.env.pool)
        .await
        .unwrap();
    scimbus_db::console::take_samples(&c.env.pool, 24)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from progress_samples")
        .fetch_one(&c.env.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    c.teardown().await;
}
