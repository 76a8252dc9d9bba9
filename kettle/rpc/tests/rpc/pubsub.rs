//! `eth_subscribe` over WebSocket.

use std::time::Duration;

use alloy_primitives::{Address, TxKind, B256, U256};
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT},
    rpc_params,
};
use serde_json::{json, Value};

use crate::common::*;

async fn next(sub: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("notification in time")
        .expect("subscription open")
        .expect("valid notification")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_and_logs_subscriptions() {
    let node = TestNode::start().await;
    let ws = node.ws().await;
    let mut heads: Subscription<Value> = ws
        .subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await
        .expect("subscribe newHeads");
    // geth-style hex subscription ids
    let jsonrpsee::core::client::SubscriptionKind::Subscription(id) = heads.kind() else {
        panic!("subscription id")
    };
    let id = serde_json::to_value(id).expect("id");
    assert!(id.as_str().is_some_and(|s| s.starts_with("0x")), "{id}");

    let tx = eip1559(0, TxKind::Create, U256::ZERO, hex_bytes(LOGGER_INITCODE));
    node.send_raw(raw(&tx)).await;
    let block = node.produce();
    let head = next(&mut heads).await;
    assert_eq!(head["hash"], json!(block.hash));
    assert_eq!(head["number"], json!("0x1"));
    let header: alloy_rpc_types_eth::Header = serde_json::from_value(head).expect("alloy header");
    assert_eq!(header.inner.hash_slow(), block.hash);

    let contract = user_contract(0);
    let wanted = B256::repeat_byte(0xee);
    let mut logs: Subscription<Value> = ws
        .subscribe(
            "eth_subscribe",
            rpc_params!["logs", json!({"address": contract, "topics": [wanted]})],
            "eth_unsubscribe",
        )
        .await
        .expect("subscribe logs");
    let mut all_logs: Subscription<Value> = ws
        .subscribe("eth_subscribe", rpc_params!["logs"], "eth_unsubscribe")
        .await
        .expect("subscribe all logs");
    for (nonce, topic) in [(1u64, B256::repeat_byte(1)), (2, wanted)] {
        let mut input = B256::repeat_byte(nonce as u8).to_vec();
        input.extend_from_slice(topic.as_slice());
        let tx = eip1559(nonce, TxKind::Call(contract), U256::ZERO, input);
        node.send_raw(raw(&tx)).await;
    }
    let block = node.produce();
    let log = next(&mut logs).await;
    assert_eq!(log["topics"], json!([wanted]));
    assert_eq!(log["blockHash"], json!(block.hash));
    assert_eq!(log["logIndex"], json!("0x1"));
    assert_eq!(
        next(&mut all_logs).await["topics"],
        json!([B256::repeat_byte(1)])
    );
    assert_eq!(next(&mut all_logs).await["topics"], json!([wanted]));
    let head = next(&mut heads).await;
    assert_eq!(head["number"], json!("0x2"));

    // unsubscribing ends delivery; other subscriptions go on
    logs.unsubscribe().await.expect("unsubscribe");
    let tx = eip1559(3, TxKind::Call(Address::repeat_byte(9)), U256::ZERO, vec![]);
    node.send_raw(raw(&tx)).await;
    let block = node.produce();
    assert_eq!(next(&mut heads).await["hash"], json!(block.hash));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subscriptions_are_rejected() {
    let node = TestNode::start().await;
    let ws = node.ws().await;
    for (params, code) in [
        (rpc_params!["newPendingTransactions"], -32601),
        (rpc_params!["nonsense"], -32601),
        (rpc_params!["logs", json!({"address": "0x12"})], -32602),
        (rpc_params![], -32602),
    ] {
        let result: Result<Subscription<Value>, _> = ws
            .subscribe("eth_subscribe", params, "eth_unsubscribe")
            .await;
        match result {
            Err(jsonrpsee::core::ClientError::Call(e)) => assert_eq!(e.code(), code),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("subscription should be refused"),
        }
    }
    // subscriptions are not available over HTTP
    let err = node
        .call_err("eth_subscribe", rpc_params!["newHeads"])
        .await;
    assert!(err.code() < 0, "{err:?}");
    // the connection still works
    let n: Value = jsonrpsee::core::client::ClientT::request(&ws, "eth_blockNumber", rpc_params![])
        .await
        .expect("call over ws");
    assert_eq!(n, json!("0x0"));
}
