//! `scimbus-bench`: see the crate docs.

use anyhow::Context;

const USAGE: &str = "usage: scimbus-bench ref-server <addr> | drop-streams <nats-url> <bus-prefix>";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ref-server", addr] => {
            let addr = addr
                .parse()
                .with_context(|| format!("{addr} is not host:port"))?;
            scimbus_bench::reference::serve(addr).await
        }
        ["drop-streams", url, prefix] => {
            for name in scimbus_bench::streams::drop(url, prefix).await? {
                println!("deleted stream {name}");
            }
            Ok(())
        }
        _ => anyhow::bail!("{USAGE}"),
    }
}
