//! The operator's configuration file (`kettle run --config kettle.toml`) and the dev preset.
//!
//! Every key has a default; unknown keys are an error so a typo never silently falls back to
//! a default. See `kettle/node/kettle.example.toml` for a documented example.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use suave_precompiles::StoreLimits;
use suave_precompiles_network::NetworkConfig;

use crate::NodeError;

/// Default of `rpc.mevm_timeout_ms`: the default `rpc.call_timeout_ms`, so no run outlives
/// the call that waits for it.
pub const DEFAULT_MEVM_TIMEOUT_MS: u64 = 30_000;

/// Everything a kettle needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Data directory: the embedded RocksDB (chain and confidential store) lives here.
    pub datadir: PathBuf,
    /// Key file (created on first start, mode 0600); default `<datadir>/kettle-key.json`.
    pub key_file: Option<PathBuf>,
    /// Log filter in `tracing` syntax (`info`, `kettle_node=debug,info`).
    pub log: String,
    /// The SUAVE chain.
    pub chain: ChainSection,
    /// The JSON-RPC server.
    pub rpc: RpcSection,
    /// What SUAPPs may reach over HTTP (allow-list, aliases) and the Ethereum backend.
    pub http: NetworkConfig,
    /// Limits of the confidential store per request.
    pub store: StoreSection,
    /// Limits of the mempool.
    pub pool: PoolSection,
    /// Prometheus metrics and health endpoint.
    pub metrics: MetricsSection,
    /// The kettle cluster (libp2p gossip); absent: a standalone kettle that seals its own
    /// blocks.
    pub gossip: Option<GossipSection>,
    /// Block building on the Ethereum node of `http.eth_backend`.
    pub builder: BuilderSection,
    /// Use the well-known dev kettle key instead of the key file (only `kettle dev`).
    #[serde(skip)]
    pub dev_keys: bool,
}

/// `[chain]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSection {
    /// A geth-format genesis JSON file; absent: the dev chain (chain id 16813125) with this
    /// kettle as the funded faucet.
    pub genesis: Option<PathBuf>,
    /// Block production: 0 seals a block as soon as transactions are pending (suave-geth
    /// dev's Clique period 0); otherwise at most one block every this many milliseconds.
    pub block_period_ms: u64,
    /// With `block_period_ms = 0`, under concurrent load: when more than one transaction is
    /// waiting as the previous block is done, the next block starts this many milliseconds
    /// after the previous one started, not at once. Each block then carries the
    /// transactions of this gap instead of those of one block's production time, which
    /// spreads a block's fixed costs (state root, header, WAL sync) over more of them. A lone
    /// waiting transaction (one client sending, then waiting for its receipt) is sealed at
    /// once. 0: blocks back to back.
    pub busy_block_gap_ms: u64,
    /// Whether a confidential request that writes nothing to the confidential store is
    /// acknowledged only once its `0x50` is synced to disk. Off: once it is written (it
    /// survives a crash of the kettle at once, and power loss once a background sync, every
    /// 100 ms, or the next block has run). Requests with store writes are always synced first.
    pub sync_public_requests: bool,
}

/// Default of [`ChainSection::busy_block_gap_ms`]: at most 50 blocks a second under load.
pub const DEFAULT_BUSY_BLOCK_GAP_MS: u64 = 20;

impl Default for ChainSection {
    fn default() -> Self {
        Self {
            genesis: None,
            block_period_ms: 0,
            busy_block_gap_ms: DEFAULT_BUSY_BLOCK_GAP_MS,
            sync_public_requests: false,
        }
    }
}

/// `[rpc]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcSection {
    /// Listen address of JSON-RPC over HTTP and WebSocket.
    pub addr: SocketAddr,
    /// Largest request body (HTTP) or message (WebSocket) in bytes; larger HTTP bodies get
    /// status 413.
    pub max_request_bytes: u32,
    /// Largest response in bytes; a larger one is replaced by an error (-32008).
    pub max_response_bytes: u32,
    /// Most calls per batch (0 disables batches); a larger batch gets one error (-32010).
    pub max_batch: u32,
    /// Most simultaneous connections; further ones are refused.
    pub max_connections: u32,
    /// Time limit of one call (or batch), in milliseconds; then `request timed out` (-32002).
    pub call_timeout_ms: u64,
    /// Most gas of one confidential request (`0x43`; larger ones are refused before they
    /// run); `eth_call` / `eth_estimateGas` gas is cut to it (geth's `--rpc.gascap`).
    pub max_request_gas: u64,
    /// Wall-clock limit of one MEVM run (a confidential request, or one run of a
    /// confidential `eth_call` / `eth_estimateGas`), in milliseconds: a run still executing
    /// is stopped with `execution time limit reached`.
    pub mevm_timeout_ms: u64,
    /// Origins allowed by CORS (`["*"]` for any); absent: no CORS headers.
    pub cors: Option<Vec<String>>,
    /// Most blocks one `eth_getLogs` may scan.
    pub max_logs_block_range: u64,
}

