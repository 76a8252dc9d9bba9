//! Fuzzing JSON-RPC request parsing: well-formed requests for every method, damaged
//! structurally (any node replaced by odd JSON: huge or negative numbers, over-long or
//! odd-length hex, wrong types, deep nesting, missing or extra params) and byte-wise, go
//! through the server's methods in-process and, fewer of them (batches too), through the
//! real HTTP server on 127.0.0.1. Every answer is a well-formed JSON-RPC response, no
//! handler panics, and the server keeps serving.
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz_support;

// The rpc suite's harness; this binary uses only its key, chain and raw-HTTP helpers.
#[allow(dead_code)]
#[path = "rpc/common.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use common::{dev_chain, post_json, user, CHAIN_ID};
use fuzz_support::{mutate, Campaign, Rng, TrackingAlloc};
use jsonrpsee::RpcModule;
use kettle_chain::Chain;
use kettle_primitives::{
    ConfidentialComputeRecord, ConfidentialComputeRequest, SuaveTxEnvelope, DEV_KETTLE_ADDRESS,
};
use kettle_rpc::{ConfidentialApi, ConfidentialCall, ConfidentialError, RpcConfig};
use serde_json::{json, Value};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc;

/// Set by the panic hook: a handler panicked somewhere (blocking methods run on other
/// threads, where jsonrpsee turns a panic into an internal error).
static PANICKED: AtomicBool = AtomicBool::new(false);

fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Test threads are named after their test; handlers run on tokio's threads.
            if std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("tokio"))
            {
                PANICKED.store(true, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

/// The confidential pipeline's stand-in: checks signatures, echoes calls.
struct Api;

impl ConfidentialApi for Api {
    fn kettle_addresses(&self) -> Vec<Address> {
        vec![DEV_KETTLE_ADDRESS]
    }

    fn send_request(&self, request: ConfidentialComputeRequest) -> Result<B256, ConfidentialError> {
        request
            .recover_signer(CHAIN_ID)
            .map_err(|e| ConfidentialError::server(e.to_string()))?;
        Ok(request.tx_hash())
    }

    fn call(&self, call: ConfidentialCall) -> Result<Bytes, ConfidentialError> {
        Ok(call.data)
    }

    fn estimate_gas(&self, call: ConfidentialCall) -> Result<u64, ConfidentialError> {
        Ok(call.gas.min(54_321))
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    chain: Arc<Chain>,
    corpus: Vec<Value>,
    /// Signed raw transactions (a `0x43`, a 1559), for byte-level damage before hex encoding.
    raw_txs: Vec<Vec<u8>>,
}

fn eip1559(nonce: u64) -> TxEnvelope {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 3,
        to: TxKind::Call(Address::with_last_byte(0x42)),
        value: U256::from(5),
        input: Bytes::from_static(&[1, 2, 3]),
        access_list: Default::default(),
    };
    let sig = user().sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::from(tx.into_signed(sig))
}

/// A chain with one block holding one transaction, and well-formed requests for every method.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = dev_chain(dir.path());
    let tx = eip1559(0);
    let tx_hash = chain
        .add_transaction(&SuaveTxEnvelope::Ethereum(tx))
        .expect("add tx");
    let block = chain
        .produce_block(1_700_000_000, Address::ZERO)
        .expect("produce")
        .expect("a block");
    let block_hash = block.hash;
    let request = ConfidentialComputeRequest::new(
        ConfidentialComputeRecord {
            nonce: 1,
            gas_price: U256::from(2_000_000_000u64),
            gas: 500_000,
            to: Some(Address::with_last_byte(0x42)),
            data: Bytes::from_static(b"data"),
            kettle_address: DEV_KETTLE_ADDRESS,
            chain_id: U256::from(CHAIN_ID),
            ..Default::default()
        },
        Bytes::from_static(b"inputs"),
    )
    .into_signed(&user())
    .expect("sign request");
    let raw_txs = vec![request.encoded(), eip1559(1).encoded_2718()];
    let raw_ccr = format!("0x{}", fuzz_support::hex(&raw_txs[0]));
    let raw_1559 = format!("0x{}", fuzz_support::hex(&raw_txs[1]));
    let user_addr = format!("{:#x}", user().address());
    let call = json!({
        "from": user_addr, "to": "0x0000000000000000000000000000000000000042",
        "gas": "0x5208", "gasPrice": "0x77359400", "value": "0x0", "data": "0x01020304",
    });
    let confidential = json!({
        "from": user_addr, "to": "0x0000000000000000000000000000000000000042",
        "data": "0xff", "isConfidential": true, "confidentialInputs": "0x1234",
        "kettleAddress": format!("{DEV_KETTLE_ADDRESS:#x}"),
    });
    let filter = json!({
        "fromBlock": "0x0", "toBlock": "latest",
        "address": ["0x0000000000000000000000000000000000000042"],
        "topics": [null, ["0x0000000000000000000000000000000000000000000000000000000000000001"]],
    });
    let bh = format!("{block_hash:#x}");
    let th = format!("{tx_hash:#x}");
    let calls: Vec<(&str, Value)> = vec![
        ("eth_chainId", json!([])),
        ("eth_blockNumber", json!([])),
        ("eth_syncing", json!([])),
        ("eth_accounts", json!([])),
        ("eth_getBlockByNumber", json!(["0x1", true])),
        ("eth_getBlockByNumber", json!(["latest", false])),
        ("eth_getBlockByHash", json!([bh, true])),
        ("eth_getBlockTransactionCountByNumber", json!(["0x1"])),
        ("eth_getBlockTransactionCountByHash", json!([bh])),
        ("eth_getBlockReceipts", json!(["0x1"])),
        ("eth_getBalance", json!([user_addr, "latest"])),
        (
            "eth_getCode",
            json!(["0x0000000000000000000000000000000000000042", "latest"]),
        ),
        (
            "eth_getStorageAt",
            json!([
                "0x0000000000000000000000000000000000000042",
                "0x0",
                "latest"
            ]),
        ),
        ("eth_getTransactionCount", json!([user_addr, "pending"])),
        ("eth_gasPrice", json!([])),
        ("eth_maxPriorityFeePerGas", json!([])),
        ("eth_feeHistory", json!(["0x4", "latest", [25.0, 75.0]])),
        ("eth_call", json!([call, "latest"])),
        ("eth_call", json!([confidential, "latest"])),
        ("eth_estimateGas", json!([call])),
        ("eth_estimateGas", json!([confidential])),
        ("eth_sendRawTransaction", json!([raw_ccr])),
        ("eth_sendRawTransaction", json!([raw_1559])),
        ("eth_sendTransaction", json!([call])),
        ("eth_getTransactionByHash", json!([th])),
        (
            "eth_getTransactionByBlockNumberAndIndex",
            json!(["0x1", "0x0"]),
        ),
        ("eth_getTransactionByBlockHashAndIndex", json!([bh, "0x0"])),
        ("eth_getTransactionReceipt", json!([th])),
        ("eth_getLogs", json!([filter])),
        ("eth_kettleAddress", json!([])),
        ("eth_executionAddress", json!([])),
        ("net_version", json!([])),
        ("net_listening", json!([])),
        ("net_peerCount", json!([])),
        ("web3_clientVersion", json!([])),
        ("web3_sha3", json!(["0x68656c6c6f"])),
        ("eth_noSuchMethod", json!([])),
    ];
    let corpus = calls
        .into_iter()
        .enumerate()
        .map(|(i, (method, params))| {
            json!({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        })
        .collect();
    Fixture {
        _dir: dir,
        chain,
        corpus,
        raw_txs,
    }
}

const KEYS: [&str; 16] = [
    "from",
    "to",
    "data",
    "input",
    "gas",
    "gasPrice",
    "value",
    "nonce",
    "isConfidential",
    "confidentialInputs",
    "fromBlock",
    "toBlock",
    "address",
    "topics",
    "blockHash",
    "jsonrpc",
];

/// Odd JSON: the values that break parsers.
fn odd_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 14 } else { 17 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => json!(rng.edge_u64()),
        3 => json!(-(rng.below(1000) as i64) - 1),
        4 => json!(*rng.pick(&[1e308, -1e308, 0.5, 1.8446744073709552e19, f64::MIN_POSITIVE])),
        5 => json!(format!("0x{:x}", rng.edge_u64())),
        6 => json!(format!("0x{}", "f".repeat(rng.below(90)))),
        7 => json!(format!("0x{}", "0".repeat(1 + rng.below(70)))),
        8 => json!(*rng.pick(&["0x", "0x0", "0x00", "0x1", "0xg", "0X1", "1", "", "-0x1", "0x-1"])),
        9 => json!(*rng.pick(&[
            "latest",
            "pending",
            "earliest",
            "safe",
            "finalized",
            "Latest"
        ])),
        10 => json!(rng.text(20)),
        11 => json!(format!("0x{}", fuzz_support::hex(&rng.bytes_below(80)))),
        12 => json!("a".repeat(rng.below(5000))),
        13 => json!(format!(
            "0x{}",
            "ab".repeat(20 + rng.below(2)) + &"c".repeat(rng.below(2))
        )),
        14 => Value::Array(
            (0..rng.below(4))
                .map(|_| odd_value(rng, depth + 1))
                .collect(),
        ),
        15 => Value::Object(
            (0..rng.below(4))
                .map(|_| (rng.pick(&KEYS).to_string(), odd_value(rng, depth + 1)))
                .collect(),
        ),
        _ => {
            // deep nesting, beyond serde_json's recursion limit sometimes
            let mut v = Value::Null;
            for _ in 0..rng.below(200) {
                v = Value::Array(vec![v]);
            }
            v
        }
    }
}

/// Replaces, removes or adds one node somewhere in `v`.
fn mutate_json(rng: &mut Rng, v: &mut Value) {
    let descend = rng.below(3) != 0;
    match v {
        Value::Array(items) if descend && !items.is_empty() => {
            let i = rng.below(items.len());
            mutate_json(rng, &mut items[i]);
        }
        Value::Object(map) if descend && !map.is_empty() => {
            let key = map
                .keys()
                .nth(rng.below(map.len()))
                .cloned()
                .unwrap_or_default();
            if let Some(child) = map.get_mut(&key) {
                mutate_json(rng, child);
            }
        }
        Value::Array(items) => match rng.below(3) {
            0 if !items.is_empty() => {
                items.remove(rng.below(items.len()));
            }
            1 => items.push(odd_value(rng, 0)),
            _ => *v = odd_value(rng, 0),
        },
        Value::Object(map) => match rng.below(3) {
            0 if !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(rng.below(map.len()))
                    .cloned()
                    .unwrap_or_default();
                map.remove(&key);
            }
            1 => {
                map.insert(rng.pick(&KEYS).to_string(), odd_value(rng, 0));
            }
            _ => *v = odd_value(rng, 0),
        },
        _ => *v = odd_value(rng, 0),
    }
}

