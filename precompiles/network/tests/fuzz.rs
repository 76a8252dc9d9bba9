//! Arbitrary input to every precompile address never panics (it answers or reverts).
//! No network: the transport is a stub and the allow-list admits everything by name; the
//! builder precompiles run against a stub execution backend. Mutated well-formed inputs of
//! every precompile go through the public entry point `run_precompile` with these backends.
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz_support;

#[path = "../../../tests/fuzz/precompile_inputs.rs"]
mod precompile_inputs;

#[global_allocator]
static ALLOC: fuzz_support::TrackingAlloc = fuzz_support::TrackingAlloc;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::SolCall;
use fuzz_support::{Campaign, Rng};
use kettle_contracts::precompiles::SuavePrecompiles::{
    doHTTPRequest2Call, extractHintCall, submitBundleJsonRPCCall,
};
use kettle_contracts::HttpRequest;
use kettle_contracts::{BuildBlockArgs, SimulateTransactionResult};
use kettle_primitives::ConfidentialComputeRequest;
use precompile_inputs::{
    case_input, donor_inputs, every_address, outcome, seeded_store, tx_pool, valid_input,
};
use proptest::prelude::*;
use suave_precompiles::{addresses, run_precompile, ExternalPrecompiles, KettleContext};
use suave_precompiles_network::http::{HopError, HopRequest, HopResponse};
use suave_precompiles_network::{
    BackendError, BlockSimulation, BuiltBlock, ExecutionBackend, SBundle, HANDLED,
};
use suave_precompiles_network::{HttpClient, NameResolver, Network, NetworkConfig};

/// Answers every exchange with a redirect or a page, without I/O.
struct Stub;

impl HttpClient for Stub {
    fn send(&self, request: &HopRequest<'_>) -> Result<HopResponse, HopError> {
        if request.url.path() == "/r" {
            return Ok(HopResponse {
                status: 302,
                headers: vec![("location".into(), "/r".into())],
                body: Vec::new(),
            });
        }
        Ok(HopResponse {
            status: 200,
            headers: vec![(
                "set-cookie".into(),
                "AWSALB=x; Expires=Mon, 01 Jan 2024 00:00:00 GMT".into(),
            )],
            body: b"ok".to_vec(),
        })
    }
}

/// An execution backend that answers every call (so inputs get past the backend check).
struct StubBackend;

impl ExecutionBackend for StubBackend {
    fn simulate_bundle(&self, bundle: &SBundle) -> Result<BlockSimulation, BackendError> {
        Ok(BlockSimulation {
            block_value: U256::from(bundle.txs.len() * 21_000),
            gas_used: 21_000,
        })
    }

    fn build_block(
        &self,
        args: &BuildBlockArgs,
        bundles: &[SBundle],
        _: Option<&url::Url>,
    ) -> Result<BuiltBlock, BackendError> {
        Ok(BuiltBlock {
            envelope_json: Bytes::from(format!("{{\"bundles\":{}}}", bundles.len()).into_bytes()),
            parent_hash: args.parent,
            block_hash: B256::repeat_byte(1),
            gas_limit: args.gasLimit,
            gas_used: 21_000,
            block_value: U256::from(1),
        })
    }

    fn new_session(&self) -> Result<String, BackendError> {
        Ok("session-1".into())
    }

    fn add_transaction(
        &self,
        session: &str,
        _: &TxEnvelope,
    ) -> Result<SimulateTransactionResult, BackendError> {
        if session != "session-1" {
            return Err(BackendError("session not found".into()));
        }
        Ok(SimulateTransactionResult {
            egp: 1,
            logs: vec![],
            success: true,
            error: String::new(),
        })
    }

    fn call(&self, _: Address, input: &[u8]) -> Result<Bytes, BackendError> {
        Ok(Bytes::copy_from_slice(input))
    }
}

struct Public;

impl NameResolver for Public {
    fn resolve(&self, _: &str, port: u16, _: Duration) -> std::io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(
            IpAddr::from([93, 184, 216, 34]),
            port,
        )])
    }
}