/// `[store]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSection {
    /// Largest value a SUAPP may store, in bytes.
    pub max_value_bytes: usize,
    /// Most records one request may create.
    pub max_records_per_request: usize,
    /// Most values one request may write.
    pub max_writes_per_request: usize,
}

/// `[pool]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolSection {
    /// Most pending transactions.
    pub max_transactions: usize,
    /// Most pending transactions per sender.
    pub max_per_sender: usize,
    /// Largest accepted transaction, in encoded bytes.
    pub max_tx_bytes: usize,
}

/// `[metrics]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// Where to serve `GET /metrics` (Prometheus) and `GET /health`; absent: not served.
    pub addr: Option<SocketAddr>,
}

/// `[builder]`: block building against the Ethereum JSON-RPC node `http.eth_backend` (the
/// builder precompiles are served only when that is set).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuilderSection {
    /// Hex secp256k1 key of a fixed builder coinbase; absent: a fresh key per block, as
    /// suave-geth does.
    pub coinbase_key: Option<suave_precompiles_network::config::SecretHex>,
    /// Skip the EIP-4788/2935/7002/7251 system calls: only for development nodes that do not
    /// run them (hardhat), whose state roots otherwise differ.
    pub skip_system_calls: bool,
    /// Deadline of `simulateBundle` in milliseconds (suave-geth: 1000).
    pub simulate_timeout_ms: u64,
    /// Deadline of one block build in milliseconds.
    pub build_timeout_ms: u64,
}

impl Default for BuilderSection {
    fn default() -> Self {
        Self {
            coinbase_key: None,
            skip_system_calls: false,
            simulate_timeout_ms: 1_000,
            build_timeout_ms: 10_000,
        }
    }
}

/// `[gossip]`: membership of a kettle cluster.
///
/// Every kettle of a cluster needs the same genesis (`chain.genesis`), the same `cluster`
/// list and the same `producer`. The producer seals blocks; the others import them after
/// re-executing them, and forward their transactions to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GossipSection {
    /// libp2p listen address, e.g. `/ip4/0.0.0.0/tcp/30333`.
    pub listen: String,
    /// Other kettles' libp2p addresses (`/ip4/10.0.0.2/tcp/30333`, optionally ending in
    /// `/p2p/<peer id>`), dialled at start and redialled while disconnected.
    pub bootstrap: Vec<String>,
    /// Kettle addresses of the cluster (this kettle may be listed or not). Messages signed
    /// by any other key are dropped; store records are only replicated to these kettles.
    pub cluster: Vec<alloy_primitives::Address>,
    /// The kettle that seals blocks; absent: this kettle.
    pub producer: Option<alloy_primitives::Address>,
    /// Largest gossip message in bytes (256 B to 64 MiB); larger ones are dropped and
    /// counted (`kettle_gossip_dropped_total{reason="oversized"}`).
    pub max_message_bytes: usize,
    /// Sustained inbound messages per second accepted from one peer (0: no limit); over-rate
    /// messages are dropped and counted (`reason="rate_limited"`).
    pub max_messages_per_sec: u32,
    /// Messages one peer may send at once above `max_messages_per_sec`.
    pub message_burst: u32,
}

impl Default for GossipSection {
    fn default() -> Self {
        Self {
            listen: "/ip4/127.0.0.1/tcp/30333".into(),
            bootstrap: Vec::new(),
            cluster: Vec::new(),
            producer: None,
            max_message_bytes: 4 * 1024 * 1024,
            max_messages_per_sec: kettle_gossip::RateLimit::default().per_second,
            message_burst: kettle_gossip::RateLimit::default().burst,
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            datadir: PathBuf::from("data"),
            key_file: None,
            log: "info".into(),
            chain: ChainSection::default(),
            rpc: RpcSection::default(),
            http: NetworkConfig::default(),
            store: StoreSection::default(),
            pool: PoolSection::default(),
            metrics: MetricsSection::default(),
            gossip: None,
            builder: BuilderSection::default(),
            dev_keys: false,
        }
    }
}

impl Default for RpcSection {
    fn default() -> Self {
        let d = kettle_rpc::RpcConfig::default();
        Self {
            addr: d.listen_addr,
            max_request_bytes: d.max_request_body_bytes,
            max_response_bytes: d.max_response_body_bytes,
            max_batch: d.max_batch_len,
            max_connections: d.max_connections,
            call_timeout_ms: u64::try_from(d.call_timeout.as_millis()).unwrap_or(u64::MAX),
            max_request_gas: d.max_request_gas,
            mevm_timeout_ms: DEFAULT_MEVM_TIMEOUT_MS,
            cors: d.cors_origins,
            max_logs_block_range: d.max_logs_block_range,
        }
    }
}

