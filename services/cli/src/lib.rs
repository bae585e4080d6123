//! scimbus-cli: `scimbus`, the operator's command line.
//!
//! Migrations (`scimbus migrate`), API tokens (`scimbus token create |
//! revoke | list`), a configuration check (`scimbus config check`), and the
//! outbound targets (`scimbus targets list | pause | resume | parked |
//! replay`), the change-notification subscriptions (`scimbus
//! subscriptions …`), and the HR sources and their events (`scimbus
//! hr-sources list | show`, `scimbus hr-events list | show | cancel`). The
//! commands are library functions so that tests call them directly; `run`
//! turns a parsed command line into calls and printed results.
//!
//! It talks to Postgres only. It never touches identity data (that is the
//! store's) and never prints or stores a token's plain text after
//! `token create` has shown it once.

mod audit;
mod config_check;
mod error;
mod hr;
mod migrate;
mod subscriptions;
mod targets;
mod token;

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Parser, Subcommand};
use scimbus_runtime::FileConfig;
use sqlx::PgPool;
use uuid::Uuid;

pub use audit::AuditCommand;
pub use config_check::{ConfigSummary, check as check_config};
pub use error::{CliError, report};
pub use hr::{HrEventsCommand, HrSourcesCommand};
pub use migrate::{Migrated, migrate};
pub use subscriptions::SubscriptionsCommand;
pub use targets::{
    TargetStatus, parked as parked_changes, replay as replay_parked, request_reconcile,
    request_sync, set_paused, status as target_status,
};
pub use token::{
    NewToken, Revoked, TOKEN_PREFIX, TokenInfo, TokenSpec, create as create_token,
    create_with as create_token_with, generate as generate_token, list as list_tokens,
    revoke as revoke_token,
};

