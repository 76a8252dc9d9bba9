//! End-to-end tests of a real `kettle dev` process driven over JSON-RPC: deploying SUAPPs,
//! confidential requests (`0x43` in, kettle-signed `0x50` out), state across requests and
//! restarts, the failure paths and the confidential `eth_call` / `eth_estimateGas`.
//!
//! Build the binary first: `cargo build -p kettle` (scripts/test does).

use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_provider::Provider;
use alloy_sol_types::{SolCall, SolError};
use kettle_contracts::{hello::Hello, vault::Vault};
use kettle_primitives::{DEV_KETTLE_ADDRESS, DEV_USER_ADDRESS, SUAVE_DEV_CHAIN_ID};
use kettle_tests::{
    assert_not_leaked, decode_logs, dev_user, AnyTransactionReceipt, KettleClient, KettleOptions,
    KettleProcess, ReceiptResponse, RpcFailure, Signing, TestRng,
};
use serde_json::{json, Value};

/// The suave-geth message of a reverted request on the `eth_sendRawTransaction` path.
const REVERTED: &str = "transaction failed: execution reverted";

fn hello_call() -> Bytes {
    Hello::helloCall {}.abi_encode().into()
}

fn store_call() -> Bytes {
    Vault::storeCall {}.abi_encode().into()
}

fn reveal_call(ids: &[alloy_primitives::FixedBytes<16>]) -> Bytes {
    Vault::revealCall { ids: ids.to_vec() }.abi_encode().into()
}

/// A distinctive secret: text, so a leak is visible both as text and as hex.
fn fresh_secret(rng: &mut TestRng) -> Vec<u8> {
    format!(
        "kettle-e2e-secret-{:016x}{:016x}",
        rng.next_u64(),
        rng.next_u64()
    )
    .into_bytes()
}

fn addr(v: &Value) -> Address {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an address: {v}"))
}

fn b256(v: &Value) -> B256 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a 32-byte hash: {v}"))
}

fn bytes(v: &Value) -> Bytes {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not hex bytes: {v}"))
}

/// Whether `key` occurs as an object key anywhere in `v`.
fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(map) => map.iter().any(|(k, v)| k == key || has_key(v, key)),
        Value::Array(items) => items.iter().any(|v| has_key(v, key)),
        _ => false,
    }
}

/// Checks the receipt of a confidential request: a mined `0x50` from the user, status 1.
fn assert_suave_receipt(receipt: &AnyTransactionReceipt, hash: B256, user: Address, to: Address) {
    assert_eq!(
        receipt.inner.transaction_hash, hash,
        "receipt of another transaction"
    );
    assert_eq!(
        receipt.inner.inner.r#type, 0x50,
        "the receipt of a request must be typed 0x50"
    );
    assert_eq!(
        receipt.inner.from, user,
        "the sender of a 0x50 is the user, not the kettle"
    );
    assert_eq!(receipt.inner.to, Some(to), "the 0x50 calls the SUAPP");
    assert!(
        receipt.status(),
        "the callback reverted on chain: {receipt:?}"
    );
    assert!(
        receipt.inner.block_number.is_some(),
        "mined receipts carry a block number"
    );
}

