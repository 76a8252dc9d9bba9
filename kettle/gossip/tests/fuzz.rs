//! Fuzzing what a kettle decodes from its peers: signed envelopes (and the whole receive-side
//! check), store-sync batches and peer bindings, fed mutated valid messages and random
//! bytes. Nothing panics; a damaged message is never accepted as something its origin did
//! not sign. Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see
//! `tests/fuzz/support.rs`).

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz_support;

use alloy_primitives::{Address, Bytes, B256};
use alloy_signer_local::PrivateKeySigner;
use fuzz_support::{
    mutate, random_input, rlp_huge_header, Campaign, Rng, TrackingAlloc, HUGE_LENGTHS,
};
use kettle_gossip::{
    DropReason, Envelope, MessageKind, PeerBinding, ReplayConfig, StoreSync, Verifier,
};
use kettle_primitives::{DataId, DataRecord};
use libp2p::PeerId;
use suave_precompiles::{StoreWrite, StoreWriteSet};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc;

const NOW: u64 = 1_700_000_000_000;
const MAX_MESSAGE: usize = 64 << 10;
const KINDS: [MessageKind; 3] = [
    MessageKind::Block,
    MessageKind::Transaction,
    MessageKind::StoreWrites,
];

fn key() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).expect("key")
}

fn any_sync(rng: &mut Rng) -> StoreSync {
    let addrs = |rng: &mut Rng| -> Vec<Address> {
        (0..rng.below(3))
            .map(|_| Address::repeat_byte(rng.byte()))
            .collect()
    };
    let records: Vec<DataRecord> = (0..rng.below(3))
        .map(|_| {
            DataRecord::new(
                DataId::repeat_byte(rng.byte()),
                rng.edge_u64(),
                addrs(rng),
                addrs(rng),
                rng.text(16),
            )
        })
        .collect();
    let writes = (0..rng.below(3))
        .map(|_| StoreWrite {
            id: DataId::repeat_byte(rng.byte()),
            key: rng.text(8),
            value: Bytes::from(rng.bytes_below(40)),
            caller: Address::repeat_byte(rng.byte()),
        })
        .collect();
    StoreSync {
        commit_seq: rng.edge_u64(),
        write_set: StoreWriteSet { records, writes },
    }
}

fn any_batch(rng: &mut Rng) -> Vec<StoreSync> {
    (0..1 + rng.below(3)).map(|_| any_sync(rng)).collect()
}

/// A handful of signed envelopes of every kind (signing is slow in debug builds, so the
/// campaign mutates these instead of signing per case).
fn signed_corpus() -> Vec<Envelope> {
    let key = key();
    let mut rng = Rng::for_case(0, "gossip/corpus", 0);
    (0..12u64)
        .map(|i| {
            let kind = KINDS[i as usize % 3];
            let payload = match kind {
                MessageKind::StoreWrites => StoreSync::encode_batch(&any_batch(&mut rng)),
                _ => rng.bytes_below(120),
            };
            Envelope::sign(&key, kind, i + 1, NOW, Bytes::from(payload)).expect("sign")
        })
        .collect()
}

