//! `kettle forge`: the command suave-std's Foundry tests run through FFI as `suave-geth forge`
//! (SUAVE-COMPAT §10).
//!
//! - `forge --local --config <foundry.toml> <addr|name> [<hexdata>]` runs one SUAVE precompile
//!   in this process with the MEVM's own implementations ([`suave_precompiles::run_precompile`]
//!   and the network precompiles of `suave-precompiles-network`): no confidential store, empty
//!   context, a random kettle address and bundle-signing key.
//! - Without `--local` the call is a confidential `eth_call` to the kettle at `--rpc`
//!   (default `http://localhost:8545`, gas 1,000,000, gas price 1).
//! - `forge status` prints nothing if the kettle answers `eth_chainId`, else `not-ok: <err>`.
//! - `forge reset-conf-store` is not supported (kettle has no `suavey_resetConfStore`).
//!
//! Success: exit 0 and the output as lower-case hex without `0x` plus a newline on stdout.
//! Failure: exit 1 and the error text plus a newline on stderr; for a failing precompile that
//! is its raw message (unlike suave-geth, `%` sequences in it are not mangled by a Go
//! format call).

use std::{path::PathBuf, process::ExitCode, time::Duration};

use alloy_primitives::{hex, Address, Bytes};
use clap::Args;
use jsonrpsee::{core::client::ClientT, http_client::HttpClientBuilder, rpc_params};
use kettle_primitives::ConfidentialComputeRequest;
use suave_precompiles::{addresses, store::memory::MemoryStore, KettleContext};
use suave_precompiles_network::{Network, NetworkConfig};

/// Default kettle of the non-local mode and of `forge status`, as suave-geth's forge.
pub const DEFAULT_FORGE_RPC: &str = "http://localhost:8545";
/// Gas of the confidential `eth_call` of the non-local mode.
const REMOTE_GAS: u64 = 1_000_000;

/// Settings of `kettle forge` (suave-geth's `forge` command).
#[derive(Debug, Args)]
pub struct ForgeArgs {
    /// Run the precompile in this process instead of a confidential `eth_call` to `--rpc`.
    #[arg(long)]
    pub local: bool,
    /// Foundry configuration (`foundry.toml`); its `[profile.suave]` table sets `whitelist`,
    /// `service_alias` and `eth_backend` of the network precompiles (other keys ignored).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Hosts SUAPP HTTP requests may reach (comma-separated or repeated); replaces the
    /// config's `whitelist`.
    #[arg(long, value_delimiter = ',')]
    pub whitelist: Option<Vec<String>>,
    /// A service alias `name=url` (repeatable); replaces the config's `service_alias`.
    #[arg(long = "service-alias", value_parser = parse_alias)]
    pub service_alias: Vec<(String, String)>,
    /// Ethereum JSON-RPC node of `ethcall` and the builder precompiles; replaces the
    /// config's `eth_backend`.
    #[arg(long)]
    pub eth_backend: Option<String>,
    /// Kettle JSON-RPC URL of the non-local mode and of `status`.
    #[arg(long, default_value = DEFAULT_FORGE_RPC)]
    pub rpc: String,
    /// `status`, `reset-conf-store`, or the precompile to run: its address (`0x` + 40 hex
    /// digits) or its Suave.sol name (e.g. `doHTTPRequest`).
    pub target: String,
    /// The precompile's input (ABI-encoded arguments, no selector) as hex; default empty.
    pub data: Option<String>,
}

fn parse_alias(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, url)) if !name.trim().is_empty() && !url.trim().is_empty() => {
            Ok((name.trim().to_owned(), url.trim().to_owned()))
        }
        _ => Err(format!("`{s}` is not name=url")),
    }
}

/// Runs `kettle forge`; errors are already printed (stderr) and mapped to exit code 1.
pub fn run(args: ForgeArgs) -> ExitCode {
    match args.target.as_str() {
        "status" => {
            if let Err(err) = status(&args.rpc) {
                println!("not-ok: {err}");
            }
            ExitCode::SUCCESS
        }
        "reset-conf-store" => fail(
            "reset-conf-store is not supported: kettle has no suavey_resetConfStore RPC \
             (restart the dev kettle with a fresh --datadir instead)",
        ),
        _ => match call(&args) {
            Ok(out) => {
                println!("{}", hex::encode(&out));
                ExitCode::SUCCESS
            }
            Err(msg) => fail(&msg),
        },
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::FAILURE
}

fn call(args: &ForgeArgs) -> Result<Bytes, String> {
    let address = parse_target(&args.target)?;
    let input = parse_hex(args.data.as_deref().unwrap_or("0x"))?;
    if args.local {
        run_local(args, address, &input)
    } else {
        run_remote(&args.rpc, address, input)
    }
}

/// The precompile named by `target`: an address, or a Suave.sol name.
pub fn parse_target(target: &str) -> Result<Address, String> {
    if target.starts_with("0x") || target.starts_with("0X") {
        return target
            .parse()
            .map_err(|e| format!("invalid precompile address `{target}`: {e}"));
    }
    addresses::ALL
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(target))
        .map(|(_, a)| *a)
        .ok_or_else(|| format!("unknown precompile `{target}`"))
}

/// Hex input, `0x` optional.
pub fn parse_hex(data: &str) -> Result<Vec<u8>, String> {
    let digits = data.trim();
    hex::decode(digits).map_err(|e| format!("invalid hex data `{digits}`: {e}"))
}

/// The `[profile.suave]` table of a Foundry config (defaults when absent), then the flags.
pub fn network_config(args: &ForgeArgs) -> Result<NetworkConfig, String> {
    let mut cfg = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            profile_suave(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => NetworkConfig::default(),
    };
    if let Some(hosts) = &args.whitelist {
        cfg.allowed_hosts = hosts.clone();
    }
    if !args.service_alias.is_empty() {
        cfg.service_aliases = args.service_alias.iter().cloned().collect();
    }
    if let Some(url) = &args.eth_backend {
        cfg.eth_backend = Some(url.clone());
    }
    Ok(cfg)
}

