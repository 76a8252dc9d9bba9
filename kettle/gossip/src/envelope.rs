//! The signed envelope every application message travels in, and its verification.
//!
//! Wire format (version 1): the RLP list
//! `[version, kind, origin, seq, timestamp_ms, payload, signature]` where `signature` is the
//! 65-byte `r ‖ s ‖ v` secp256k1 signature of the origin kettle over
//! `keccak256("kettle-gossip/envelope/v1" ‖ rlp([version, kind, origin, seq, timestamp_ms, payload]))`.
//! That digest is also the message id. RLP is deterministic, length-prefixed and decoded
//! without panics (alloy-rlp); the whole input is size-checked before decoding.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use alloy_primitives::{keccak256, Address, Bytes, Signature, B256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

use crate::{config::ReplayConfig, metrics::DropReason};

/// Envelope format version this build writes and accepts.
pub const ENVELOPE_VERSION: u8 = 1;

/// Domain separator of envelope signatures (never valid as another kettle signature).
const SIGNING_DOMAIN: &[u8] = b"kettle-gossip/envelope/v1";

/// What an envelope carries; signed, so a message cannot be moved to another channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A SUAVE chain block (broadcast on [`crate::BroadcastTopic::Blocks`]).
    Block,
    /// A SUAVE transaction (broadcast on [`crate::BroadcastTopic::Transactions`]).
    Transaction,
    /// Committed store writes (point-to-point only, never broadcast).
    StoreWrites,
}

impl MessageKind {
    /// The wire byte.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Block => 1,
            Self::Transaction => 2,
            Self::StoreWrites => 3,
        }
    }

    /// Parses the wire byte.
    pub const fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Block),
            2 => Some(Self::Transaction),
            3 => Some(Self::StoreWrites),
            _ => None,
        }
    }
}

/// Why an envelope could not be built or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The signer failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The encoded envelope exceeds the size limit.
    #[error("envelope of {size} bytes exceeds the limit of {limit}")]
    Oversized {
        /// Encoded size.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// A verification step failed.
    #[error("envelope dropped: {}", .0.as_str())]
    Dropped(DropReason),
}

/// The signed fields, in wire order.
#[derive(RlpEncodable)]
struct Unsigned<'a> {
    version: u8,
    kind: u8,
    origin: &'a Address,
    seq: u64,
    timestamp_ms: u64,
    payload: &'a Bytes,
}

/// The full wire form.
#[derive(RlpEncodable, RlpDecodable)]
struct Wire {
    version: u8,
    kind: u8,
    origin: Address,
    seq: u64,
    timestamp_ms: u64,
    payload: Bytes,
    signature: Bytes,
}

/// A signed application message. Holding one does not imply it was verified; the service
/// only hands out envelopes that passed [`Verifier::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// What the payload is.
    pub kind: MessageKind,
    /// Kettle address of the sender (the signer).
    pub origin: Address,
    /// Per-origin monotonic sequence number.
    pub seq: u64,
    /// Sender's wall clock at signing, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Application bytes (opaque here, except for store writes).
    pub payload: Bytes,
    /// Origin's signature over [`Envelope::id`].
    pub signature: Signature,
}

fn signing_hash(
    kind: MessageKind,
    origin: &Address,
    seq: u64,
    timestamp_ms: u64,
    payload: &Bytes,
) -> B256 {
    let unsigned = Unsigned {
        version: ENVELOPE_VERSION,
        kind: kind.to_u8(),
        origin,
        seq,
        timestamp_ms,
        payload,
    };
    let mut buf = Vec::with_capacity(SIGNING_DOMAIN.len() + payload.len() + 64);
    buf.extend_from_slice(SIGNING_DOMAIN);
    alloy_rlp::Encodable::encode(&unsigned, &mut buf);
    keccak256(&buf)
}

impl Envelope {
    /// Signs `payload` as `kind` from the signer's kettle address.
    pub fn sign(
        signer: &PrivateKeySigner,
        kind: MessageKind,
        seq: u64,
        timestamp_ms: u64,
        payload: Bytes,
    ) -> Result<Self, EnvelopeError> {
        let origin = signer.address();
        let hash = signing_hash(kind, &origin, seq, timestamp_ms, &payload);
        let signature = signer
            .sign_hash_sync(&hash)
            .map_err(|e| EnvelopeError::Signing(e.to_string()))?;
        Ok(Self {
            kind,
            origin,
            seq,
            timestamp_ms,
            payload,
            signature,
        })
    }

    /// The message id: the digest the origin signed. Independent of the signature bytes,
    /// so a malleated signature cannot make a replay look new.
    pub fn id(&self) -> B256 {
        signing_hash(
            self.kind,
            &self.origin,
            self.seq,
            self.timestamp_ms,
            &self.payload,
        )
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let wire = Wire {
            version: ENVELOPE_VERSION,
            kind: self.kind.to_u8(),
            origin: self.origin,
            seq: self.seq,
            timestamp_ms: self.timestamp_ms,
            payload: self.payload.clone(),
            signature: Bytes::copy_from_slice(&self.signature.as_bytes()),
        };
        alloy_rlp::encode(&wire)
    }

