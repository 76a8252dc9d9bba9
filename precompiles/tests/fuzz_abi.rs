//! Fuzzing the ABI input decoding of every SUAVE precompile through the public entry point
//! [`run_precompile`]: well-formed inputs, the same damaged (flipped, truncated, extended,
//! offsets and lengths set to 2^32 and more) and random bytes, at every address. Each call
//! answers or fails with a message; none panics or allocates what a hostile length claims.
//! The network and builder precompiles run without backends here (see
//! `precompiles/network/tests/fuzz.rs` for them with backends).
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

#[path = "../../tests/fuzz/support.rs"]
mod fuzz_support;

#[path = "../../tests/fuzz/precompile_inputs.rs"]
mod precompile_inputs;

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolCall;
use fuzz_support::{mutate, Campaign, Rng, TrackingAlloc};
use kettle_contracts::precompiles::SuavePrecompiles as abi;
use kettle_primitives::ConfidentialComputeRequest;
use precompile_inputs::{
    case_input, donor_inputs, every_address, outcome, seeded_store, tx_pool, valid_input,
};
use suave_precompiles::{addresses, run_precompile, KettleContext};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc;

fn request() -> ConfidentialComputeRequest {
    ConfidentialComputeRequest {
        confidential_inputs: Bytes::from_static(b"confidential inputs"),
        ..Default::default()
    }
}

#[test]
fn fuzz_every_precompile_input() {
    let txs = tx_pool();
    let seeded = seeded_store(&txs);
    let kettle = KettleContext::new(Address::repeat_byte(0xee), 16_813_125);
    let request = request();
    let all = every_address();
    let donors = donor_inputs("precompiles/donors", &seeded, &txs);
    let mut by_address: BTreeMap<Address, BTreeMap<&'static str, u64>> = BTreeMap::new();
    let outcomes = Campaign::new("precompiles/abi", 1).run(|case| {
        let rng = &mut case.rng;
        let address = *rng.pick(&all);
        let input = case_input(rng, address, &seeded, &txs, &donors);
        case.record(&input);
        let result = run_precompile(address, &input, &request, &kettle, &seeded.store, None);
        let name = outcome(&result);
        *by_address
            .entry(address)
            .or_default()
            .entry(name)
            .or_default() += 1;
        name
    });
    println!("precompiles/abi outcomes by address: {by_address:?}");
    assert!(outcomes.contains_key("undecodable"), "{outcomes:?}");
    assert!(outcomes.contains_key("ok"), "{outcomes:?}");
}

/// The generators reach every built-in precompile's logic: each accepts some well-formed
/// input and refuses some damaged one (so the campaign above is not only exercising the
/// decoder's error path).
#[test]
fn every_builtin_precompile_accepts_and_refuses() {
    let txs = tx_pool();
    let seeded = seeded_store(&txs);
    let kettle = KettleContext::new(Address::repeat_byte(0xee), 16_813_125);
    let request = request();
    let external = suave_precompiles_external();
    for (name, address) in addresses::ALL {
        if external.contains(&address) {
            continue;
        }
        let mut rng = Rng::for_case(0, name, 0);
        let accepted = (0..500).any(|_| {
            let mut input = valid_input(&mut rng, address, &seeded.ids, &txs);
            if address == addresses::AES_DECRYPT {
                // Random ciphertexts never authenticate: decrypt what aesEncrypt made.
                let key = Bytes::from(vec![7u8; 32]);
                let encrypt = abi::aesEncryptCall {
                    key: key.clone(),
                    message: Bytes::from_static(b"message"),
                }
                .abi_encode();
                let sealed = run_precompile(
                    addresses::AES_ENCRYPT,
                    &encrypt[4..],
                    &request,
                    &kettle,
                    &seeded.store,
                    None,
                )
                .expect("aesEncrypt");
                let ciphertext = abi::aesEncryptCall::abi_decode_returns(&sealed).expect("output");
                input = abi::aesDecryptCall { key, ciphertext }.abi_encode()[4..].to_vec();
            }
            run_precompile(address, &input, &request, &kettle, &seeded.store, None).is_ok()
        });
        assert!(accepted, "{name} accepted none of 500 well-formed inputs");
        let no_params = [
            addresses::IS_CONFIDENTIAL,
            addresses::CONFIDENTIAL_INPUTS,
            addresses::GET_INSECURE_TIME,
        ];
        if !no_params.contains(&address) {
            let refused = (0..500).any(|_| {
                let valid = valid_input(&mut rng, address, &seeded.ids, &txs);
                let input = mutate(&mut rng, &valid, &[]);
                run_precompile(address, &input, &request, &kettle, &seeded.store, None).is_err()
            });
            assert!(refused, "{name} refused none of 500 damaged inputs");
        }
    }
}

/// The network and builder addresses (served by `suave-precompiles-network`).
fn suave_precompiles_external() -> Vec<Address> {
    addresses::BUILDER
        .iter()
        .chain(addresses::NETWORK.iter())
        .copied()
        .collect()
}

/// Every 32-byte word of every precompile's well-formed input, in turn, set to lengths and
/// offsets of 2^32 and more: refused at once, nothing of that size allocated.
#[test]
fn huge_abi_lengths_and_offsets_are_refused_quickly() {
    let txs = tx_pool();
    let seeded = seeded_store(&txs);
    let kettle = KettleContext::new(Address::repeat_byte(0xee), 16_813_125);
    let request = request();
    let mut rng = Rng::for_case(fuzz_support::seed(), "precompiles/huge", 0);
    let start = std::time::Instant::now();
    let mut calls = 0;
    for address in every_address() {
        let valid = valid_input(&mut rng, address, &seeded.ids, &txs);
        for word in 0..valid.len() / 32 {
            for claim in fuzz_support::HUGE_LENGTHS {
                let mut input = valid.clone();
                input[word * 32..word * 32 + 24].fill(0);
                input[word * 32 + 24..word * 32 + 32].copy_from_slice(&claim.to_be_bytes());
                let before = std::time::Instant::now();
                let _ = run_precompile(address, &input, &request, &kettle, &seeded.store, None);
                assert!(
                    before.elapsed() < std::time::Duration::from_secs(1),
                    "{address} word {word} = {claim}: {:?}",
                    before.elapsed()
                );
                assert!(
                    fuzz_support::largest_alloc() < 16 << 20,
                    "{address} word {word} = {claim} allocated {} bytes",
                    fuzz_support::largest_alloc()
                );
                calls += 1;
            }
        }
    }
    println!("huge ABI words: {calls} calls in {:?}", start.elapsed());
    assert!(calls > 100);
}
