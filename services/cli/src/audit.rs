//! `scimbus audit list`: a tenant's audit trail, newest first, a page at a
//! time, as JSON — the operator API's parameters, checks and JSON
//! ([`scimbus_runtime::audit`]); and the entries of the CLI's own changes
//! (targets, subscriptions, HR events, tokens), written once each is done:
//! the actor is `cli`, named by the system user who ran it.

use std::io::Write;

use clap::Subcommand;
use scimbus_runtime::audit::{self, AuditError, ListParams};
use sqlx::PgPool;

use anyhow::Context;
use uuid::Uuid;

use crate::{CliError, DbCommand, HrEventsCommand, SubscriptionsCommand, TargetsCommand};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// A tenant's entries, newest first, as JSON: `{"entries": [...],
    /// "nextCursor": c | null}`.
    List {
        /// The tenant whose trail is listed.
        #[arg(long)]
        tenant: String,
        /// Only this client's entries (a token's id, `jwt:<subject>`, an HR
        /// source, `admin:<hash prefix>`, `cli`).
        #[arg(long)]
        actor: Option<String>,
        /// Only the entries of this resource (its id).
        #[arg(long)]
        resource: Option<String>,
        /// create, replace, patch, delete, bulk, hr_event or admin.
        #[arg(long)]
        action: Option<String>,
        /// success or failure.
        #[arg(long)]
        outcome: Option<String>,
        /// From this time on (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// How many entries a page has (1 to 500; default 50).
        #[arg(long)]
        count: Option<String>,
        /// The page after this one: the `nextCursor` of the page before.
        #[arg(long)]
        cursor: Option<String>,
    },
}

/// Runs an `audit` command on the database.
pub async fn run(pool: &PgPool, command: AuditCommand, out: &mut impl Write) -> anyhow::Result<()> {
    let AuditCommand::List {
        tenant,
        actor,
        resource,
        action,
        outcome,
        since,
        until,
        count,
        cursor,
    } = command;
    let given = [
        ("actor", actor),
        ("resourceId", resource),
        ("action", action),
        ("outcome", outcome),
        ("since", since),
        ("until", until),
        ("count", count),
        ("cursor", cursor),
    ];
    let pairs = crate::flag_pairs(&given);
    let p = ListParams::parse(pairs).map_err(cli_error)?;
    let page = audit::list(pool, &tenant, &p).await.map_err(cli_error)?;
    writeln!(out, "{}", serde_json::to_string_pretty(&page.view())?)?;
    Ok(())
}

/// The error in the CLI's words: a parameter is named by its flag.
fn cli_error(e: AuditError) -> anyhow::Error {
    match e {
        AuditError::Db(e) => CliError::from(e).into(),
        AuditError::Invalid { parameter, detail } => {
            let flag = if parameter == "resourceId" {
                "resource"
            } else {
                parameter.as_str()
            };
            anyhow::anyhow!("--{flag}: {detail}")
        }
        AuditError::UnknownTenant(t) => anyhow::anyhow!("no tenant {t}"),
    }
}

/// An operator's change a command makes: its tenant, the command, what it
/// names.
pub(crate) struct Change {
    pub tenant: String,
    pub command: String,
    pub name: String,
}

/// The change `command` makes, if it makes one (token commands record
/// their own, with the token's id).
pub(crate) fn change_of(command: &DbCommand) -> Option<Change> {
    let (group, verb, tenant, name) = match command {
        DbCommand::Targets(t) => {
            let (verb, a) = match t {
                TargetsCommand::Sync { target, .. } => ("sync", target),
                TargetsCommand::Reconcile { target, .. } => ("reconcile", target),
                TargetsCommand::Pause(a) => ("pause", a),
                TargetsCommand::Resume(a) => ("resume", a),
                TargetsCommand::Replay { target, .. } => ("replay", target),
                _ => return None,
            };
            ("targets", verb, &a.tenant, &a.name)
        }
        DbCommand::Subscriptions(s) => {
            let (verb, a) = match s {
                SubscriptionsCommand::Put { subscription, .. } => ("put", subscription),
                SubscriptionsCommand::Delete(a) => ("delete", a),
                SubscriptionsCommand::Pause(a) => ("pause", a),
                SubscriptionsCommand::Resume(a) => ("resume", a),
                SubscriptionsCommand::Replay { subscription, .. } => ("replay", subscription),
                _ => return None,
            };
            ("subscriptions", verb, &a.tenant, &a.name)
        }
        DbCommand::HrEvents(HrEventsCommand::Cancel { event, .. }) => {
            ("hr-events", "cancel", &event.tenant, &event.id)
        }
        _ => return None,
    };
    Some(Change {
        tenant: tenant.clone(),
        command: format!("scimbus {group} {verb}"),
        name: name.clone(),
    })
}

/// Records an operator command of the CLI that was done.
pub(crate) async fn operator_command(
    pool: &PgPool,
    tenant: &str,
    command: &str,
    name: &str,
    id: Option<Uuid>,
    status: u16,
) -> anyhow::Result<()> {
    let actor = audit::Actor {
        tenant: tenant.to_string(),
        kind: "operator",
        id: "cli".into(),
        name: std::env::var("USER").unwrap_or_default(),
        address: None,
        request_id: None,
    };
    let what = audit::What {
        action: "admin",
        resource_type: Some(command.to_string()),
        resource_id: id.or_else(|| Uuid::parse_str(name).ok()),
        attributes: if name.is_empty() {
            Vec::new()
        } else {
            vec![format!("name={name}")]
        },
        status,
        scim_type: None,
    };
    audit::record(pool, &actor, what, None)
        .await
        .map_err(CliError::from)
        .context("recording the command in the audit trail")?;
    Ok(())
}
