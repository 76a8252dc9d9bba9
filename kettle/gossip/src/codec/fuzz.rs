//! Fuzzing the point-to-point frames: random and mutated frames through the codec's
//! request and response readers, and huge length prefixes refused before allocation.
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

use crate::fuzz_support;
use alloy_primitives::{Address, Bytes};
use futures::executor::block_on;
use futures::io::Cursor;
use fuzz_support::{mutate, random_input, Campaign, Rng, HUGE_U32};
use libp2p::request_response::Codec;

use super::*;

#[global_allocator]
static ALLOC: fuzz_support::TrackingAlloc = fuzz_support::TrackingAlloc;

const MAX_FRAME: usize = 16 << 10;

fn codec() -> KettleCodec {
    KettleCodec {
        max_frame: MAX_FRAME,
    }
}

fn binding(rng: &mut Rng) -> PeerBinding {
    PeerBinding {
        kettle: Address::repeat_byte(rng.byte()),
        peer_id: Bytes::from(rng.bytes_below(40)),
        genesis: alloy_primitives::B256::repeat_byte(rng.byte()),
        signature: Bytes::from(rng.bytes(65)),
    }
}

fn request_frame(rng: &mut Rng) -> Vec<u8> {
    let req = match rng.below(3) {
        0 => P2pRequest::Hello(binding(rng)),
        1 => P2pRequest::Envelope(rng.bytes_below(200)),
        _ => P2pRequest::GetBlocks {
            from: rng.edge_u64(),
            max: rng.next_u64() as u32,
        },
    };
    let mut out = Vec::new();
    block_on(codec().write_request(&PROTOCOL, &mut out, req)).expect("write");
    out
}

fn response_frame(rng: &mut Rng) -> Vec<u8> {
    let res = match rng.below(5) {
        0 => P2pResponse::Hello(binding(rng)),
        1 => P2pResponse::Accepted,
        2 => P2pResponse::Cursor(rng.edge_u64()),
        3 => P2pResponse::Blocks((0..rng.below(4)).map(|_| rng.bytes_below(60)).collect()),
        _ => P2pResponse::Rejected(rng.text(20)),
    };
    let mut out = Vec::new();
    block_on(codec().write_response(&PROTOCOL, &mut out, res)).expect("write");
    out
}

fn frame(rng: &mut Rng, valid: Vec<u8>) -> Vec<u8> {
    match rng.below(8) {
        0 => random_input(rng, 120, &[0]),
        1 => valid,
        _ => mutate(rng, &valid, &[]),
    }
}

#[test]
fn fuzz_frames() {
    let outcomes = Campaign::new("gossip/frames", 1).run(|case| {
        let rng = &mut case.rng;
        let (bytes, request) = if rng.one_in(2) {
            let valid = request_frame(rng);
            (frame(rng, valid), true)
        } else {
            let valid = response_frame(rng);
            (frame(rng, valid), false)
        };
        case.record(&bytes);
        let mut io = Cursor::new(&bytes);
        if request {
            match block_on(codec().read_request(&PROTOCOL, &mut io)) {
                Ok(P2pRequest::Malformed) => "request-malformed",
                Ok(_) => "request",
                Err(_) => "request-refused",
            }
        } else {
            match block_on(codec().read_response(&PROTOCOL, &mut io)) {
                Ok(P2pResponse::Malformed) => "response-malformed",
                Ok(P2pResponse::Rejected(reason)) => {
                    assert!(reason.len() <= 64 * 3, "unbounded rejection reason");
                    "response"
                }
                Ok(_) => "response",
                Err(_) => "response-refused",
            }
        }
    });
    fuzz_support::assert_outcomes(
        &outcomes,
        &["request", "request-refused", "response", "response-refused"],
    );
}

/// Frame lengths above the cap (up to 4 GiB) fail the stream before anything is allocated.
#[test]
fn huge_frame_lengths_are_refused_quickly() {
    let start = std::time::Instant::now();
    for claim in HUGE_U32.into_iter().chain([MAX_FRAME as u32 + 1]) {
        let mut bytes = claim.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[TAG_ENVELOPE; 32]);
        let err = block_on(codec().read_request(&PROTOCOL, &mut Cursor::new(&bytes)))
            .expect_err("huge frame");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let err = block_on(codec().read_response(&PROTOCOL, &mut Cursor::new(&bytes)))
            .expect_err("huge frame");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
    // Blocks whose RLP list claims 2^32 bytes inside a small frame: malformed, not allocated.
    let mut body = vec![TAG_BLOCKS];
    body.extend_from_slice(&fuzz_support::rlp_huge_header(true, 1 << 32));
    let mut bytes = (body.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&body);
    assert!(matches!(
        block_on(codec().read_response(&PROTOCOL, &mut Cursor::new(&bytes))),
        Ok(P2pResponse::Malformed)
    ));
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}
