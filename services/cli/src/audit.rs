//! `scimbus audit list`: a tenant's audit trail, newest first, a page at a
//! time, as JSON — the operator API's parameters, checks and JSON
//! ([`scimbus_runtime::audit`]).

use std::io::Write;

use clap::Subcommand;
use scimbus_runtime::audit::{self, AuditError, ListParams};
use sqlx::PgPool;

use crate::CliError;

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
    let pairs = given
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)));
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
