//! `scimbus-outbound`: see the crate docs.

use std::process::ExitCode;

use scimbus_outbound::{Outbound, OutboundConfig};

/// mimalloc: the services allocate many small JSON values per request, and
/// glibc malloc/free showed as a fifth of their profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    scimbus_runtime::process::main(
        "scimbus-outbound",
        OutboundConfig::from_env,
        Outbound::build,
    )
}
