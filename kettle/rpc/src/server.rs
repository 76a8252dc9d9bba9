//! Starting and stopping the server: limits, CORS, the per-call timeout and tracing
//! middleware, and geth-style subscription ids.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};

use jsonrpsee::{
    server::{
        middleware::rpc::{Batch, Notification, RpcServiceBuilder, RpcServiceT},
        BatchRequestConfig, IdProvider, MethodResponse, Methods, RpcModule, ServerBuilder,
        ServerConfig, ServerHandle,
    },
    types::{ErrorObject, Id, Request, SubscriptionId},
};
use kettle_chain::Chain;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tracing::{debug, info, warn, Instrument};

use crate::{
    confidential::ConfidentialApi,
    error::TIMEOUT_CODE,
    eth::{EthApiServer, EthHandler, NetApiServer, NetHandler, Web3ApiServer, Web3Handler},
    RpcConfig, RpcError,
};

/// A running server.
#[derive(Debug, Clone)]
pub struct RpcHandle {
    local_addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcHandle {
    /// The address the server is bound to (the actual port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<local_addr>`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// `ws://<local_addr>`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.local_addr)
    }

    /// Stops accepting connections, lets in-flight calls finish and closes subscriptions;
    /// resolves when the server has stopped.
    pub async fn stop(self) {
        if self.handle.stop().is_err() {
            debug!("RPC server was already stopped");
        }
        self.handle.stopped().await;
        info!(addr = %self.local_addr, "JSON-RPC server stopped");
    }

    /// Resolves when the server has stopped (after [`stop`](Self::stop) on any clone).
    pub async fn stopped(self) {
        self.handle.stopped().await
    }
}

/// The `eth`, `net` and `web3` methods over `chain` and `confidential`, for merging further
/// namespaces before [`start_with_methods`].
pub fn rpc_module(
    config: &RpcConfig,
    chain: Arc<Chain>,
    confidential: Arc<dyn ConfidentialApi>,
) -> Result<RpcModule<()>, RpcError> {
    let chain_id = chain.chain_id();
    let mut module = RpcModule::new(());
    module.merge(EthHandler::new(chain, confidential, Arc::new(config.clone())).into_rpc())?;
    module.merge(NetHandler { chain_id }.into_rpc())?;
    module.merge(
        Web3Handler {
            client_version: config.client_version.clone(),
        }
        .into_rpc(),
    )?;
    Ok(module)
}

/// Starts the JSON-RPC server (HTTP and WebSocket on `config.listen_addr`) serving the
/// `eth`, `net` and `web3` namespaces.
pub async fn start(
    config: RpcConfig,
    chain: Arc<Chain>,
    confidential: Arc<dyn ConfidentialApi>,
) -> Result<RpcHandle, RpcError> {
    let module = rpc_module(&config, chain, confidential)?;
    start_with_methods(config, module).await
}

/// Starts the server with any set of methods, under the limits of `config`.
pub async fn start_with_methods(
    config: RpcConfig,
    methods: impl Into<Methods>,
) -> Result<RpcHandle, RpcError> {
    config.validate()?;
    let batch = match config.max_batch_len {
        0 => BatchRequestConfig::Disabled,
        n => BatchRequestConfig::Limit(n),
    };
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_body_bytes)
        .max_response_body_size(config.max_response_body_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_batch_request_config(batch)
        .set_id_provider(HexIdProvider::default())
        .build();
    let http_middleware =
        tower::ServiceBuilder::new().option_layer(cors_layer(config.cors_origins.as_deref()));
    let rpc_middleware = RpcServiceBuilder::new().layer(CallLayer {
        config: Arc::new(config.clone()),
    });
    let server = ServerBuilder::default()
        .set_config(server_config)
        .set_http_middleware(http_middleware)
        .set_rpc_middleware(rpc_middleware)
        .build(config.listen_addr)
        .await
        .map_err(|source| RpcError::Bind {
            addr: config.listen_addr,
            source,
        })?;
    let local_addr = server.local_addr().map_err(|source| RpcError::Bind {
        addr: config.listen_addr,
        source,
    })?;
    let handle = server.start(methods);
    info!(addr = %local_addr, "JSON-RPC server listening (HTTP and WebSocket)");
    Ok(RpcHandle { local_addr, handle })
}