    /// Parses wire bytes (size, structure, version and kind only; no signature check).
    /// Never panics, whatever the input.
    pub fn decode(bytes: &[u8], max_len: usize) -> Result<Self, DropReason> {
        if bytes.len() > max_len {
            return Err(DropReason::Oversized);
        }
        let wire: Wire = alloy_rlp::decode_exact(bytes).map_err(|_| DropReason::Undecodable)?;
        if wire.version != ENVELOPE_VERSION {
            return Err(DropReason::Undecodable);
        }
        let kind = MessageKind::from_u8(wire.kind).ok_or(DropReason::Undecodable)?;
        if wire.signature.len() != 65 {
            return Err(DropReason::Undecodable);
        }
        let signature =
            Signature::try_from(wire.signature.as_ref()).map_err(|_| DropReason::BadSignature)?;
        Ok(Self {
            kind,
            origin: wire.origin,
            seq: wire.seq,
            timestamp_ms: wire.timestamp_ms,
            payload: wire.payload,
            signature,
        })
    }

    /// Whether the signature was made by `origin` over [`Envelope::id`].
    pub fn signature_is_valid(&self) -> bool {
        self.signature
            .recover_address_from_prehash(&self.id())
            .is_ok_and(|signer| signer == self.origin)
    }
}

/// Per-origin sliding window of accepted sequence numbers.
#[derive(Debug, Default)]
struct OriginWindow {
    highest: Option<u64>,
    seen: BTreeSet<u64>,
}

impl OriginWindow {
    fn is_replay(&self, seq: u64, window: u64) -> bool {
        let Some(highest) = self.highest else {
            return false;
        };
        if seq > highest {
            return false;
        }
        window == 0 || highest - seq >= window || self.seen.contains(&seq)
    }

    fn accept(&mut self, seq: u64, window: u64) {
        let highest = self.highest.map_or(seq, |h| h.max(seq));
        self.highest = Some(highest);
        if window > 0 {
            self.seen.insert(seq);
            let floor = highest.saturating_sub(window);
            // Drop everything below the window; its size stays ≤ `window`.
            self.seen = self.seen.split_off(&floor);
        }
    }
}

/// Stateful receive-side checks shared by broadcast and point-to-point paths: size,
/// decoding, channel, allow-list, freshness, signature, replay. Cheap checks run first;
/// replay state is only updated for messages whose signature verified, so forgeries cannot
/// poison it.
#[derive(Debug)]
pub struct Verifier {
    cluster: HashSet<Address>,
    max_message_bytes: usize,
    replay: ReplayConfig,
    windows: HashMap<Address, OriginWindow>,
    recent: HashSet<B256>,
    recent_order: VecDeque<B256>,
}

impl Verifier {
    /// A verifier for the given allow-list and limits.
    pub fn new(
        cluster: impl IntoIterator<Item = Address>,
        max_message_bytes: usize,
        replay: ReplayConfig,
    ) -> Self {
        Self {
            cluster: cluster.into_iter().collect(),
            max_message_bytes,
            replay,
            windows: HashMap::new(),
            recent: HashSet::new(),
            recent_order: VecDeque::new(),
        }
    }

    /// Whether `kettle` is in the cluster allow-list.
    pub fn is_allowed(&self, kettle: &Address) -> bool {
        self.cluster.contains(kettle)
    }

    /// Runs every check on `bytes` arriving on a channel that carries `expected` and, when
    /// they pass, records the message as seen. `now_ms` is the local wall clock.
    pub fn check(
        &mut self,
        bytes: &[u8],
        expected: MessageKind,
        now_ms: u64,
    ) -> Result<Envelope, DropReason> {
        let env = Envelope::decode(bytes, self.max_message_bytes)?;
        if env.kind != expected {
            return Err(DropReason::WrongChannel);
        }
        if !self.cluster.contains(&env.origin) {
            return Err(DropReason::NotAllowed);
        }
        let max_age = u64::try_from(self.replay.max_age.as_millis()).unwrap_or(u64::MAX);
        let skew = u64::try_from(self.replay.max_future_skew.as_millis()).unwrap_or(u64::MAX);
        if env.timestamp_ms < now_ms.saturating_sub(max_age)
            || env.timestamp_ms > now_ms.saturating_add(skew)
        {
            return Err(DropReason::Stale);
        }
        let id = env.id();
        let window = self.replay.seq_window;
        if self.recent.contains(&id)
            || self
                .windows
                .get(&env.origin)
                .is_some_and(|w| w.is_replay(env.seq, window))
        {
            return Err(DropReason::Replay);
        }
        if !env.signature_is_valid() {
            return Err(DropReason::BadSignature);
        }
        self.windows
            .entry(env.origin)
            .or_default()
            .accept(env.seq, window);
        self.remember(id);
        Ok(env)
    }

