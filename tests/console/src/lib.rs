//! scimbus-console-tests: the operator console in a real browser (Debian's
//! Chromium over WebDriver) against the whole hub — store, ingress and
//! outbound on real NATS and Postgres — and a fake downstream SCIM target
//! that fails on demand. The tests are in `tests/`; screenshots of each
//! page land in `.data/screenshots/`.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

mod browser;
mod fake_target;
mod stack;

pub use browser::Browser;
pub use fake_target::FakeTarget;
pub use stack::{READER, Stack};