/// A request body: a corpus request damaged structurally, then sometimes byte-wise.
fn damaged_request(rng: &mut Rng, corpus: &[Value]) -> String {
    let mut v = rng.pick(corpus).clone();
    for _ in 0..=rng.below(3) {
        // Mostly the params (where the methods' own parsing is), sometimes the envelope.
        match v.get_mut("params") {
            Some(params) if rng.below(4) != 0 => mutate_json(rng, params),
            _ => mutate_json(rng, &mut v),
        }
    }
    let text = v.to_string();
    if rng.one_in(4) {
        let donors: Vec<Vec<u8>> = vec![b"\"0x\"".to_vec(), b"[{}]".to_vec(), b"\\u0000".to_vec()];
        String::from_utf8_lossy(&mutate(rng, text.as_bytes(), &donors)).into_owned()
    } else {
        text
    }
}

/// Asserts `text` is one well-formed JSON-RPC 2.0 response object; names its outcome.
fn check_response(text: &str) -> &'static str {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("response {text:?}: {e}"));
    assert_eq!(v["jsonrpc"], "2.0", "{}", &text[..text.len().min(300)]);
    match (v.get("result"), v.get("error")) {
        (Some(_), None) => "result",
        (None, Some(err)) => {
            assert!(err["code"].is_i64(), "{text}");
            assert!(err["message"].is_string(), "{text}");
            assert!(
                !(err["code"] == -32603 && err["message"] == "Internal error"),
                "a handler failed internally (panic?): {text}"
            );
            "error"
        }
        _ => panic!("neither result nor error: {text}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn fuzz_requests_in_process() {
    watch_panics();
    let fx = fixture();
    let config = RpcConfig::default();
    let module: RpcModule<()> =
        kettle_rpc::rpc_module(&config, fx.chain.clone(), Arc::new(Api)).expect("module");
    let rt = runtime();
    let outcomes = Campaign::new("rpc/in-process", 2).run(|case| {
        let rng = &mut case.rng;
        let text = match rng.below(8) {
            0 => rng.pick(&fx.corpus).to_string(),
            1 => {
                // A raw transaction damaged byte-wise: through the decoder into the pool.
                let base = fx.raw_txs[rng.below(fx.raw_txs.len())].clone();
                let raw = mutate(rng, &base, &fx.raw_txs);
                json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
                    "params": [format!("0x{}", fuzz_support::hex(&raw))]})
                .to_string()
            }
            _ => damaged_request(rng, &fx.corpus),
        };
        case.record(text.as_bytes());
        let outcome = match rt.block_on(module.raw_json_request(&text, 16)) {
            Ok((response, _subscription)) => check_response(response.get()),
            // Not a JSON-RPC request at all: the server answers a parse error itself.
            Err(_) => "unparsable",
        };
        assert!(
            !PANICKED.load(Ordering::SeqCst),
            "a handler panicked on {text}"
        );
        outcome
    });
    fuzz_support::assert_outcomes(&outcomes, &["result", "error", "unparsable"]);
}

