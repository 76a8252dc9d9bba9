//! Start-up, the background services of a running kettle, and graceful shutdown.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use kettle_chain::{Chain, ChainSpec};
use kettle_rpc::RpcHandle;
use kettle_store::EncryptedStore;
use suave_precompiles::ExternalPrecompiles;
use suave_precompiles_network::{config::SecretHex, Network};
use tokio::{sync::watch, task::JoinHandle};
use tracing::{error, info, trace, warn};

use crate::{
    cluster, config::NodeConfig, keys::KettleKeys, metrics, pipeline::Pipeline, NodeError,
};

/// A running kettle.
pub struct NodeHandle {
    rpc: RpcHandle,
    chain: Arc<Chain>,
    store: Arc<EncryptedStore>,
    address: alloy_primitives::Address,
    metrics_addr: Option<SocketAddr>,
    gossip: Option<kettle_gossip::GossipHandle>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("rpc", &self.rpc.local_addr())
            .field("kettle", &self.address)
            .finish_non_exhaustive()
    }
}

/// The RocksDB directory inside the data dir.
pub fn db_path(datadir: &Path) -> std::path::PathBuf {
    datadir.join("db")
}

/// Starts a kettle: keys, database (chain and confidential store in one RocksDB), MEVM
/// pipeline, JSON-RPC, block production and metrics.
pub async fn launch(config: NodeConfig) -> Result<NodeHandle, NodeError> {
    config.validate()?;
    std::fs::create_dir_all(&config.datadir)
        .map_err(|e| NodeError::Config(format!("data dir {}: {e}", config.datadir.display())))?;
    let keys = Arc::new(if config.dev_keys {
        KettleKeys::dev()
    } else {
        KettleKeys::load_or_create(&config.key_file())?
    });
    let spec = match &config.chain.genesis {
        Some(path) => ChainSpec::from_genesis_file(path)?,
        None => ChainSpec::dev(keys.address()),
    };
    info!(kettle = %keys.address(), chain_id = spec.chain_id(), datadir = %config.datadir.display(), "starting kettle");

    // The store's column families keep their own options (shared block cache, bloom filters,
    // no compression of sealed data).
    let store_cache =
        kettle_store::layout::block_cache().map_err(|e| NodeError::Store(e.to_string()))?;
    let db = kettle_chain::db::open_db_with(
        &db_path(&config.datadir),
        kettle_store::layout::column_family_descriptors(&store_cache),
    )?;
    // One WAL, one group commit: a block's sync covers the store's waiting writes and the
    // other way round.
    let wal = Arc::new(kettle_wal::GroupSync::default());
    let store = Arc::new(
        kettle_store::open_in(
            db.clone(),
            &kettle_store::KettleSecret::from_array(keys.store_secret().0),
            kettle_store::StoreOptions::new(config.store_limits())
                .with_local_kettles(vec![keys.address()])
                .with_wal(wal.clone()),
        )
        .map_err(|e| NodeError::Store(e.to_string()))?,
    );
    let chain = Arc::new(
        Chain::open(db.clone(), spec, config.pool_limits())?
            .with_sealer(keys.kettle.clone())
            .with_wal(wal),
    );

    let mut net_cfg = config.http.clone();
    if net_cfg.bundle_signing_key.is_none() {
        net_cfg.bundle_signing_key = Some(SecretHex(alloy_primitives::hex::encode(
            keys.bundle_signing.to_bytes(),
        )));
    }
    let mut network = Network::builder(net_cfg.clone());
    if let Some(url) = &net_cfg.eth_backend {
        network = network.execution_backend(execution_backend(url, &config, &keys)?);
    }
    let network: Arc<dyn ExternalPrecompiles> = Arc::new(
        network
            .build()
            .map_err(|e| NodeError::Network(e.to_string()))?,
    );
    let pipeline = Pipeline::new(
        chain.clone(),
        store.clone(),
        keys.clone(),
        Some(network),
        config.store_limits(),
    )
    .with_time_limit(Duration::from_millis(config.rpc.mevm_timeout_ms))
    .with_sync_public_requests(config.chain.sync_public_requests);

    let handle = metrics::install()?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let cluster = match &config.gossip {
        Some(section) => Some(
            cluster::start(
                section,
                &keys,
                chain.clone(),
                store.clone(),
                store.subscribe_local_commits(),
                shutdown_rx.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let status = cluster.as_ref().map(|c| c.status.clone());
    let gossip = cluster.as_ref().map(|c| c.gossip.clone());
    let produces = status.as_ref().is_none_or(|s| s.is_producer());
    if let Some(c) = cluster {
        tasks.extend(c.tasks);
    }
    let metrics_addr = match config.metrics.addr {
        Some(addr) => {
            let (bound, task) = metrics::serve(
                addr,
                handle,
                chain.clone(),
                status.clone(),
                shutdown_rx.clone(),
            )
            .await?;
            tasks.push(task);
            Some(bound)
        }
        None => None,
    };
    if produces {
        tasks.push(tokio::spawn(produce_blocks(
            chain.clone(),
            BlockPacing {
                period: Duration::from_millis(config.chain.block_period_ms),
                busy_gap: Duration::from_millis(config.chain.busy_block_gap_ms),
            },
            shutdown_rx.clone(),
        )));
    } else {
        info!("following the cluster's block producer; not sealing blocks");
    }
    tasks.push(tokio::spawn(sync_in_background(
        store.clone(),
        shutdown_rx.clone(),
    )));
    tasks.push(tokio::spawn(report_resources(
        db_path(&config.datadir),
        db.clone(),
        chain.clone(),
        shutdown_rx,
    )));

    let rpc = kettle_rpc::start(config.rpc_config(), chain.clone(), Arc::new(pipeline)).await?;
    info!(http = %rpc.http_url(), ws = %rpc.ws_url(), kettle = %keys.address(), "kettle ready");
    Ok(NodeHandle {
        rpc,
        chain,
        store,
        address: keys.address(),
        metrics_addr,
        gossip,
        shutdown,
        tasks,
    })
}

/// The builder precompiles' Ethereum backend on `url`, signing bids with the kettle's BLS key.
fn execution_backend(
    url: &str,
    config: &NodeConfig,
    keys: &KettleKeys,
) -> Result<Arc<dyn suave_precompiles_network::ExecutionBackend>, NodeError> {
    use kettle_builder::{backend::BackendConfig, bid::BuilderKey, RpcBackend};
    let mut backend_cfg = BackendConfig {
        simulate_timeout: Duration::from_millis(config.builder.simulate_timeout_ms),
        build_timeout: Duration::from_millis(config.builder.build_timeout_ms),
        ..BackendConfig::default()
    };
    backend_cfg.forks.skip_system_calls = config.builder.skip_system_calls;
    let key = BuilderKey::from_seed(keys.bls.0)
        .map_err(|e| NodeError::Keys(format!("BLS builder key: {e}")))?;
    let builder_pubkey = key.public_key();
    let mut backend = RpcBackend::new(url, backend_cfg)
        .map_err(|e| NodeError::Config(format!("http.eth_backend: {e}")))?
        .with_builder_key(key);
    if let Some(hex) = &config.builder.coinbase_key {
        let signer: alloy_signer_local::PrivateKeySigner =
            hex.0.trim_start_matches("0x").parse().map_err(|_| {
                NodeError::Config("builder.coinbase_key is not a hex secp256k1 key".into())
            })?;
        backend = backend.with_coinbase_key(signer);
    }
    info!(
        eth_backend = %url_origin(url),
        builder_pubkey = %alloy_primitives::hex::encode_prefixed(builder_pubkey),
        "block building enabled"
    );
    Ok(Arc::new(backend))
}

impl NodeHandle {
    /// Where JSON-RPC listens.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc.local_addr()
    }

    /// Where `/metrics` and `/health` are served, if enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The gossip handle (listen addresses, drop counters, outbound tap); `None` when
    /// standalone.
    pub fn gossip(&self) -> Option<&kettle_gossip::GossipHandle> {
        self.gossip.as_ref()
    }

    /// The confidential store.
    pub fn store(&self) -> &Arc<EncryptedStore> {
        &self.store
    }

    /// The kettle address.
    pub fn kettle_address(&self) -> alloy_primitives::Address {
        self.address
    }

    /// The chain.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// Stops accepting requests, lets in-flight ones finish, stops background tasks and
    /// flushes RocksDB.
    pub async fn stop(self) {
        info!("shutting down");
        self.rpc.stop().await;
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Err(e) = self.store.flush() {
            warn!(error = %e, "flushing the confidential store failed");
        }
        if let Err(e) = self.chain.db().flush() {
            warn!(error = %e, "flushing the chain database failed");
        }
        info!("stopped");
    }
}

/// When blocks are sealed ([`ChainSection`](crate::config::ChainSection)'s
/// `block_period_ms` and `busy_block_gap_ms`).
#[derive(Debug, Clone, Copy)]
struct BlockPacing {
    period: Duration,
    busy_gap: Duration,
}

impl BlockPacing {
    /// How long to wait, once transactions are pending, before starting the next block:
    /// `period` when set; otherwise none for a lone pending transaction or the first block,
    /// and the rest of `busy_gap` since the previous block started when more are waiting.
    fn wait(&self, pending: usize, since_last_start: Option<Duration>) -> Duration {
        if !self.period.is_zero() {
            return self.period;
        }
        match since_last_start {
            Some(elapsed) if pending > 1 => self.busy_gap.saturating_sub(elapsed),
            _ => Duration::ZERO,
        }
    }
}

/// Seals blocks: as soon as transactions are pending (period 0, suave-geth dev's Clique
/// period 0; under concurrent load, spaced by the busy gap), or at most one block per period.
async fn produce_blocks(
    chain: Arc<Chain>,
    pacing: BlockPacing,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_start: Option<std::time::Instant> = None;
    loop {
        if chain.pending_count() == 0 {
            tokio::select! {
                _ = chain.pending_transaction() => {}
                _ = shutdown.changed() => return,
            }
        }
        let wait = pacing.wait(chain.pending_count(), last_start.map(|t| t.elapsed()));
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
        }
        last_start = Some(std::time::Instant::now());
        let c = chain.clone();
        let produced = tokio::task::spawn_blocking(move || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            c.produce_block(now, alloy_primitives::Address::ZERO)
        })
        .await;
        match produced {
            Ok(Ok(Some(block))) => {
                metrics::record_head(block.header.number, block.transactions.len())
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                error!(error = %e, "block production failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => error!(error = %e, "block production task panicked"),
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// How long a write acknowledged without a sync (the `0x50` of a request that wrote nothing
/// to the store) may stay at risk of a power loss: a background sync covers it by then.
pub const BACKGROUND_SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// Syncs the WAL every [`BACKGROUND_SYNC_INTERVAL`] while unsynced writes are waiting; idle
/// otherwise.
async fn sync_in_background(store: Arc<EncryptedStore>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(BACKGROUND_SYNC_INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
        if !store.unsynced_writes() {
            continue;
        }
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.sync_written()).await {
            Ok(Ok(covered)) => trace!(covered, "background WAL sync"),
            Ok(Err(e)) => error!(error = %e, "background WAL sync failed"),
            Err(e) => error!(error = %e, "background WAL sync panicked"),
        }
    }
}

/// Updates the database size and memory gauges every 10 s.
async fn report_resources(
    path: std::path::PathBuf,
    db: Arc<rocksdb::DB>,
    chain: Arc<Chain>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let size = dir_size(&path);
        metrics::record_db_size(size);
        metrics::MemoryReport::measure(&db, &chain).record();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `scheme://host:port` of a URL for the log: its path, query and user info can hold an API
/// key (hosted Ethereum endpoints put it in the path).
fn url_origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("?", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let elided = if rest.len() > authority.len() || host.len() < authority.len() {
        "/…"
    } else {
        ""
    };
    format!("{scheme}://{host}{elided}")
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn url_origin_drops_path_query_and_user_info() {
        use super::url_origin;
        assert_eq!(url_origin("http://127.0.0.1:8555"), "http://127.0.0.1:8555");
        assert_eq!(
            url_origin("https://mainnet.example.io/v3/0123abcd?k=v"),
            "https://mainnet.example.io/…"
        );
        assert_eq!(
            url_origin("https://user:pass@node.example:8545"),
            "https://node.example:8545/…"
        );
        assert_eq!(url_origin("node:8545/key"), "?://node:8545/…");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_spaced_only_under_concurrent_load() {
        let ms = Duration::from_millis;
        let gap = BlockPacing {
            period: Duration::ZERO,
            busy_gap: ms(20),
        };
        // The first block, and a lone transaction, are sealed at once.
        assert_eq!(gap.wait(5, None), Duration::ZERO);
        assert_eq!(gap.wait(1, Some(ms(1))), Duration::ZERO);
        // More waiting: the rest of the gap since the previous block started, none once over.
        assert_eq!(gap.wait(2, Some(ms(5))), ms(15));
        assert_eq!(gap.wait(40, Some(ms(20))), Duration::ZERO);
        assert_eq!(gap.wait(40, Some(ms(35))), Duration::ZERO);
        // Gap 0: back to back.
        let back_to_back = BlockPacing {
            busy_gap: Duration::ZERO,
            ..gap
        };
        assert_eq!(back_to_back.wait(40, Some(ms(1))), Duration::ZERO);
        // A period always waits the period.
        let period = BlockPacing {
            period: ms(100),
            busy_gap: ms(20),
        };
        assert_eq!(period.wait(1, None), ms(100));
        assert_eq!(period.wait(40, Some(ms(1))), ms(100));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unsynced_writes_are_synced_in_the_background() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = NodeConfig::dev(
            dir.path().to_path_buf(),
            "127.0.0.1:0".parse().expect("addr"),
        );
        cfg.metrics.addr = None;
        let node = launch(cfg).await.expect("kettle starts");
        // The chain and the store share one group commit of their one WAL.
        assert!(Arc::ptr_eq(node.chain().wal(), &node.store().options().wal));
        let store = node.store().clone();
        let before = store.group_syncs();
        // A writer of the shared database (the chain's admission of a 0x50) took a ticket.
        store.options().wal.written();
        assert!(store.unsynced_writes());
        let deadline = std::time::Instant::now() + BACKGROUND_SYNC_INTERVAL * 20;
        while store.unsynced_writes() {
            assert!(
                std::time::Instant::now() < deadline,
                "no background sync within {:?}",
                BACKGROUND_SYNC_INTERVAL * 20
            );
            tokio::time::sleep(BACKGROUND_SYNC_INTERVAL / 4).await;
        }
        assert_eq!(store.group_syncs(), before + 1);
        // Nothing waiting: the task does not sync again.
        tokio::time::sleep(BACKGROUND_SYNC_INTERVAL * 3).await;
        assert_eq!(store.group_syncs(), before + 1);
        node.stop().await;
    }
}
