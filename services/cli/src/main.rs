//! `scimbus`: the operator CLI; see the crate docs. Parses the command line
//! (usage errors exit 2), runs it, prints an error chain and exits 1 on
//! failure.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = scimbus_cli::Cli::parse();
    if std::env::var_os("RUST_LOG").is_some() {
        scimbus_runtime::init_logging();
    }
    match scimbus_cli::run(cli, &mut std::io::stdout().lock()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scimbus: error: {}", scimbus_cli::report(&e));
            ExitCode::FAILURE
        }
    }
}