/// (a) Deploy `Hello` with an EIP-1559 transaction, send it `0x43` requests signed by our
/// code (EIP-712, then plain), and read the `0x50` transactions, receipts and logs the way a
/// standard client does.
#[tokio::test]
async fn hello_request_round_trip() {
    let kettle = KettleProcess::start();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    assert_eq!(client.chain_id(), SUAVE_DEV_CHAIN_ID);
    assert_eq!(client.kettle_address(), DEV_KETTLE_ADDRESS);
    let user = dev_user();
    assert_eq!(user.address(), DEV_USER_ADDRESS);

    let hello = client.deploy(&user, "Hello").await;
    let code = client
        .provider()
        .get_code_at(hello)
        .await
        .expect("eth_getCode");
    assert_eq!(
        code,
        Hello::DEPLOYED_BYTECODE,
        "deployed code differs from the artifact's"
    );

    // EIP-712 signed request, as suave-viem sends it.
    let nonce = client.pending_nonce(user.address()).await;
    let request = client
        .build_request(&user, hello, hello_call(), b"world", Signing::Eip712)
        .await;
    assert!(request.record.is_eip712);
    let hash = client
        .send_request(&request)
        .await
        .expect("request accepted");
    assert_ne!(
        hash,
        request.tx_hash(),
        "eth_sendRawTransaction returns the 0x50 hash, not the 0x43's"
    );
    let receipt = client.wait_receipt(hash).await;
    assert_suave_receipt(&receipt, hash, user.address(), hello);
    let greetings: Vec<String> = decode_logs::<Hello::Greeted>(&receipt)
        .into_iter()
        .map(|g| g.greeting)
        .collect();
    assert_eq!(greetings, ["hello, world"], "the callback's event");
    assert_eq!(
        receipt.inner.inner.logs()[0].address(),
        hello,
        "the event comes from Hello"
    );
    assert_eq!(
        client.nonce(user.address()).await,
        nonce + 1,
        "the 0x50 consumes the user's nonce"
    );

    // The 0x50 in suave-geth's JSON form (SUAVE-COMPAT §1.10).
    let tx = client.transaction_json(hash).await;
    assert_eq!(tx["type"], "0x50", "{tx}");
    assert_eq!(b256(&tx["hash"]), hash);
    assert_eq!(addr(&tx["from"]), user.address(), "{tx}");
    assert_eq!(addr(&tx["to"]), hello);
    let expected_result: Bytes = Hello::callbackCall {
        greeting: "hello, world".into(),
    }
    .abi_encode()
    .into();
    assert_eq!(
        bytes(&tx["confidentialComputeResult"]),
        expected_result,
        "callback calldata"
    );
    assert_eq!(
        bytes(&tx["input"]),
        expected_result,
        "input = confidentialComputeResult"
    );
    let record = &tx["requestRecord"];
    assert_eq!(
        record["type"], "0x42",
        "requestRecord is the record's txJSON: {record}"
    );
    assert_eq!(addr(&record["kettleAddress"]), DEV_KETTLE_ADDRESS);
    assert_eq!(b256(&record["confidentialInputsHash"]), keccak256(b"world"));
    assert_eq!(bytes(&record["input"]), hello_call());
    assert_eq!(addr(&record["to"]), hello);
    assert_eq!(b256(&record["hash"]), request.record.record_hash());
    assert!(
        !has_key(&tx, "confidentialInputs"),
        "a 0x50 never carries the confidential inputs: {tx}"
    );
    // The 0x43 itself is never stored or served.
    assert_eq!(
        client.transaction_json(request.tx_hash()).await,
        Value::Null
    );

    // Standard clients accept the block that holds the 0x50 (alloy, AnyNetwork).
    let number = receipt.inner.block_number.expect("mined");
    let block = client
        .provider()
        .get_block_by_number(number.into())
        .full()
        .await
        .expect("eth_getBlockByNumber decodes in alloy")
        .expect("the block exists");
    let hashes: Vec<B256> = block.transactions.hashes().collect();
    assert!(
        hashes.contains(&hash),
        "block {number} lists the 0x50: {hashes:?}"
    );
    let typed = client
        .provider()
        .get_transaction_by_hash(hash)
        .await
        .expect("eth_getTransactionByHash decodes in alloy")
        .expect("known");
    assert_eq!(typed.0.inner.block_number, Some(number));

    // Plain-signed request (isEIP712 = false), suave-geth's Go SDK default.
    let request = client
        .build_request(&user, hello, hello_call(), b"plain signer", Signing::Plain)
        .await;
    assert!(!request.record.is_eip712);
    let hash = client
        .send_request(&request)
        .await
        .expect("plain request accepted");
    let receipt = client.wait_receipt(hash).await;
    assert_suave_receipt(&receipt, hash, user.address(), hello);
    let greetings: Vec<String> = decode_logs::<Hello::Greeted>(&receipt)
        .into_iter()
        .map(|g| g.greeting)
        .collect();
    assert_eq!(greetings, ["hello, plain signer"]);
}

