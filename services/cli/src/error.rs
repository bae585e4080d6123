//! What the commands can fail with. Every message names the thing to fix:
//! the flag or variable, the tenant, the token id, the file and key.

use uuid::Uuid;

/// A command that could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(
        "no database: pass --database-url or set SCIMBUS_DATABASE_URL \
         (for example postgres://user:password@host:5432/scimbus)"
    )]
    NoDatabaseUrl,
    #[error("--database-url / SCIMBUS_DATABASE_URL: not a Postgres URL ({0})")]
    DatabaseUrl(String),
    #[error("--database-url / SCIMBUS_DATABASE_URL: cannot connect to Postgres: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("the database has no scimbus tables ({0}): run `scimbus migrate` first")]
    NotMigrated(String),
    #[error("tenant \"{tenant}\" does not exist ({}); tenants come from the configuration file: \
             pass --config FILE (or set SCIMBUS_CONFIG) to add its tenants first",
            known_tenants(.known))]
    UnknownTenant { tenant: String, known: Vec<String> },
    #[error("no API token with id {0}")]
    UnknownToken(Uuid),
    #[error("--scope: {0}")]
    Scope(#[from] scimbus_runtime::scope::UnknownScope),
    #[error("--scope: a token needs at least one scope")]
    NoScopes,
    #[error("--expires-in: {0}")]
    Expiry(String),
    #[error(transparent)]
    Config(#[from] scimbus_runtime::config::ConfigError),
    #[error("{path}: {source}")]
    ConfigSecret {
        path: String,
        #[source]
        source: scimbus_runtime::config::SecretRefError,
    },
    #[error("{path}: {source}")]
    HrSource {
        path: String,
        #[source]
        source: Box<scimbus_runtime::hr_sources::HrSourceError>,
    },
    #[error("{path}: {source}")]
    PasswordKey {
        path: String,
        #[source]
        source: scimbus_runtime::passwords::KeyError,
    },
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("Postgres: {0}")]
    Sql(#[source] sqlx::Error),
    #[error("the operating system's random source failed: {0}")]
    Random(getrandom::Error),
}

fn known_tenants(known: &[String]) -> String {
    if known.is_empty() {
        "the database has no tenants yet".to_string()
    } else {
        format!("known tenants: {}", known.join(", "))
    }
}

impl From<sqlx::Error> for CliError {
    fn from(e: sqlx::Error) -> Self {
        // 42P01 undefined_table: a database `scimbus migrate` has not seen.
        match e.as_database_error() {
            Some(d) if d.code().is_some_and(|c| c == "42P01") => {
                CliError::NotMigrated(d.message().to_string())
            }
            _ => CliError::Sql(e),
        }
    }
}

/// An error and its causes on one line, each cause once: most messages
/// here already include their source's text, so a cause whose text the
/// line holds is left out.
pub fn report(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
