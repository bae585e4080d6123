//! `scimbus-ingress`: see the crate docs.

use std::process::ExitCode;

use scimbus_ingress::{Ingress, IngressConfig};

/// mimalloc: the services allocate many small JSON values per request, and
/// glibc malloc/free showed as a fifth of their profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    scimbus_runtime::process::main("scimbus-ingress", IngressConfig::from_env, Ingress::build)
}
