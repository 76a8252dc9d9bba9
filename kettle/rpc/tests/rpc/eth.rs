//! Standard `eth_*` methods: shapes and values.

use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256, U64};
use alloy_rpc_types_eth::{Block, FeeHistory, Header, Transaction, TransactionReceipt};
use jsonrpsee::rpc_params;
use kettle_primitives::DEV_KETTLE_ADDRESS;
use serde_json::{json, Value};

use crate::common::*;

fn ten_billion_ether() -> U256 {
    U256::from(10_000_000_000u64) * U256::from(10u64).pow(U256::from(18u64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_identity_methods() {
    let node = TestNode::start().await;
    let id: U64 = node.call("eth_chainId", rpc_params![]).await;
    assert_eq!(id, U64::from(CHAIN_ID));
    let raw: Value = node.call("eth_chainId", rpc_params![]).await;
    assert_eq!(raw, json!("0x1008c45"));
    let version: String = node.call("net_version", rpc_params![]).await;
    assert_eq!(version, "16813125");
    let listening: bool = node.call("net_listening", rpc_params![]).await;
    assert!(listening);
    let client: String = node.call("web3_clientVersion", rpc_params![]).await;
    assert!(client.starts_with("kettle/"), "{client}");
    let sha: B256 = node
        .call("web3_sha3", rpc_params![Bytes::from_static(b"abc")])
        .await;
    assert_eq!(sha, keccak256(b"abc"));
    let number: Value = node.call("eth_blockNumber", rpc_params![]).await;
    assert_eq!(number, json!("0x0"));
    let syncing: Value = node.call("eth_syncing", rpc_params![]).await;
    assert_eq!(syncing, json!(false));
    let accounts: Vec<Address> = node.call("eth_accounts", rpc_params![]).await;
    assert!(accounts.is_empty());
    for method in ["eth_kettleAddress", "eth_executionAddress"] {
        let kettles: Vec<Address> = node.call(method, rpc_params![]).await;
        assert_eq!(kettles, vec![DEV_KETTLE_ADDRESS], "{method}");
    }
    let err = node
        .call_err(
            "eth_sendTransaction",
            rpc_params![json!({"to": Address::ZERO})],
        )
        .await;
    assert_eq!((err.code(), err.message()), (-32000, "method not allowed"));
    let err = node.call_err("eth_sendTransaction", rpc_params![]).await;
    assert_eq!(err.message(), "method not allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_methods_serve_head_and_refuse_history() {
    let node = TestNode::start().await;
    let me = user().address();
    let balance: U256 = node.call("eth_getBalance", rpc_params![me, "latest"]).await;
    assert_eq!(balance, ten_billion_ether());
    // block tag optional; "pending", "safe", "finalized", number and hash of head all work
    let genesis_hash = node.chain.head().0;
    for tag in [
        json!("pending"),
        json!("safe"),
        json!("finalized"),
        json!("earliest"),
        json!("0x0"),
        json!({"blockHash": genesis_hash}),
    ] {
        let b: U256 = node
            .call("eth_getBalance", rpc_params![me, tag.clone()])
            .await;
        assert_eq!(b, ten_billion_ether(), "{tag}");
    }
    let b: U256 = node.call("eth_getBalance", rpc_params![me]).await;
    assert_eq!(b, ten_billion_ether());

    // deploy the echo contract and a transfer; pending nonce moves before the block
    let deploy = eip1559(0, TxKind::Create, U256::ZERO, hex_bytes(ECHO_INITCODE));
    let to = Address::repeat_byte(0xaa);
    let transfer = legacy(1, TxKind::Call(to), U256::from(777u64), vec![]);
    node.send_raw(raw(&deploy)).await;
    node.send_raw(raw(&transfer)).await;
    let latest: U64 = node
        .call("eth_getTransactionCount", rpc_params![me, "latest"])
        .await;
    let pending: U64 = node
        .call("eth_getTransactionCount", rpc_params![me, "pending"])
        .await;
    assert_eq!((latest, pending), (U64::from(0), U64::from(2)));
    node.produce();
    let latest: U64 = node
        .call("eth_getTransactionCount", rpc_params![me, "latest"])
        .await;
    assert_eq!(latest, U64::from(2));

    let code: Bytes = node
        .call("eth_getCode", rpc_params![user_contract(0), "latest"])
        .await;
    assert_eq!(code.to_vec(), hex_bytes("60003560005260206000f3"));
    let code: Bytes = node.call("eth_getCode", rpc_params![to]).await;
    assert!(code.is_empty());
    let got: U256 = node.call("eth_getBalance", rpc_params![to, "0x1"]).await;
    assert_eq!(got, U256::from(777u64));
    let slot: Value = node
        .call("eth_getStorageAt", rpc_params![to, "0x0", "latest"])
        .await;
    assert_eq!(slot, json!(format!("0x{}", "0".repeat(64))));

    // genesis is now history; the future is not found; unknown hashes are errors
    for (tag, message) in [
        (json!("earliest"), "historical state is not available"),
        (json!("0x0"), "historical state is not available"),
        (
            json!({"blockHash": genesis_hash}),
            "historical state is not available",
        ),
        (json!("0x5"), "header not found"),
        (
            json!({"blockHash": B256::repeat_byte(9)}),
            "header for hash not found",
        ),
    ] {
        for method in ["eth_getBalance", "eth_getCode", "eth_getTransactionCount"] {
            let err = node.call_err(method, rpc_params![me, tag.clone()]).await;
            assert_eq!(
                (err.code(), err.message()),
                (-32000, message),
                "{method} {tag}"
            );
        }
        let err = node
            .call_err("eth_getStorageAt", rpc_params![me, "0x0", tag.clone()])
            .await;
        assert_eq!(err.message(), message);
        let err = node
            .call_err("eth_call", rpc_params![json!({"to": to}), tag.clone()])
            .await;
        assert_eq!(err.message(), message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_transactions_and_receipts() {
    let node = TestNode::start().await;
    let me = user().address();
    let to = Address::repeat_byte(0xbb);
    let t0 = legacy(0, TxKind::Call(to), U256::from(1u64), vec![]);
    let t1 = eip1559(1, TxKind::Create, U256::ZERO, hex_bytes(LOGGER_INITCODE));
    let h0 = node.send_raw(raw(&t0)).await;
    let h1 = node.send_raw(raw(&t1)).await;
    assert_eq!(h0, *t0.tx_hash());
    assert_eq!(h1, *t1.tx_hash());

    // pending transactions are served without block fields; no receipt yet
    let pending: Value = node.call("eth_getTransactionByHash", rpc_params![h1]).await;
    assert_eq!(pending["blockHash"], Value::Null);
    assert_eq!(pending["blockNumber"], Value::Null);
    assert_eq!(pending["from"], json!(me));
    assert_eq!(
        pending["gasPrice"],
        json!("0x77359400"),
        "fee cap while pending"
    );
    let receipt: Value = node
        .call("eth_getTransactionReceipt", rpc_params![h1])
        .await;
    assert_eq!(receipt, Value::Null);

    let block = node.produce();
    assert_eq!(block.transactions.len(), 2);

    // hash-only and full forms; the header hash recomputes
    let by_number: Value = node
        .call("eth_getBlockByNumber", rpc_params!["latest", false])
        .await;
    assert_eq!(by_number["hash"], json!(block.hash));
    assert_eq!(by_number["transactions"], json!([h0, h1]));
    let header: Header = serde_json::from_value(by_number.clone()).expect("alloy header");
    assert_eq!(header.inner.hash_slow(), header.hash);
    assert_eq!(header.number, 1);
    assert_eq!(by_number["uncles"], json!([]));
    assert_eq!(
        by_number["sha3Uncles"],
        json!("0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
    );
    let size = by_number["size"].as_str().expect("size");
    assert!(u64::from_str_radix(&size[2..], 16).expect("hex") > 500);

    let full: Block<Transaction> = node
        .call("eth_getBlockByHash", rpc_params![block.hash, true])
        .await;
    assert_eq!(full.header.hash, block.hash);
    let txs = full.transactions.as_transactions().expect("full");
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[0].inner.signer(), me);
    assert_eq!(*txs[0].inner.tx_hash(), h0);
    assert_eq!(txs[1].block_number, Some(1));
    assert_eq!(txs[1].transaction_index, Some(1));
    // mined EIP-1559: gasPrice is the effective price (base fee + tip)
    let base_fee = u128::from(block.header.base_fee_per_gas.expect("london"));
    assert_eq!(txs[1].effective_gas_price, Some(base_fee + 3));

    let by_number_full: Value = node
        .call("eth_getBlockByNumber", rpc_params!["0x1", true])
        .await;
    let by_hash_full: Value = node
        .call("eth_getBlockByHash", rpc_params![block.hash, true])
        .await;
    assert_eq!(by_number_full, by_hash_full);
    let missing: Value = node
        .call("eth_getBlockByNumber", rpc_params!["0x9", false])
        .await;
    assert_eq!(missing, Value::Null);
    let missing: Value = node
        .call(
            "eth_getBlockByHash",
            rpc_params![B256::repeat_byte(1), false],
        )
        .await;
    assert_eq!(missing, Value::Null);
    let genesis: Value = node
        .call("eth_getBlockByNumber", rpc_params!["earliest", false])
        .await;
    assert_eq!(genesis["number"], json!("0x0"));
    let pending_block: Value = node
        .call("eth_getBlockByNumber", rpc_params!["pending", false])
        .await;
    assert_eq!(pending_block["hash"], json!(block.hash));

    let count: U64 = node
        .call("eth_getBlockTransactionCountByNumber", rpc_params!["0x1"])
        .await;
    assert_eq!(count, U64::from(2));
    let count: U64 = node
        .call(
            "eth_getBlockTransactionCountByHash",
            rpc_params![block.hash],
        )
        .await;
    assert_eq!(count, U64::from(2));
    let count: Value = node
        .call("eth_getBlockTransactionCountByNumber", rpc_params!["0x7"])
        .await;
    assert_eq!(count, Value::Null);

    let by_index: Value = node
        .call(
            "eth_getTransactionByBlockNumberAndIndex",
            rpc_params!["latest", "0x1"],
        )
        .await;
    assert_eq!(by_index["hash"], json!(h1));
    let by_index: Value = node
        .call(
            "eth_getTransactionByBlockHashAndIndex",
            rpc_params![block.hash, "0x0"],
        )
        .await;
    assert_eq!(by_index["hash"], json!(h0));
    let none: Value = node
        .call(
            "eth_getTransactionByBlockNumberAndIndex",
            rpc_params!["latest", "0x2"],
        )
        .await;
    assert_eq!(none, Value::Null);
    let mined: Value = node.call("eth_getTransactionByHash", rpc_params![h1]).await;
    assert_eq!(mined, by_number_full["transactions"][1]);

    // receipts parse as alloy's, with geth's values
    let r0: TransactionReceipt = node
        .call("eth_getTransactionReceipt", rpc_params![h0])
        .await;
    assert!(r0.status());
    assert_eq!(r0.gas_used, 21_000);
    assert_eq!(r0.from, me);
    assert_eq!(r0.to, Some(to));
    assert_eq!(r0.contract_address, None);
    assert_eq!(r0.block_hash, Some(block.hash));
    assert_eq!(r0.transaction_index, Some(0));
    assert_eq!(r0.effective_gas_price, 2 * GWEI);
    let r1: TransactionReceipt = node
        .call("eth_getTransactionReceipt", rpc_params![h1])
        .await;
    assert_eq!(r1.contract_address, Some(user_contract(1)));
    assert_eq!(r1.to, None);
    assert_eq!(
        r1.inner.cumulative_gas_used(),
        block.receipts[1].cumulative_gas_used
    );
    assert_eq!(r1.gas_used, block.receipts[1].cumulative_gas_used - 21_000);
    let raw_receipt: Value = node
        .call("eth_getTransactionReceipt", rpc_params![h1])
        .await;
    assert_eq!(raw_receipt["type"], json!("0x2"));
    assert_eq!(raw_receipt["status"], json!("0x1"));
    let all: Vec<Value> = node
        .call("eth_getBlockReceipts", rpc_params!["latest"])
        .await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1], raw_receipt);
    let none: Value = node
        .call(
            "eth_getTransactionReceipt",
            rpc_params![B256::repeat_byte(3)],
        )
        .await;
    assert_eq!(none, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_gas_estimates() {
    let node = TestNode::start().await;
    for (nonce, code) in [ECHO_INITCODE, REVERTER_INITCODE].iter().enumerate() {
        let tx = eip1559(nonce as u64, TxKind::Create, U256::ZERO, hex_bytes(code));
        node.send_raw(raw(&tx)).await;
    }
    node.produce();
    let (echo, reverter) = (user_contract(0), user_contract(1));
    let word = B256::repeat_byte(0x5a);

    let out: Bytes = node
        .call(
            "eth_call",
            rpc_params![json!({"to": echo, "input": word}), "latest"],
        )
        .await;
    assert_eq!(out.as_ref(), word.as_slice());
    // `data` is accepted too; both must agree
    let out: Bytes = node
        .call("eth_call", rpc_params![json!({"to": echo, "data": word})])
        .await;
    assert_eq!(out.as_ref(), word.as_slice());
    let err = node
        .call_err(
            "eth_call",
            rpc_params![json!({"to": echo, "data": word, "input": "0x01"})],
        )
        .await;
    assert!(err
        .message()
        .starts_with("both \"data\" and \"input\" are set"));

    let err = node
        .call_err("eth_call", rpc_params![json!({"to": reverter}), "latest"])
        .await;
    assert_eq!((err.code(), err.message()), (3, "execution reverted"));
    let data: Bytes = serde_json::from_str(err.data().expect("data").get()).expect("hex");
    assert_eq!(data.as_ref(), B256::with_last_byte(42).as_slice());

    let err = node
        .call_err(
            "eth_call",
            rpc_params![
                json!({"to": echo}),
                "latest",
                json!({echo.to_string(): {"balance": "0x1"}})
            ],
        )
        .await;
    assert_eq!(err.code(), -32602);
    // null overrides are fine
    let _: Bytes = node
        .call(
            "eth_call",
            rpc_params![json!({"to": echo}), "latest", Value::Null],
        )
        .await;

    let gas: U64 = node
        .call(
            "eth_estimateGas",
            rpc_params![
                json!({"from": user().address(), "to": Address::repeat_byte(1), "value": "0x1"})
            ],
        )
        .await;
    assert_eq!(gas, U64::from(21_000));
    let gas: U64 = node
        .call(
            "eth_estimateGas",
            rpc_params![json!({"to": echo, "input": word}), "latest"],
        )
        .await;
    assert!(gas > U64::from(21_000) && gas < U64::from(30_000), "{gas}");
    let err = node
        .call_err("eth_estimateGas", rpc_params![json!({"to": reverter})])
        .await;
    assert_eq!(err.code(), 3);
    let err = node
        .call_err(
            "eth_estimateGas",
            rpc_params![json!({"to": echo, "gas": "0x5410", "input": word})],
        )
        .await;
    assert_eq!(err.message(), "gas required exceeds allowance (21520)");
    let err = node
        .call_err(
            "eth_estimateGas",
            rpc_params![json!({"from": Address::repeat_byte(7), "to": echo, "value": "0x10", "gasPrice": "0x77359400"})],
        )
        .await;
    assert_eq!(err.code(), -32000);
    assert!(err.message().contains("funds"), "{}", err.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gas_price_and_fee_history() {
    let node = TestNode::start().await;
    // no transactions yet: the default tip (1 wei) over the larger of the head's base fee
    // (1 gwei at genesis, what a 0x43 is checked against) and the next one (7/8 gwei)
    let tip: U256 = node.call("eth_maxPriorityFeePerGas", rpc_params![]).await;
    assert_eq!(tip, U256::from(1u64));
    let price: U256 = node.call("eth_gasPrice", rpc_params![]).await;
    assert_eq!(price, U256::from(GWEI + 1));

    for nonce in 0..3 {
        let tx = eip1559(
            nonce,
            TxKind::Call(Address::repeat_byte(2)),
            U256::ZERO,
            vec![],
        );
        node.send_raw(raw(&tx)).await;
        node.produce();
    }
    let tip: U256 = node.call("eth_maxPriorityFeePerGas", rpc_params![]).await;
    assert_eq!(tip, U256::from(3u64), "tips of recent blocks");
    let next_base = node.chain.next_base_fee();
    let head_base = node.chain.head().1.base_fee_per_gas.expect("london");
    let price: U256 = node.call("eth_gasPrice", rpc_params![]).await;
    assert_eq!(price, U256::from(u128::from(next_base.max(head_base)) + 3));

    let history: FeeHistory = node
        .call(
            "eth_feeHistory",
            rpc_params!["0x2", "latest", vec![10.0, 90.0]],
        )
        .await;
    assert_eq!(history.oldest_block, 2);
    assert_eq!(history.base_fee_per_gas.len(), 3);
    assert_eq!(history.base_fee_per_gas[2], u128::from(next_base));
    let head = node.chain.head().1;
    assert_eq!(
        history.base_fee_per_gas[1],
        u128::from(head.base_fee_per_gas.expect("base fee"))
    );
    assert_eq!(history.gas_used_ratio.len(), 2);
    assert!((history.gas_used_ratio[1] - 21_000.0 / 30_000_000.0).abs() < 1e-12);
    assert_eq!(history.reward, Some(vec![vec![3, 3], vec![3, 3]]));

    // count as a number, clamped to the chain; no percentiles → no reward
    let raw: Value = node
        .call("eth_feeHistory", rpc_params![100, "latest"])
        .await;
    assert_eq!(raw["oldestBlock"], json!("0x0"));
    assert_eq!(raw["baseFeePerGas"].as_array().map(Vec::len), Some(5));
    assert!(raw.get("reward").is_none());
    let err = node
        .call_err("eth_feeHistory", rpc_params!["0x1", "0x10"])
        .await;
    assert_eq!(
        err.message(),
        "request beyond head block: requested 16, head 3"
    );
    let err = node
        .call_err(
            "eth_feeHistory",
            rpc_params!["0x1", "latest", vec![50.0, 10.0]],
        )
        .await;
    assert_eq!(err.code(), -32602);
}

/// Calldata for the logger: data word, topic.
fn log_call(data: u8, topic: B256) -> Vec<u8> {
    let mut input = B256::repeat_byte(data).to_vec();
    input.extend_from_slice(topic.as_slice());
    input
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_filtering() {
    let node = TestNode::start_with(|c| c.max_logs_block_range = 3).await;
    for nonce in 0..2 {
        let tx = eip1559(
            nonce,
            TxKind::Create,
            U256::ZERO,
            hex_bytes(LOGGER_INITCODE),
        );
        node.send_raw(raw(&tx)).await;
    }
    node.produce(); // block 1
    let (a, b) = (user_contract(0), user_contract(1));
    let (ta, tb) = (B256::repeat_byte(0xa1), B256::repeat_byte(0xb2));
    // block 2: a emits (1, ta), b emits (2, tb); block 3: a emits (3, tb)
    for (nonce, to, data, topic) in [(2, a, 1, ta), (3, b, 2, tb)] {
        let tx = eip1559(nonce, TxKind::Call(to), U256::ZERO, log_call(data, topic));
        node.send_raw(raw(&tx)).await;
    }
    let block2 = node.produce();
    let tx = eip1559(4, TxKind::Call(a), U256::ZERO, log_call(3, tb));
    let h4 = node.send_raw(raw(&tx)).await;
    let block3 = node.produce();

    let all: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x1", "toBlock": "latest"})],
        )
        .await;
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["address"], json!(a));
    assert_eq!(all[0]["topics"], json!([ta]));
    assert_eq!(all[0]["data"], json!(B256::repeat_byte(1)));
    assert_eq!(all[0]["blockHash"], json!(block2.hash));
    assert_eq!(all[0]["logIndex"], json!("0x0"));
    assert_eq!(all[1]["logIndex"], json!("0x1"));
    assert_eq!(all[1]["transactionIndex"], json!("0x1"));
    assert_eq!(all[2]["transactionHash"], json!(h4));
    assert_eq!(all[2]["blockNumber"], json!("0x3"));
    assert_eq!(all[2]["removed"], json!(false));
    // typed logs parse as alloy's
    let typed: Vec<alloy_rpc_types_eth::Log> = node
        .call("eth_getLogs", rpc_params![json!({"fromBlock": "0x1"})])
        .await;
    assert_eq!(typed.len(), 3);

    let by_address: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x1", "address": a})],
        )
        .await;
    assert_eq!(by_address.len(), 2);
    let by_addresses: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x1", "address": [a, b]})],
        )
        .await;
    assert_eq!(by_addresses.len(), 3);
    let by_topic: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x1", "topics": [tb]})],
        )
        .await;
    assert_eq!(by_topic.len(), 2);
    let both: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x1", "address": a, "topics": [[ta, tb]]})],
        )
        .await;
    assert_eq!(both.len(), 2);
    let none: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x1", "topics": [null, ta]})],
        )
        .await;
    assert!(none.is_empty());
    let at_hash: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"blockHash": block3.hash})],
        )
        .await;
    assert_eq!(at_hash.len(), 1);
    let range: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x2", "toBlock": "0x2"})],
        )
        .await;
    assert_eq!(range.len(), 2);
    // default range is the head block
    let latest: Vec<Value> = node.call("eth_getLogs", rpc_params![json!({})]).await;
    assert_eq!(latest.len(), 1);
    // beyond the head: nothing
    let future: Vec<Value> = node
        .call(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x10", "toBlock": "0x20"})],
        )
        .await;
    assert!(future.is_empty());

    let err = node
        .call_err(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x0", "toBlock": "0x3"})],
        )
        .await;
    assert_eq!(
        (err.code(), err.message()),
        (-32005, "query exceeds max block range 3")
    );
    let err = node
        .call_err(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x3", "toBlock": "0x1"})],
        )
        .await;
    assert_eq!(err.message(), "invalid block range params");
    let err = node
        .call_err(
            "eth_getLogs",
            rpc_params![json!({"blockHash": B256::repeat_byte(4)})],
        )
        .await;
    assert_eq!(err.message(), "unknown block");
    let err = node
        .call_err(
            "eth_getLogs",
            rpc_params![json!({"blockHash": block3.hash, "fromBlock": "0x1"})],
        )
        .await;
    assert_eq!(err.code(), -32602);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_result_cap() {
    let node = TestNode::start_with(|c| c.max_logs = 1).await;
    let tx = eip1559(0, TxKind::Create, U256::ZERO, hex_bytes(LOGGER_INITCODE));
    node.send_raw(raw(&tx)).await;
    node.produce();
    for nonce in 1..3 {
        let tx = eip1559(
            nonce,
            TxKind::Call(user_contract(0)),
            U256::ZERO,
            log_call(1, B256::ZERO),
        );
        node.send_raw(raw(&tx)).await;
    }
    node.produce();
    let err = node
        .call_err("eth_getLogs", rpc_params![json!({"fromBlock": "0x0"})])
        .await;
    assert_eq!(
        (err.code(), err.message()),
        (-32005, "query exceeds max results 1")
    );
}