/// Reads `[profile.suave]` of a `foundry.toml` text.
fn profile_suave(text: &str) -> Result<NetworkConfig, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| format!("invalid TOML: {e}"))?;
    match table.get("profile").and_then(|p| p.get("suave")) {
        Some(section) => section
            .clone()
            .try_into()
            .map_err(|e| format!("[profile.suave]: {e}")),
        None => Ok(NetworkConfig::default()),
    }
}

/// Precompiles that only work on a kettle's confidential store; suave-std mocks them in
/// Solidity and never sends them through FFI.
const STORE_PRECOMPILES: [Address; 4] = [
    addresses::CONFIDENTIAL_STORE,
    addresses::CONFIDENTIAL_RETRIEVE,
    addresses::NEW_DATA_RECORD,
    addresses::FETCH_DATA_RECORDS,
];

fn run_local(args: &ForgeArgs, address: Address, input: &[u8]) -> Result<Bytes, String> {
    if STORE_PRECOMPILES.contains(&address) {
        return Err(format!(
            "{} needs a confidential store, which `forge --local` does not have",
            addresses::name_of(address).unwrap_or("this precompile")
        ));
    }
    let cfg = network_config(args)?;
    let mut network = Network::builder(cfg.clone());
    if let Some(url) = cfg.eth_backend.as_deref().filter(|u| !u.trim().is_empty()) {
        network = network.execution_backend(execution_backend(url)?);
    }
    let network = network.build().map_err(|e| e.to_string())?;
    let mut seed = [0u8; 20];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let kettle = KettleContext::new(Address::from(seed), kettle_primitives::SUAVE_DEV_CHAIN_ID);
    suave_precompiles::run_precompile(
        address,
        input,
        &ConfidentialComputeRequest::default(),
        &kettle,
        &MemoryStore::new(),
        Some(&network),
    )
    .map_err(|e| e.0)
}

/// The builder precompiles' backend on `url`, with a random BLS builder key.
fn execution_backend(
    url: &str,
) -> Result<std::sync::Arc<dyn suave_precompiles_network::ExecutionBackend>, String> {
    use kettle_builder::{backend::BackendConfig, bid::BuilderKey, RpcBackend};
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let key = BuilderKey::from_seed(seed).map_err(|e| format!("BLS builder key: {e}"))?;
    let backend = RpcBackend::new(url, BackendConfig::default())
        .map_err(|e| format!("eth_backend {url}: {e}"))?
        .with_builder_key(key);
    Ok(std::sync::Arc::new(backend))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn client(url: &str) -> Result<jsonrpsee::http_client::HttpClient, String> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(60))
        .build(url)
        .map_err(|e| format!("invalid --rpc {url}: {e}"))
}

/// Confidential `eth_call` of the precompile on the kettle at `url`.
fn run_remote(url: &str, address: Address, input: Vec<u8>) -> Result<Bytes, String> {
    let rpc = client(url)?;
    let args = serde_json::json!({
        "to": address,
        "data": Bytes::from(input),
        "gas": format!("{REMOTE_GAS:#x}"),
        "gasPrice": "0x1",
        "isConfidential": true,
    });
    runtime()?.block_on(async move {
        rpc.request::<Bytes, _>("eth_call", rpc_params![args, "latest"])
            .await
            .map_err(|err| match crate::client::rpc_error(&err) {
                // A reverted precompile: its revert data is the raw message.
                Some((_, _, Some(data))) if !data.is_empty() => {
                    String::from_utf8_lossy(&data).into_owned()
                }
                Some((_, message, _)) => message,
                None => format!("{url}: {err}"),
            })
    })
}

/// `eth_chainId` on `url`.
fn status(url: &str) -> Result<(), String> {
    let rpc = client(url)?;
    runtime()?.block_on(async move {
        rpc.request::<serde_json::Value, _>("eth_chainId", rpc_params![])
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_by_address_or_name() {
        assert_eq!(
            parse_target("0x0000000000000000000000000000000042010000"),
            Ok(addresses::IS_CONFIDENTIAL)
        );
        assert_eq!(
            parse_target("buildEthBlock"),
            Ok(addresses::BUILD_ETH_BLOCK)
        );
        assert!(parse_target("frobnicate").unwrap_err().contains("unknown"));
        assert!(parse_target("0x12").is_err());
    }

    #[test]
    fn hex_input() {
        assert_eq!(parse_hex("0x"), Ok(vec![]));
        assert_eq!(parse_hex("0x0aFF"), Ok(vec![10, 255]));
        assert_eq!(parse_hex("0aff"), Ok(vec![10, 255]));
        assert!(parse_hex("0xzz").unwrap_err().contains("invalid hex data"));
    }

    #[test]
    fn profile_suave_section() {
        let cfg = profile_suave(
            "[profile.default]\nsrc = \"src\"\n[profile.suave]\nwhitelist = [\"*\"]\n\
             service_alias = { goerli = \"http://127.0.0.1:1\" }\neth_backend = \"http://x\"\n\
             unknown = 3\n",
        )
        .expect("valid");
        assert_eq!(cfg.allowed_hosts, ["*"]);
        assert_eq!(cfg.service_aliases["goerli"], "http://127.0.0.1:1");
        assert_eq!(cfg.eth_backend.as_deref(), Some("http://x"));
        assert_eq!(
            profile_suave("[profile.default]\n").expect("valid"),
            NetworkConfig::default()
        );
        assert!(profile_suave("[profile").is_err());
    }
}
