//! Block building time against a real local L1 (hardhat node, chain 1337, Cancun).
//!
//! N bundles of one plain transfer each (N = 10, 100, 1000; senders are the L1's ten funded
//! accounts, recipients fresh addresses) are built into a block on the L1's head by
//! `kettle-builder`'s `RpcBackend`, the way `buildEthBlock` does: state forked over JSON-RPC,
//! execution in revm, proposer payment, state root from `eth_getProof` proofs, payload and
//! hash. The first build of each N fills the state cache (cold); the reported time is the
//! median of the following warm builds. The scaling curve is the time per transaction
//! relative to N = 10 in the same run (the baseline).
//!
//! Run: `cargo bench -p kettle-tests --bench build` (needs `tests/l1/node_modules`:
//! `scripts/test` or `npm ci` in tests/l1). `BUILD_BENCH_ROUNDS` sets the warm rounds
//! (default 5), `BUILD_BENCH_SIZES` the bundle counts (default `10,100,1000`; the first is the
//! baseline). With `BUILD_BENCH_JSON=<path>` the results are also written there as JSON
//! (`{"rounds": 5, "points": [{"bundles": 10, "warm_ms": …, "cold_ms": …, "per_tx_us": …,
//! "gas_used": …}, …]}`), which `kettle-bench plot-build <path> <svg>` plots.

use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use kettle_builder::{backend::BackendConfig, bid::BuilderKey, RpcBackend};
use kettle_contracts::BuildBlockArgs;
use kettle_tests::L1Node;
use suave_precompiles_network::bundle::{BundleTx, SBundle};

fn quantity(v: &serde_json::Value) -> u64 {
    let s = v.as_str().expect("quantity");
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex")
}

fn bundles(l1: &L1Node, n: usize) -> Vec<SBundle> {
    let keys = l1.dev_keys();
    let mut nonces: Vec<u64> = keys
        .iter()
        .map(|k| {
            quantity(
                &l1.call(
                    "eth_getTransactionCount",
                    serde_json::json!([k.address(), "latest"]),
                )
                .expect("nonce"),
            )
        })
        .collect();
    (0..n)
        .map(|i| {
            let k = i % keys.len();
            let tx = TxEip1559 {
                chain_id: 1337,
                nonce: nonces[k],
                gas_limit: 21_000,
                max_fee_per_gas: 100_000_000_000,
                max_priority_fee_per_gas: 2_000_000_000,
                to: TxKind::Call(Address::from_word(B256::from(U256::from(
                    0x10_0000 + i as u64,
                )))),
                value: U256::from(1_000_000_000_000u64),
                input: Bytes::new(),
                access_list: Default::default(),
            };
            nonces[k] += 1;
            let sig = keys[k]
                .sign_hash_sync(&tx.signature_hash())
                .expect("signing");
            let raw: Bytes = TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into();
            SBundle {
                block_number: None,
                max_block: None,
                txs: vec![BundleTx::decode(&raw).expect("decodes")],
                reverting_hashes: None,
                refund_percent: None,
            }
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("BUILD_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let sizes: Vec<usize> = std::env::var("BUILD_BENCH_SIZES")
        .ok()
        .map(|v| {
            v.split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .expect("BUILD_BENCH_SIZES: comma-separated counts")
                })
                .collect()
        })
        .unwrap_or_else(|| vec![10, 100, 1000]);
    let json_path = std::env::var_os("BUILD_BENCH_JSON");
    let l1 = L1Node::start();
    let mut config = BackendConfig {
        build_timeout: Duration::from_secs(600),
        ..BackendConfig::default()
    };
    config.forks.skip_system_calls = true;
    let backend = RpcBackend::new(&l1.url(), config)
        .expect("backend")
        .with_builder_key(BuilderKey::from_seed([7; 32]).expect("key"));
    let head = l1.block("latest", false).expect("head");
    let args = BuildBlockArgs {
        slot: 1,
        proposerPubkey: Bytes::from(vec![0xab; 48]),
        parent: head["hash"].as_str().expect("hash").parse().expect("hash"),
        timestamp: quantity(&head["timestamp"]) + 12,
        feeRecipient: Address::repeat_byte(0xfe),
        gasLimit: 30_000_000,
        random: B256::repeat_byte(7),
        withdrawals: vec![],
        extra: Bytes::new(),
        beaconRoot: B256::ZERO,
        fillPending: false,
    };

    println!("build: N one-transfer bundles into one block on a hardhat L1 (warm = median of {rounds} builds after a cold one)");
    let mut base_per_tx = None;
    let base_n = sizes[0];
    let mut points = Vec::new();
    for n in sizes {
        let set = bundles(&l1, n);
        let t0 = Instant::now();
        let payload = backend
            .build_payload(&args, &set, None)
            .expect("cold build");
        let cold = t0.elapsed();
        assert_eq!(
            payload.transactions.len(),
            n + 1,
            "N transfers and the payment"
        );
        let warm = median(
            (0..rounds)
                .map(|_| {
                    let t0 = Instant::now();
                    backend
                        .build_payload(&args, &set, None)
                        .expect("warm build");
                    t0.elapsed()
                })
                .collect(),
        );
        let per_tx = warm / n as u32;
        let base = *base_per_tx.get_or_insert(per_tx);
        println!(
            "  N = {n:>4}: warm {warm:>12?} ({per_tx:?} per tx, {:.2}x the N = {base_n} per-tx cost); cold {cold:?}; gas used {}",
            per_tx.as_secs_f64() / base.as_secs_f64(),
            payload.header.gas_used
        );
        points.push(serde_json::json!({
            "bundles": n,
            "warm_ms": warm.as_secs_f64() * 1e3,
            "cold_ms": cold.as_secs_f64() * 1e3,
            "per_tx_us": per_tx.as_secs_f64() * 1e6,
            "gas_used": payload.header.gas_used,
        }));
    }
    if let Some(path) = json_path {
        let json = serde_json::json!({ "rounds": rounds, "points": points });
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("JSON"))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.to_string_lossy()));
        println!("wrote {}", path.to_string_lossy());
    }
}
