//! Reading the audit trail, through the operator API
//! (`/admin/v1/tenants/{tenant}/audit`) or the CLI (`scimbus audit`): a
//! tenant's entries newest first, a page at a time, with filters. The same
//! parameter checks, errors and JSON for both. And the entries the ingress
//! and the CLI write one at a time ([`Actor`], [`What`], [`record`]); the
//! store writes its own with the batch that applies them.

use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use scimbus_db::audit::{self, Entry, Query};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

/// A page's size when none is asked for.
pub const DEFAULT_COUNT: i64 = 50;
/// The largest page.
pub const MAX_COUNT: i64 = 500;

/// The list parameters, as the API's query string and the CLI's flags name
/// them.
pub const PARAMETERS: [&str; 8] = [
    "actor",
    "resourceId",
    "action",
    "outcome",
    "since",
    "until",
    "count",
    "cursor",
];

/// The actions an entry can have.
pub const ACTIONS: [&str; 7] = [
    "create", "replace", "patch", "delete", "bulk", "hr_event", "admin",
];

/// Who an entry names.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant: String,
    /// `scim`, `hr` or `operator`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub address: Option<IpAddr>,
    pub request_id: Option<String>,
}

/// What one entry says besides its actor.
#[derive(Debug)]
pub struct What<'a> {
    pub action: &'a str,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub attributes: Vec<String>,
    pub status: u16,
    pub scim_type: Option<String>,
}

/// Writes the entry of `what` by `actor`, now, in a request traced as
/// `trace_id`.
pub async fn record(
    pool: &PgPool,
    actor: &Actor,
    what: What<'_>,
    trace_id: Option<String>,
) -> sqlx::Result<()> {
    let entry = Entry {
        tenant: actor.tenant.clone(),
        at: Utc::now(),
        actor_kind: actor.kind.to_string(),
        actor: actor.id.clone(),
        actor_name: actor.name.clone(),
        action: what.action.to_string(),
        resource_type: what.resource_type,
        resource_id: what.resource_id,
        attributes: what.attributes,
        status: i32::from(what.status),
        scim_type: what.scim_type,
        command_id: None,
        client_address: actor.address.map(|a| a.to_string()),
        request_id: actor.request_id.clone(),
        trace_id,
    };
    let mut conn = pool.acquire().await?;
    audit::insert(&mut conn, std::slice::from_ref(&entry)).await
}

/// Why the trail cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no tenant {0}")]
    UnknownTenant(String),
    /// A parameter is wrong; `parameter` is its name in the API.
    #[error("{parameter}: {detail}")]
    Invalid { parameter: String, detail: String },
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
}

fn invalid(parameter: &str, detail: impl Into<String>) -> AuditError {
    AuditError::Invalid {
        parameter: parameter.to_string(),
        detail: detail.into(),
    }
}

/// What to list: the filters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub actor: Option<String>,
    pub resource_id: Option<Uuid>,
    pub action: Option<String>,
    /// `Some(true)`: refused writes only (status 400 and up);
    /// `Some(false)`: accepted ones only.
    pub failed: Option<bool>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub count: i64,
    /// The last entry of the previous page.
    pub cursor: Option<i64>,
}

impl ListParams {
    /// Reads `(name, value)` pairs. An unknown or repeated parameter is
    /// refused rather than ignored: a misspelt filter would otherwise list
    /// everything.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ListParams, AuditError> {
        let mut p = ListParams {
            actor: None,
            resource_id: None,
            action: None,
            failed: None,
            since: None,
            until: None,
            count: DEFAULT_COUNT,
            cursor: None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            let Some(known) = PARAMETERS.iter().find(|k| **k == name) else {
                return Err(invalid(
                    name,
                    format!(
                        "unknown parameter; the filters are {}",
                        PARAMETERS.join(", ")
                    ),
                ));
            };
            if seen.contains(known) {
                return Err(invalid(name, "given more than once"));
            }
            seen.push(known);
            match name {
                "actor" if !value.is_empty() => p.actor = Some(value.to_string()),
                "actor" => return Err(invalid(name, "must not be empty")),
                "resourceId" => {
                    p.resource_id = Some(Uuid::parse_str(value).map_err(|_| {
                        invalid(name, format!("\"{value}\" is not an id (a UUID)"))
                    })?);
                }
                "action" if ACTIONS.contains(&value) => p.action = Some(value.to_string()),
                "action" => {
                    return Err(invalid(
                        name,
                        format!("\"{value}\" is not one of {}", ACTIONS.join(", ")),
                    ));
                }
                "outcome" => {
                    p.failed = Some(match value {
                        "failure" => true,
                        "success" => false,
                        _ => {
                            return Err(invalid(
                                name,
                                format!("\"{value}\" is not success or failure"),
                            ));
                        }
                    });
                }
                "since" => p.since = Some(time(name, value)?),
                "until" => p.until = Some(time(name, value)?),
                "count" => {
                    p.count = match value.parse::<i64>() {
                        Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
                        _ => {
                            return Err(invalid(
                                name,
                                format!("\"{value}\" is not a number from 1 to {MAX_COUNT}"),
                            ));
                        }
                    };
                }
                _ => {
                    p.cursor = Some(
                        value
                            .parse::<i64>()
                            .ok()
                            .filter(|c| *c > 0)
                            .ok_or_else(|| invalid(name, "is not a cursor this API gave"))?,
                    );
                }
            }
        }
        if let (Some(since), Some(until)) = (p.since, p.until)
            && since >= until
        {
            return Err(invalid("until", "must be after since"));
        }
        Ok(p)
    }

    fn query(&self) -> Query {
        Query {
            actor: self.actor.clone(),
            resource_id: self.resource_id,
            action: self.action.clone(),
            failed: self.failed,
            since: self.since,
            until: self.until,
            before_id: self.cursor,
            // One more than a page: whether there is a next page.
            limit: self.count + 1,
        }
    }
}

