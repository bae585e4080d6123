//! A command message as the store takes it: decoding it (and why one
//! cannot be applied), the answer to one refused, and the trace a command
//! carries to the changes it made.

use async_nats::jetstream;
use scimbus_db::changes::ChangeRow;
use scimbus_events::v1::{Command, CommandResult, command_result};
use scimbus_events::{Message, headers, valid_tenant};
use scimbus_runtime::telemetry::{messaging, propagate};
use uuid::Uuid;

use crate::apply::pb_error;

/// The span of each message of a batch of `stream`: a child of the span
/// that published it.
pub(crate) fn spans(stream: &str, msgs: &[jetstream::Message]) -> Vec<tracing::Span> {
    msgs.iter()
        .map(|m| {
            let id = m
                .headers
                .as_ref()
                .and_then(|h| h.get(headers::MSG_ID))
                .map_or("", |v| v.as_str());
            messaging::consumer(stream, &m.subject, id, "apply", m.headers.as_ref())
        })
        .collect()
}

/// Gives each change the trace context of its command's span, so that its
/// publish continues the command's trace.
pub(crate) fn traced(
    changes: &mut [ChangeRow],
    good: &[(usize, Uuid, Command)],
    spans: &[tracing::Span],
) {
    let by_command: std::collections::HashMap<&str, propagate::TraceHeaders> = good
        .iter()
        .filter_map(|(i, _, cmd)| {
            let h = propagate::headers_of(spans.get(*i)?);
            h.traceparent.is_some().then_some((cmd.id.as_str(), h))
        })
        .collect();
    if by_command.is_empty() {
        return;
    }
    for row in changes {
        let Ok(change) = scimbus_events::v1::Change::decode(row.payload.as_slice()) else {
            continue;
        };
        if let Some(h) = by_command.get(change.command_id.as_str()) {
            row.traceparent = h.traceparent.clone();
            row.tracestate = h.tracestate.clone();
        }
    }
}

/// Why a command message cannot be applied (it parks with this reason).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Undecodable {
    #[error("not a scimbus.v1.Command: {0}")]
    Payload(#[source] scimbus_events::DecodeError),
    #[error("command id \"{id}\" is not a UUID")]
    Id {
        id: String,
        #[source]
        source: uuid::Error,
    },
    #[error("\"{0}\" is not a tenant name")]
    Tenant(String),
    #[error(
        "the {} header ({}) does not name the command's tenant \"{tenant}\"",
        headers::TENANT,
        header.as_deref().unwrap_or("missing")
    )]
    TenantHeader {
        header: Option<String>,
        tenant: String,
    },
}

/// A command message's id and contents, or why it cannot be applied.
pub(crate) fn decode(m: &jetstream::Message) -> Result<(Uuid, Command), Undecodable> {
    let cmd = Command::decode(m.payload.as_ref()).map_err(Undecodable::Payload)?;
    let id = Uuid::parse_str(&cmd.id).map_err(|source| Undecodable::Id {
        id: cmd.id.clone(),
        source,
    })?;
    if !valid_tenant(&cmd.tenant) {
        return Err(Undecodable::Tenant(cmd.tenant));
    }
    let header = m
        .headers
        .as_ref()
        .and_then(|h| h.get(headers::TENANT))
        .map(|v| v.as_str());
    if header != Some(cmd.tenant.as_str()) {
        return Err(Undecodable::TenantHeader {
            header: header.map(str::to_string),
            tenant: cmd.tenant,
        });
    }
    Ok((id, cmd))
}

pub(crate) fn failed(command_id: String, status: u16, detail: &str) -> CommandResult {
    let e = if status == 500 {
        scimbus_scim::ScimError::internal(detail)
    } else {
        scimbus_scim::ScimError::invalid_syntax(detail)
    };
    CommandResult {
        command_id,
        outcome: command_result::Outcome::Invalid as i32,
        error: Some(pb_error(&e)),
        ..Default::default()
    }
}
