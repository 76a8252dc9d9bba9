//! `kettle`: the command-line front end of the SUAVE kettle.
//!
//! Invoked as `suave-geth` (a symlink or copy under that name on `PATH`, which is what
//! suave-std's Foundry tests run through FFI) it behaves as `kettle`, and `version` adds lines
//! in suave-geth's shape.

mod cli;
mod client;
mod forge;

use clap::Parser;

/// The name Foundry's FFI looks up on `PATH` (SUAVE-COMPAT §10).
const SUAVE_GETH: &str = "suave-geth";

fn main() -> std::process::ExitCode {
    let as_suave_geth = invoked_as_suave_geth();
    let cli = cli::Cli::parse();
    let config = match cli::node_config(&cli.command) {
        Ok(c) => c,
        Err(err) => {
            eprintln!("error: {err:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // `forge` owns stderr (Foundry turns it into the revert message): no logs unless asked.
    let default_filter = if matches!(cli.command, cli::Command::Forge(_)) {
        Some("off".to_owned())
    } else {
        None
    };
    let filter = cli
        .log
        .clone()
        .or(default_filter)
        .or_else(|| std::env::var("RUST_LOG").ok())
        .or_else(|| config.as_ref().map(|c| c.log.clone()))
        .unwrap_or_else(|| "info".into());
    init_tracing(&filter);
    let starts_node = config.is_some();
    match cli::run(cli, config, as_suave_geth) {
        Ok(code) => code,
        Err(err) => {
            if starts_node {
                tracing::error!(error = %format!("{err:#}"), "kettle stopped");
            }
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether `argv[0]`'s file name is `suave-geth` (with any executable suffix).
fn invoked_as_suave_geth() -> bool {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_stem()
                .map(|s| s == SUAVE_GETH)
        })
        .unwrap_or(false)
}

/// Logs go to stderr so stdout stays machine-readable (`kettle version`, `kettle forge`).
///
/// jsonrpsee's TRACE events print whole request bodies and params, i.e. raw `0x43` requests
/// with their confidential inputs, and its DEBUG events echo parameters that fail to parse
/// (a malformed `confidentialInputs`); both are dropped whatever the filter says, so even
/// `--log trace` never writes confidential inputs to the log (tests/tests/secrets.rs).
fn init_tracing(filter: &str) {
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, Layer};
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let no_request_bodies = tracing_subscriber::filter::filter_fn(|meta| {
        !(*meta.level() >= tracing::Level::DEBUG && meta.target().starts_with("jsonrpsee"))
    });
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter)
                .with_filter(no_request_bodies),
        )
        .try_init();
}