/// (b) A SUAPP keeps a secret in the confidential store in one request; a second request
/// reads it by the record id the first callback announced, and its callback publishes a
/// digest that only the stored secret can produce. The secret is nowhere in the chain's JSON
/// nor in the kettle's logs, even at log level `trace`.
#[tokio::test]
async fn second_request_reads_what_the_first_stored() {
    let mut rng = TestRng::from_env_or_clock("KETTLE_E2E_SEED");
    let kettle = KettleProcess::start_with(KettleOptions {
        log: Some("trace".into()),
        ..KettleOptions::default()
    });
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let vault = client.deploy(&user, "Vault").await;
    let secret = fresh_secret(&mut rng);

    let stored = client
        .request_and_wait(&user, vault, store_call(), &secret)
        .await;
    assert_suave_receipt(
        &stored,
        stored.inner.transaction_hash,
        user.address(),
        vault,
    );
    let ids: Vec<_> = decode_logs::<Vault::SecretStored>(&stored)
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids.len(), 1, "one SecretStored event");

    let revealed = client
        .request_and_wait(&user, vault, reveal_call(&ids), b"")
        .await;
    let events = decode_logs::<Vault::SecretRevealed>(&revealed);
    assert_eq!(events.len(), 1, "one SecretRevealed event");
    assert_eq!(events[0].id, ids[0]);
    assert_eq!(
        events[0].digest,
        keccak256(&secret),
        "the second request read exactly what the first stored"
    );
    assert_eq!(events[0].length, U256::from(secret.len()));

    // The secret is nowhere on the wire or in the logs.
    for receipt in [&stored, &revealed] {
        let hash = receipt.inner.transaction_hash;
        let number = receipt.inner.block_number.expect("mined");
        let tx = client.transaction_json(hash).await;
        assert_not_leaked("eth_getTransactionByHash", &tx.to_string(), &secret);
        let receipt_json = client.receipt_json(hash).await;
        assert_not_leaked(
            "eth_getTransactionReceipt",
            &receipt_json.to_string(),
            &secret,
        );
        let block = client.block_json(number, true).await;
        assert_not_leaked("eth_getBlockByNumber(full)", &block.to_string(), &secret);
    }
    let logs = client
        .json(
            "eth_getLogs",
            json!([{ "fromBlock": "0x0", "toBlock": "latest" }]),
        )
        .await
        .expect("eth_getLogs");
    assert_not_leaked("eth_getLogs", &logs.to_string(), &secret);
    assert_not_leaked("/metrics", &kettle.metrics().expect("/metrics"), &secret);
    assert_eq!(kettle.log_lines_dropped(), 0, "the whole log is checked");
    assert_not_leaked("the kettle's stderr", &kettle.logs(), &secret);
}

