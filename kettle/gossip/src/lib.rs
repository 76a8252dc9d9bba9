//! The kettle network: a libp2p node (TCP + Noise + Yamux, gossipsub, request-response,
//! identify, ping; no mDNS) that connects the kettles of one cluster.
//!
//! - Every application message travels in a signed [`Envelope`] (origin kettle address,
//!   per-origin sequence number, timestamp). Receivers drop and count messages that are
//!   oversized, undecodable, from kettles outside the allow-list, badly signed, stale or
//!   replayed, or that come from a peer over its message rate ([`Verifier`],
//!   [`RateLimit`], [`DropCounters`]).
//! - Public chain data (blocks, transactions) is broadcast on gossipsub
//!   ([`BroadcastTopic`]). Confidential store writes are never broadcast: they go
//!   point-to-point, only to kettles the records allow ([`split_by_store`]), over streams
//!   whose peer proved its kettle identity ([`PeerBinding`]).
//!
//! Start with [`GossipService::start`], drive with [`GossipService::run`], talk through the
//! [`GossipHandle`] and the [`GossipEvent`] receiver.

#![warn(missing_docs, unreachable_pub)]

mod behaviour;
mod codec;
pub mod config;
pub mod envelope;
pub mod identity;
pub mod metrics;
pub mod rate;
pub mod service;
pub mod store_sync;

#[cfg(test)]
mod tests;

/// The fuzz harness (budget `KETTLE_FUZZ_CASES`, seed `KETTLE_FUZZ_SEED`) of the unit tests.
#[cfg(test)]
#[path = "../../../tests/fuzz/support.rs"]
mod fuzz_support;

pub use config::{ConfigError, GossipConfig, ReplayConfig};
pub use envelope::{Envelope, EnvelopeError, MessageKind, Verifier, ENVELOPE_VERSION};
pub use identity::{BindingError, PeerBinding};
pub use libp2p::Multiaddr;
pub use metrics::{DropCounters, DropReason};
pub use rate::RateLimit;
pub use service::{
    BroadcastTopic, GossipError, GossipEvent, GossipHandle, GossipService, Reply,
    MAX_BLOCKS_PER_REQUEST,
};
pub use store_sync::{split_by_store, StoreSync};