    fn remember(&mut self, id: B256) {
        if self.replay.recent_ids == 0 {
            return;
        }
        if self.recent.insert(id) {
            self.recent_order.push_back(id);
        }
        while self.recent_order.len() > self.replay.recent_ids {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz_support;
    use proptest::prelude::*;

    const NOW: u64 = 1_700_000_000_000;

    fn verifier(cluster: &[Address]) -> Verifier {
        Verifier::new(cluster.iter().copied(), 4096, ReplayConfig::default())
    }

    fn signed(signer: &PrivateKeySigner, seq: u64, payload: &'static [u8]) -> Envelope {
        Envelope::sign(
            signer,
            MessageKind::Block,
            seq,
            NOW,
            Bytes::from_static(payload),
        )
        .expect("sign")
    }

    #[test]
    fn round_trip_and_verify() {
        let key = PrivateKeySigner::random();
        let env = signed(&key, 7, b"block");
        let bytes = env.encode();
        let decoded = Envelope::decode(&bytes, 4096).expect("decode");
        assert_eq!(decoded, env);
        assert!(decoded.signature_is_valid());
        let mut v = verifier(&[key.address()]);
        assert_eq!(v.check(&bytes, MessageKind::Block, NOW), Ok(env));
    }

    #[test]
    fn drops_each_failure_with_its_reason() {
        let key = PrivateKeySigner::random();
        let outsider = PrivateKeySigner::random();
        let mut v = verifier(&[key.address()]);
        let env = signed(&key, 10, b"x");

        assert_eq!(
            v.check(
                &signed(&outsider, 1, b"x").encode(),
                MessageKind::Block,
                NOW
            ),
            Err(DropReason::NotAllowed)
        );
        assert_eq!(
            v.check(&env.encode(), MessageKind::Transaction, NOW),
            Err(DropReason::WrongChannel)
        );
        assert_eq!(
            v.check(&[0xc0], MessageKind::Block, NOW),
            Err(DropReason::Undecodable)
        );
        assert_eq!(
            v.check(&vec![0u8; 5000], MessageKind::Block, NOW),
            Err(DropReason::Oversized)
        );
        assert_eq!(
            v.check(&env.encode(), MessageKind::Block, NOW + 3_600_000),
            Err(DropReason::Stale)
        );

        // Tampered payload: the signature no longer matches (recovers another address).
        let mut tampered = env.clone();
        tampered.payload = Bytes::from_static(b"y");
        assert_eq!(
            v.check(&tampered.encode(), MessageKind::Block, NOW),
            Err(DropReason::BadSignature)
        );
        // Claimed origin is an allowed kettle but someone else signed.
        let mut forged = signed(&outsider, 11, b"x");
        forged.origin = key.address();
        assert_eq!(
            v.check(&forged.encode(), MessageKind::Block, NOW),
            Err(DropReason::BadSignature)
        );

        // Forgeries did not poison the replay state: the genuine message passes once.
        assert!(v.check(&env.encode(), MessageKind::Block, NOW).is_ok());
        assert_eq!(
            v.check(&env.encode(), MessageKind::Block, NOW),
            Err(DropReason::Replay)
        );
    }

    #[test]
    fn replay_window() {
        let key = PrivateKeySigner::random();
        let replay = ReplayConfig {
            seq_window: 4,
            ..ReplayConfig::default()
        };
        let mut v = Verifier::new([key.address()], 4096, replay);
        for seq in [10, 8, 9] {
            assert!(v
                .check(&signed(&key, seq, b"a").encode(), MessageKind::Block, NOW)
                .is_ok());
        }
        // Different payload, same seq: a replayed sequence number.
        assert_eq!(
            v.check(&signed(&key, 9, b"b").encode(), MessageKind::Block, NOW),
            Err(DropReason::Replay)
        );
        // Below the window.
        assert_eq!(
            v.check(&signed(&key, 6, b"a").encode(), MessageKind::Block, NOW),
            Err(DropReason::Replay)
        );
        assert!(v
            .check(&signed(&key, 7, b"a").encode(), MessageKind::Block, NOW)
            .is_ok());

        let strict = ReplayConfig {
            seq_window: 0,
            ..ReplayConfig::default()
        };
        let mut v = Verifier::new([key.address()], 4096, strict);
        assert!(v
            .check(&signed(&key, 5, b"a").encode(), MessageKind::Block, NOW)
            .is_ok());
        assert_eq!(
            v.check(&signed(&key, 4, b"a").encode(), MessageKind::Block, NOW),
            Err(DropReason::Replay)
        );
    }

    proptest! {
        #![proptest_config(fuzz_support::proptest_config!("gossip/envelope-proptest", 8))]

        #[test]
        fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Envelope::decode(&bytes, 4096);
            let mut v = Verifier::new([Address::ZERO], 4096, ReplayConfig::default());
            let _ = v.check(&bytes, MessageKind::Block, NOW);
        }

        #[test]
        fn mutated_envelopes_never_panic(flip in 0usize..200, byte in any::<u8>(), cut in 0usize..200) {
            let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).expect("key");
            let mut bytes = Envelope::sign(&key, MessageKind::Transaction, 1, NOW, Bytes::from_static(b"payload"))
                .expect("sign")
                .encode();
            let i = flip % bytes.len();
            bytes[i] = byte;
            bytes.truncate(bytes.len().saturating_sub(cut % 8));
            let _ = Envelope::decode(&bytes, 4096);
        }
    }
}
