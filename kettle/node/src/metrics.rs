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

/// Installs the global Prometheus recorder (once per process).
pub fn install() -> Result<PrometheusHandle, NodeError> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| NodeError::Metrics(e.to_string()))?;
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