fn network() -> Network {
    let cfg = NetworkConfig {
        allowed_hosts: vec!["*".into()],
        eth_backend: Some("http://eth.example".into()),
        ..NetworkConfig::default()
    };
    Network::builder(cfg)
        .http_client(Arc::new(Stub))
        .resolver(Arc::new(Public))
        .execution_backend(Arc::new(StubBackend))
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(fuzz_support::proptest_config!("network/proptest", 8))]

    #[test]
    fn arbitrary_input_never_panics(input in proptest::collection::vec(any::<u8>(), 0..600)) {
        let net = network();
        let mut run = net.begin();
        for addr in every_address() {
            let _ = run.run(addr, &input);
        }
    }

    #[test]
    fn arbitrary_http_requests_never_panic(
        url in "[a-z:/.?#%\\[\\]@0-9*-]{0,40}",
        method in prop_oneof![Just("GET".to_string()), Just("POST".to_string()), "[A-Z]{0,5}"],
        headers in proptest::collection::vec("[ -~]{0,20}", 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        timeout in any::<u64>(),
        sign in any::<bool>(),
    ) {
        let net = network();
        let mut run = net.begin();
        let req = HttpRequest {
            url: url.clone(),
            method,
            headers,
            body: body.clone().into(),
            withFlashbotsSignature: sign,
            timeout,
        };
        let input = doHTTPRequest2Call { request: req }.abi_encode();
        let _ = run.run(addresses::DO_HTTP_REQUEST2, &input[4..]);
        let _ = run.run(addresses::DO_HTTP_REQUEST, &input[4..]);
        let submit = submitBundleJsonRPCCall { url, method: "m".into(), params: body.clone().into() }.abi_encode();
        let _ = run.run(addresses::SUBMIT_BUNDLE_JSON_RPC, &submit[4..]);
        let hint = extractHintCall { bundleData: body.into() }.abi_encode();
        let _ = run.run(addresses::EXTRACT_HINT, &hint[4..]);
    }

    #[test]
    fn arbitrary_json_text_never_panics(text in "[\\[\\]{}\":,0-9a-z .\\\\-]{0,80}") {
        let _ = suave_precompiles_network::SBundle::from_json(text.as_bytes());
        let mut out = Vec::new();
        let _ = suave_precompiles_network::gojson::compact(&mut out, text.as_bytes());
    }
}

fn kettle() -> KettleContext {
    KettleContext::new(Address::repeat_byte(0xee), 16_813_125)
}

/// Every precompile, network and builder ones served by [`Network`] with the stubs, fed
/// well-formed, damaged and random input through `run_precompile`.
#[test]
fn fuzz_every_precompile_with_backends() {
    let net = network();
    let txs = tx_pool();
    let seeded = seeded_store(&txs);
    let kettle = kettle();
    let request = ConfidentialComputeRequest::default();
    let all = every_address();
    let donors = donor_inputs("network/donors", &seeded, &txs);
    let mut handled_ok = std::collections::BTreeSet::new();
    let outcomes = Campaign::new("network/abi", 1).run(|case| {
        let rng = &mut case.rng;
        // Mostly the precompiles this crate serves.
        let address = if rng.one_in(4) {
            *rng.pick(&all)
        } else {
            *rng.pick(&HANDLED)
        };
        let input = case_input(rng, address, &seeded, &txs, &donors);
        case.record(&input);
        let result = run_precompile(
            address,
            &input,
            &request,
            &kettle,
            &seeded.store,
            Some(&net),
        );
        if result.is_ok() && HANDLED.contains(&address) {
            handled_ok.insert(address);
        }
        outcome(&result)
    });
    assert!(outcomes.contains_key("ok"), "{outcomes:?}");
    assert!(outcomes.contains_key("undecodable"), "{outcomes:?}");
    assert!(
        handled_ok.len() >= 4 || fuzz_support::base_cases() < 500,
        "few network precompiles ever succeeded: {handled_ok:?}"
    );
}

/// Every 32-byte word of every network and builder precompile's well-formed input, in turn,
/// set to lengths and offsets of 2^32 and more: refused at once, nothing that big allocated.
#[test]
fn huge_abi_lengths_and_offsets_are_refused_quickly() {
    let net = network();
    let txs = tx_pool();
    let seeded = seeded_store(&txs);
    let kettle = kettle();
    let request = ConfidentialComputeRequest::default();
    let mut rng = Rng::for_case(fuzz_support::seed(), "network/huge", 0);
    let mut calls = 0;
    for address in HANDLED {
        let valid = valid_input(&mut rng, address, &seeded.ids, &txs);
        for word in 0..valid.len() / 32 {
            for claim in fuzz_support::HUGE_LENGTHS {
                let mut input = valid.clone();
                input[word * 32..word * 32 + 24].fill(0);
                input[word * 32 + 24..word * 32 + 32].copy_from_slice(&claim.to_be_bytes());
                let start = std::time::Instant::now();
                let _ = run_precompile(
                    address,
                    &input,
                    &request,
                    &kettle,
                    &seeded.store,
                    Some(&net),
                );
                assert!(
                    start.elapsed() < Duration::from_secs(1),
                    "{address} word {word} = {claim}: {:?}",
                    start.elapsed()
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
    assert!(calls > 100, "{calls}");
}
