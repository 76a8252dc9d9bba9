//! `kettle`: the command-line front end of the SUAVE kettle.

mod cli;
mod client;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let config = match cli::node_config(&cli.command) {
        Ok(c) => c,
        Err(err) => {
            eprintln!("error: {err:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .or_else(|| config.as_ref().map(|c| c.log.clone()))
        .unwrap_or_else(|| "info".into());
    init_tracing(&filter);
    match cli::run(cli, config) {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "kettle stopped");
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr so stdout stays machine-readable (`kettle version`, `kettle forge`).
///
/// jsonrpsee's TRACE events print whole request bodies and params, i.e. raw `0x43` requests
/// with their confidential inputs; they are dropped whatever the filter says, so even
/// `--log trace` never writes confidential inputs to the log.
fn init_tracing(filter: &str) {
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, Layer};
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let no_request_bodies = tracing_subscriber::filter::filter_fn(|meta| {
        !(*meta.level() == tracing::Level::TRACE && meta.target().starts_with("jsonrpsee"))
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
