//! `scimbus hr-sources …` and `scimbus hr-events …`: the HR systems a
//! tenant takes webhooks from, read from the configuration file (never a
//! secret, not even a reference), and the inbox of their events, read and
//! cancelled in Postgres — printed as the JSON the operator API answers
//! (the same views and checks, [`scimbus_runtime::hr_events`] and
//! [`scimbus_runtime::hr_sources::view`]).

use std::io::Write;

use anyhow::Context;
use clap::{Args, Subcommand};
use scimbus_runtime::FileConfig;
use scimbus_runtime::hr_events::{self, HrEventError, ListParams};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::CliError;

#[derive(Debug, Subcommand)]
pub enum HrSourcesCommand {
    /// Every HR source of the configuration file (of one tenant, if
    /// given), as JSON: `{"sources": [...]}`.
    List {
        /// Only this tenant's sources.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        file: SourcesFile,
    },
    /// One HR source, as JSON.
    Show {
        /// The tenant the source belongs to.
        #[arg(long)]
        tenant: String,
        /// The source's name (the last segment of its endpoint).
        name: String,
        #[command(flatten)]
        file: SourcesFile,
    },
}

#[derive(Debug, Args)]
pub struct SourcesFile {
    /// The configuration file (TOML) that declares the sources.
    #[arg(long, env = "SCIMBUS_CONFIG", value_name = "FILE")]
    pub config: String,
    /// The base URL the ingress is reached at, which starts each source's
    /// `endpoint` (as the ingress's own setting).
    #[arg(
        long,
        env = "SCIMBUS_PUBLIC_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
}

#[derive(Debug, Subcommand)]
pub enum HrEventsCommand {
    /// A tenant's HR events, newest first, a page at a time, as JSON:
    /// `{"events": [...], "nextCursor": id | null}`.
    List {
        /// The tenant whose events are listed.
        #[arg(long)]
        tenant: String,
        /// Only this source's events.
        #[arg(long)]
        source: Option<String>,
        /// Only the events of this HR employee id.
        #[arg(long)]
        employee: Option<String>,
        /// Only the events of the person that is this user (its id).
        #[arg(long)]
        user: Option<String>,
        /// received, scheduled, applied, rejected, cancelled, or pending
        /// (received and scheduled).
        #[arg(long)]
        status: Option<String>,
        /// How many events a page has (1 to 500; default 50).
        #[arg(long)]
        count: Option<String>,
        /// The page after this event: the `nextCursor` of the page before.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One HR event in full (with the body it came in and the user it
    /// maps to), as JSON.
    Show(EventArg),
    /// Cancel an HR event that is still pending (received or scheduled);
    /// prints it, cancelled.
    Cancel {
        #[command(flatten)]
        event: EventArg,
        /// Why (the event's detail); default "cancelled by an operator".
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct EventArg {
    /// The tenant the event belongs to.
    #[arg(long)]
    pub tenant: String,
    /// The event's id (ours: the `id` of `hr-events list`).
    pub id: String,
}

/// Runs an `hr-sources` command: the configuration file only, no
/// database.
pub fn sources(command: HrSourcesCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match command {
        HrSourcesCommand::List { tenant, file } => {
            let config = FileConfig::load(&file.config).context("--config / SCIMBUS_CONFIG")?;
            let url = file.public_url.trim_end_matches('/');
            let list: Vec<Value> = config
                .tenants
                .iter()
                .filter(|t| tenant.as_ref().is_none_or(|w| *w == t.name))
                .flat_map(|t| {
                    let mut specs: Vec<_> = t.hr_sources.iter().collect();
                    specs.sort_by(|a, b| a.name.cmp(&b.name));
                    specs
                        .into_iter()
                        .map(|s| scimbus_runtime::hr_sources::view(&t.name, s, url))
                })
                .collect();
            print(out, &json!({ "sources": list }))
        }
        HrSourcesCommand::Show { tenant, name, file } => {
            let config = FileConfig::load(&file.config).context("--config / SCIMBUS_CONFIG")?;
            let Some(t) = config.tenants.iter().find(|t| t.name == tenant) else {
                anyhow::bail!("{}: no tenant {tenant}", file.config);
            };
            let Some(spec) = t.hr_sources.iter().find(|s| s.name == name) else {
                anyhow::bail!("{}: no HR source {name} of tenant {tenant}", file.config);
            };
            let url = file.public_url.trim_end_matches('/');
            print(out, &scimbus_runtime::hr_sources::view(&tenant, spec, url))
        }
    }
}

/// Runs an `hr-events` command on the database.
pub async fn events(
    pool: &PgPool,
    command: HrEventsCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        HrEventsCommand::List {
            tenant,
            source,
            employee,
            user,
            status,
            count,
            cursor,
        } => {
            // The API's parameters, so that the checks are the same.
            let given = [
                ("source", source),
                ("employeeId", employee),
                ("userId", user),
                ("status", status),
                ("count", count),
                ("cursor", cursor),
            ];
            let pairs = crate::flag_pairs(&given);
            let p = ListParams::parse(pairs).map_err(cli_error)?;
            let page = hr_events::list(pool, &tenant, &p)
                .await
                .map_err(cli_error)?;
            print(out, &page.view())
        }
        HrEventsCommand::Show(e) => {
            let row = hr_events::show(pool, &e.tenant, &e.id)
                .await
                .map_err(cli_error)?;
            print(out, &hr_events::view(&row, true))
        }
        HrEventsCommand::Cancel { event, reason } => {
            let row = hr_events::cancel(pool, &event.tenant, &event.id, reason.as_deref())
                .await
                .map_err(cli_error)?;
            print(out, &hr_events::view(&row, false))
        }
    }
}

/// The error in the CLI's words: a parameter is named by its flag.
fn cli_error(e: HrEventError) -> anyhow::Error {
    match e {
        HrEventError::Db(e) => CliError::from(e).into(),
        HrEventError::Invalid { parameter, detail } => {
            let flag = match parameter.as_str() {
                "employeeId" => "employee",
                "userId" => "user",
                other => other,
            };
            anyhow::anyhow!("--{flag}: {detail}")
        }
        other => other.into(),
    }
}

fn print(out: &mut impl Write, v: &Value) -> anyhow::Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(v)?)?;
    Ok(())
}
