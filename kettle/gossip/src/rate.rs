//! Per-peer rate limit of inbound messages: one token bucket per libp2p peer.
//!
//! Every inbound gossipsub message (counted against the peer that forwarded it) and every
//! inbound point-to-point request except the identity handshake takes one token. A peer's
//! bucket holds at most `burst` tokens and refills at `per_second` tokens a second; a message
//! that finds the bucket empty is dropped and counted as
//! [`DropReason::RateLimited`](crate::DropReason::RateLimited), so one noisy or hostile peer
//! cannot monopolise the node's verification work while the others are still served.

use std::{collections::HashMap, time::Instant};

use libp2p::PeerId;

/// Rate limit settings of inbound messages, per peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained messages per second accepted from one peer; `0` disables the limit.
    pub per_second: u32,
    /// Messages one peer may send at once above the sustained rate (the bucket size).
    pub burst: u32,
}

impl Default for RateLimit {
    /// 5 000 messages a second with bursts of 10 000: far above what a cluster exchanges
    /// under load (consecutive store commits share messages), low enough to cut a flood.
    fn default() -> Self {
        Self {
            per_second: 5_000,
            burst: 10_000,
        }
    }
}

impl RateLimit {
    /// Whether the limit is switched off.
    pub fn is_disabled(&self) -> bool {
        self.per_second == 0
    }
}

/// One peer's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets of the connected peers.
#[derive(Debug)]
pub(crate) struct PeerRateLimiter {
    limit: RateLimit,
    buckets: HashMap<PeerId, Bucket>,
}

impl PeerRateLimiter {
    /// Buckets under `limit`.
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: HashMap::new(),
        }
    }

    /// Takes a token from `peer`'s bucket at time `now`; `false` if it was empty (the message
    /// must be dropped).
    pub(crate) fn allow(&mut self, peer: PeerId, now: Instant) -> bool {
        if self.limit.is_disabled() {
            return true;
        }
        let burst = f64::from(self.limit.burst.max(1));
        let bucket = self.buckets.entry(peer).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated);
        bucket.tokens =
            (bucket.tokens + elapsed.as_secs_f64() * f64::from(self.limit.per_second)).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets a disconnected peer (a reconnecting peer starts with a full bucket, but has
    /// to pay the connection and handshake for it).
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        self.buckets.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_the_sustained_rate() {
        let limit = RateLimit {
            per_second: 10,
            burst: 5,
        };
        let mut limiter = PeerRateLimiter::new(limit);
        let (a, b) = (PeerId::random(), PeerId::random());
        let t0 = Instant::now();
        assert!((0..5).all(|_| limiter.allow(a, t0)));
        assert!(
            !limiter.allow(a, t0),
            "the sixth message at once is over the limit"
        );
        // Another peer has its own bucket.
        assert!(limiter.allow(b, t0));
        // After 100 ms one more token (10/s).
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.allow(a, t1));
        assert!(!limiter.allow(a, t1));
        // A long pause refills no more than the burst.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!((0..20).filter(|_| limiter.allow(a, t2)).count(), 5);
        limiter.forget(&a);
        assert!(limiter.allow(a, t2));
    }

    #[test]
    fn zero_rate_disables_the_limit() {
        let limit = RateLimit {
            per_second: 0,
            burst: 0,
        };
        assert!(limit.is_disabled());
        let mut limiter = PeerRateLimiter::new(limit);
        let peer = PeerId::random();
        let now = Instant::now();
        assert!((0..100_000).all(|_| limiter.allow(peer, now)));
    }
}
