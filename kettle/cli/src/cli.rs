//! Command-line shape of `kettle` and dispatch of each subcommand.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use alloy_primitives::Address;
use clap::{Args, Parser, Subcommand};
use kettle_node::{config::GossipSection, NodeConfig};

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
    /// Create a kettle key file if it does not exist and print the kettle address.
    Key(KeyArgs),
    /// Print the dev chain's genesis (geth JSON), e.g. for a cluster of kettles that must
    /// share one genesis (`kettle dev --genesis <file>`).
    Genesis(GenesisArgs),
    /// suave-std's Foundry FFI (`suave-geth forge …`): run one SUAVE precompile and print its
    /// output as hex; also `forge status` and `forge reset-conf-store`.
    Forge(crate::forge::ForgeArgs),
}

/// Settings of `kettle key`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Key file to read, or to create (mode 0600) if it does not exist.
    #[arg(long)]
    pub key_file: PathBuf,
}

/// Settings of `kettle genesis`.
#[derive(Debug, Args)]
pub struct GenesisArgs {
    /// The funded faucet account; default: the well-known dev kettle 0xB5fE…BB7F.
    #[arg(long, default_value_t = kettle_primitives::DEV_KETTLE_ADDRESS)]
    pub faucet: Address,
}

/// Connection and signing settings of the client subcommands.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Kettle JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545", env = "KETTLE_RPC")]
    pub rpc: String,
    /// Signing key (hex secp256k1 private key); default: the funded dev user 0xBE69…8De0.
    #[arg(
        long,
        visible_alias = "private-key",
        env = "KETTLE_KEY",
        hide_env_values = true
    )]
    pub key: Option<String>,
    /// File holding the signing key as hex (takes precedence over `--key`).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
}

impl ClientArgs {
    /// The signing key: `--key-file`, else `--key`/`--private-key`, else the dev user's.
    pub fn signing_key(&self) -> eyre::Result<String> {
        use eyre::WrapErr;
        if let Some(path) = &self.key_file {
            kettle_node::keys::check_private_file(path)?;
            let text = std::fs::read_to_string(path)
                .wrap_err_with(|| format!("reading the key file {}", path.display()))?;
            return Ok(text.trim().to_owned());
        }
        Ok(self.key.clone().unwrap_or_else(|| DEV_USER_KEY.to_owned()))
    }
}

/// The dev chain's funded user key (published by suave-geth).
const DEV_USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";

/// Settings of `kettle deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Contract name (`contracts/out/<Name>.json` under `$KETTLE_ROOT` or here, or Foundry's
    /// `out/<Name>.sol/<Name>.json`) or path to a solc JSON artifact.
    pub contract: String,
}