impl Default for StoreSection {
    fn default() -> Self {
        let d = StoreLimits::default();
        Self {
            max_value_bytes: d.max_value_bytes,
            max_records_per_request: d.max_records_per_request,
            max_writes_per_request: d.max_writes_per_request,
        }
    }
}

impl Default for PoolSection {
    fn default() -> Self {
        let d = kettle_chain::PoolLimits::default();
        Self {
            max_transactions: d.max_transactions,
            max_per_sender: d.max_per_sender,
            max_tx_bytes: d.max_tx_bytes,
        }
    }
}

impl NodeConfig {
    /// Reads and validates a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, NodeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
        let cfg = Self::from_toml(&text)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
        // A file holding a key must be as private as the key file.
        if cfg.builder.coinbase_key.is_some() || cfg.http.bundle_signing_key.is_some() {
            crate::keys::check_private_file(path)?;
        }
        Ok(cfg)
    }

    /// Parses a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Self, NodeError> {
        let cfg: Self = toml::from_str(text).map_err(|e| NodeError::Config(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The `kettle dev` preset: the well-known dev kettle key, the dev chain, outgoing HTTP
    /// to any public host and to this machine (for local test servers), metrics on
    /// 127.0.0.1:9545.
    pub fn dev(datadir: PathBuf, rpc_addr: SocketAddr) -> Self {
        Self::default().into_dev(datadir, rpc_addr)
    }

    /// The `kettle dev --config` preset: this configuration (limits, `[http]`, `[store]`,
    /// `[pool]`, …) with the dev preset on top: the dev kettle key, `datadir` and `rpc.addr`
    /// as given, CORS for any origin unless `rpc.cors` is set, and `*`, `localhost`,
    /// `127.0.0.1` and `::1` added to `http.whitelist`.
    pub fn into_dev(mut self, datadir: PathBuf, rpc_addr: SocketAddr) -> Self {
        self.datadir = datadir;
        self.dev_keys = true;
        self.rpc.addr = rpc_addr;
        if self.rpc.cors.is_none() {
            self.rpc.cors = Some(vec!["*".into()]);
        }
        for host in ["*", "localhost", "127.0.0.1", "::1"] {
            if !self.http.allowed_hosts.iter().any(|h| h == host) {
                self.http.allowed_hosts.push(host.into());
            }
        }
        self
    }

    /// Checks values serde cannot.
    pub fn validate(&self) -> Result<(), NodeError> {
        if self.datadir.as_os_str().is_empty() {
            return Err(NodeError::Config("datadir is empty".into()));
        }
        if self.store.max_value_bytes == 0 {
            return Err(NodeError::Config(
                "store.max_value_bytes must be > 0".into(),
            ));
        }
        self.rpc_config()
            .validate()
            .map_err(|e| NodeError::Config(e.to_string()))?;
        if self.rpc.mevm_timeout_ms == 0 {
            return Err(NodeError::Config("rpc.mevm_timeout_ms must be > 0".into()));
        }
        if self.pool.max_transactions == 0
            || self.pool.max_per_sender == 0
            || self.pool.max_tx_bytes == 0
        {
            return Err(NodeError::Config(
                "pool.max_transactions, pool.max_per_sender and pool.max_tx_bytes must be > 0"
                    .into(),
            ));
        }
        if self.gossip.is_some() && self.chain.genesis.is_none() {
            // The dev genesis funds this kettle's own key, so two kettles never share it.
            return Err(NodeError::Config(
                "a cluster ([gossip]) needs chain.genesis: every member must start from the \
                 same genesis file (`kettle genesis` prints the dev chain's)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The key file path.
    pub fn key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.datadir.join("kettle-key.json"))
    }

    /// The store limits.
    pub fn store_limits(&self) -> StoreLimits {
        StoreLimits {
            max_value_bytes: self.store.max_value_bytes,
            max_records_per_request: self.store.max_records_per_request,
            max_writes_per_request: self.store.max_writes_per_request,
        }
    }

    /// The mempool limits.
    pub fn pool_limits(&self) -> kettle_chain::PoolLimits {
        kettle_chain::PoolLimits {
            max_transactions: self.pool.max_transactions,
            max_per_sender: self.pool.max_per_sender,
            max_tx_bytes: self.pool.max_tx_bytes,
        }
    }

    /// The JSON-RPC server configuration.
    pub fn rpc_config(&self) -> kettle_rpc::RpcConfig {
        kettle_rpc::RpcConfig {
            listen_addr: self.rpc.addr,
            max_request_body_bytes: self.rpc.max_request_bytes,
            max_response_body_bytes: self.rpc.max_response_bytes,
            max_batch_len: self.rpc.max_batch,
            max_connections: self.rpc.max_connections,
            call_timeout: Duration::from_millis(self.rpc.call_timeout_ms),
            cors_origins: self.rpc.cors.clone(),
            max_logs_block_range: self.rpc.max_logs_block_range,
            max_request_gas: self.rpc.max_request_gas,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let cfg =
            NodeConfig::from_toml(include_str!("../kettle.example.toml")).expect("example parses");
        assert_eq!(cfg.rpc.addr.to_string(), "127.0.0.1:8545");
        assert_eq!(cfg.http.allowed_hosts, vec!["api.example.com".to_string()]);
        assert_eq!(cfg.chain.block_period_ms, 0);
        assert_eq!(cfg.chain.busy_block_gap_ms, DEFAULT_BUSY_BLOCK_GAP_MS);
        assert!(!cfg.chain.sync_public_requests);
        let cfg = NodeConfig::from_toml("[chain]\nbusy_block_gap_ms = 0").expect("parses");
        assert_eq!(cfg.chain.busy_block_gap_ms, 0);
        assert_eq!(NodeConfig::default().chain.busy_block_gap_ms, 20);
        let cfg = NodeConfig::from_toml("[chain]\nsync_public_requests = true").expect("parses");
        assert!(cfg.chain.sync_public_requests);
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let err = NodeConfig::from_toml("[rpc]\nadress = \"127.0.0.1:1\"").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err = NodeConfig::from_toml("[store]\nmax_value_bytes = 0").unwrap_err();
        assert!(err.to_string().contains("max_value_bytes"), "{err}");
        assert!(NodeConfig::from_toml("").is_ok());
    }

    #[test]
    fn limits_parse_and_zero_limits_are_errors() {
        let cfg = NodeConfig::from_toml(
            "[rpc]\nmax_request_gas = 1000000\nmevm_timeout_ms = 250\n\
             [pool]\nmax_tx_bytes = 4096\n",
        )
        .expect("parses");
        assert_eq!(cfg.rpc_config().max_request_gas, 1_000_000);
        assert_eq!(cfg.rpc.mevm_timeout_ms, 250);
        assert_eq!(cfg.pool_limits().max_tx_bytes, 4096);
        let defaults = NodeConfig::default();
        assert_eq!(defaults.rpc.mevm_timeout_ms, DEFAULT_MEVM_TIMEOUT_MS);
        assert_eq!(
            defaults.pool_limits(),
            kettle_chain::PoolLimits::default(),
            "the file's defaults are the pool's"
        );
        for bad in [
            "[rpc]\nmax_request_gas = 0",
            "[rpc]\nmevm_timeout_ms = 0",
            "[pool]\nmax_per_sender = 0",
            "[pool]\nmax_tx_bytes = 0",
        ] {
            let err = NodeConfig::from_toml(bad).unwrap_err();
            let key = bad.rsplit('\n').next().and_then(|l| l.split(' ').next());
            assert!(err.to_string().contains(key.expect("key")), "{bad}: {err}");
        }
        let dev = NodeConfig::from_toml("[http]\nwhitelist = [\"api.example.com\"]\n")
            .expect("parses")
            .into_dev(PathBuf::from("d"), "127.0.0.1:1".parse().expect("addr"));
        assert!(dev.dev_keys);
        assert_eq!(
            dev.http.allowed_hosts,
            ["api.example.com", "*", "localhost", "127.0.0.1", "::1"]
        );
    }

    #[test]
    fn gossip_section_parses_and_rejects_typos() {
        let err = NodeConfig::from_toml("[gossip]\ncluster = []").unwrap_err();
        assert!(err.to_string().contains("chain.genesis"), "{err}");
        let cfg = NodeConfig::from_toml(
            "[chain]\ngenesis = \"g.json\"\n[gossip]\nlisten = \"/ip4/127.0.0.1/tcp/4001\"\ncluster = [\"0x0000000000000000000000000000000000000001\"]\nproducer = \"0x0000000000000000000000000000000000000001\"",
        )
        .expect("parses");
        let g = cfg.gossip.expect("section");
        assert_eq!(g.cluster.len(), 1);
        assert_eq!(g.max_messages_per_sec, 5_000);
        assert_eq!(g.message_burst, 10_000);
        assert_eq!(
            g.producer,
            Some(alloy_primitives::Address::with_last_byte(1))
        );
        assert!(g.bootstrap.is_empty());
        let err = NodeConfig::from_toml("[gossip]\nbootnodes = []").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
