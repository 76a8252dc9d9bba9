//! Server configuration: listen address, request limits, timeouts, CORS.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use crate::RpcError;

/// `web3_clientVersion` of this build: `kettle/<version>`.
pub const CLIENT_VERSION: &str = concat!("kettle/", env!("CARGO_PKG_VERSION"));

/// Smallest accepted [`RpcConfig::max_response_body_bytes`]: room for any error object and a
/// subscription confirmation.
pub const MIN_RESPONSE_BODY_BYTES: u32 = 256;

/// Configuration of the JSON-RPC server (HTTP and WebSocket on one port).
///
/// Every limit has a default that suits a dev kettle and a public endpoint alike; the node
/// maps its TOML configuration onto this struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcConfig {
    /// Address to listen on (`127.0.0.1:8545`; port 0 picks a free port).
    pub listen_addr: SocketAddr,
    /// Largest accepted request body, HTTP or WebSocket message, in bytes (10 MiB: a
    /// hex-encoded transaction of the 4 MiB maximum fits). Larger HTTP bodies get status 413
    /// with a JSON-RPC error (-32007).
    pub max_request_body_bytes: u32,
    /// Largest response, in bytes (32 MiB); a larger one is replaced by a JSON-RPC error
    /// (-32008).
    pub max_response_body_bytes: u32,
    /// Most calls in one batch (1000, as geth); 0 disables batches.
    pub max_batch_len: u32,
    /// Most simultaneous connections (500); further connections are refused.
    pub max_connections: u32,
    /// Most subscriptions one WebSocket connection may hold (1024).
    pub max_subscriptions_per_connection: u32,
    /// How long one call (or one whole batch) may run before it is answered with
    /// `request timed out` (-32002); 30 s. Work on blocking threads is not interrupted by
    /// this, only no longer waited for: the node stops MEVM runs with its own wall-clock limit
    /// (`rpc.mevm_timeout_ms`), and plain EVM runs are bounded by their gas.
    pub call_timeout: Duration,
    /// Per-method overrides of [`call_timeout`](Self::call_timeout), by full method name
    /// (e.g. `eth_sendRawTransaction`).
    pub method_timeouts: BTreeMap<String, Duration>,
    /// Origins allowed by CORS. `None`: no CORS headers (browsers allow same-origin only);
    /// `["*"]`: any origin; otherwise the listed origins (`http://localhost:3000`).
    pub cors_origins: Option<Vec<String>>,
    /// Most gas one confidential request (`0x43`) may ask for; a request above it is refused
    /// before it runs. `eth_call` and `eth_estimateGas` (plain and confidential) are cut to
    /// it, as geth's `--rpc.gascap` (50 000 000, the chain's own call cap; the block gas limit
    /// applies too).
    pub max_request_gas: u64,
    /// Most blocks one `eth_getLogs` may scan (10 000).
    pub max_logs_block_range: u64,
    /// Most logs one `eth_getLogs` may return (20 000).
    pub max_logs: usize,
    /// Most blocks one `eth_feeHistory` may cover (1024, as geth).
    pub max_fee_history_blocks: u64,
    /// Priority fee suggested when recent blocks carry no transactions (1 wei, what
    /// suave-geth's dev mode suggests: its minimum gas price).
    pub default_priority_fee: u128,
    /// Value of `web3_clientVersion`.
    pub client_version: String,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 8545)),
            max_request_body_bytes: 10 * 1024 * 1024,
            max_response_body_bytes: 32 * 1024 * 1024,
            max_batch_len: 1000,
            max_connections: 500,
            max_subscriptions_per_connection: 1024,
            call_timeout: Duration::from_secs(30),
            method_timeouts: BTreeMap::new(),
            cors_origins: None,
            max_request_gas: kettle_chain::call::CALL_GAS_CAP,
            max_logs_block_range: 10_000,
            max_logs: 20_000,
            max_fee_history_blocks: 1024,
            default_priority_fee: 1,
            client_version: CLIENT_VERSION.to_owned(),
        }
    }
}

impl RpcConfig {
    /// Checks that the limits are usable (non-zero where zero would refuse everything).
    pub fn validate(&self) -> Result<(), RpcError> {
        let fail = |what: &str| Err(RpcError::Config(format!("{what} must be greater than 0")));
        if self.max_request_body_bytes == 0 {
            return fail("max_request_body_bytes");
        }
        if self.max_response_body_bytes < MIN_RESPONSE_BODY_BYTES {
            // jsonrpsee cannot even confirm a subscription below this
            return Err(RpcError::Config(format!(
                "max_response_body_bytes must be at least {MIN_RESPONSE_BODY_BYTES}"
            )));
        }
        if self.max_connections == 0 {
            return fail("max_connections");
        }
        if self.call_timeout.is_zero() || self.method_timeouts.values().any(Duration::is_zero) {
            return fail("call_timeout");
        }
        if self.max_request_gas == 0 {
            return fail("max_request_gas");
        }
        if self.max_logs_block_range == 0 {
            return fail("max_logs_block_range");
        }
        if self.max_logs == 0 {
            return fail("max_logs");
        }
        if self.max_fee_history_blocks == 0 {
            return fail("max_fee_history_blocks");
        }
        Ok(())
    }

    /// The timeout that applies to `method`.
    pub fn timeout_for(&self, method: &str) -> Duration {
        self.method_timeouts
            .get(method)
            .copied()
            .unwrap_or(self.call_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_overrides_apply() {
        let mut config = RpcConfig::default();
        config.validate().expect("defaults valid");
        assert_eq!(config.timeout_for("eth_call"), Duration::from_secs(30));
        config
            .method_timeouts
            .insert("eth_call".into(), Duration::from_secs(2));
        assert_eq!(config.timeout_for("eth_call"), Duration::from_secs(2));
        assert!(CLIENT_VERSION.starts_with("kettle/"));

        config.max_logs = 0;
        assert!(config.validate().is_err());
        let config = RpcConfig {
            max_response_body_bytes: MIN_RESPONSE_BODY_BYTES - 1,
            ..RpcConfig::default()
        };
        assert!(config.validate().is_err());
        let config = RpcConfig {
            call_timeout: Duration::ZERO,
            ..RpcConfig::default()
        };
        assert!(config.validate().is_err());
    }
}