/// Settings of `kettle request`.
///
/// `kettle request <address> <function> [args…]`; the older flag form
/// `--to <address> --sig <function>` / `--calldata <hex>` still works.
#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Address of the deployed SUAPP.
    #[arg(value_name = "ADDRESS", required_unless_present = "to")]
    pub address: Option<Address>,
    /// Function to run: a signature such as `greet(string,uint256)`, or with `--contract` a
    /// function name.
    #[arg(value_name = "FUNCTION")]
    pub function: Option<String>,
    /// Its arguments, parsed as the signature's types (e.g. `42`, `0xab…`, `hello`, `[1,2]`).
    #[arg(value_name = "ARGS", allow_negative_numbers = true)]
    pub args: Vec<String>,
    /// Contract name or artifact path: its ABI resolves function names and decodes events and
    /// errors. Default: the artifact whose runtime code is deployed at the address, if found.
    #[arg(long)]
    pub contract: Option<String>,
    /// Address of the deployed SUAPP (flag form of ADDRESS).
    #[arg(long, conflicts_with = "address")]
    pub to: Option<Address>,
    /// Function to run (flag form of FUNCTION).
    #[arg(long, conflicts_with_all = ["calldata", "function"])]
    pub sig: Option<String>,
    /// Full calldata (hex) instead of a function and arguments.
    #[arg(long, conflicts_with = "function")]
    pub calldata: Option<alloy_primitives::Bytes>,
    /// Confidential inputs: `@file` (its bytes), `0x…` (hex), or text.
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
    /// Seal at most one block per this many milliseconds (0: as soon as transactions wait;
    /// under concurrent load, at most one per `chain.busy_block_gap_ms`, 20 by default).
    #[arg(long, default_value_t = 0)]
    pub block_period_ms: u64,
    /// Use (or create) this key file instead of the well-known dev kettle key.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// A geth-format genesis file instead of the dev chain with this kettle as faucet (every
    /// kettle of a cluster needs the same one; `kettle genesis` prints the dev chain's).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Join a kettle cluster: the libp2p listen address, e.g. `/ip4/127.0.0.1/tcp/30333`.
    #[arg(long, value_parser = parse_multiaddr)]
    pub p2p_addr: Option<String>,
    /// Another kettle's libp2p address, dialled at start (repeatable).
    #[arg(long = "bootnode", value_parser = parse_multiaddr, requires = "p2p_addr")]
    pub bootnodes: Vec<String>,
    /// Kettle addresses of the cluster, comma-separated; messages from other kettles are
    /// dropped and store records are only replicated to these.
    #[arg(long, value_delimiter = ',', requires = "p2p_addr")]
    pub cluster: Vec<Address>,
    /// The kettle that seals blocks; default: this kettle.
    #[arg(long, requires = "p2p_addr")]
    pub producer: Option<Address>,
    /// Ethereum JSON-RPC node the builder precompiles build blocks against and `ethcall`
    /// calls (`http.eth_backend`), e.g. a local `hardhat node`.
    #[arg(long)]
    pub eth_backend: Option<String>,
    /// Hex secp256k1 key of a fixed builder coinbase (`builder.coinbase_key`); default: a
    /// fresh key per built block.
    #[arg(long, requires = "eth_backend")]
    pub builder_coinbase_key: Option<String>,
    /// Skip the EIP-4788/2935 system calls when building (`builder.skip_system_calls`), for
    /// development L1s that do not run them (hardhat).
    #[arg(long, requires = "eth_backend")]
    pub builder_skip_system_calls: bool,
    /// Start from this configuration file (limits, `[http]`, `[store]`, `[pool]`, …) instead
    /// of the defaults; the dev preset and these flags (with their defaults) apply on top.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Accepts text shaped like a multiaddr (`/ip4/…/tcp/…`); the node parses it fully.
