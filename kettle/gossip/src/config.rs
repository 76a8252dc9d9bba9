//! Configuration of a kettle's gossip node.

use std::time::Duration;

use alloy_primitives::{Address, B256};
use libp2p::Multiaddr;

pub use crate::rate::RateLimit;

/// Replay protection settings.
///
/// A message is a replay when its `(origin, seq)` pair or its id was already accepted, or
/// when its sequence number is `seq_window` or more below the highest one accepted from
/// that origin. The window (instead of a strict `seq > last`) tolerates the reordering that
/// gossipsub's multi-path delivery causes, while keeping per-origin state bounded.
/// Timestamps bound how long a captured message can be replayed to a receiver that
/// restarted and lost its in-memory replay state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayConfig {
    /// How far below the highest accepted sequence number a not-yet-seen number is still
    /// accepted. `0` means strict: only `seq > highest` is accepted.
    pub seq_window: u64,
    /// Messages whose timestamp is older than this are dropped as stale.
    pub max_age: Duration,
    /// Messages whose timestamp is further in the future than this are dropped (clock skew).
    pub max_future_skew: Duration,
    /// How many recent message ids are remembered for duplicate detection.
    pub recent_ids: usize,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            seq_window: 1024,
            max_age: Duration::from_secs(600),
            max_future_skew: Duration::from_secs(30),
            recent_ids: 16_384,
        }
    }
}

/// Everything a gossip node needs besides the kettle's signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GossipConfig {
    /// Address the node listens on, e.g. `/ip4/0.0.0.0/tcp/30333` (`tcp/0` picks a free port).
    pub listen_addr: Multiaddr,
    /// Peers dialled at start and redialled while disconnected (`/ip4/…/tcp/…[/p2p/<id>]`).
    pub bootstrap: Vec<Multiaddr>,
    /// Kettle addresses allowed in the cluster. Messages signed by any other key are dropped;
    /// store writes are only sent to, and accepted from, these kettles.
    pub cluster: Vec<Address>,
    /// Genesis hash of this kettle's chain: peers that follow another chain are refused at
    /// the handshake (counted as `other_chain`).
    pub genesis: B256,
    /// Largest encoded envelope accepted or sent, in bytes. Larger ones are dropped and
    /// counted (the transport hard cap is twice this, so oversize is observable).
    pub max_message_bytes: usize,
    /// Replay protection.
    pub replay: ReplayConfig,
    /// Inbound messages accepted per peer (token bucket); over-rate messages are dropped and
    /// counted as `rate_limited`.
    pub rate_limit: RateLimit,
    /// Timeout of one point-to-point request (handshake or store sync).
    pub request_timeout: Duration,
    /// How often disconnected bootstrap peers are redialled.
    pub redial_interval: Duration,
    /// Idle connections are kept open this long (cluster peers stay connected through ping).
    pub idle_connection_timeout: Duration,
    /// Capacity of the command and event channels between the service and the node.
    pub channel_capacity: usize,
}

impl GossipConfig {
    /// A configuration with defaults for everything but the listen address and the cluster.
    pub fn new(listen_addr: Multiaddr, cluster: Vec<Address>) -> Self {
        Self {
            listen_addr,
            bootstrap: Vec::new(),
            cluster,
            genesis: B256::ZERO,
            max_message_bytes: 1024 * 1024,
            replay: ReplayConfig::default(),
            rate_limit: RateLimit::default(),
            request_timeout: Duration::from_secs(10),
            redial_interval: Duration::from_secs(5),
            idle_connection_timeout: Duration::from_secs(60),
            channel_capacity: 1024,
        }
    }

    /// Checks values that would make the node unusable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_message_bytes < 256 {
            return Err(ConfigError::MessageLimitTooSmall(self.max_message_bytes));
        }
        if self.max_message_bytes > 64 * 1024 * 1024 {
            return Err(ConfigError::MessageLimitTooLarge(self.max_message_bytes));
        }
        if !self.rate_limit.is_disabled() && self.rate_limit.burst == 0 {
            return Err(ConfigError::ZeroBurst);
        }
        if self.channel_capacity == 0 {
            return Err(ConfigError::ZeroChannelCapacity);
        }
        if self.cluster.is_empty() {
            return Err(ConfigError::EmptyCluster);
        }
        Ok(())
    }

    /// Hard cap on one transport frame: twice the message limit plus framing slack, so an
    /// envelope somewhat over the limit still arrives and is counted as oversized.
    pub(crate) fn transport_cap(&self) -> usize {
        self.max_message_bytes
            .saturating_mul(2)
            .saturating_add(1024)
    }
}

/// Why a [`GossipConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `max_message_bytes` below 256.
    #[error("max_message_bytes {0} is below 256")]
    MessageLimitTooSmall(usize),
    /// `max_message_bytes` above 64 MiB.
    #[error("max_message_bytes {0} is above 64 MiB")]
    MessageLimitTooLarge(usize),
    /// A rate limit with a burst of zero (nothing would ever be accepted).
    #[error("the message burst must be at least 1 when a message rate is set")]
    ZeroBurst,
    /// `channel_capacity` is zero.
    #[error("channel_capacity must be at least 1")]
    ZeroChannelCapacity,
    /// No kettle is allowed in the cluster.
    #[error("the cluster allow-list is empty")]
    EmptyCluster,
}