/// (c) SIGTERM, then a new process on the same data dir: head, balances, code, receipts and
/// the confidential record all survive; a request after the restart reads the record.
#[tokio::test]
async fn restart_keeps_chain_and_confidential_store() {
    let mut rng = TestRng::from_env_or_clock("KETTLE_E2E_SEED");
    let mut kettle = KettleProcess::start();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let vault = client.deploy(&user, "Vault").await;
    let secret = fresh_secret(&mut rng);
    let stored = client
        .request_and_wait(&user, vault, store_call(), &secret)
        .await;
    let stored_hash = stored.inner.transaction_hash;
    let id = decode_logs::<Vault::SecretStored>(&stored)[0].id;

    let head = client.block_number().await;
    let head_block = client.block_json(head, true).await;
    let stored_receipt = client.receipt_json(stored_hash).await;
    let stored_tx = client.transaction_json(stored_hash).await;
    let balances = (
        client.balance(user.address()).await,
        client.balance(DEV_KETTLE_ADDRESS).await,
    );
    let nonce = client.pending_nonce(user.address()).await;
    let code = client
        .provider()
        .get_code_at(vault)
        .await
        .expect("eth_getCode");

    let status = kettle.stop();
    assert!(
        status.success(),
        "SIGTERM must stop the kettle cleanly, got {status}; stderr:\n{}",
        kettle.logs()
    );
    kettle.restart();
    let client = KettleClient::connect(&kettle.rpc_url()).await;

    assert_eq!(
        client.block_number().await,
        head,
        "head number after restart"
    );
    assert_eq!(
        client.block_json(head, true).await,
        head_block,
        "head block after restart"
    );
    assert_eq!(
        client.receipt_json(stored_hash).await,
        stored_receipt,
        "receipt after restart"
    );
    assert_eq!(
        client.transaction_json(stored_hash).await,
        stored_tx,
        "0x50 after restart"
    );
    assert_eq!(
        (
            client.balance(user.address()).await,
            client.balance(DEV_KETTLE_ADDRESS).await
        ),
        balances,
        "balances after restart"
    );
    assert_eq!(
        client.pending_nonce(user.address()).await,
        nonce,
        "nonce after restart"
    );
    assert_eq!(
        client
            .provider()
            .get_code_at(vault)
            .await
            .expect("eth_getCode"),
        code,
        "contract code after restart"
    );
    let health = kettle.health().expect("/health");
    assert_eq!(
        health["head"]["number"],
        json!(head),
        "/health after restart: {health}"
    );

    // A third request reads the record stored before the restart.
    let revealed = client
        .request_and_wait(&user, vault, reveal_call(&[id]), b"")
        .await;
    let events = decode_logs::<Vault::SecretRevealed>(&revealed);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].id, events[0].digest),
        (id, keccak256(&secret)),
        "the record survived the restart"
    );
    assert_eq!(
        revealed.inner.block_number,
        Some(head + 1),
        "the chain continues from the persisted head"
    );
}

/// Sends `request` expecting a JSON-RPC error; returns it.
async fn refused(client: &KettleClient, raw: &[u8], what: &str) -> RpcFailure {
    match client.send_raw(raw).await {
        Ok(hash) => panic!("{what} was accepted as {hash}"),
        Err(e @ RpcFailure::Error { .. }) => e,
        Err(e) => panic!("{what}: expected a JSON-RPC error, got {e}"),
    }
}

