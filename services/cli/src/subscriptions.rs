//! `scimbus subscriptions …`: the applications notified of a tenant's
//! changes, as the operator API shows and changes them (the same checks
//! and view, [`scimbus_runtime::subscriptions`]): list (with the
//! configuration file's, given `--config` / `SCIMBUS_CONFIG`), show, put,
//! delete, pause, resume, replay, parked. The notifier reads the same rows
//! within a second.

use std::io::{Read, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use scimbus_db::subscriptions::progress::{self, ReplayFrom};
use scimbus_db::subscriptions::{SubscriptionKey, parked};
use scimbus_notify::SubscriptionSpec;
use scimbus_runtime::FileConfig;
use scimbus_runtime::subscriptions::{Listed, Subscriptions, state};
use sqlx::PgPool;

#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// Every subscription's delivery, state, position, counts and last error.
    List {
        /// Only this tenant's subscriptions.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// One subscription in full (JSON), with its status; never its secrets.
    Show(SubscriptionArg),
    /// Make or replace a subscription from a JSON file (`-`: standard
    /// input), as `PUT /admin/v1/tenants/{tenant}/subscriptions/{name}`
    /// takes it.
    Put {
        #[command(flatten)]
        subscription: SubscriptionArg,
        /// The JSON body.
        file: String,
    },
    /// Delete a subscription made through the API (or this command), with
    /// its progress, parked events and queue.
    Delete(SubscriptionArg),
    /// Stop delivering (events wait in the stream).
    Pause(SubscriptionArg),
    /// Deliver again from where it stopped (also after a 410 disabled it).
    Resume(SubscriptionArg),
    /// Deliver the events from a change sequence or a time on again, or
    /// parked events.
    Replay {
        #[command(flatten)]
        subscription: SubscriptionArg,
        /// From this change sequence of the tenant on.
        #[arg(long, group = "from")]
        from_sequence: Option<i64>,
        /// From the changes committed at or after this RFC 3339 time.
        #[arg(long, group = "from")]
        since: Option<String>,
        /// Parked events: all, or the one with this change sequence (and
        /// its resource's later ones).
        #[arg(long, group = "from", num_args = 0..=1, default_missing_value = "all")]
        parked: Option<String>,
    },
    /// The events a subscription parked, with why.
    Parked(SubscriptionArg),
}

#[derive(Debug, Args)]
pub struct SubscriptionArg {
    /// The tenant the subscription belongs to.
    #[arg(long)]
    pub tenant: String,
    /// The subscription's name.
    pub name: String,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The configuration file, whose subscriptions are listed with the
    /// API's (and cannot be changed here).
    #[arg(long, env = "SCIMBUS_CONFIG", value_name = "FILE")]
    pub config: Option<String>,
}

impl ConfigArg {
    fn subscriptions(&self) -> anyhow::Result<Vec<(String, SubscriptionSpec)>> {
        Ok(match &self.config {
            Some(path) => FileConfig::load(path)
                .context("--config / SCIMBUS_CONFIG")?
                .subscriptions(),
            None => Vec::new(),
        })
    }
}

/// Runs a `subscriptions` command.
pub async fn run(
    pool: &PgPool,
    command: SubscriptionsCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        SubscriptionsCommand::List { tenant, config } => {
            let configured = config.subscriptions()?;
            let subs = Subscriptions {
                pool,
                configured: &configured,
            };
            write_list(out, &subs.list(tenant.as_deref()).await?)?;
        }
        SubscriptionsCommand::Show(a) => {
            let configured = a.config.subscriptions()?;
            let subs = Subscriptions {
                pool,
                configured: &configured,
            };
            let found = subs.find(&a.tenant, &a.name).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&found.view())?)?;
        }
        SubscriptionsCommand::Put {
            subscription: a,
            file,
        } => {
            let configured = a.config.subscriptions()?;
            let subs = Subscriptions {
                pool,
                configured: &configured,
            };
            let body = read_body(&file)?;
            let registry = scimbus_scim::Registry::standard()
                .map_err(|e| anyhow::anyhow!("the built-in SCIM schemas: {}", e.detail))?;
            let key = scimbus_runtime::settings::signing_key(&scimbus_runtime::env::ProcessEnv)?;
            let made = subs
                .put(&a.tenant, &a.name, &body, &registry, key.is_some())
                .await?;
            let what = if made { "made" } else { "replaced" };
            writeln!(out, "{what} subscription {} (tenant {})", a.name, a.tenant)?;
        }
        SubscriptionsCommand::Delete(a) => {
            let configured = a.config.subscriptions()?;
            Subscriptions {
                pool,
                configured: &configured,
            }
            .delete(&a.tenant, &a.name)
            .await?;
            writeln!(out, "deleted subscription {} (tenant {})", a.name, a.tenant)?;
        }
        SubscriptionsCommand::Pause(a) => set_paused(pool, &a, true, out).await?,
        SubscriptionsCommand::Resume(a) => set_paused(pool, &a, false, out).await?,
        SubscriptionsCommand::Replay {
            subscription: a,
            from_sequence,
            since,
            parked: parked_arg,
        } => replay(pool, &a, from_sequence, since, parked_arg, out).await?,
        SubscriptionsCommand::Parked(a) => {
            let configured = a.config.subscriptions()?;
            Subscriptions {
                pool,
                configured: &configured,
            }
            .find(&a.tenant, &a.name)
            .await?;
            let key = SubscriptionKey {
                tenant: &a.tenant,
                name: &a.name,
            };
            write_parked(out, &parked::list(pool, key, 10_000).await?)?;
        }
    }
    Ok(())
}

