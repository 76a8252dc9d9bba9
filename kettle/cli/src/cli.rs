//! Command-line shape of `kettle` and dispatch of each subcommand.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};
use kettle_node::NodeConfig;

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
    /// Log filter in `tracing` syntax (e.g. `info`, `kettle_node=debug,info`); overrides
    /// `RUST_LOG` and the config file's `log`.
    #[arg(long, global = true)]
    pub log: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands of `kettle`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print `kettle <semver> (<git sha>)`.
    Version,
    /// Start a development kettle: the dev chain (id 16813125), the well-known dev kettle key
    /// 0xB5fE…BB7F as funded faucet, outgoing HTTP to public hosts and this machine.
    Dev(DevArgs),
    /// Start a kettle from an operator's configuration file (see kettle/node/kettle.example.toml).
    Run(RunArgs),
    /// Deploy a compiled contract (`contracts/out/<Name>.json`) with a normal transaction.
    Deploy(DeployArgs),
    /// Send a confidential compute request (0x43, EIP-712 signed) and print the kettle's
    /// 0x50 receipt with its decoded events.
    Request(RequestArgs),
}

/// Connection and signing settings of the client subcommands.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Kettle JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545", env = "KETTLE_RPC")]
    pub rpc: String,
    /// Signing key (hex); default: the funded dev user 0xBE69…8De0.
    #[arg(long, env = "KETTLE_KEY", default_value = DEV_USER_KEY, hide_default_value = true)]
    pub key: String,
}

/// The dev chain's funded user key (published by suave-geth).
const DEV_USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";

/// Settings of `kettle deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Contract name in `contracts/out/` (e.g. `Hello`) or path to an artifact JSON.
    pub contract: String,
}

/// Settings of `kettle request`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Contract name in `contracts/out/` or artifact path (its ABI decodes the events).
    #[arg(long)]
    pub contract: String,
    /// Address of the deployed SUAPP.
    #[arg(long)]
    pub to: alloy_primitives::Address,
    /// Function without arguments to call, e.g. `hello()`.
    #[arg(long, conflicts_with = "calldata")]
    pub sig: Option<String>,
    /// Full calldata (hex) instead of `--sig`.
    #[arg(long)]
    pub calldata: Option<alloy_primitives::Bytes>,
    /// Confidential inputs as text.
    #[arg(long, conflicts_with = "inputs_hex")]
    pub inputs: Option<String>,
    /// Confidential inputs as hex.
    #[arg(long)]
    pub inputs_hex: Option<alloy_primitives::Bytes>,
    /// Kettle to address; default: the node's first `eth_kettleAddress`.
    #[arg(long)]
    pub kettle: Option<alloy_primitives::Address>,
    /// Gas limit of the request.
    #[arg(long, default_value_t = 2_000_000)]
    pub gas: u64,
}

/// Settings of `kettle dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// JSON-RPC listen address (HTTP and WebSocket).
    #[arg(long, default_value = "127.0.0.1:8545", env = "KETTLE_HTTP_ADDR")]
    pub http_addr: SocketAddr,
    /// Data directory holding the embedded RocksDB (chain state and confidential store).
    #[arg(long, default_value = "data", env = "KETTLE_DATADIR")]
    pub datadir: PathBuf,
    /// Prometheus `/metrics` and `/health` address.
    #[arg(long, default_value = "127.0.0.1:9545", env = "KETTLE_METRICS_ADDR")]
    pub metrics_addr: SocketAddr,
    /// Seal at most one block per this many milliseconds (0: as soon as transactions wait).
    #[arg(long, default_value_t = 0)]
    pub block_period_ms: u64,
}

/// Settings of `kettle run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Operator configuration file (TOML).
    #[arg(long, env = "KETTLE_CONFIG")]
    pub config: PathBuf,
    /// Overrides `rpc.addr` of the file.
    #[arg(long)]
    pub http_addr: Option<SocketAddr>,
    /// Overrides `datadir` of the file.
    #[arg(long)]
    pub datadir: Option<PathBuf>,
}

/// The node configuration a subcommand asks for, if it starts a node.
pub fn node_config(command: &Command) -> eyre::Result<Option<NodeConfig>> {
    Ok(match command {
        Command::Version | Command::Deploy(_) | Command::Request(_) => None,
        Command::Dev(args) => {
            let mut cfg = NodeConfig::dev(args.datadir.clone(), args.http_addr);
            cfg.metrics.addr = Some(args.metrics_addr);
            cfg.chain.block_period_ms = args.block_period_ms;
            Some(cfg)
        }
        Command::Run(args) => {
            let mut cfg = NodeConfig::from_file(&args.config)?;
            if let Some(addr) = args.http_addr {
                cfg.rpc.addr = addr;
            }
            if let Some(dir) = &args.datadir {
                cfg.datadir = dir.clone();
            }
            Some(cfg)
        }
    })
}

/// Executes the parsed command; the exit code tells scripts whether it did what was asked.
pub fn run(cli: Cli, config: Option<NodeConfig>) -> eyre::Result<ExitCode> {
    match (cli.command, config) {
        (Command::Version, _) => {
            println!("{VERSION_LINE}");
            Ok(ExitCode::SUCCESS)
        }
        (_, Some(cfg)) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let node = kettle_node::launch(cfg).await?;
                kettle_node::shutdown_signal().await;
                node.stop().await;
                Ok::<_, eyre::Report>(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        (Command::Deploy(args), None) => client_runtime()?.block_on(async move {
            let artifact = crate::client::Artifact::load(&args.contract)?;
            let client = crate::client::Client::connect(&args.client.rpc, &args.client.key).await?;
            let address = client.deploy(&artifact).await?;
            println!("{address}");
            Ok(ExitCode::SUCCESS)
        }),
        (Command::Request(args), None) => client_runtime()?.block_on(async move {
            let artifact = crate::client::Artifact::load(&args.contract)?;
            let calldata = match (&args.sig, &args.calldata) {
                (Some(sig), _) => crate::client::Artifact::selector_call(sig)?,
                (None, Some(data)) => data.clone(),
                (None, None) => eyre::bail!("give --sig or --calldata"),
            };
            let inputs = match (&args.inputs, &args.inputs_hex) {
                (Some(text), _) => alloy_primitives::Bytes::copy_from_slice(text.as_bytes()),
                (None, Some(hex)) => hex.clone(),
                (None, None) => alloy_primitives::Bytes::new(),
            };
            let client = crate::client::Client::connect(&args.client.rpc, &args.client.key).await?;
            let (hash, receipt) = client
                .request(args.to, calldata, inputs, args.kettle, args.gas)
                .await?;
            let status = receipt["status"].as_str().unwrap_or("?").to_string();
            println!(
                "0x50 transaction {hash} in block {} (status {status})",
                receipt["blockNumber"].as_str().unwrap_or("?")
            );
            for line in artifact.describe_logs(&receipt) {
                println!("  {line}");
            }
            Ok(if status == "0x1" {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }),
        (_, None) => Ok(ExitCode::FAILURE),
    }
}

fn client_runtime() -> eyre::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
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
    fn dev_defaults_to_loopback_8545_and_data_dir() {
        let cli = Cli::try_parse_from(["kettle", "dev"]).expect("parse");
        let cfg = node_config(&cli.command).expect("config").expect("a node");
        assert_eq!(cfg.rpc.addr.to_string(), "127.0.0.1:8545");
        assert_eq!(cfg.datadir, PathBuf::from("data"));
        assert!(cfg.dev_keys);
    }
}
