//! `scimbus-example-webhook-receiver [--listen 127.0.0.1:9100]`, the secret
//! in `WEBHOOK_SECRET`: see the crate docs and examples/README.md.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use scimbus_example_webhook_receiver::{Receiver, app};

/// Receives scimbus webhooks, verifies them, prints one line per event.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9100")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // From the environment only: a secret on the command line shows in `ps`.
    let secret = std::env::var("WEBHOOK_SECRET").context("WEBHOOK_SECRET is not set")?;
    let receiver = Receiver::new(&secret, Arc::new(|line: &str| println!("{line}")))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    eprintln!("listening on http://{}", args.listen);
    axum::serve(listener, app(Arc::new(receiver)))
        .await
        .context("serving")
}
