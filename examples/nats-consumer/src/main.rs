//! `scimbus-example-nats-consumer [--tenant demo] [--durable example-app]
//! [--from-sequence N | --since RFC3339]`: see the crate docs and
//! examples/README.md.

use anyhow::Context;
use clap::Parser;
use scimbus_example_nats_consumer::{Options, Start, bind, consume};

/// Prints scimbus's change events of one tenant from NATS, one line each.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// scimbus's bus prefix, if it runs with one.
    #[arg(long, env = "SCIMBUS_BUS_PREFIX", default_value = "")]
    prefix: String,
    #[arg(long, default_value = "demo")]
    tenant: String,
    /// The durable consumer's name: it remembers what was acknowledged.
    #[arg(long, default_value = "example-app")]
    durable: String,
    /// Replay from this stream sequence (re-creates the durable).
    #[arg(long, conflicts_with = "since")]
    from_sequence: Option<u64>,
    /// Replay from this time, RFC 3339 (re-creates the durable).
    #[arg(long)]
    since: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let start = match (args.from_sequence, &args.since) {
        (Some(n), _) => Start::Sequence(n),
        (None, Some(t)) => Start::since(t)?,
        (None, None) => Start::New,
    };
    let client = async_nats::connect(&args.nats_url)
        .await
        .with_context(|| format!("connecting to {}", args.nats_url))?;
    let js = async_nats::jetstream::new(client);
    let options = Options {
        prefix: args.prefix,
        tenant: args.tenant,
        durable: args.durable,
        start,
    };
    let consumer = bind(&js, &options).await?;
    eprintln!(
        "consuming {} as durable {}",
        scimbus_example_nats_consumer::tenant_filter(&options.prefix, &options.tenant),
        options.durable
    );
    consume(&consumer, |line| println!("{line}")).await?;
    Ok(())
}
