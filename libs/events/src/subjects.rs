//! NATS subject and stream names (docs/design.md §3), with a configurable prefix
//! so several installations or test runs share one NATS server.

use std::fmt;

/// Whether a tenant name is usable as a NATS subject token and a URL path
/// segment: 1–63 characters of `a-z`, `0-9`, `-`, `_`, starting with a
/// letter or digit.
pub fn valid_tenant(tenant: &str) -> bool {
    let b = tenant.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
}

/// A tenant name that cannot be a subject token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a valid tenant name (1-63 of a-z 0-9 - _, starting with a letter or digit)"
)]
pub struct TenantError(pub String);

/// The partition of a resource's commands: a stable hash (FNV-1a, 64 bit,
/// fixed forever: changing it would reorder in-flight commands) of tenant
/// and resource id, modulo `count`.
pub fn partition(tenant: &str, resource_id: &str, count: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tenant.bytes().chain([0]).chain(resource_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(count.max(1))) as u32
}

/// Names of streams and subjects under one prefix. The default prefix is
/// empty: streams `SCIMBUS_CMD`, subjects `scimbus.cmd.…`. A prefix `t42`
/// gives `T42_SCIMBUS_CMD` and `t42.scimbus.cmd.…`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    /// `prefix` must itself be a valid subject token (or empty).
    pub fn new(prefix: &str) -> Result<Self, TenantError> {
        if !prefix.is_empty() && !valid_tenant(prefix) {
            return Err(TenantError(prefix.to_string()));
        }
        Ok(Subjects {
            prefix: prefix.to_string(),
        })
    }

    fn subject(&self, rest: fmt::Arguments<'_>) -> String {
        if self.prefix.is_empty() {
            format!("scimbus.{rest}")
        } else {
            format!("{}.scimbus.{rest}", self.prefix)
        }
    }

    fn stream(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            format!("SCIMBUS_{name}")
        } else {
            format!(
                "{}_SCIMBUS_{name}",
                self.prefix.to_ascii_uppercase().replace('-', "_")
            )
        }
    }

    /// Also used as the prefix of durable consumer names.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn command_stream(&self) -> String {
        self.stream("CMD")
    }
    pub fn change_stream(&self) -> String {
        self.stream("CHANGES")
    }
    pub fn dlq_stream(&self) -> String {
        self.stream("DLQ")
    }
    /// The public events stream applications bind their own consumers to.
    pub fn events_stream(&self) -> String {
        self.stream("EVENTS")
    }

    /// `scimbus.cmd.<tenant>.<partition>`
    pub fn command(&self, tenant: &str, partition: u32) -> String {
        self.subject(format_args!("cmd.{tenant}.{partition}"))
    }
    /// `scimbus.cmd.>`: every command.
    pub fn all_commands(&self) -> String {
        self.subject(format_args!("cmd.>"))
    }
    /// `scimbus.cmd.*.<partition>`: one partition across tenants.
    pub fn command_partition(&self, partition: u32) -> String {
        self.subject(format_args!("cmd.*.{partition}"))
    }

    /// `scimbus.chg.<tenant>.<resourceType>`
    pub fn change(&self, tenant: &str, resource_type: &str) -> String {
        self.subject(format_args!("chg.{tenant}.{resource_type}"))
    }
    /// `scimbus.chg.<tenant>.>`: every change of one tenant.
    pub fn tenant_changes(&self, tenant: &str) -> String {
        self.subject(format_args!("chg.{tenant}.>"))
    }
    pub fn all_changes(&self) -> String {
        self.subject(format_args!("chg.>"))
    }

    /// `scimbus.events.<tenant>.<resourceType>.<event>`: a change
    /// notification as a CloudEvent (`scimbus.events.demo.User.created`).
    /// A public contract: these names do not change.
    pub fn event(&self, tenant: &str, resource_type: &str, event: &str) -> String {
        self.subject(format_args!("events.{tenant}.{resource_type}.{event}"))
    }
    /// `scimbus.events.<tenant>.>`: every event of one tenant.
    pub fn tenant_events(&self, tenant: &str) -> String {
        self.subject(format_args!("events.{tenant}.>"))
    }
    pub fn all_events(&self) -> String {
        self.subject(format_args!("events.>"))
    }

    /// `scimbus.dlq.<origin>.<tenant>`
    pub fn dead_letter(&self, origin: &str, tenant: &str) -> String {
        self.subject(format_args!("dlq.{origin}.{tenant}"))
    }
    pub fn all_dead_letters(&self) -> String {
        self.subject(format_args!("dlq.>"))
    }

    /// Where the store answers one ingress instance: `scimbus.reply.<instance>.<command id>`.
    pub fn reply(&self, instance: &str, command_id: &str) -> String {
        self.subject(format_args!("reply.{instance}.{command_id}"))
    }
    pub fn replies_for(&self, instance: &str) -> String {
        self.subject(format_args!("reply.{instance}.*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names() {
        for ok in ["demo", "demo2", "acme-corp", "a_b", "0x"] {
            assert!(valid_tenant(ok), "{ok}");
        }
        for bad in ["", "Demo", "a.b", "a*", "a>", "a b", "-a", &"x".repeat(64)] {
            assert!(!valid_tenant(bad), "{bad}");
        }
    }

    #[test]
    fn partition_is_stable_and_spread() {
        // Pinned values (computed independently): a change of hash would
        // reorder in-flight commands.
        assert_eq!(
            partition("demo", "0193a0b4-0000-7000-8000-000000000001", 16),
            14
        );
        assert_eq!(partition("demo", "user-1", 1024), 107);
        assert_eq!(partition("acme", "x", 7), 6);
        assert_eq!(partition("demo", "user-1", 1), 0);
        assert_ne!(
            partition("demo", "ab", 1 << 20),
            partition("demoa", "b", 1 << 20),
            "tenant and id are separated"
        );
        let mut seen = [0u32; 8];
        for i in 0..8000 {
            seen[partition("demo", &format!("id-{i}"), 8) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        assert_eq!(partition("t", "x", 0), 0, "a zero count is treated as one");
    }

    #[test]
    fn names_with_and_without_prefix() {
        let s = Subjects::default();
        assert_eq!(s.command_stream(), "SCIMBUS_CMD");
        assert_eq!(s.command("demo", 3), "scimbus.cmd.demo.3");
        assert_eq!(s.change("demo", "User"), "scimbus.chg.demo.User");
        assert_eq!(s.dead_letter("cmd", "demo"), "scimbus.dlq.cmd.demo");
        assert_eq!(s.events_stream(), "SCIMBUS_EVENTS");
        assert_eq!(
            s.event("demo", "User", "created"),
            "scimbus.events.demo.User.created"
        );
        assert_eq!(s.tenant_events("demo"), "scimbus.events.demo.>");
        let t = Subjects::new("t-42").unwrap();
        assert_eq!(t.change_stream(), "T_42_SCIMBUS_CHANGES");
        assert_eq!(t.tenant_changes("demo"), "t-42.scimbus.chg.demo.>");
        assert_eq!(t.command_partition(7), "t-42.scimbus.cmd.*.7");
        assert_eq!(Subjects::new("a.b"), Err(TenantError("a.b".into())));
    }
}
