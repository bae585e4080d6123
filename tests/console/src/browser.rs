//! Debian's Chromium, headless, driven over WebDriver by its ChromeDriver.
//!
//! `SCIMBUS_CHROMEDRIVER` names the driver (`make test` installs the
//! Debian packages `chromium` and `chromium-driver` and sets it);
//! `SCIMBUS_CHROMIUM` the browser (default `/usr/bin/chromium`). Without
//! them the tests fail, saying so: a browser test that silently does not
//! run tests nothing.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;
use thirtyfour::{ChromiumLikeCapabilities, Cookie};
use tokio::process::{Child, Command};

/// A browser session and the driver process behind it (killed on drop).
pub struct Browser {
    pub driver: WebDriver,
    _chromedriver: Child,
    profile: PathBuf,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Browser")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port for ChromeDriver")
}

impl Browser {
    /// Starts ChromeDriver and a new headless Chromium with an empty profile.
    pub async fn start() -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let driver_bin = std::env::var("SCIMBUS_CHROMEDRIVER").unwrap_or_else(|_| {
            panic!(
                "SCIMBUS_CHROMEDRIVER is not set: run the browser tests through `make test` \
                 (it installs Debian's chromium and chromium-driver and sets it), or set it \
                 to chromedriver's path"
            )
        });
        let chromium =
            std::env::var("SCIMBUS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let child = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{driver_bin}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up = reqwest::get(format!("{url}/status"))
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "ChromeDriver did not start on {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("scimbus-chromium-{}", uuid::Uuid::now_v7()));
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium).expect("binary");
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1360,1000",
            &format!("--user-data-dir={}", profile.display()),
        ] {
            caps.add_arg(arg).expect("argument");
        }
        let driver = WebDriver::new(&url, caps).await.unwrap_or_else(|e| {
            panic!("Chromium ({chromium}) does not start under {driver_bin}: {e}")
        });
        Browser {
            driver,
            _chromedriver: child,
            profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.driver
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    pub async fn find(&self, css: &str) -> WebElement {
        self.driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// The element, once the page has it (a click's navigation may still
    /// be under way).
    pub async fn wait_for(&self, css: &str) -> WebElement {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(e) = self.driver.find(By::Css(css)).await {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "{css}: not on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's URL contains `part`.
    pub async fn wait_url(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.url().await.contains(part) {
            assert!(
                Instant::now() < deadline,
                "the page did not go to {part}: {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn all(&self, css: &str) -> Vec<WebElement> {
        self.driver
            .find_all(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn url(&self) -> String {
        self.driver.current_url().await.expect("url").to_string()
    }

    /// Reloads the page until `check` holds (at most `within`), failing
    /// with the page's text.
    pub async fn reload_until<F, Fut>(&self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + within;
        loop {
            if check().await {
                return;
            }
            if Instant::now() > deadline {
                let text = self.text("body").await;
                panic!("{what}: not seen within {within:?}; the page says:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.driver.refresh().await.expect("refresh");
        }
    }

    /// A cookie of the page's site, by name.
    pub async fn cookie(&self, name: &str) -> Option<Cookie> {
        self.driver
            .get_all_cookies()
            .await
            .expect("cookies")
            .into_iter()
            .find(|c| c.name == name)
    }

    /// Saves the page as `<workspace>/.data/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.data/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshots folder");
        let path = dir.join(format!("{name}.png"));
        self.driver
            .screenshot(&path)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    pub async fn quit(self) {
        let _ = self.driver.clone().quit().await;
    }
}

/// A test that panicked never quits its browser, and ChromeDriver's death
/// leaves Chromium running: its processes are found by their profile
/// folder (on their command line, and this browser's own) and killed.
impl Drop for Browser {
    fn drop(&mut self) {
        let profile = format!("--user-data-dir={}", self.profile.display());
        let _ = std::process::Command::new("pkill")
            .args(["-KILL", "-f", "--", &profile])
            .status();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
