//! Fuzzing the sealed-plaintext codecs: record metadata and commit manifests (what
//! `store_records` and `store_log` hold once opened), and the AEAD envelope around them.
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

#[path = "../../../../tests/fuzz/support.rs"]
mod fuzz_support;

use alloy_primitives::Address;
use fuzz_support::{mutate, random_input, Campaign, Rng, HUGE_U32};
use kettle_primitives::{DataId, DataRecord};

use super::*;
use crate::crypto::{Binding, Kdf, Sealer, ValueNames};
use crate::KettleSecret;

#[global_allocator]
static ALLOC: fuzz_support::TrackingAlloc = fuzz_support::TrackingAlloc;

fn any_record(rng: &mut Rng) -> DataRecord {
    let addrs = |rng: &mut Rng| -> Vec<Address> {
        (0..rng.below(4))
            .map(|_| Address::repeat_byte(rng.byte()))
            .collect()
    };
    let mut salt = [0u8; 16];
    salt.iter_mut().for_each(|b| *b = rng.byte());
    DataRecord {
        id: DataId::repeat_byte(rng.byte()),
        salt: DataId::from(salt),
        decryption_condition: rng.edge_u64(),
        allowed_peekers: addrs(rng),
        allowed_stores: addrs(rng),
        version: rng.text(24),
    }
}

fn any_manifest(rng: &mut Rng) -> CommitManifest {
    CommitManifest {
        records: (0..rng.below(4))
            .map(|_| DataId::repeat_byte(rng.byte()))
            .collect(),
        writes: (0..rng.below(4))
            .map(|_| LoggedWrite {
                id: DataId::repeat_byte(rng.byte()),
                key: rng.text(12),
                caller: Address::repeat_byte(rng.byte()),
            })
            .collect(),
    }
}

/// A valid encoding, a damaged one, or random bytes behind a plausible version byte.
fn input(rng: &mut Rng, valid: Vec<u8>, donors: &[Vec<u8>]) -> Vec<u8> {
    match rng.below(4) {
        0 => random_input(rng, 200, &[RECORD_CODEC, MANIFEST_CODEC, 0]),
        1 => valid,
        _ => mutate(rng, &valid, donors),
    }
}

#[test]
fn fuzz_record_decoding() {
    let donors: Vec<Vec<u8>> = (0..8)
        .map(|i| encode_record(&any_record(&mut Rng::for_case(1, "donor", i))))
        .collect();
    let outcomes = Campaign::new("store/record", 1).run(|case| {
        let record = any_record(&mut case.rng);
        let bytes = input(&mut case.rng, encode_record(&record), &donors);
        case.record(&bytes);
        match decode_record(record.id, &bytes) {
            // The layout is canonical: whatever decodes re-encodes to the same bytes.
            Some(decoded) => {
                assert_eq!(
                    encode_record(&decoded),
                    bytes,
                    "non-canonical record accepted"
                );
                "decoded"
            }
            None => "refused",
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["decoded", "refused"]);
}

#[test]
fn fuzz_manifest_decoding() {
    let donors: Vec<Vec<u8>> = (0..8)
        .map(|i| encode_manifest(&any_manifest(&mut Rng::for_case(2, "donor", i))))
        .collect();
    let outcomes = Campaign::new("store/manifest", 1).run(|case| {
        let manifest = any_manifest(&mut case.rng);
        let bytes = input(&mut case.rng, encode_manifest(&manifest), &donors);
        case.record(&bytes);
        match decode_manifest(&bytes) {
            Some(decoded) => {
                assert_eq!(
                    encode_manifest(&decoded),
                    bytes,
                    "non-canonical manifest accepted"
                );
                "decoded"
            }
            None => "refused",
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["decoded", "refused"]);
}

#[test]
fn fuzz_sealed_blob_opening() {
    let kdf = Kdf::new(&[9u8; 32], &KettleSecret::from_array([3; 32]));
    let sealer = Sealer::new(
        vec![kdf.epoch_key(&[1u8; 32]), kdf.epoch_key(&[2u8; 32])],
        ValueNames::AesCmac,
    );
    let outcomes = Campaign::new("store/sealed", 2).run(|case| {
        let rng = &mut case.rng;
        let record = any_record(rng);
        let plain = encode_record(&record);
        let sealed = sealer
            .seal(Binding::Record(&record.id), &plain)
            .expect("seal");
        let bytes = if rng.one_in(8) {
            random_input(rng, 120, &[1])
        } else {
            mutate(rng, &sealed, &[])
        };
        case.record(&bytes);
        match sealer.open(Binding::Record(&record.id), &bytes) {
            // AES-GCM: only the untouched blob opens, to the plaintext sealed.
            Ok(opened) => {
                assert_eq!(bytes, sealed, "a damaged blob authenticated");
                assert_eq!(opened, plain);
                "opened"
            }
            Err(_) => "refused",
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["refused"]);
}

/// Length and count fields claiming 2^31 and more items or bytes are refused at once,
/// without allocating what they claim.
#[test]
fn huge_length_prefixes_are_refused_quickly() {
    let record = DataRecord::new(
        DataId::repeat_byte(7),
        5,
        vec![Address::repeat_byte(1)],
        vec![Address::repeat_byte(2)],
        "ns".into(),
    );
    let good = encode_record(&record);
    // version byte, salt (16), condition (8), then the peekers count at 25.
    let peekers_at = 25;
    let stores_at = peekers_at + 4 + 20;
    let version_at = stores_at + 4 + 20;
    let start = std::time::Instant::now();
    for claim in HUGE_U32 {
        let claim = claim.to_be_bytes();
        for at in [peekers_at, stores_at, version_at] {
            let mut bad = good.clone();
            bad[at..at + 4].copy_from_slice(&claim);
            assert_eq!(decode_record(record.id, &bad), None, "claim at {at}");
        }
        for prefix in [vec![MANIFEST_CODEC], vec![MANIFEST_CODEC, 0, 0, 0, 0]] {
            let mut bad = prefix;
            bad.extend_from_slice(&claim);
            bad.extend_from_slice(&[0u8; 64]);
            assert_eq!(decode_manifest(&bad), None);
        }
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "huge claims took {:?}",
        start.elapsed()
    );
}