/// POSTs `body` to the server and returns status and body.
async fn post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let (status, _head, body) = post_json(addr, body, Duration::from_secs(20)).await;
    (status, body)
}

#[test]
fn fuzz_requests_over_http() {
    watch_panics();
    let fx = fixture();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let config = RpcConfig {
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_request_body_bytes: 64 << 10,
        ..RpcConfig::default()
    };
    let handle = rt
        .block_on(kettle_rpc::start(config, fx.chain.clone(), Arc::new(Api)))
        .expect("start server");
    let addr = handle.local_addr();
    let outcomes = Campaign::new("rpc/http", 8).run(|case| {
        let rng = &mut case.rng;
        let body = match rng.below(6) {
            0 => {
                // a batch, possibly empty or oversized
                let n = rng.below(8);
                let items: Vec<String> = (0..n).map(|_| damaged_request(rng, &fx.corpus)).collect();
                format!("[{}]", items.join(","))
            }
            1 => String::from_utf8_lossy(&rng.bytes_below(200)).into_owned(),
            2 => format!("[{}]", "\"x\",".repeat(rng.below(20_000)) + "1"),
            _ => damaged_request(rng, &fx.corpus),
        };
        case.record(body.as_bytes());
        let (status, text) = rt.block_on(post(addr, body.as_bytes()));
        assert!(
            !PANICKED.load(Ordering::SeqCst),
            "a handler panicked on {body}"
        );
        match status {
            200 => {
                let v: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("body {text:?} of a 200: {e}"));
                match v {
                    Value::Array(items) => {
                        for item in items {
                            check_response(&item.to_string());
                        }
                        "batch"
                    }
                    // jsonrpsee answers notifications, and requests whose id is an array or an
                    // object (which JSON-RPC 2.0 calls invalid requests), with `null`.
                    Value::Null => "null",
                    other => check_response(&other.to_string()),
                }
            }
            400 | 413 | 415 => "http-refused",
            other => panic!("HTTP {other} for {body:?}: {text}"),
        }
    });
    fuzz_support::assert_outcomes(&outcomes, &["error"]);
    // Still serving.
    let (status, text) = rt.block_on(post(
        addr,
        br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#,
    ));
    assert_eq!(status, 200);
    assert!(text.contains("0x1008c45"), "{text}");
    rt.block_on(handle.stop());
}

/// Inputs that claim or ask for huge sizes fail at once: raw transactions whose RLP claims
/// 2^32+ bytes, 10^4-digit quantities, unbounded block and log ranges.
#[test]
fn huge_claims_are_refused_quickly() {
    watch_panics();
    let fx = fixture();
    let module: RpcModule<()> =
        kettle_rpc::rpc_module(&RpcConfig::default(), fx.chain.clone(), Arc::new(Api))
            .expect("module");
    let rt = runtime();
    let mut requests = Vec::new();
    for claim in fuzz_support::HUGE_LENGTHS {
        for ty in ["", "43", "50", "02", "01"] {
            let header = fuzz_support::hex(&fuzz_support::rlp_huge_header(true, claim));
            requests.push(
                json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
                "params": [format!("0x{ty}{header}{}", "80".repeat(40))]}),
            );
        }
        requests.push(
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_feeHistory",
            "params": [format!("{claim:#x}"), "latest", [1.0, 50.0, 99.0]]}),
        );
        requests.push(json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs",
            "params": [{"fromBlock": "0x0", "toBlock": format!("{claim:#x}")}]}));
        requests.push(
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
            "params": [format!("{claim:#x}"), true]}),
        );
    }
    requests.push(
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance",
        "params": [format!("0x{}", "f".repeat(10_000)), "latest"]}),
    );
    requests.push(
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_feeHistory",
        "params": ["0x4", "latest", vec![50.0; 100_000]]}),
    );
    for request in requests {
        let text = request.to_string();
        let start = Instant::now();
        let (response, _) = rt
            .block_on(module.raw_json_request(&text, 1))
            .expect("a request");
        check_response(response.get());
        assert!(!PANICKED.load(Ordering::SeqCst), "{text}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?} for {}",
            start.elapsed(),
            &text[..text.len().min(200)]
        );
    }
}
