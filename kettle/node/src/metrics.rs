//! Prometheus metrics and the health endpoint (`GET /metrics`, `GET /health`).

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use http_body_util::Full;
use hyper::{body::Bytes, server::conn::http1, service::service_fn, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kettle_chain::Chain;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::{net::TcpListener, sync::watch};
use tracing::{debug, info, warn};

use crate::{cluster::ClusterStatus, NodeError};

/// Records one confidential request (`kind`: send, call, estimate).
pub fn record_request(kind: &'static str, ok: bool, elapsed: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!("kettle_confidential_requests_total", "kind" => kind, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("kettle_confidential_request_seconds", "kind" => kind)
        .record(elapsed.as_secs_f64());
}

/// Records the chain head after a block.
pub fn record_head(number: u64, txs: usize) {
    metrics::gauge!("kettle_block_height").set(number as f64);
    metrics::counter!("kettle_block_transactions_total").increment(txs as u64);
}

/// Records the on-disk size of the data dir's RocksDB.
pub fn record_db_size(bytes: u64) {
    metrics::gauge!("kettle_db_size_bytes").set(bytes as f64);
}

/// Where a kettle's memory is: the parts that are bounded by configuration (RocksDB's
/// memtables and block caches, the pool) and the process-wide totals, so that growth under
/// load can be pinned on one of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryReport {
    /// Resident set of the process (`/proc/self/statm`).
    pub resident_bytes: u64,
    /// Heap bytes handed out by the allocator and not yet freed (glibc only).
    pub heap_in_use_bytes: u64,
    /// Heap bytes the allocator holds but has not handed out: fragmentation (glibc only).
    pub heap_free_bytes: u64,
    /// RocksDB memtables of all column families, active and immutable.
    pub memtable_bytes: u64,
    /// The chain's block cache (data, index and filter blocks).
    pub chain_block_cache_bytes: u64,
    /// The confidential store's block cache.
    pub store_block_cache_bytes: u64,
    /// RocksDB table readers outside the caches (summed over column families).
    pub table_readers_bytes: u64,
    /// Transactions waiting in the pool.
    pub pool_transactions: u64,
}

impl MemoryReport {
    /// Measures the process, `db` (the node's shared RocksDB) and `chain`'s pool.
    pub fn measure(db: &rocksdb::DB, chain: &Chain) -> Self {
        let (heap_in_use_bytes, heap_free_bytes) = heap();
        let sum = |families: &[&str], property: &str| -> u64 {
            families
                .iter()
                .filter_map(|name| db.cf_handle(name))
                .filter_map(|cf| db.property_int_value_cf(cf, property).ok().flatten())
                .sum()
        };
        let first = |families: &[&str], property: &str| -> u64 {
            families
                .first()
                .and_then(|name| db.cf_handle(name))
                .and_then(|cf| db.property_int_value_cf(cf, property).ok().flatten())
                .unwrap_or(0)
        };
        let chain_cfs = &kettle_chain::db::COLUMN_FAMILIES[..];
        let store_cfs = &kettle_store::layout::COLUMN_FAMILIES[..];
        Self {
            resident_bytes: resident(),
            heap_in_use_bytes,
            heap_free_bytes,
            memtable_bytes: sum(chain_cfs, "rocksdb.size-all-mem-tables")
                + sum(store_cfs, "rocksdb.size-all-mem-tables"),
            chain_block_cache_bytes: first(chain_cfs, "rocksdb.block-cache-usage"),
            store_block_cache_bytes: first(store_cfs, "rocksdb.block-cache-usage"),
            table_readers_bytes: sum(chain_cfs, "rocksdb.estimate-table-readers-mem")
                + sum(store_cfs, "rocksdb.estimate-table-readers-mem"),
            pool_transactions: chain.pending_count() as u64,
        }
    }

    /// Sets the `kettle_memory_*` gauges.
    pub fn record(&self) {
        let gauges = [
            ("resident", self.resident_bytes),
            ("heap_in_use", self.heap_in_use_bytes),
            ("heap_free", self.heap_free_bytes),
            ("rocksdb_memtables", self.memtable_bytes),
            ("rocksdb_chain_block_cache", self.chain_block_cache_bytes),
            ("rocksdb_store_block_cache", self.store_block_cache_bytes),
            ("rocksdb_table_readers", self.table_readers_bytes),
        ];
        for (part, bytes) in gauges {
            metrics::gauge!("kettle_memory_bytes", "part" => part).set(bytes as f64);
        }
        metrics::gauge!("kettle_pool_transactions").set(self.pool_transactions as f64);
    }
}

/// The process's resident set in bytes; 0 where `/proc` is unavailable.
fn resident() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// The allocator's (in use, free) heap bytes over all arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap() -> (u64, u64) {
    // SAFETY: mallinfo2 only reads the allocator's statistics (glibc 2.33 and later).
    let info = unsafe { libc::mallinfo2() };
    ((info.uordblks + info.hblkhd) as u64, info.fordblks as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap() -> (u64, u64) {
    (0, 0)
}

/// How often the recorder's histograms are drained into their summaries.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Installs the global Prometheus recorder (once per process) and its upkeep thread.
///
/// The recorder buffers every histogram sample until it is drained; without the upkeep a
/// kettle that nobody scrapes keeps every request's latency sample forever (about 0.7 MiB a
/// minute at 1 500 requests/s).
pub fn install() -> Result<PrometheusHandle, NodeError> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| NodeError::Metrics(e.to_string()))?;
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        })
        .map_err(|e| NodeError::Metrics(format!("metrics upkeep thread: {e}")))?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Serves `/metrics` and `/health` on `addr` until `shutdown` flips; returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    chain: Arc<Chain>,
    cluster: Option<Arc<ClusterStatus>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), NodeError> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    info!(addr = %local, "metrics and health endpoint listening");
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = shutdown.changed() => break,
            };
            let (stream, _) = match accepted {
                Ok(s) => s,
                Err(e) => {
                    warn!(error = %e, "metrics accept failed");
                    continue;
                }
            };
            let (handle, chain, cluster) = (handle.clone(), chain.clone(), cluster.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (handle, chain, cluster) = (handle.clone(), chain.clone(), cluster.clone());
                    async move {
                        Ok::<_, Infallible>(respond(&req, &handle, &chain, cluster.as_deref()))
                    }
                });
                if let Err(e) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    debug!(error = %e, "metrics connection ended");
                }
            });
        }
    });
    Ok((local, task))
}

fn respond(
    req: &Request<hyper::body::Incoming>,
    handle: &PrometheusHandle,
    chain: &Chain,
    cluster: Option<&ClusterStatus>,
) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (req.method().as_str(), req.uri().path()) {
        ("GET", "/metrics") => {
            if let Some(c) = cluster {
                c.export_metrics();
            }
            (StatusCode::OK, "text/plain; version=0.0.4", handle.render())
        }
        ("GET", "/health") => {
            let (hash, head) = chain.head();
            let mut body = serde_json::json!({
                "status": "ok",
                "chainId": chain.chain_id(),
                "head": { "number": head.number, "hash": hash, "stateRoot": head.state_root },
                "pendingTransactions": chain.pending_count(),
            });
            if let Some(c) = cluster {
                body["gossip"] = c.health();
            }
            (StatusCode::OK, "application/json", body.to_string())
        }
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}
