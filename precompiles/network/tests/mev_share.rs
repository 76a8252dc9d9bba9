//! fillMevShareBundle through `run_call`, with a real store overlay and caller stack.

mod support;

use alloy_primitives::{hex, Address, Bytes, B128};
use alloy_sol_types::{SolCall, SolValue};
use kettle_contracts::precompiles::SuavePrecompiles::fillMevShareBundleCall;
use kettle_primitives::{ConfidentialComputeRequest, DataRecord};
use suave_precompiles::addresses::FILL_MEV_SHARE_BUNDLE;
use suave_precompiles::store::memory::MemoryStore;
use suave_precompiles::{
    ExternalCall, ExternalPrecompiles, KettleContext, StoreLimits, StoreOverlay,
};
use suave_precompiles_network::{Network, NetworkConfig};
use support::transfer_tx;

const SUAPP: Address = Address::repeat_byte(0xaa);

fn tx_hex(nonce: u64) -> String {
    format!("0x{}", hex::encode(transfer_tx(nonce)))
}

struct Fixture {
    base: MemoryStore,
    user_tx: String,
    match_tx: String,
}

/// Stages a user bundle, a match bundle and a merged record pointing at both; returns the
/// merged record's id.
fn stage(overlay: &mut StoreOverlay<'_>, f: &Fixture, merged_peekers: Vec<Address>) -> B128 {
    let record = |salt: u8, peekers: Vec<Address>, version: &str| {
        DataRecord::new(
            B128::repeat_byte(salt),
            100,
            peekers,
            vec![],
            version.into(),
        )
    };
    let user = record(1, vec![SUAPP], "mevshare:v0:unmatchedBundles");
    let matched = record(2, vec![SUAPP], "mevshare:v0:unmatchedBundles");
    let merged = record(3, merged_peekers, "mevshare:v0:matchDataRecords");
    for r in [&user, &matched, &merged] {
        overlay.create_record(r.clone()).unwrap();
    }
    let bundle = |tx: &str| Bytes::from(format!("{{\"txs\":[\"{tx}\"]}}").into_bytes());
    overlay
        .store(user.id, "mevshare:v0:ethBundles", bundle(&f.user_tx), SUAPP)
        .unwrap();
    overlay
        .store(
            matched.id,
            "mevshare:v0:ethBundles",
            bundle(&f.match_tx),
            SUAPP,
        )
        .unwrap();
    let ids = vec![user.id, matched.id].abi_encode_params();
    let merged_writer = if merged.allowed_peekers.contains(&SUAPP) {
        SUAPP
    } else {
        merged.allowed_peekers[0]
    };
    overlay
        .store(
            merged.id,
            "mevshare:v0:mergedDataRecords",
            ids.into(),
            merged_writer,
        )
        .unwrap();
    merged.id
}

fn fill(
    net: &Network,
    overlay: &mut StoreOverlay<'_>,
    stack: &[Address],
    id: B128,
) -> Result<Bytes, String> {
    let input = fillMevShareBundleCall { dataId: id }.abi_encode();
    let request = ConfidentialComputeRequest::default();
    let kettle = KettleContext::new(Address::ZERO, 1);
    let mut run = net.begin();
    run.run_call(ExternalCall {
        address: FILL_MEV_SHARE_BUNDLE,
        input: &input[4..],
        caller_stack: stack,
        store: overlay,
        request: &request,
        kettle: &kettle,
    })
    .map_err(|e| e.0)
}

fn fixture() -> Fixture {
    Fixture {
        base: MemoryStore::new(),
        user_tx: tx_hex(0),
        match_tx: tx_hex(1),
    }
}

#[test]
fn fills_the_mev_share_bundle_from_the_store() {
    let f = fixture();
    let mut overlay = StoreOverlay::new(&f.base, StoreLimits::default());
    let id = stage(&mut overlay, &f, vec![SUAPP, FILL_MEV_SHARE_BUNDLE]);
    let net = Network::new(NetworkConfig::default()).unwrap();
    let out = fill(&net, &mut overlay, &[SUAPP, FILL_MEV_SHARE_BUNDLE], id).unwrap();
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        format!(
            "{{\"version\":\"v0.1\",\"inclusion\":{{\"block\":\"0x64\",\"maxBlock\":\"0x7d\"}},\"body\":[{{\"tx\":\"{}\",\"canRevert\":false}},{{\"tx\":\"{}\",\"canRevert\":false}}],\"validity\":{{\"refund\":[{{\"bodyIdx\":0,\"percent\":10}}]}}}}",
            f.user_tx, f.match_tx
        )
    );
}

#[test]
fn access_rules_apply() {
    let f = fixture();
    let net = Network::new(NetworkConfig::default()).unwrap();

    // The record does not list the precompile.
    let mut overlay = StoreOverlay::new(&f.base, StoreLimits::default());
    let id = stage(&mut overlay, &f, vec![SUAPP]);
    let err = fill(&net, &mut overlay, &[SUAPP, FILL_MEV_SHARE_BUNDLE], id).unwrap_err();
    assert_eq!(
        err,
        format!(
            "precompile fillMevShareBundle (0000000000000000000000000000000043200001) not allowed on {}",
            hex::encode(id)
        )
    );

    // No caller on the stack is a peeker.
    let mut overlay = StoreOverlay::new(&f.base, StoreLimits::default());
    let id = stage(&mut overlay, &f, vec![SUAPP, FILL_MEV_SHARE_BUNDLE]);
    let stranger = Address::repeat_byte(0xbb);
    let err = fill(&net, &mut overlay, &[stranger, FILL_MEV_SHARE_BUNDLE], id).unwrap_err();
    assert!(err.starts_with("no caller of fillMevShareBundle"), "{err}");

    // Unknown record.
    assert!(fill(
        &net,
        &mut overlay,
        &[SUAPP, FILL_MEV_SHARE_BUNDLE],
        B128::repeat_byte(9)
    )
    .is_err());

    // Bad input.
    let request = ConfidentialComputeRequest::default();
    let kettle = KettleContext::new(Address::ZERO, 1);
    let mut run = net.begin();
    let err = run
        .run_call(ExternalCall {
            address: FILL_MEV_SHARE_BUNDLE,
            input: &[1, 2],
            caller_stack: &[SUAPP, FILL_MEV_SHARE_BUNDLE],
            store: &mut overlay,
            request: &request,
            kettle: &kettle,
        })
        .unwrap_err();
    assert_eq!(err.0, "failed to decode input");
}
