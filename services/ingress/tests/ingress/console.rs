//! `/admin/`: the operator console's sessions, CSRF and origin checks,
//! security headers, read-only tokens, and the operator API it reads
//! through (people search, a resource's provisioning, history:
//! `console_api.rs`). The pages in a real browser are `tests/console`.

use axum::body::Body;
use axum::http::{Method, Request, header};
use scimbus_e2e::http::send;
use scimbus_e2e::{IngressBuilder, StoreBuilder, TestEnv};
use sha2::{Digest, Sha256};

use crate::support::{ADMIN, Reply, crm_target};

pub(crate) const READER: &str = "read-only-admin-token";

pub(crate) struct Console {
    pub(crate) env: TestEnv,
    pub(crate) router: axum::Router,
    store: scimbus_runtime::Running<scimbus_store::Store>,
}

impl Console {
    pub(crate) async fn new() -> Console {
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

    pub(crate) async fn teardown(self) {
        self.store.stop().await.unwrap();
        self.env.teardown().await;
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::builder()
            .uri(path)
            .header(header::HOST, "127.0.0.1:8080");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        send(&self.router, req.body(Body::empty()).unwrap()).await
    }

    /// A form POST as a browser on the console's origin sends it.
    pub(crate) async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Reply {
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
    pub(crate) async fn sign_in(&self, token: &str) -> (String, String) {
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

    pub(crate) async fn target_ran(&self) {
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

pub(crate) fn html(r: &Reply) -> &str {
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
    assert_eq!(
        r.header("location"),
        Some("/admin/sign-in?next=%2Fadmin%2F")
    );
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