/// CORS for the configured origins (`None`: no CORS layer).
fn cors_layer(origins: Option<&[String]>) -> Option<CorsLayer> {
    let origins = origins?.to_vec();
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::predicate(move |origin, _| {
            origins.iter().any(|o| o.as_bytes() == origin.as_bytes())
        })
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods(Any)
            .allow_headers(Any),
    )
}

/// Subscription ids as geth makes them: `0x` and 128 random bits in hex, without leading
/// zeros (clients such as alloy parse them as quantities).
#[derive(Debug, Default)]
struct HexIdProvider {
    fallback: AtomicU64,
}

impl IdProvider for HexIdProvider {
    fn next_id(&self) -> SubscriptionId<'static> {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No OS randomness: unique, if guessable, ids still work per connection.
            let n = self.fallback.fetch_add(1, Ordering::Relaxed) + 1;
            bytes[8..].copy_from_slice(&n.to_be_bytes());
        }
        let hex = alloy_primitives::hex::encode(bytes);
        let trimmed = hex.trim_start_matches('0');
        let digits = if trimmed.is_empty() { "0" } else { trimmed };
        SubscriptionId::Str(format!("0x{digits}").into())
    }
}

/// RPC middleware: per-call timeout, a tracing span per call (method name, never params) and
/// a debug line with the duration and error code.
#[derive(Debug, Clone)]
struct CallLayer {
    config: Arc<RpcConfig>,
}

impl<S> tower::Layer<S> for CallLayer {
    type Service = CallService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service [`CallLayer`] wraps around jsonrpsee's.
#[derive(Debug, Clone)]
struct CallService<S> {
    inner: S,
    config: Arc<RpcConfig>,
}

fn timed_out(id: Id<'_>) -> MethodResponse {
    MethodResponse::error(
        id,
        ErrorObject::owned(TIMEOUT_CODE, "request timed out", None::<()>),
    )
}

impl<S> RpcServiceT for CallService<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type BatchResponse = MethodResponse;
    type NotificationResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        let method = request.method_name().to_owned();
        let timeout = self.config.timeout_for(&method);
        let id = request.id.clone().into_owned();
        let span = tracing::debug_span!("rpc", method = %method);
        async move {
            let started = Instant::now();
            let response = match tokio::time::timeout(timeout, inner.call(request)).await {
                Ok(response) => response,
                Err(_) => {
                    warn!(?timeout, "call timed out");
                    timed_out(id)
                }
            };
            debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                error_code = response.as_error_code(),
                "call finished"
            );
            response
        }
        .instrument(span)
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        let timeout = self.config.call_timeout;
        let len = batch.len();
        let span = tracing::debug_span!("rpc_batch", len);
        async move {
            let started = Instant::now();
            let response = match tokio::time::timeout(timeout, inner.batch(batch)).await {
                Ok(response) => response,
                Err(_) => {
                    warn!(?timeout, "batch timed out");
                    timed_out(Id::Null)
                }
            };
            debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "batch finished"
            );
            response
        }
        .instrument(span)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.inner.notification(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_ids_are_hex_quantities() {
        let provider = HexIdProvider::default();
        let a = provider.next_id();
        let b = provider.next_id();
        assert_ne!(a, b);
        let SubscriptionId::Str(s) = a else {
            panic!("string id expected")
        };
        assert!(s.starts_with("0x"));
        assert!(s.len() <= 34);
        assert!(!s[2..].starts_with('0') || s.len() == 3);
        assert!(s[2..].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn cors_layer_only_when_configured() {
        assert!(cors_layer(None).is_none());
        assert!(cors_layer(Some(&["*".to_owned()])).is_some());
        assert!(cors_layer(Some(&["http://localhost:3000".to_owned()])).is_some());
    }
}