fn time(name: &str, value: &str) -> Result<DateTime<Utc>, AuditError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            invalid(
                name,
                format!("\"{value}\" is not an RFC 3339 time (2026-12-01T00:00:00Z)"),
            )
        })
}

/// One page of entries, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub entries: Vec<(i64, Entry)>,
    /// The cursor of the next page; none on the last.
    pub next_cursor: Option<i64>,
}

impl Page {
    /// `{"entries": [view, …], "nextCursor": "<cursor>" | null}`.
    pub fn view(&self) -> Value {
        let entries: Vec<Value> = self.entries.iter().map(|(id, e)| view(*id, e)).collect();
        json!({
            "entries": entries,
            "nextCursor": self.next_cursor.map(|c| c.to_string()),
        })
    }
}

/// An entry as an operator sees it: `id, at, actor {kind, id, name},
/// action, resourceType, resourceId, attributes, status, scimType,
/// commandId, clientAddress, requestId, traceId` (null when unset).
pub fn view(id: i64, e: &Entry) -> Value {
    json!({
        "id": id.to_string(),
        "at": e.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "actor": {"kind": e.actor_kind, "id": e.actor, "name": e.actor_name},
        "action": e.action,
        "resourceType": e.resource_type,
        "resourceId": e.resource_id.map(|r| r.to_string()),
        "attributes": e.attributes,
        "status": e.status,
        "scimType": e.scim_type,
        "commandId": e.command_id.map(|c| c.to_string()),
        "clientAddress": e.client_address,
        "requestId": e.request_id,
        "traceId": e.trace_id,
    })
}

/// A page of a tenant's entries.
pub async fn list(pool: &PgPool, tenant: &str, p: &ListParams) -> Result<Page, AuditError> {
    if !scimbus_db::tenants::exists(pool, tenant).await? {
        return Err(AuditError::UnknownTenant(tenant.to_string()));
    }
    let mut rows = audit::list(pool, tenant, &p.query()).await?;
    let page = usize::try_from(p.count).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > page {
        rows.truncate(page);
        rows.last().map(|(id, _)| *id)
    } else {
        None
    };
    Ok(Page {
        entries: rows,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<ListParams, AuditError> {
        ListParams::parse(pairs.iter().copied())
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let p = parse(&[
            ("actor", "0192"),
            ("outcome", "failure"),
            ("since", "2026-12-01T00:00:00Z"),
            ("until", "2026-12-02T00:00:00+01:00"),
            ("count", "10"),
            ("cursor", "42"),
            ("action", "patch"),
        ])
        .unwrap();
        assert_eq!(p.failed, Some(true));
        assert_eq!(p.count, 10);
        assert_eq!(p.cursor, Some(42));
        assert_eq!(p.query().limit, 11);
        assert_eq!(p.until.unwrap().to_rfc3339(), "2026-12-01T23:00:00+00:00");
        let bad = [
            (vec![("who", "x")], "who"),
            (vec![("actor", "a"), ("actor", "b")], "actor"),
            (vec![("actor", "")], "actor"),
            (vec![("resourceId", "7")], "resourceId"),
            (vec![("action", "drop")], "action"),
            (vec![("outcome", "maybe")], "outcome"),
            (vec![("since", "yesterday")], "since"),
            (vec![("count", "0")], "count"),
            (vec![("count", "501")], "count"),
            (vec![("cursor", "-1")], "cursor"),
            (
                vec![
                    ("since", "2026-12-02T00:00:00Z"),
                    ("until", "2026-12-01T00:00:00Z"),
                ],
                "until",
            ),
        ];
        for (pairs, named) in bad {
            match parse(&pairs) {
                Err(AuditError::Invalid { parameter, .. }) => assert_eq!(parameter, named),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
    }
}