/// (d) Failing requests get the reference's errors and leave no trace: no nonce consumed, no
/// block, nothing pending.
#[tokio::test]
async fn failing_requests_commit_nothing() {
    let kettle = KettleProcess::start();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let vault = client.deploy(&user, "Vault").await;
    let head = client.block_number().await;
    let nonce = client.pending_nonce(user.address()).await;
    let balance = client.balance(user.address()).await;

    // The SUAPP reverts with Error(string): suave-geth's bare message, no reason.
    let request = client
        .build_request(&user, vault, store_call(), b"", Signing::Eip712)
        .await;
    let err = refused(&client, &request.encoded(), "a reverting request").await;
    assert_eq!(err.message(), REVERTED, "{err}");
    assert_eq!(err.code(), Some(-32000), "{err}");

    // A precompile fails inside Suave.sol: the PeekerReverted rewrite names the precompile.
    let unknown = alloy_primitives::FixedBytes::<16>::repeat_byte(0x42);
    let request = client
        .build_request(&user, vault, reveal_call(&[unknown]), b"", Signing::Eip712)
        .await;
    let err = refused(
        &client,
        &request.encoded(),
        "a request reading a missing record",
    )
    .await;
    assert!(
        err.message().starts_with(
            "transaction failed: execution reverted: precompile \
             '0x0000000000000000000000000000000042020001' reverted: '"
        ),
        "expected the PeekerReverted rewrite naming confidentialRetrieve, got {err}"
    );

    // Addressed to another kettle.
    let mut request = client
        .build_request(&user, vault, store_call(), b"x", Signing::Eip712)
        .await;
    request.record.kettle_address = Address::repeat_byte(0x11);
    let request = request.into_signed(&user).expect("re-sign");
    let err = refused(&client, &request.encoded(), "a request for another kettle").await;
    assert_eq!(err.message(), "unknown account", "{err}");

    // Another chain.
    let mut request = client
        .build_request(&user, vault, store_call(), b"x", Signing::Eip712)
        .await;
    request.record.chain_id = U256::from(1);
    let request = request.into_signed(&user).expect("re-sign");
    let err = refused(&client, &request.encoded(), "a request for chain 1").await;
    assert_eq!(
        err.message(),
        format!("invalid chain id for signer: have 1 want {SUAVE_DEV_CHAIN_ID}"),
        "{err}"
    );

    // Inputs swapped after signing.
    let mut request = client
        .build_request(
            &user,
            vault,
            store_call(),
            b"signed inputs",
            Signing::Eip712,
        )
        .await;
    request.confidential_inputs = Bytes::from_static(b"other inputs");
    let err = refused(&client, &request.encoded(), "a request with swapped inputs").await;
    assert_eq!(err.message(), "confidential inputs hash mismatch", "{err}");

    // Malformed raw bytes get a decoding error, not a crash or a hang.
    for (raw, what, expected) in [
        (&[0x43, 0xde, 0xad, 0xbe, 0xef][..], "truncated 0x43", "rlp"),
        (&[0x43][..], "bare type byte", "too short"),
        (
            &[0x42, 0xc0][..],
            "raw 0x42 record",
            "transaction type not supported",
        ),
        (
            &[0x77, 0xc0][..],
            "unknown type",
            "transaction type not supported",
        ),
        (&[][..], "empty bytes", ""),
    ] {
        let err = refused(&client, raw, what).await;
        assert_eq!(err.code(), Some(-32000), "{what}: {err}");
        assert!(!err.message().is_empty(), "{what}: an error message");
        assert!(err.message().contains(expected), "{what}: {err}");
    }

    // Nothing was committed.
    assert_eq!(
        client.pending_nonce(user.address()).await,
        nonce,
        "no nonce consumed"
    );
    assert_eq!(client.balance(user.address()).await, balance, "no gas paid");
    assert_eq!(client.block_number().await, head, "no block sealed");
    let health = kettle.health().expect("/health");
    assert_eq!(
        health["pendingTransactions"],
        json!(0),
        "nothing pending: {health}"
    );

    // And the node still serves requests.
    let receipt = client
        .request_and_wait(&user, vault, store_call(), b"still works")
        .await;
    assert_eq!(receipt.inner.block_number, Some(head + 1));
}