fn read_body(file: &str) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    if file == "-" {
        std::io::stdin()
            .read_to_end(&mut body)
            .context("reading the subscription from standard input")?;
    } else {
        body = std::fs::read(file).with_context(|| format!("reading {file}"))?;
    }
    Ok(body)
}

async fn set_paused(
    pool: &PgPool,
    a: &SubscriptionArg,
    paused: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let configured = a.config.subscriptions()?;
    Subscriptions {
        pool,
        configured: &configured,
    }
    .find(&a.tenant, &a.name)
    .await?;
    let key = SubscriptionKey {
        tenant: &a.tenant,
        name: &a.name,
    };
    progress::set_paused(pool, key, paused)
        .await
        .map_err(crate::CliError::from)?;
    let what = if paused { "paused" } else { "resumed" };
    writeln!(out, "{what} subscription {} (tenant {})", a.name, a.tenant)?;
    Ok(())
}

async fn replay(
    pool: &PgPool,
    a: &SubscriptionArg,
    from_sequence: Option<i64>,
    since: Option<String>,
    parked_arg: Option<String>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let configured = a.config.subscriptions()?;
    let subs = Subscriptions {
        pool,
        configured: &configured,
    };
    let from = match (from_sequence, since, parked_arg) {
        (Some(n), _, _) => ReplayFrom::Sequence(n),
        (None, Some(t), _) => ReplayFrom::Since(
            chrono::DateTime::parse_from_rfc3339(&t)
                .with_context(|| format!("--since: \"{t}\" is not an RFC 3339 time"))?
                .with_timezone(&chrono::Utc),
        ),
        (None, None, Some(which)) => {
            subs.find(&a.tenant, &a.name).await?;
            let seq = match which.as_str() {
                "all" => None,
                n => Some(
                    n.parse::<i64>()
                        .with_context(|| format!("--parked: \"{n}\" is not a change sequence"))?,
                ),
            };
            let key = SubscriptionKey {
                tenant: &a.tenant,
                name: &a.name,
            };
            let marked = parked::request_replay(pool, key, seq)
                .await
                .map_err(crate::CliError::from)?;
            if marked == 0 {
                anyhow::bail!(
                    "nothing parked for {} (tenant {}) matches",
                    a.name,
                    a.tenant
                );
            }
            writeln!(
                out,
                "{marked} parked event(s) of {} (tenant {}) will be delivered again",
                a.name, a.tenant
            )?;
            return Ok(());
        }
        (None, None, None) => anyhow::bail!("give --from-sequence, --since or --parked"),
    };
    subs.replay(&a.tenant, &a.name, from).await?;
    let whence = match from {
        ReplayFrom::Sequence(n) => format!("change {n}"),
        ReplayFrom::Since(t) => t.to_rfc3339(),
    };
    writeln!(
        out,
        "a replay of {} (tenant {}) from {whence} is requested",
        a.name, a.tenant
    )?;
    Ok(())
}

fn write_list(out: &mut impl Write, rows: &[Listed]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no subscriptions");
    }
    let header = [
        "TENANT",
        "NAME",
        "SOURCE",
        "DELIVERY",
        "STATE",
        "POSITION",
        "DELIVERED",
        "FAILED",
        "PARKED",
        "LAG",
        "LAST ERROR",
    ]
    .map(String::from);
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|l| {
            let shown = l.spec.shown();
            let delivery = shown["delivery"]["type"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            let p = l.progress.as_ref();
            let n = |f: fn(&progress::Progress) -> i64| {
                p.map_or_else(|| "-".into(), |p| f(p).to_string())
            };
            [
                l.tenant.clone(),
                l.name.clone(),
                l.source.as_str().into(),
                delivery,
                p.map_or("not started", state).into(),
                p.and_then(|p| p.stream_seq)
                    .map_or_else(|| "-".into(), |s| s.to_string()),
                n(|p| p.delivered),
                n(|p| p.failed),
                n(|p| p.parked),
                n(|p| p.lag),
                p.and_then(|p| p.last_error.as_deref())
                    .map_or_else(|| "-".into(), |e| e.escape_debug().to_string()),
            ]
        })
        .collect();
    crate::write_columns(out, &header, &cells)
}

fn write_parked(out: &mut impl Write, rows: &[parked::Parked]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "nothing parked");
    }
    let header = ["CHANGE", "TYPE", "RESOURCE", "ATTEMPTS", "REASON"].map(String::from);
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|p| {
            [
                p.change_seq.to_string(),
                p.resource_type.clone(),
                p.resource_id.to_string(),
                p.attempts.to_string(),
                p.reason.escape_debug().to_string(),
            ]
        })
        .collect();
    crate::write_columns(out, &header, &cells)
}
