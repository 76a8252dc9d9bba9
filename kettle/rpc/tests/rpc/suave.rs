//! SUAVE transactions: `0x50` JSON forms, the `0x43` path through the node, confidential
//! `eth_call` / `eth_estimateGas`, and raw transaction errors.

use alloy_primitives::{hex, keccak256, Address, Bytes, TxKind, B256, U256, U64};
use jsonrpsee::rpc_params;
use kettle_chain::PoolError;
use kettle_primitives::{SuaveTxEnvelope, DEV_KETTLE_ADDRESS};
use kettle_rpc::{types::TxBlockInfo, RpcTransaction, SuaveRpcTransaction};
use serde_json::{json, Value};

use crate::common::*;

const TARGET: Address = Address::repeat_byte(0x42);

/// The keys of a JSON object in the order they appear in `text`.
fn keys_in_order(text: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    serde_json::from_str::<Keys>(text).expect("object").0
}

/// `result` of a call, as raw JSON text (key order preserved).
async fn raw_result(node: &TestNode, method: &str, params: Value) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (status, _, text) = node.post(body.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    let start = text.find("\"result\":").expect("result") + "\"result\":".len();
    text[start..text.len() - 1].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suave_transaction_json_follows_suave_geth() {
    let node = TestNode::start().await;
    let request = request(0, TARGET, &[0xca, 0xfe], b"inputs");
    let tx = suave_tx(&request, &[0x01, 0x02, 0x03]);
    let hash = node.send_raw(Bytes::from(tx.encoded())).await;
    assert_eq!(hash, tx.tx_hash());

    let pending: Value = node
        .call("eth_getTransactionByHash", rpc_params![hash])
        .await;
    assert_eq!(pending["blockHash"], Value::Null);
    assert_eq!(pending["transactionIndex"], Value::Null);

    let block = node.produce();
    let got: Value = node
        .call("eth_getTransactionByHash", rpc_params![hash])
        .await;
    // suave-geth's RPCTransaction keys, in its order (no maxFee fields, no accessList)
    let text = raw_result(&node, "eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(
        keys_in_order(&text),
        [
            "blockHash",
            "blockNumber",
            "from",
            "gas",
            "gasPrice",
            "hash",
            "input",
            "nonce",
            "to",
            "transactionIndex",
            "value",
            "type",
            "chainId",
            "requestRecord",
            "confidentialComputeResult",
            "v",
            "r",
            "s"
        ]
    );
    let sig = tx.signature;
    assert_eq!(
        got,
        json!({
            "blockHash": block.hash,
            "blockNumber": "0x1",
            "from": user().address(),
            "gas": "0x7a120",
            "gasPrice": "0x77359400",
            "hash": hash,
            "input": "0x010203",
            "nonce": "0x0",
            "to": TARGET,
            "transactionIndex": "0x0",
            "value": "0x0",
            "type": "0x50",
            "chainId": "0x1008c45",
            "requestRecord": {
                "type": "0x42",
                "chainId": "0x1008c45",
                "nonce": "0x0",
                "to": TARGET,
                "gas": "0x7a120",
                "gasPrice": "0x77359400",
                "maxPriorityFeePerGas": null,
                "maxFeePerGas": null,
                "value": "0x0",
                "input": "0xcafe",
                "kettleAddress": DEV_KETTLE_ADDRESS,
                "confidentialInputsHash": keccak256(b"inputs"),
                "v": format!("0x{}", u8::from(request.record.signature.v())),
                "r": request.record.signature.r(),
                "s": request.record.signature.s(),
                "hash": request.record.record_hash(),
            },
            "confidentialComputeResult": "0x010203",
            "v": format!("0x{}", u8::from(sig.v())),
            "r": sig.r(),
            "s": sig.s(),
        })
    );
    // the nested record keeps Go's txJSON key order
    let record_start =
        text.find("\"requestRecord\":").expect("record") + "\"requestRecord\":".len();
    let record_end = text.find(",\"confidentialComputeResult\"").expect("result");
    assert_eq!(
        keys_in_order(&text[record_start..record_end]),
        [
            "type",
            "chainId",
            "nonce",
            "to",
            "gas",
            "gasPrice",
            "maxPriorityFeePerGas",
            "maxFeePerGas",
            "value",
            "input",
            "kettleAddress",
            "confidentialInputsHash",
            "v",
            "r",
            "s",
            "hash"
        ]
    );
    assert!(got["requestRecord"].get("iseip712").is_none());
    assert!(got["requestRecord"].get("confidentialInputs").is_none());

    // typed round trip
    let typed: RpcTransaction = serde_json::from_value(got.clone()).expect("typed");
    let RpcTransaction::Suave(typed) = typed else {
        panic!("a 0x50")
    };
    let info = TxBlockInfo {
        block_hash: block.hash,
        block_number: 1,
        index: 0,
        base_fee: block.header.base_fee_per_gas,
    };
    assert_eq!(
        *typed,
        SuaveRpcTransaction::new(&tx, user().address(), Some(&info))
    );

    // full blocks embed the same object; receipts are typed 0x50 with the user as sender
    let full: Value = node
        .call("eth_getBlockByNumber", rpc_params!["latest", true])
        .await;
    assert_eq!(full["transactions"][0], got);
    let receipt: Value = node
        .call("eth_getTransactionReceipt", rpc_params![hash])
        .await;
    assert_eq!(receipt["type"], json!("0x50"));
    assert_eq!(receipt["from"], json!(user().address()));
    assert_eq!(receipt["to"], json!(TARGET));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["transactionHash"], json!(hash));
    assert_eq!(receipt["effectiveGasPrice"], json!("0x77359400"));
    assert_eq!(receipt["contractAddress"], Value::Null);
    assert_eq!(receipt["gasUsed"], json!(format!("{:#x}", 21_000 + 3 * 16)));
    // the user's nonce was consumed
    let nonce: U64 = node
        .call(
            "eth_getTransactionCount",
            rpc_params![user().address(), "latest"],
        )
        .await;
    assert_eq!(nonce, U64::from(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_requests_go_to_the_node_and_inputs_never_come_back() {
    let node = TestNode::start().await;
    let secret = b"SECRET-INPUTS-7f3a9c-never-print-me";
    let secret_hex = hex::encode(secret);
    let request = request(0, TARGET, b"callback", secret);
    let raw_request = Bytes::from(request.encoded());

    // through raw HTTP, so the exact response text can be checked as well
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw_request]});
    let (status, _, text) = node.post(body.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    let response: Value = serde_json::from_str(&text).expect("json");
    let hash: B256 = serde_json::from_value(response["result"].clone()).expect("hash");
    let expected = suave_tx(&request, b"callback").tx_hash();
    assert_eq!(hash, expected, "the 0x50 hash is returned");
    assert_eq!(
        *node.kettle.requests.lock().expect("lock"),
        vec![request.tx_hash()]
    );

    // the 0x43 itself is not stored or served; the chain refuses it outright
    let none: Value = node
        .call("eth_getTransactionByHash", rpc_params![request.tx_hash()])
        .await;
    assert_eq!(none, Value::Null);
    assert!(node
        .chain
        .transaction(&request.tx_hash())
        .expect("read")
        .is_none());
    assert_eq!(
        node.chain
            .add_transaction(&SuaveTxEnvelope::ConfidentialRequest(request.clone()))
            .err(),
        Some(PoolError::UnsupportedType)
    );

    let block = node.produce();
    assert_eq!(block.transactions.len(), 1);
    let mut outputs = vec![text];
    for (method, params) in [
        ("eth_getTransactionByHash", rpc_params![hash]),
        ("eth_getTransactionReceipt", rpc_params![hash]),
        ("eth_getBlockByNumber", rpc_params!["latest", true]),
        ("eth_getBlockByHash", rpc_params![block.hash, true]),
        ("eth_getBlockReceipts", rpc_params!["latest"]),
        (
            "eth_getTransactionByBlockNumberAndIndex",
            rpc_params!["0x1", "0x0"],
        ),
        ("eth_getLogs", rpc_params![json!({"fromBlock": "0x0"})]),
    ] {
        let v: Value = node.call(method, params).await;
        outputs.push(v.to_string());
    }
    for out in &outputs {
        assert!(!out.contains(&secret_hex), "inputs leaked: {out}");
        assert!(
            !out.to_lowercase().contains("confidentialinputs\""),
            "{out}"
        );
    }
    // but their hash is there, in the request record
    assert!(outputs[1].contains(&hex::encode(keccak256(secret))));

    // failures carry the node's message verbatim; a bad signature never reaches the pool
    let failing = request_for(1, b"fail please", secret);
    let err = node
        .call_err(
            "eth_sendRawTransaction",
            rpc_params![Bytes::from(failing.encoded())],
        )
        .await;
    assert_eq!(err.code(), -32000);
    assert_eq!(
        err.message(),
        "execution reverted: precompile '0x0000000000000000000000000000000043200002' reverted: 'boom'"
    );
    assert!(!err.message().contains(&secret_hex));
    let mut tampered = request_for(1, b"x", secret);
    tampered.confidential_inputs = Bytes::from_static(b"other");
    let err = node
        .call_err(
            "eth_sendRawTransaction",
            rpc_params![Bytes::from(tampered.encoded())],
        )
        .await;
    assert_eq!(err.message(), "confidential inputs hash mismatch");
}

fn request_for(
    nonce: u64,
    data: &[u8],
    inputs: &[u8],
) -> kettle_primitives::ConfidentialComputeRequest {
    request(nonce, TARGET, data, inputs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_call_and_estimate_fill_suave_geth_defaults() {
    let node = TestNode::start().await;
    // a pending transaction moves the default nonce
    let tx = eip1559(0, TxKind::Call(Address::repeat_byte(1)), U256::ZERO, vec![]);
    node.send_raw(raw(&tx)).await;

    let out: Bytes = node
        .call(
            "eth_call",
            rpc_params![
                json!({
                    "from": user().address(),
                    "to": TARGET,
                    "gas": "0xf4240",
                    "input": "0x1234",
                    "isConfidential": true,
                    "confidentialInputs": "0xdeadbeef",
                }),
                "0x99" // ignored on the confidential path, like suave-geth
            ],
        )
        .await;
    let mut expected = keccak256([0xde, 0xad, 0xbe, 0xef]).to_vec();
    expected.extend_from_slice(&[0x12, 0x34]);
    assert_eq!(out.to_vec(), expected);
    let call = node.kettle.last_call();
    assert_eq!(
        call.kettle_address, DEV_KETTLE_ADDRESS,
        "first kettle by default"
    );
    assert_eq!(call.gas, 1_000_000);
    assert_eq!(call.gas_price, U256::from(1u64), "suggested tip");
    assert_eq!(call.nonce, 1, "pending nonce of from");
    assert_eq!(call.from, user().address());
    assert_eq!(call.to, Some(TARGET));
    assert_eq!(call.chain_id, CHAIN_ID);
    assert_eq!(call.confidential_inputs.as_ref(), &[0xde, 0xad, 0xbe, 0xef]);

    // the spec's spelling, explicit kettle, gas price and nonce; gas filled by estimate
    let other_kettle = Address::repeat_byte(0x77);
    let _: Bytes = node
        .call(
            "eth_call",
            rpc_params![json!({
                "to": TARGET,
                "data": "0x",
                "IsConfidential": true,
                "kettleAddress": other_kettle,
                "gasPrice": "0x9",
                "nonce": "0x5",
            })],
        )
        .await;
    let call = node.kettle.last_call();
    assert_eq!(call.kettle_address, other_kettle);
    assert_eq!((call.gas_price, call.nonce), (U256::from(9u64), 5));
    assert_eq!(
        call.gas, 21_000,
        "non-confidential estimate of a call to an empty account"
    );
    assert!(call.confidential_inputs.is_empty());

    // reverts: code 3, reason decoded, data = revert data
    let err = node
        .call_err(
            "eth_call",
            rpc_params![
                json!({"to": TARGET, "input": "0xff", "isConfidential": true, "gas": "0x10000"})
            ],
        )
        .await;
    assert_eq!((err.code(), err.message()), (3, "execution reverted: nope"));
    let data: Bytes = serde_json::from_str(err.data().expect("data").get()).expect("hex");
    assert_eq!(data.to_vec(), error_nope());
    // 1559 fields or an access list do not make a 0x43
    for extra in [json!({"maxFeePerGas": "0x1"}), json!({"accessList": []})] {
        let mut args = json!({"to": TARGET, "isConfidential": true, "gas": "0x10000"});
        for (k, v) in extra.as_object().expect("obj") {
            args[k] = v.clone();
        }
        let err = node.call_err("eth_call", rpc_params![args]).await;
        assert_eq!(
            (err.code(), err.message()),
            (-32000, "invalid transaction passed")
        );
    }
    // isConfidential false is a plain call
    let plain: Bytes = node
        .call(
            "eth_call",
            rpc_params![json!({"to": TARGET, "isConfidential": false})],
        )
        .await;
    assert!(plain.is_empty());

    let gas: U64 = node
        .call(
            "eth_estimateGas",
            rpc_params![
                json!({"to": TARGET, "isConfidential": true, "confidentialInputs": "0x01"})
            ],
        )
        .await;
    assert_eq!(gas, U64::from(54_321));
    let call = node.kettle.last_call();
    assert_eq!(call.gas, 30_000_000, "block gas limit caps the search");
    let gas: U64 = node
        .call(
            "eth_estimateGas",
            rpc_params![json!({"to": TARGET, "isConfidential": true, "gas": "0x100"})],
        )
        .await;
    assert_eq!(gas, U64::from(0x100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_transaction_errors_are_geth_style() {
    let node = TestNode::start().await;
    let cases: Vec<(Bytes, &str)> = vec![
        (
            Bytes::from_static(&[0x42, 0xc0]),
            "transaction type not supported",
        ),
        (
            Bytes::from_static(&[0x05, 0xc0]),
            "transaction type not supported",
        ),
        (Bytes::from_static(&[0x43]), "typed transaction too short"),
        (Bytes::new(), "empty transaction bytes"),
    ];
    for (raw_tx, message) in cases {
        let err = node
            .call_err("eth_sendRawTransaction", rpc_params![raw_tx.clone()])
            .await;
        assert_eq!((err.code(), err.message()), (-32000, message), "{raw_tx}");
    }
    let err = node
        .call_err(
            "eth_sendRawTransaction",
            rpc_params![Bytes::from_static(&[0x02, 0x01, 0x02])],
        )
        .await;
    assert_eq!(err.code(), -32000);
    assert!(!err.message().is_empty());

    let tx = eip1559(0, TxKind::Call(TARGET), U256::ZERO, vec![]);
    node.send_raw(raw(&tx)).await;
    let err = node
        .call_err("eth_sendRawTransaction", rpc_params![raw(&tx)])
        .await;
    assert_eq!(err.message(), "already known");
    node.produce();
    let err = node
        .call_err("eth_sendRawTransaction", rpc_params![raw(&tx)])
        .await;
    assert_eq!(err.message(), "nonce too low: next nonce 1, tx nonce 0");
    // a 0x50 signed by the wrong kettle
    let request = request(1, TARGET, b"x", b"");
    let forged = kettle_primitives::SuaveTransaction::new(request.record.clone(), Bytes::new())
        .into_signed(&user())
        .expect("sign");
    let err = node
        .call_err(
            "eth_sendRawTransaction",
            rpc_params![Bytes::from(forged.encoded())],
        )
        .await;
    assert!(
        err.message().contains("signed by incorrect execution node"),
        "{}",
        err.message()
    );
}