fn parse_multiaddr(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() > 1 && s.starts_with('/') && !s.contains(char::is_whitespace) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is not a multiaddr (expected e.g. /ip4/127.0.0.1/tcp/30333)"
        ))
    }
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
        Command::Version
        | Command::Deploy(_)
        | Command::Request(_)
        | Command::Key(_)
        | Command::Genesis(_)
        | Command::Forge(_) => None,
        Command::Dev(args) => {
            let base = match &args.config {
                Some(path) => NodeConfig::from_file(path)?,
                None => NodeConfig::default(),
            };
            let mut cfg = base.into_dev(args.datadir.clone(), args.http_addr);
            cfg.metrics.addr = Some(args.metrics_addr);
            cfg.chain.block_period_ms = args.block_period_ms;
            if let Some(path) = &args.key_file {
                cfg.dev_keys = false;
                cfg.key_file = Some(path.clone());
            }
            if args.genesis.is_some() {
                cfg.chain.genesis = args.genesis.clone();
            }
            if args.eth_backend.is_some() {
                cfg.http.eth_backend = args.eth_backend.clone();
            }
            if let Some(key) = &args.builder_coinbase_key {
                cfg.builder.coinbase_key =
                    Some(suave_precompiles_network::config::SecretHex(key.clone()));
            }
            cfg.builder.skip_system_calls |= args.builder_skip_system_calls;
            if let Some(listen) = &args.p2p_addr {
                // The file's gossip limits stay; the membership comes from the flags.
                cfg.gossip = Some(GossipSection {
                    listen: listen.clone(),
                    bootstrap: args.bootnodes.clone(),
                    cluster: args.cluster.clone(),
                    producer: args.producer,
                    ..cfg.gossip.take().unwrap_or_default()
                });
            }
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

/// The lines of `kettle version`: [`VERSION_LINE`], and when the binary runs as
/// `suave-geth` (Foundry's name for it), lines in suave-geth's shape after it.
pub fn version_lines(as_suave_geth: bool) -> Vec<String> {
    let mut lines = vec![VERSION_LINE.to_owned()];
    if as_suave_geth {
        lines.extend([
            "Suave-Geth".to_owned(),
            format!("Version: {}-kettle", env!("CARGO_PKG_VERSION")),
            format!("Git Commit: {}", env!("KETTLE_GIT_SHA")),
            format!("Architecture: {}", std::env::consts::ARCH),
        ]);
    }
    lines
}

/// Executes the parsed command; the exit code tells scripts whether it did what was asked.
/// `as_suave_geth`: the binary was invoked under the name `suave-geth`.
pub fn run(cli: Cli, config: Option<NodeConfig>, as_suave_geth: bool) -> eyre::Result<ExitCode> {
    match (cli.command, config) {
        (Command::Version, _) => {
            for line in version_lines(as_suave_geth) {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        (Command::Forge(args), _) => Ok(crate::forge::run(args)),
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
        (Command::Key(args), None) => {
            let keys = kettle_node::KettleKeys::load_or_create(&args.key_file)?;
            println!("{}", keys.address());
            Ok(ExitCode::SUCCESS)
        }
        (Command::Genesis(args), None) => {
            let spec = kettle_chain::ChainSpec::dev(args.faucet);
            println!("{}", serde_json::to_string_pretty(&spec.genesis)?);
            Ok(ExitCode::SUCCESS)
        }
        (Command::Deploy(args), None) => client_runtime()?.block_on(async move {
            let artifact = crate::client::Artifact::load(&args.contract)?;
            if artifact.bytecode.is_empty() {
                eyre::bail!("{} has no creation bytecode", artifact.path.display());
            }
            let key = args.client.signing_key()?;
            let client = crate::client::Client::connect(&args.client.rpc, &key).await?;
            let address = client.deploy(&artifact).await?;
            println!("{address}");
            Ok(ExitCode::SUCCESS)
        }),
        (Command::Request(args), None) => client_runtime()?.block_on(request(args)),
        (_, None) => Ok(ExitCode::FAILURE),
    }
}

/// `kettle request`: build the calldata, send the `0x43`, print the `0x50` and its events.
async fn request(args: RequestArgs) -> eyre::Result<ExitCode> {
    use crate::client::{encode_call, parse_inputs, Artifact, Client, RequestParams};
    let to = args
        .address
        .or(args.to)
        .ok_or_else(|| eyre::eyre!("give the SUAPP address"))?;
    let artifact = args.contract.as_deref().map(Artifact::load).transpose()?;
    let key = args.client.signing_key()?;
    let client = Client::connect(&args.client.rpc, &key).await?;
    // Without --contract, recognise the deployed code among the known artifacts.
    let artifact = match artifact {
        Some(a) => Some(a),
        None => Artifact::find_by_code(&client.code(to).await?),
    };
    let abi = artifact.as_ref().map(|a| &a.abi);
    let calldata = match (args.function.as_ref().or(args.sig.as_ref()), &args.calldata) {
        (Some(function), _) => encode_call(function, &args.args, abi)?,
        (None, Some(data)) => data.clone(),
        (None, None) => eyre::bail!("give the function to call (or --calldata)"),
    };
    let inputs = match (&args.inputs, &args.inputs_hex) {
        (Some(arg), _) => parse_inputs(arg)?,
        (None, Some(hex)) => hex.clone(),
        (None, None) => alloy_primitives::Bytes::new(),
    };
    let params = RequestParams {
        calldata,
        inputs,
        kettle: args.kettle,
        gas: args.gas,
    };
    let outcome = client.request(to, params, abi).await?;
    let status = outcome.receipt["status"].as_str().unwrap_or("?").to_owned();
    println!("request {} (0x43)", outcome.request_hash);
    println!(
        "0x50 transaction {} in block {} (status {status})",
        outcome.hash,
        outcome.receipt["blockNumber"].as_str().unwrap_or("?")
    );
    for line in Artifact::describe_logs(abi, &outcome.receipt) {
        println!("  {line}");
    }
    if status != "0x1" {
        eprintln!(
            "the 0x50 callback {} reverted on chain (see {})",
            outcome.hash,
            client.url()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
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
        assert!(cfg.key_file.is_none() && cfg.chain.genesis.is_none());
        assert!(cfg.gossip.is_none(), "no cluster without --p2p-addr");
    }

    fn dev_config(args: &[&str]) -> NodeConfig {
        let cli = Cli::try_parse_from(["kettle", "dev"].iter().chain(args))
            .unwrap_or_else(|e| panic!("parse {args:?}: {e}"));
        node_config(&cli.command).expect("config").expect("a node")
    }

    #[test]
    fn dev_key_file_and_genesis() {
        let cfg = dev_config(&["--key-file", "/tmp/k.json", "--genesis", "/tmp/g.json"]);
        assert!(!cfg.dev_keys, "a key file replaces the dev key");
        assert_eq!(cfg.key_file(), PathBuf::from("/tmp/k.json"));
        assert_eq!(cfg.chain.genesis, Some(PathBuf::from("/tmp/g.json")));
        assert!(cfg.gossip.is_none());
    }

    #[test]
    fn dev_cluster_flags_fill_the_gossip_section() {
        let a = "0x1111111111111111111111111111111111111111";
        let b = "0x2222222222222222222222222222222222222222";
        let cluster = format!("{a},{b}");
        let cfg = dev_config(&[
            "--p2p-addr",
            "/ip4/127.0.0.1/tcp/30333",
            "--bootnode",
            "/ip4/127.0.0.1/tcp/30334",
            "--bootnode",
            "/ip4/127.0.0.1/tcp/30335",
            "--cluster",
            &cluster,
            "--producer",
            a,
        ]);
        let gossip = cfg.gossip.expect("gossip section");
        assert_eq!(gossip.listen, "/ip4/127.0.0.1/tcp/30333");
        assert_eq!(
            gossip.bootstrap,
            ["/ip4/127.0.0.1/tcp/30334", "/ip4/127.0.0.1/tcp/30335"]
        );
        let (a, b): (Address, Address) = (a.parse().expect("a"), b.parse().expect("b"));
        assert_eq!(gossip.cluster, [a, b]);
        assert_eq!(gossip.producer, Some(a));
        assert_eq!(
            gossip.max_message_bytes,
            GossipSection::default().max_message_bytes
        );
        assert!(cfg.dev_keys, "the cluster flags alone keep the dev key");

        let cfg = dev_config(&["--p2p-addr", "/ip4/127.0.0.1/tcp/1"]);
        let gossip = cfg.gossip.expect("gossip section");
        assert!(gossip.bootstrap.is_empty() && gossip.cluster.is_empty());
        assert_eq!(gossip.producer, None);
    }

    #[test]
    fn dev_cluster_flags_require_p2p_addr() {
        for args in [
            &["--bootnode", "/ip4/127.0.0.1/tcp/1"][..],
            &["--cluster", "0x1111111111111111111111111111111111111111"],
            &["--producer", "0x1111111111111111111111111111111111111111"],
        ] {
            let err = Cli::try_parse_from(["kettle", "dev"].iter().chain(args))
                .expect_err("needs --p2p-addr");
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::MissingRequiredArgument,
                "{args:?}: {err}"
            );
        }
    }

    #[test]
    fn dev_rejects_bad_cluster_values() {
        for args in [
            &["--p2p-addr", "127.0.0.1:30333"][..],
            &[
                "--p2p-addr",
                "/ip4/127.0.0.1/tcp/1",
                "--bootnode",
                "localhost",
            ],
            &[
                "--p2p-addr",
                "/ip4/127.0.0.1/tcp/1",
                "--cluster",
                "0x12,0x34",
            ],
            &[
                "--p2p-addr",
                "/ip4/127.0.0.1/tcp/1",
                "--producer",
                "kettle-a",
            ],
        ] {
            assert!(
                Cli::try_parse_from(["kettle", "dev"].iter().chain(args)).is_err(),
                "{args:?} must be refused"
            );
        }
    }

    #[test]
    fn key_and_genesis_parse_and_start_no_node() {
        let cli = Cli::try_parse_from(["kettle", "key", "--key-file", "k.json"]).expect("parse");
        assert!(
            matches!(&cli.command, Command::Key(a) if a.key_file == std::path::Path::new("k.json"))
        );
        assert!(node_config(&cli.command).expect("ok").is_none());
        assert!(
            Cli::try_parse_from(["kettle", "key"]).is_err(),
            "--key-file is required"
        );

        let cli = Cli::try_parse_from(["kettle", "genesis"]).expect("parse");
        assert!(
            matches!(&cli.command, Command::Genesis(a) if a.faucet == kettle_primitives::DEV_KETTLE_ADDRESS)
        );
        assert!(node_config(&cli.command).expect("ok").is_none());
        let faucet = "0x1111111111111111111111111111111111111111";
        let cli = Cli::try_parse_from(["kettle", "genesis", "--faucet", faucet]).expect("parse");
        assert!(
            matches!(&cli.command, Command::Genesis(a) if a.faucet == faucet.parse::<Address>().expect("address"))
        );
    }

    #[test]
    fn request_parses_in_positional_and_flag_forms() {
        let addr = "0x1111111111111111111111111111111111111111";
        let cli = Cli::try_parse_from([
            "kettle",
            "request",
            addr,
            "f(int256,string)",
            "-5",
            "hi",
            "--inputs",
            "@in.bin",
        ])
        .expect("positional form");
        let Command::Request(args) = cli.command else {
            panic!("a request")
        };
        assert_eq!(args.address, Some(addr.parse().expect("address")));
        assert_eq!(args.function.as_deref(), Some("f(int256,string)"));
        assert_eq!(args.args, ["-5", "hi"]);
        assert_eq!(args.inputs.as_deref(), Some("@in.bin"));

        let cli = Cli::try_parse_from([
            "kettle",
            "request",
            "--contract",
            "Hello",
            "--to",
            addr,
            "--sig",
            "hello()",
            "--inputs",
            "Ada",
            "--private-key",
            "0x01",
        ])
        .expect("flag form");
        let Command::Request(args) = cli.command else {
            panic!("a request")
        };
        assert_eq!(args.to, Some(addr.parse().expect("address")));
        assert_eq!(args.sig.as_deref(), Some("hello()"));
        assert_eq!(args.contract.as_deref(), Some("Hello"));
        assert_eq!(args.client.key.as_deref(), Some("0x01"));

        assert!(
            Cli::try_parse_from(["kettle", "request"]).is_err(),
            "no address"
        );
        assert!(
            Cli::try_parse_from(["kettle", "request", addr, "f()", "--sig", "g()"]).is_err(),
            "two functions"
        );
    }

    #[test]
    fn signing_key_sources() {
        let args = |extra: &[&str]| {
            let cli =
                Cli::try_parse_from(["kettle", "deploy", "X"].iter().chain(extra)).expect("parse");
            match cli.command {
                Command::Deploy(a) => a.client,
                _ => panic!("deploy"),
            }
        };
        if std::env::var_os("KETTLE_KEY").is_none() {
            assert_eq!(args(&[]).signing_key().expect("default"), DEV_USER_KEY);
        }
        assert_eq!(args(&["--key", "ab"]).signing_key().expect("flag"), "ab");
        let file = std::env::temp_dir().join(format!("kettle-key-{}", std::process::id()));
        std::fs::write(&file, "0xcd\n").expect("write");
        let path = file.to_str().expect("utf-8");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // A key file others can read is refused, naming the fix.
            let err = args(&["--key-file", path]).signing_key().unwrap_err();
            assert!(format!("{err:#}").contains("chmod 600"), "{err:#}");
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        assert_eq!(
            args(&["--key", "ab", "--key-file", path])
                .signing_key()
                .expect("file"),
            "0xcd"
        );
        let _ = std::fs::remove_file(&file);
        assert!(args(&["--key-file", path]).signing_key().is_err());
    }

    #[test]
    fn forge_parses_like_suave_geth() {
        let cli = Cli::try_parse_from([
            "suave-geth",
            "forge",
            "--local",
            "--config",
            "/p/foundry.toml",
            "0x0000000000000000000000000000000042010000",
            "0x",
        ])
        .expect("forge call");
        let Command::Forge(args) = cli.command else {
            panic!("forge")
        };
        assert!(args.local);
        assert_eq!(args.data.as_deref(), Some("0x"));
        assert!(node_config(&Command::Forge(args)).expect("ok").is_none());
        let cli = Cli::try_parse_from(["kettle", "forge", "status"]).expect("status");
        assert!(matches!(cli.command, Command::Forge(a) if a.target == "status"));
        let cli = Cli::try_parse_from([
            "kettle",
            "forge",
            "--whitelist",
            "a,b",
            "--service-alias",
            "x=http://y",
            "randomBytes",
        ])
        .expect("flags");
        let Command::Forge(args) = cli.command else {
            panic!("forge")
        };
        assert_eq!(args.whitelist, Some(vec!["a".into(), "b".into()]));
        assert_eq!(args.service_alias, [("x".into(), "http://y".into())]);
        assert!(Cli::try_parse_from(["kettle", "forge", "--service-alias", "x", "t"]).is_err());
    }

    #[test]
    fn version_lines_as_suave_geth() {
        assert_eq!(version_lines(false), [VERSION_LINE]);
        let lines = version_lines(true);
        assert_eq!(lines[0], VERSION_LINE);
        assert_eq!(lines[1], "Suave-Geth");
        assert!(lines[2].starts_with("Version: "));
    }

    #[test]
    fn printed_genesis_reads_back_as_the_same_chain() {
        let spec = kettle_chain::ChainSpec::dev(kettle_primitives::DEV_KETTLE_ADDRESS);
        let text = serde_json::to_string_pretty(&spec.genesis).expect("JSON");
        let back = kettle_chain::ChainSpec::from_genesis_json(&text).expect("valid genesis");
        assert_eq!(back.genesis, spec.genesis);
        assert_eq!(back.chain_id(), kettle_primitives::SUAVE_DEV_CHAIN_ID);
    }
}