/// The scimbus operator tool.
#[derive(Debug, Parser)]
#[command(name = "scimbus", version, about)]
pub struct Cli {
    /// Postgres URL of the scimbus database.
    #[arg(
        long,
        global = true,
        env = "SCIMBUS_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the database migrations the database lacks (safe to repeat).
    Migrate,
    /// Create, revoke and list API bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The outbound targets: status, pause and resume, parked changes, replay.
    #[command(subcommand)]
    Targets(TargetsCommand),
    /// Change-notification subscriptions: list, show, put, delete, pause,
    /// resume, replay, parked events.
    #[command(subcommand)]
    Subscriptions(SubscriptionsCommand),
    /// The HR sources of the configuration file (never their secrets).
    #[command(subcommand)]
    HrSources(HrSourcesCommand),
    /// HR events: list with filters, show, cancel a pending one.
    #[command(subcommand)]
    HrEvents(HrEventsCommand),
    /// The audit trail: who wrote what, when, from where, how it ended.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum TargetsCommand {
    /// Every target's position, lag, counts, circuit and last error.
    List {
        /// Only this tenant's targets.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// One target in full, with what its last full sync did.
    Show(TargetArg),
    /// Push the tenant's whole current state to a target (or, with
    /// --dry-run, report what that would do); `targets show` has the result.
    Sync {
        #[command(flatten)]
        target: TargetArg,
        /// Only count what a sync would create, update and deprovision.
        #[arg(long)]
        dry_run: bool,
    },
    /// Compare a target with the tenant and report the drift (missing,
    /// extra, different); with --apply, correct it. `targets show` has the
    /// report.
    Reconcile {
        #[command(flatten)]
        target: TargetArg,
        /// Correct what differs (without it: only report).
        #[arg(long)]
        apply: bool,
    },
    /// Stop pushing to a target (its changes wait in the stream).
    Pause(TargetArg),
    /// Push to a paused target again, from where it stopped.
    Resume(TargetArg),
    /// The changes a target's worker parked, with request, answer and reason.
    Parked(TargetArg),
    /// Push parked changes again (a resource's later parked changes go with it).
    Replay {
        #[command(flatten)]
        target: TargetArg,
        /// Only the parked change with this sequence number.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        seq: Option<i64>,
        /// Every parked change of the target.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct TargetArg {
    /// The tenant the target belongs to.
    #[arg(long)]
    pub tenant: String,
    /// The target's name, as the configuration file declares it.
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a tenant; it is printed once and only its hash is kept.
    Create(CreateArgs),
    /// Revoke a token (every ingress replica refuses it from then on).
    Revoke {
        /// The token's id, as `token create` or `token list` print it.
        id: Uuid,
    },
    /// List tokens (never their hashes).
    List {
        /// Only this tenant's tokens.
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The tenant the token is bound to.
    #[arg(long)]
    pub tenant: String,
    /// A note on who or what uses the token (its name).
    #[arg(long, default_value = "")]
    pub label: String,
    /// What the token may do: scim:read, scim:write, users:write,
    /// groups:write, events:poll, hr:<source> (repeat the flag or separate
    /// by commas; default: scim:read, scim:write and events:poll).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// The token stops working this long after it is made (90d, 12h, 30m,
    /// 45s); without it, it works until revoked.
    #[arg(long, value_name = "LIFETIME")]
    pub expires_in: Option<String>,
    /// Add this configuration file's tenants to the database first.
    #[arg(long, env = "SCIMBUS_CONFIG", value_name = "FILE")]
    pub config: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load the file as the services do and report what it declares.
    Check {
        /// The configuration file (TOML).
        #[arg(long, env = "SCIMBUS_CONFIG", value_name = "FILE")]
        config: String,
    },
}

/// Runs a command, printing its result on `out`.
pub async fn run(cli: Cli, out: &mut impl Write) -> anyhow::Result<()> {
    let command = match cli.command {
        Command::Config(ConfigCommand::Check { config }) => {
            let s = check_config(&config)?;
            writeln!(out, "{}: ok, {} tenant(s)", s.path, s.tenants.len())?;
            for (name, tokens) in &s.tenants {
                writeln!(out, "  {name}: {tokens} configured token(s)")?;
            }
            if let Some((current, n)) = &s.password_keys {
                writeln!(
                    out,
                    "  passwords: {n} key(s), new ones sealed with \"{current}\""
                )?;
            }
            return Ok(());
        }
        Command::HrSources(c) => return hr::sources(c, out),
        Command::Migrate => DbCommand::Migrate,
        Command::Token(TokenCommand::Create(args)) => {
            // A bad file stops it before it connects.
            let tenants = match &args.config {
                Some(path) => FileConfig::load(path)
                    .context("--config / SCIMBUS_CONFIG")?
                    .tenant_names(),
                None => Vec::new(),
            };
            DbCommand::Create(args, tenants)
        }
        Command::Token(TokenCommand::Revoke { id }) => DbCommand::Revoke(id),
        Command::Targets(t) => DbCommand::Targets(t),
        Command::Subscriptions(c) => DbCommand::Subscriptions(c),
        Command::HrEvents(c) => DbCommand::HrEvents(c),
        Command::Audit(c) => DbCommand::Audit(c),
        Command::Token(TokenCommand::List { tenant }) => DbCommand::List(tenant),
    };
    let pool = connect(cli.database_url.as_deref()).await?;
    let result = on_database(&pool, command, out).await;
    pool.close().await;
    result
}

/// The commands that work on the database.
pub(crate) enum DbCommand {
    Migrate,
    /// With the tenants of the configuration file to add first.
    Create(CreateArgs, Vec<String>),
    Revoke(Uuid),
    List(Option<String>),
    Targets(TargetsCommand),
    Subscriptions(SubscriptionsCommand),
    HrEvents(HrEventsCommand),
    Audit(AuditCommand),
}

async fn on_database(
    pool: &PgPool,
    command: DbCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // An operator's change, recorded in the audit trail once it is done.
    let change = audit::change_of(&command);
    run_on_database(pool, command, out).await?;
    if let Some(c) = change {
        audit::operator_command(pool, &c.tenant, &c.command, &c.name, None, 200).await?;
    }
    Ok(())
}

async fn run_on_database(
    pool: &PgPool,
    command: DbCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        DbCommand::Migrate => {
            let m = migrate(pool).await?;
            if m.applied.is_empty() {
                writeln!(out, "database is up to date ({})", migrations(m.known))?;
            } else {
                writeln!(
                    out,
                    "applied {} of {}:",
                    m.applied.len(),
                    migrations(m.known)
                )?;
                for (version, description) in &m.applied {
                    writeln!(out, "  {version:04} {description}")?;
                }
            }
        }
        DbCommand::Create(args, tenants) => {
            token::create_command(pool, &args, &tenants, out).await?
        }
        DbCommand::Revoke(id) => token::revoke_command(pool, id, out).await?,
        DbCommand::List(tenant) => {
            let tokens = list_tokens(pool, tenant.as_deref()).await?;
            write_table(out, &tokens)?;
        }
        DbCommand::Audit(c) => audit::run(pool, c, out).await?,
        DbCommand::Targets(t) => on_targets(pool, t, out).await?,
        DbCommand::Subscriptions(c) => subscriptions::run(pool, c, out).await?,
        DbCommand::HrEvents(c) => hr::events(pool, c, out).await?,
    }
    Ok(())
}

async fn on_targets(
    pool: &PgPool,
    command: TargetsCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        TargetsCommand::List { tenant } => {
            let rows = target_status(pool, tenant.as_deref()).await?;
            targets::write_status(out, &rows)?;
        }
        TargetsCommand::Show(t) => {
            let rows = target_status(pool, Some(&t.tenant)).await?;
            let Some(r) = rows.iter().find(|r| r.target == t.name) else {
                anyhow::bail!("no target {} (tenant {}) has run yet", t.name, t.tenant);
            };
            targets::write_one(out, r)?;
        }
        TargetsCommand::Sync { target, dry_run } => {
            request_sync(pool, &target.tenant, &target.name, dry_run).await?;
            writeln!(
                out,
                "{} of {} (tenant {}) requested; `scimbus targets show` reports it when done",
                if dry_run {
                    "a dry run of a full sync"
                } else {
                    "a full sync"
                },
                target.name,
                target.tenant
            )?;
        }
        TargetsCommand::Reconcile { target, apply } => {
            request_reconcile(pool, &target.tenant, &target.name, apply).await?;
            writeln!(
                out,
                "a reconcile{} of {} (tenant {}) requested; `scimbus targets show` reports it when done",
                if apply {
                    " with corrections"
                } else {
                    " (report only)"
                },
                target.name,
                target.tenant
            )?;
        }
        TargetsCommand::Pause(t) => {
            set_paused(pool, &t.tenant, &t.name, true).await?;
            writeln!(out, "paused {} (tenant {})", t.name, t.tenant)?;
        }
        TargetsCommand::Resume(t) => {
            set_paused(pool, &t.tenant, &t.name, false).await?;
            writeln!(out, "resumed {} (tenant {})", t.name, t.tenant)?;
        }
        TargetsCommand::Parked(t) => {
            let rows = parked_changes(pool, &t.tenant, &t.name).await?;
            targets::write_parked(out, &rows)?;
        }
        TargetsCommand::Replay {
            target,
            seq,
            all: _,
        } => {
            let n = replay_parked(pool, &target.tenant, &target.name, seq).await?;
            if n == 0 {
                anyhow::bail!(
                    "nothing parked for {} (tenant {}){}",
                    target.name,
                    target.tenant,
                    seq.map(|s| format!(" with sequence {s}"))
                        .unwrap_or_default()
                );
            }
            writeln!(
                out,
                "{n} parked change(s) of {} (tenant {}) will be pushed again",
                target.name, target.tenant
            )?;
        }
    }
    Ok(())
}

/// A small pool on the database the flag or variable names (after one
/// plain connection, so a failure says why: refused, bad password, no such
/// database).
async fn connect(url: Option<&str>) -> Result<PgPool, CliError> {
    let url = url.ok_or(CliError::NoDatabaseUrl)?;
    scimbus_runtime::settings::postgres_url("SCIMBUS_DATABASE_URL", url).map_err(|_| {
        CliError::DatabaseUrl("for example postgres://user:password@host:5432/scimbus".into())
    })?;
    scimbus_db::connect(url, 2).await.map_err(|e| match e {
        scimbus_db::DbError::Url(why) => CliError::DatabaseUrl(why),
        scimbus_db::DbError::Connect(e) => CliError::Connect(e),
        scimbus_db::DbError::Migrate(e) => CliError::Migrate(e),
        scimbus_db::DbError::Sql(e) => CliError::from(e),
    })
}

fn migrations(n: usize) -> String {
    format!("{n} migration{}", if n == 1 { "" } else { "s" })
}

/// The flags given, as the operator API's (parameter, value) pairs: the
/// listings check both the same way.
pub(crate) fn flag_pairs<'a>(
    flags: &'a [(&'a str, Option<String>)],
) -> impl Iterator<Item = (&'a str, &'a str)> {
    flags
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
}

pub(crate) fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Rows under a header, each column as wide as its widest cell.
pub(crate) fn write_columns<const N: usize>(
    out: &mut impl Write,
    header: &[String; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut widths = [0usize; N];
    for row in std::iter::once(header).chain(rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

/// `token list` as aligned columns.
fn write_table(out: &mut impl Write, tokens: &[TokenInfo]) -> std::io::Result<()> {
    if tokens.is_empty() {
        return writeln!(out, "no API tokens");
    }
    let or_dash = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.as_ref().map_or_else(|| "-".to_string(), time)
    };
    let rows: Vec<[String; 9]> = tokens
        .iter()
        .map(|t| {
            [
                t.id.to_string(),
                t.tenant.clone(),
                // One line per token, whatever the label holds.
                t.label.escape_debug().to_string(),
                format!("{}…", t.prefix),
                t.scopes.join(","),
                time(&t.created_at),
                or_dash(&t.expires_at),
                or_dash(&t.last_used_at),
                or_dash(&t.revoked_at),
            ]
        })
        .collect();
    let header = [
        "ID",
        "TENANT",
        "LABEL",
        "PREFIX",
        "SCOPES",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "REVOKED",
    ]
    .map(String::from);
    write_columns(out, &header, &rows)
}
