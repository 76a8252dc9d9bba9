//! Command-line shape of `kettle` and dispatch of each subcommand.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};

/// The version line printed by `kettle version`: `kettle <semver> (<git sha>)`.
pub const VERSION_LINE: &str = concat!(
    "kettle ",
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KETTLE_GIT_SHA"),
    ")"
);

/// A SUAVE kettle: confidential compute for SUAPPs, wire-compatible with suave-geth clients.
#[derive(Debug, Parser)]
#[command(name = "kettle", version = VERSION_LINE, about, long_about = None)]
pub struct Cli {
    /// Log filter in `tracing` syntax (e.g. `info`, `kettle=debug`); overrides `RUST_LOG`.
    #[arg(long, global = true, env = "RUST_LOG")]
    pub log: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands of `kettle`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print `kettle <semver> (<git sha>)`.
    Version,
    /// Start a single-node development kettle with the dev chain and a funded dev account.
    Dev(NodeArgs),
    /// Start a kettle from an operator's configuration file.
    Run(RunArgs),
}

/// Settings shared by `dev` and `run`.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// JSON-RPC listen address (HTTP and WebSocket).
    #[arg(long, default_value = "127.0.0.1:8545", env = "KETTLE_HTTP_ADDR")]
    pub http_addr: SocketAddr,
    /// Data directory holding the embedded RocksDB (chain state and confidential store).
    #[arg(long, default_value = ".kettle-dev", env = "KETTLE_DATADIR")]
    pub datadir: PathBuf,
}

/// Settings of `kettle run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Operator configuration file (TOML).
    #[arg(long, env = "KETTLE_CONFIG")]
    pub config: PathBuf,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// Executes the parsed command; the exit code tells scripts whether it did what was asked.
pub fn run(cli: Cli) -> eyre::Result<ExitCode> {
    match cli.command {
        Command::Version => {
            println!("{VERSION_LINE}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Dev(args) => not_yet("dev", &args),
        Command::Run(args) => not_yet("run", &args.node),
    }
}

/// The node is not built yet: say so plainly and fail, so no script mistakes this for a
/// running kettle.
fn not_yet(cmd: &str, args: &NodeArgs) -> eyre::Result<ExitCode> {
    eprintln!(
        "kettle {cmd}: the node (chain, JSON-RPC on {addr}, confidential store in {dir}) is not \
         implemented in this build yet.\n\
         What this build does today: `kettle version`, and the SUAVE wire types \
         (0x43 requests, 0x50 transactions) in the kettle-primitives crate.",
        addr = args.http_addr,
        dir = args.datadir.display(),
    );
    Ok(ExitCode::from(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn version_line_has_semver_and_sha() {
        let rest = VERSION_LINE.strip_prefix("kettle ").expect("prefix");
        let (semver, sha) = rest.split_once(' ').expect("two parts");
        assert_eq!(semver, env!("CARGO_PKG_VERSION"));
        assert!(sha.starts_with('(') && sha.ends_with(')') && sha.len() > 2);
    }

    #[test]
    fn dev_defaults_to_loopback_8545() {
        let cli = Cli::try_parse_from(["kettle", "dev"]).expect("parse");
        match cli.command {
            Command::Dev(args) => assert_eq!(args.http_addr.to_string(), "127.0.0.1:8545"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
