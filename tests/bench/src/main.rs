//! `scimbus-bench`: see the crate docs.

use anyhow::Context;

const USAGE: &str =
    "usage: scimbus-bench ref-server <addr> | get-floor <addr> <database-url> <tenant> [<connections>]
  | drop-streams <nats-url> <bus-prefix>
  | target <addr> [<delay-ms>] | receiver <addr> [--fail]
  | propagation <ingress-base> <token> <rate> <secs> <conns> <run> <target-url>...
      [--receivers <receiver-url>...]
  | direct <target-base> <conns> <from-target>
  | hr <hr-source-url> <secret-env-var> <secs> <conns> <batch> <run>
  | otlp-sink <addr>";

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
        ["get-floor", addr, url, tenant, rest @ ..] => {
            let addr = addr
                .parse()
                .with_context(|| format!("{addr} is not host:port"))?;
            let connections = match rest {
                [] => scimbus_db::read::INGRESS_READ_CONNECTIONS,
                [n] => n.parse().context("connections")?,
                _ => anyhow::bail!("{USAGE}"),
            };
            scimbus_bench::floor::serve(addr, url, tenant, connections).await
        }
        ["otlp-sink", addr] => {
            let addr = addr
                .parse()
                .with_context(|| format!("{addr} is not host:port"))?;
            scimbus_bench::otlp_sink::serve(addr).await
        }
        ["drop-streams", url, prefix] => {
            for name in scimbus_bench::streams::drop(url, prefix).await? {
                println!("deleted stream {name}");
            }
            Ok(())
        }
        ["target", addr, rest @ ..] => {
            let addr = addr
                .parse()
                .with_context(|| format!("{addr} is not host:port"))?;
            let delay = match rest {
                [] => 0,
                [ms] => ms.parse().context("delay-ms")?,
                _ => anyhow::bail!("{USAGE}"),
            };
            scimbus_bench::target::serve(addr, std::time::Duration::from_millis(delay)).await
        }
        ["receiver", addr, rest @ ..] => {
            let addr = addr
                .parse()
                .with_context(|| format!("{addr} is not host:port"))?;
            let fail = match rest {
                [] => false,
                ["--fail"] => true,
                _ => anyhow::bail!("{USAGE}"),
            };
            scimbus_bench::receiver::serve(addr, fail).await
        }
        [
            "propagation",
            ingress,
            token,
            rate,
            secs,
            conns,
            run,
            urls @ ..,
        ] => {
            let (targets, receivers) = match urls.iter().position(|u| *u == "--receivers") {
                Some(i) => (&urls[..i], &urls[i + 1..]),
                None => (urls, &[][..]),
            };
            anyhow::ensure!(!targets.is_empty(), "{USAGE}");
            scimbus_bench::drive::propagation(scimbus_bench::drive::Propagation {
                ingress: ingress.to_string(),
                token: token.to_string(),
                rate: rate.parse().context("rate")?,
                secs: secs.parse().context("secs")?,
                conns: conns.parse().context("conns")?,
                targets: targets.iter().map(|t| t.to_string()).collect(),
                receivers: receivers.iter().map(|t| t.to_string()).collect(),
                run: run.to_string(),
            })
            .await
        }
        ["direct", url, conns, from] => {
            scimbus_bench::drive::direct(url, conns.parse().context("conns")?, from).await
        }
        ["hr", url, secret, secs, conns, batch, run] => {
            scimbus_bench::hr::run(scimbus_bench::hr::HrLoad {
                url: url.to_string(),
                secret: std::env::var(secret).with_context(|| format!("${secret}"))?,
                secs: secs.parse().context("secs")?,
                conns: conns.parse().context("conns")?,
                batch: batch.parse().context("batch")?,
                run: run.to_string(),
            })
            .await
        }
        _ => anyhow::bail!("{USAGE}"),
    }
}
