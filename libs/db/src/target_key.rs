//! Which outbound target a row belongs to.

/// Which target: tenant and target name.
#[derive(Debug, Clone, Copy)]
pub struct TargetKey<'a> {
    pub tenant: &'a str,
    pub target: &'a str,
}