/// (d) Confidential `eth_call` returns the raw return data and commits nothing; plain
/// `eth_call` runs without precompiles; `eth_estimateGas` with `isConfidential` estimates
/// the confidential run.
#[tokio::test]
async fn confidential_call_and_estimate() {
    let kettle = KettleProcess::start();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let hello = client.deploy(&user, "Hello").await;
    let head = client.block_number().await;
    let nonce = client.pending_nonce(user.address()).await;

    let raw = client
        .confidential_call(hello, hello_call(), b"caller")
        .await
        .expect("confidential eth_call");
    let callback: Bytes = Hello::callbackCall {
        greeting: "hello, caller".into(),
    }
    .abi_encode()
    .into();
    let returned = Hello::helloCall::abi_decode_returns(&raw).expect("abi.encode(bytes)");
    assert_eq!(
        returned, callback,
        "eth_call returns hello()'s raw return data"
    );
    assert_eq!(
        raw.len(),
        32 + 32 + callback.len().div_ceil(32) * 32,
        "raw, not the callback"
    );

    // Without isConfidential there are no precompiles: Hello refuses to run.
    let err = client
        .json(
            "eth_call",
            json!([{ "to": hello, "input": hello_call() }, "latest"]),
        )
        .await
        .expect_err("a plain call of hello() reverts");
    assert_eq!(err.code(), Some(3), "{err}");
    assert_eq!(
        err.data().map(bytes),
        Some(Bytes::from(Hello::NotConfidential::SELECTOR.to_vec())),
        "{err}"
    );

    // Confidential estimate, then a call with exactly that gas succeeds.
    let gas = client
        .confidential_estimate(hello, hello_call(), b"estimate")
        .await
        .expect("confidential eth_estimateGas");
    assert!((21_000..1_000_000).contains(&gas), "estimate {gas}");
    let args = json!({
        "to": hello, "input": hello_call(), "gas": format!("{gas:#x}"),
        "isConfidential": true, "confidentialInputs": Bytes::from_static(b"estimate"),
    });
    client
        .json("eth_call", json!([args, "latest"]))
        .await
        .unwrap_or_else(|e| panic!("confidential call with the estimated gas {gas}: {e}"));
    // Without isConfidential the estimate fails like the call.
    let err = client
        .json(
            "eth_estimateGas",
            json!([{ "to": hello, "input": hello_call() }]),
        )
        .await
        .expect_err("plain estimate of hello() reverts");
    assert_eq!(err.code(), Some(3), "{err}");

    // A confidential call for another kettle.
    let err = client
        .json(
            "eth_call",
            json!([{ "to": hello, "input": hello_call(), "gas": "0xf4240", "isConfidential": true,
                     "kettleAddress": Address::repeat_byte(0x11) }, "latest"]),
        )
        .await
        .expect_err("another kettle");
    assert_eq!(err.message(), "unknown account", "{err}");

    assert_eq!(client.block_number().await, head, "calls seal no block");
    assert_eq!(
        client.pending_nonce(user.address()).await,
        nonce,
        "calls consume no nonce"
    );
}