#[test]
fn fuzz_envelope_receive_checks() {
    let key = key();
    let corpus = signed_corpus();
    let encoded: Vec<Vec<u8>> = corpus.iter().map(Envelope::encode).collect();
    let outcomes = Campaign::new("gossip/envelope", 4).run(|case| {
        let rng = &mut case.rng;
        let i = rng.below(corpus.len());
        let original = &corpus[i];
        let bytes = match rng.below(8) {
            0 => random_input(rng, 300, &[0xf8, 0xf9, 0xc0]),
            1 => encoded[i].clone(),
            _ => mutate(rng, &encoded[i], &encoded),
        };
        case.record(&bytes);
        let decoded = Envelope::decode(&bytes, MAX_MESSAGE);
        let mut verifier = Verifier::new([key.address()], MAX_MESSAGE, ReplayConfig::default());
        match verifier.check(&bytes, original.kind, NOW) {
            Ok(env) => {
                // Accepted: exactly what the origin signed (the signature bytes may differ
                // only in a malleable encoding that still verifies).
                assert_eq!(env.id(), original.id(), "accepted a forged envelope");
                assert_eq!(
                    (
                        env.kind,
                        env.origin,
                        env.seq,
                        env.timestamp_ms,
                        &env.payload
                    ),
                    (
                        original.kind,
                        original.origin,
                        original.seq,
                        original.timestamp_ms,
                        &original.payload
                    )
                );
                assert_eq!(decoded.as_ref(), Ok(&env));
                if original.kind == MessageKind::StoreWrites {
                    assert!(StoreSync::decode_batch(&env.payload).is_some());
                }
                "accepted"
            }
            Err(reason) => {
                if let Ok(env) = decoded {
                    // What decodes but fails the checks is at least parsed consistently.
                    assert!(env.encode().len() <= MAX_MESSAGE + 8);
                    let _ = StoreSync::decode_batch(&env.payload);
                }
                match reason {
                    DropReason::Undecodable => "undecodable",
                    DropReason::BadSignature => "bad-signature",
                    DropReason::NotAllowed => "not-allowed",
                    DropReason::WrongChannel => "wrong-channel",
                    DropReason::Stale => "stale",
                    _ => "other-drop",
                }
            }
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["accepted", "undecodable", "bad-signature"]);
}

#[test]
fn fuzz_store_sync_decoding() {
    let donors: Vec<Vec<u8>> = (0..8)
        .map(|i| StoreSync::encode_batch(&any_batch(&mut Rng::for_case(3, "donor", i))))
        .collect();
    let outcomes = Campaign::new("gossip/store-sync", 1).run(|case| {
        let rng = &mut case.rng;
        let batch = any_batch(rng);
        let valid = StoreSync::encode_batch(&batch);
        let bytes = match rng.below(8) {
            0 => random_input(rng, 300, &[0xc0, 0xf8, 0xf9]),
            1 => valid,
            _ => mutate(rng, &valid, &donors),
        };
        case.record(&bytes);
        let single = StoreSync::decode(&bytes);
        if let Some(s) = &single {
            assert_eq!(s.encode(), bytes, "non-canonical commit accepted");
        }
        match StoreSync::decode_batch(&bytes) {
            Some(decoded) => {
                // RLP here is canonical: what decodes re-encodes to the same bytes.
                assert_eq!(
                    StoreSync::encode_batch(&decoded),
                    bytes,
                    "non-canonical batch accepted"
                );
                "decoded"
            }
            None => "refused",
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["decoded", "refused"]);
}

#[test]
fn fuzz_peer_binding_decoding() {
    let key = key();
    let peers: Vec<PeerId> = (0..4)
        .map(|i| {
            let mut secret = [0u8; 32];
            secret[0] = i + 1;
            let kp = libp2p::identity::Keypair::ed25519_from_bytes(secret).expect("ed25519");
            kp.public().to_peer_id()
        })
        .collect();
    let bindings: Vec<PeerBinding> = peers
        .iter()
        .map(|p| PeerBinding::sign(&key, p, GENESIS).expect("sign"))
        .collect();
    let encoded: Vec<Vec<u8>> = bindings.iter().map(alloy_rlp::encode).collect();
    let outcomes = Campaign::new("gossip/peer-binding", 4).run(|case| {
        let rng = &mut case.rng;
        let i = rng.below(bindings.len());
        let bytes = if rng.one_in(8) {
            encoded[i].clone()
        } else {
            mutate(rng, &encoded[i], &encoded)
        };
        case.record(&bytes);
        match alloy_rlp::decode_exact::<PeerBinding>(&bytes) {
            Ok(b) => match b.verify(&peers[i], &GENESIS) {
                Ok(kettle) => {
                    assert_eq!(kettle, key.address());
                    assert_eq!(b.kettle, bindings[i].kettle);
                    assert_eq!(b.peer_id, bindings[i].peer_id);
                    assert_eq!(b.genesis, GENESIS);
                    "verified"
                }
                Err(_) => "refused",
            },
            Err(_) => "undecodable",
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["verified", "undecodable"]);
}

/// Genesis hash the peer bindings of the fuzz test are signed for and checked against.
const GENESIS: alloy_primitives::B256 = alloy_primitives::B256::repeat_byte(0x6e);

/// RLP headers claiming 2^32 and more bytes, at the top or nested, are refused at once.
#[test]
fn huge_length_prefixes_are_refused_quickly() {
    let start = std::time::Instant::now();
    let good = Envelope::sign(&key(), MessageKind::Block, 1, NOW, Bytes::from_static(b"x"))
        .expect("sign")
        .encode();
    for claim in HUGE_LENGTHS {
        for list in [true, false] {
            let mut bytes = rlp_huge_header(list, claim);
            bytes.extend_from_slice(&[0u8; 64]);
            assert_eq!(
                Envelope::decode(&bytes, usize::MAX),
                Err(DropReason::Undecodable)
            );
            assert_eq!(StoreSync::decode_batch(&bytes), None);
            assert_eq!(StoreSync::decode(&bytes), None);
            assert!(alloy_rlp::decode_exact::<PeerBinding>(&bytes).is_err());
            // The payload string of a valid envelope claiming to be huge.
            let mut nested = good.clone();
            let at = nested.len() - 68; // just before the 65-byte signature string
            nested.splice(at..at, rlp_huge_header(list, claim));
            assert!(Envelope::decode(&nested, usize::MAX).is_err());
        }
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "took {elapsed:?}"
    );
}
