//! Fuzzing the wire form of blocks (what cluster kettles gossip and serve for catch-up):
//! mutated encodings of blocks with every header shape and random bytes. Decoding never
//! panics, whatever decodes re-encodes to a block that decodes to itself, and length claims
//! of 2^32+ bytes are refused without allocating them.
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

#[path = "../../../../tests/fuzz/support.rs"]
mod fuzz_support;

use alloy_consensus::Header;
use alloy_primitives::{Address, Bytes, B256, B64};
use fuzz_support::{mutate, random_input, rlp_huge_header, Campaign, Rng, HUGE_LENGTHS};

use super::*;

#[global_allocator]
static ALLOC: fuzz_support::TrackingAlloc = fuzz_support::TrackingAlloc;

const MAX: usize = 64 << 10;

fn any_block(rng: &mut Rng) -> WireBlock {
    let mut header = Header {
        parent_hash: B256::repeat_byte(rng.byte()),
        beneficiary: Address::repeat_byte(rng.byte()),
        number: rng.edge_u64(),
        gas_limit: rng.edge_u64(),
        gas_used: rng.edge_u64(),
        timestamp: rng.edge_u64(),
        extra_data: Bytes::from(rng.bytes_below(120)),
        nonce: B64::repeat_byte(rng.byte()),
        ..Default::default()
    };
    // Optional fields come in fork order: London, Shanghai, Cancun, Prague.
    let forks = rng.below(5);
    if forks >= 1 {
        header.base_fee_per_gas = Some(rng.edge_u64());
    }
    if forks >= 2 {
        header.withdrawals_root = Some(B256::repeat_byte(rng.byte()));
    }
    if forks >= 3 {
        header.blob_gas_used = Some(rng.edge_u64());
        header.excess_blob_gas = Some(rng.edge_u64());
        header.parent_beacon_block_root = Some(B256::repeat_byte(rng.byte()));
    }
    if forks >= 4 {
        header.requests_hash = Some(B256::repeat_byte(rng.byte()));
    }
    WireBlock {
        header,
        transactions: (0..rng.below(4))
            .map(|_| Bytes::from(rng.bytes_below(90)))
            .collect(),
    }
}

#[test]
fn fuzz_wire_block_decoding() {
    let donors: Vec<Vec<u8>> = (0..6)
        .map(|i| any_block(&mut Rng::for_case(5, "donor", i)).encode())
        .collect();
    let outcomes = Campaign::new("chain/wire-block", 1).run(|case| {
        let rng = &mut case.rng;
        let valid = any_block(rng).encode();
        let bytes = match rng.below(8) {
            0 => random_input(rng, 600, &[0xf9, 0xf8, 0xc0]),
            1 => valid,
            _ => mutate(rng, &valid, &donors),
        };
        case.record(&bytes);
        match WireBlock::decode(&bytes, MAX) {
            Ok(block) => {
                let again = block.encode();
                assert_eq!(WireBlock::decode(&again, usize::MAX), Ok(block));
                "decoded"
            }
            Err(_) => "refused",
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["decoded", "refused"]);
}

#[test]
fn huge_length_prefixes_are_refused_quickly() {
    let start = std::time::Instant::now();
    let good = any_block(&mut Rng::for_case(0, "huge", 0)).encode();
    for claim in HUGE_LENGTHS {
        for list in [true, false] {
            let mut bytes = rlp_huge_header(list, claim);
            bytes.extend_from_slice(&good);
            assert!(WireBlock::decode(&bytes, usize::MAX).is_err());
            // Nested: in place of the header, and of the transaction list.
            for at in [3, good.len() / 2, good.len().saturating_sub(5)] {
                let mut nested = good.clone();
                nested.splice(at..at, rlp_huge_header(list, claim));
                let _ = WireBlock::decode(&nested, usize::MAX);
            }
        }
    }
    assert!(fuzz_support::largest_alloc() < 1 << 20);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}