/// `cast`-style queries answer as a standard node does, and the chain grows with
/// transactions (issue 6, "How it is checked").
#[tokio::test]
async fn standard_queries_and_block_growth() {
    let kettle = KettleProcess::start();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();

    let chain_id: String = client.rpc("eth_chainId", ()).await.expect("eth_chainId");
    assert_eq!(chain_id, "0x1008c45");
    let net: String = client.rpc("net_version", ()).await.expect("net_version");
    assert_eq!(net, SUAVE_DEV_CHAIN_ID.to_string());
    let version: String = client
        .rpc("web3_clientVersion", ())
        .await
        .expect("web3_clientVersion");
    assert!(version.starts_with("kettle"), "{version}");
    let ten_billion_ether = U256::from(10_000_000_000u64) * U256::from(10u64).pow(U256::from(18));
    assert_eq!(
        client.balance(user.address()).await,
        ten_billion_ether,
        "dev user genesis balance"
    );
    assert_eq!(
        client.block_number().await,
        0,
        "a fresh dev chain starts at genesis"
    );

    let to = Address::repeat_byte(0xaa);
    let hash = client
        .send_eip1559(
            &user,
            TxKind::Call(to),
            Bytes::new(),
            U256::from(12_345),
            21_000,
        )
        .await
        .expect("transfer accepted");
    let receipt = client.wait_receipt(hash).await;
    assert!(receipt.status());
    assert_eq!(receipt.inner.inner.r#type, 2);
    assert_eq!(
        client.block_number().await,
        1,
        "one block per pending batch"
    );
    assert_eq!(client.balance(to).await, U256::from(12_345));

    let health = kettle.health().expect("/health");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["chainId"], json!(SUAVE_DEV_CHAIN_ID));
    let metrics = kettle.metrics().expect("/metrics");
    assert!(
        metrics.contains("kettle_block_height 1"),
        "/metrics reports the height:\n{metrics}"
    );
    // Where the memory is (measured at start-up and every 10 s after).
    let gauge = |part: &str| -> f64 {
        let prefix = format!("kettle_memory_bytes{{part=\"{part}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("/metrics has no {prefix}:\n{metrics}"))
    };
    let resident = gauge("resident");
    assert!(
        (4e6..4e9).contains(&resident),
        "resident set {resident} bytes"
    );
    assert!(gauge("heap_in_use") > 1e6, "the heap is measured");
    assert!(gauge("heap_in_use") < resident * 2.0);
    assert!(gauge("rocksdb_memtables") > 0.0, "memtables are measured");
    for part in [
        "heap_free",
        "rocksdb_chain_block_cache",
        "rocksdb_store_block_cache",
        "rocksdb_table_readers",
    ] {
        assert!(gauge(part) >= 0.0);
    }
    assert!(metrics.contains("kettle_pool_transactions "));
}

/// `chain.busy_block_gap_ms`: a lone transaction right after a block is sealed at once, while
/// transactions that arrive together wait for the gap since the previous block and share
/// blocks.
#[tokio::test]
async fn concurrent_transactions_wait_for_the_busy_gap_and_share_blocks() {
    use alloy_consensus::TxEip1559;
    use alloy_eips::eip2718::Encodable2718;
    use std::time::{Duration, Instant};

    const GAP: Duration = Duration::from_secs(3);
    const USERS: usize = 12;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("kettle.toml");
    std::fs::write(
        &config,
        format!("[chain]\nbusy_block_gap_ms = {}\n", GAP.as_millis()),
    )
    .expect("writing the config");
    let kettle = KettleProcess::start_with(KettleOptions {
        extra_args: vec!["--config".into(), config.display().to_string()],
        ..Default::default()
    });
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let mut rng = TestRng::from_env_or_clock("KETTLE_TEST_SEED");
    let mut users = Vec::new();
    for _ in 0..USERS {
        // Each funding transfer is alone: sealed at once.
        users.push(client.funded_user(&mut rng).await);
    }
    let to = Address::repeat_byte(0xbb);

    // Right after the last funding block: still sealed at once.
    let started = Instant::now();
    let hash = client
        .send_eip1559(
            &dev_user(),
            TxKind::Call(to),
            Bytes::new(),
            U256::from(1),
            21_000,
        )
        .await
        .expect("transfer accepted");
    client.wait_receipt(hash).await;
    let lone = started.elapsed();
    assert!(
        lone < GAP / 2,
        "a lone transaction waited {lone:?}, as if the busy gap ({GAP:?}) applied"
    );

    // Transfers from every user at once.
    let price = client.gas_price().await;
    let raws: Vec<Vec<u8>> = users
        .iter()
        .map(|user| {
            let tx = TxEip1559 {
                chain_id: client.chain_id(),
                nonce: 0,
                gas_limit: 21_000,
                max_fee_per_gas: price * 2,
                max_priority_fee_per_gas: price,
                to: TxKind::Call(to),
                value: U256::from(1),
                access_list: Default::default(),
                input: Bytes::new(),
            };
            kettle_tests::signed_eip1559(user, tx).encoded_2718()
        })
        .collect();
    let burst = Instant::now();
    let mut sends = tokio::task::JoinSet::new();
    for raw in raws {
        let client = client.clone();
        sends.spawn(async move { client.send_raw(&raw).await });
    }
    let mut hashes = Vec::new();
    while let Some(sent) = sends.join_next().await {
        hashes.push(sent.expect("send task").expect("transfer accepted"));
    }
    let mut blocks = std::collections::BTreeSet::new();
    for hash in &hashes {
        let receipt = client.wait_receipt(*hash).await;
        assert!(receipt.status());
        blocks.insert(receipt.block_number.expect("mined"));
    }
    let took = burst.elapsed();
    assert!(
        blocks.len() < USERS,
        "{USERS} transfers sent together went into {} blocks",
        blocks.len()
    );
    // Every burst block but one that caught them all at once starts a gap after the block
    // before it; back to back, all would be mined within a fraction of it.
    assert!(
        took >= GAP * 2 / 3 || blocks.len() == 1,
        "transfers sent together were mined in {} blocks within {took:?}, less than the busy \
         gap {GAP:?}",
        blocks.len()
    );
}
