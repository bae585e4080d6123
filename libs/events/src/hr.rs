//! The command that has the store apply an HR event from its inbox. The
//! event itself is in Postgres (the ingress recorded it before its 202);
//! the command carries its id, so publishing it again (the store's sweep,
//! after a lost publish or at a future effective time) is harmless.

use uuid::Uuid;

use crate::v1::{Command, Source, command, source};

/// The command's partition key: one person's events go to one partition,
/// in the order they are published.
pub fn hr_partition_key(employee_id: &str) -> String {
    format!("hr/{employee_id}")
}

/// The id of the command that applies event `event` due at
/// `due_at_unix_micros`: the same for every publish of it, so that
/// JetStream drops the copies a sweep publishes again within its duplicate
/// window; another once the event is postponed (the first command was then
/// applied early, as nothing to do, and its id is recorded as done).
pub fn hr_command_id(event: Uuid, due_at_unix_micros: i64) -> Uuid {
    let mut b = *event.as_bytes();
    for (x, d) in b[8..].iter_mut().zip(due_at_unix_micros.to_be_bytes()) {
        *x ^= d;
    }
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

/// The command to apply HR event `event` (our id) of `employee_id`, from
/// HR source `source`, due at `due_at_unix_micros`. Its id is
/// [`hr_command_id`]; the event's status, not the command id, is what
/// makes its effect happen once.
pub fn hr_command(
    tenant: &str,
    source: &str,
    event: Uuid,
    due_at_unix_micros: i64,
    employee_id: &str,
    received_at_unix_micros: i64,
) -> Command {
    Command {
        id: hr_command_id(event, due_at_unix_micros).to_string(),
        tenant: tenant.to_string(),
        resource_type: "User".into(),
        resource_id: hr_partition_key(employee_id),
        operation: command::Operation::HrEvent as i32,
        source: Some(Source {
            kind: source::Kind::Hr as i32,
            client_id: source.to_string(),
        }),
        payload: event.to_string().into_bytes(),
        received_at_unix_micros,
        client_name: source.to_string(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition;

    #[test]
    fn one_persons_commands_share_a_partition() {
        let (e1, e2) = (Uuid::now_v7(), Uuid::now_v7());
        let a = hr_command("t", "wd", e1, 5, "100", 1);
        let b = hr_command("t", "bamboo", e2, 5, "100", 2);
        assert_eq!(
            partition(&a.tenant, &a.resource_id, 64),
            partition(&b.tenant, &b.resource_id, 64)
        );
        assert_eq!(a.operation, command::Operation::HrEvent as i32);
        assert_eq!(a.payload, e1.to_string().into_bytes());
    }

    #[test]
    fn a_command_id_is_one_per_event_and_due_time() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t = 1_780_000_000_000_000;
        let later = t + 86_400_000_000;
        assert_eq!(hr_command_id(a, t), hr_command_id(a, t));
        assert_ne!(hr_command_id(a, t), hr_command_id(a, later));
        assert_ne!(hr_command_id(a, t), hr_command_id(b, t));
        assert_ne!(hr_command_id(a, t), a);
        assert_eq!(
            hr_command("t", "s", a, t, "1", 0).id,
            hr_command_id(a, t).to_string()
        );
    }
}
