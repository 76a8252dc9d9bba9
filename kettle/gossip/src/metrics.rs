//! Counters of dropped messages, by reason.
//!
//! Each drop increments the `kettle_gossip_dropped_total{reason}` counter of the `metrics`
//! facade (exported by the node's Prometheus recorder) and an in-process counter readable
//! through [`DropCounters`], so tests and the node can inspect them without a recorder.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

/// Why an inbound message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Larger than `max_message_bytes`.
    Oversized,
    /// Not a well-formed envelope (or payload) of a known version.
    Undecodable,
    /// Envelope kind does not belong on the channel it arrived on (e.g. store writes on a
    /// broadcast topic, or a message on an unknown topic).
    WrongChannel,
    /// Signed by a kettle that is not in the cluster allow-list.
    NotAllowed,
    /// Signature invalid or not made by the claimed origin.
    BadSignature,
    /// Sequence number or id already seen, or below the replay window.
    Replay,
    /// Timestamp too old or too far in the future.
    Stale,
    /// Point-to-point message from a peer without a verified kettle binding, or whose
    /// envelope origin is not the peer's kettle.
    Unauthenticated,
    /// Store writes for a record whose allowed stores exclude the sender or this kettle.
    NotAllowedStore,
    /// The node did not drain the event channel fast enough.
    ReceiverFull,
    /// The peer it came from (the forwarding peer, for gossipsub) is over its message rate
    /// (`GossipConfig::rate_limit`).
    RateLimited,
    /// A handshake from a kettle that follows another chain (another genesis).
    OtherChain,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [Self; 12] = [
        Self::Oversized,
        Self::Undecodable,
        Self::WrongChannel,
        Self::NotAllowed,
        Self::BadSignature,
        Self::Replay,
        Self::Stale,
        Self::Unauthenticated,
        Self::NotAllowedStore,
        Self::ReceiverFull,
        Self::RateLimited,
        Self::OtherChain,
    ];

    /// The metric label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Oversized => "oversized",
            Self::Undecodable => "undecodable",
            Self::WrongChannel => "wrong_channel",
            Self::NotAllowed => "not_allowed",
            Self::BadSignature => "bad_signature",
            Self::Replay => "replay",
            Self::Stale => "stale",
            Self::Unauthenticated => "unauthenticated",
            Self::NotAllowedStore => "not_allowed_store",
            Self::ReceiverFull => "receiver_full",
            Self::RateLimited => "rate_limited",
            Self::OtherChain => "other_chain",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Shared, cheap-to-clone counters of dropped messages.
#[derive(Debug, Clone, Default)]
pub struct DropCounters {
    counts: Arc<[AtomicU64; DropReason::ALL.len()]>,
}

impl DropCounters {
    /// Counts one dropped message (here and in the `metrics` facade).
    pub fn record(&self, reason: DropReason) {
        self.counts[reason.index()].fetch_add(1, Ordering::Relaxed);
        metrics::counter!("kettle_gossip_dropped_total", "reason" => reason.as_str()).increment(1);
    }

    /// Messages dropped for `reason` since start.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts[reason.index()].load(Ordering::Relaxed)
    }

    /// Messages dropped for any reason since start.
    pub fn total(&self) -> u64 {
        DropReason::ALL.iter().map(|r| self.get(*r)).sum()
    }
}
