//! What leaves a kettle. Between kettles every byte is Noise-encrypted, so grepping the wire
//! proves nothing; instead two kettles run in this process and the test reads every gossip
//! envelope they send, in plaintext, through the gossip tap (`GossipHandle::tap_outbound`):
//! store replication, forwarded `0x50` transactions and blocks. A request's confidential
//! inputs must appear in none of them, while the value its SUAPP stored (derived from the
//! inputs) does travel to the kettle the record allows, which shows the tap sees the
//! plaintext it should.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{keccak256, Address, Bytes};
use alloy_sol_types::SolCall;
use kettle_contracts::cluster_store::ClusterStore;
use kettle_gossip::{Envelope, MessageKind};
use kettle_node::{config::GossipSection, launch, KettleKeys, NodeConfig, NodeHandle};
use kettle_tests::{dev_user, free_port, KettleClient, ReceiptResponse, TestRng};

const WAIT: Duration = Duration::from_secs(60);

/// Polls `done` every 20 ms until it holds, or panics after [`WAIT`] naming `what`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn start_pair(root: &std::path::Path) -> (Vec<NodeHandle>, Vec<Address>) {
    let mut members = Vec::new();
    for i in 0..2 {
        let dir = root.join(format!("k{i}"));
        std::fs::create_dir_all(&dir).expect("datadir");
        let key = KettleKeys::load_or_create(&dir.join("kettle-key.json")).expect("key");
        members.push((dir, key.address()));
    }
    let cluster: Vec<Address> = members.iter().map(|(_, a)| *a).collect();
    let genesis = root.join("genesis.json");
    std::fs::write(
        &genesis,
        serde_json::to_string(&kettle_chain::ChainSpec::dev(cluster[0]).genesis).expect("json"),
    )
    .expect("genesis");
    let ports = [free_port(), free_port()];
    let mut nodes = Vec::new();
    for (i, (dir, _)) in members.iter().enumerate() {
        let mut cfg = NodeConfig {
            datadir: dir.clone(),
            ..NodeConfig::default()
        };
        cfg.rpc.addr = "127.0.0.1:0".parse().expect("addr");
        cfg.chain.genesis = Some(genesis.clone());
        cfg.gossip = Some(GossipSection {
            listen: format!("/ip4/127.0.0.1/tcp/{}", ports[i]),
            bootstrap: vec![format!("/ip4/127.0.0.1/tcp/{}", ports[1 - i])],
            cluster: cluster.clone(),
            producer: Some(cluster[0]),
            ..GossipSection::default()
        });
        nodes.push(launch(cfg).await.expect("kettle starts"));
    }
    (nodes, cluster)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_inputs_never_leave_the_kettle_that_ran_the_request() {
    let mut rng = TestRng::from_env_or_clock("KETTLE_CLUSTER_SEED");
    let root = tempfile::tempdir().expect("temp dir");
    let (nodes, cluster) = start_pair(root.path()).await;
    let (a, b) = (&nodes[0], &nodes[1]);

    // Record everything both kettles send from now on.
    let sent: Arc<Mutex<Vec<(usize, Envelope)>>> = Arc::default();
    for (i, node) in nodes.iter().enumerate() {
        let mut tap = node.gossip().expect("in a cluster").tap_outbound();
        let sent = sent.clone();
        tokio::spawn(async move {
            while let Ok(env) = tap.recv().await {
                sent.lock().expect("lock").push((i, env));
            }
        });
    }

    let ca = KettleClient::connect(&format!("http://{}", a.rpc_addr())).await;
    let cb = KettleClient::connect(&format!("http://{}", b.rpc_addr())).await;
    let user = dev_user();
    let contract = ca.deploy(&user, "ClusterStore").await;
    let a_head = a.chain().head().0;
    wait_until("B imports the deployment block", || {
        b.chain().head().0 == a_head
    })
    .await;

    // One request on each kettle, each with its own secret marker in the inputs.
    let stores = vec![cluster[0], cluster[1]];
    let mut secrets = Vec::new();
    for (client, node) in [(&ca, a), (&cb, b)] {
        let marker = rng.bytes(32);
        let mut inputs = b"kettle-wire-secret:".to_vec();
        inputs.extend(&marker);
        let calldata: Bytes = ClusterStore::storeForCall {
            stores: stores.clone(),
        }
        .abi_encode()
        .into();
        let receipt = client
            .request_and_wait(&user, contract, calldata, &inputs)
            .await;
        assert!(receipt.status(), "storeFor succeeded: {receipt:?}");
        let origin = node.kettle_address();
        let seq = node.store().last_seq(&origin);
        let other = if origin == cluster[0] { b } else { a };
        wait_until("the record reaches the other kettle", || {
            other.store().last_seq(&origin) >= seq
        })
        .await;
        let head = node.chain().head().0;
        wait_until("both kettles agree on the head", || {
            a.chain().head().0 == head && b.chain().head().0 == head
        })
        .await;
        secrets.push((marker, keccak256(&inputs)));
    }
    // Let trailing broadcasts (blocks, re-broadcasts) land in the tap.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let sent = sent.lock().expect("lock").clone();
    let count = |kind: MessageKind, from: usize| {
        sent.iter()
            .filter(|(i, e)| *i == from && e.kind == kind)
            .count()
    };
    assert!(count(MessageKind::StoreWrites, 0) >= 1, "A replicated to B");
    assert!(count(MessageKind::StoreWrites, 1) >= 1, "B replicated to A");
    assert!(count(MessageKind::Block, 0) >= 2, "A broadcast its blocks");
    assert!(
        count(MessageKind::Transaction, 1) >= 1,
        "B forwarded its 0x50 to the producer"
    );
    for (marker, stored) in &secrets {
        // The stored value (a hash of the inputs) travels in plaintext inside the envelope…
        assert!(
            sent.iter().any(|(_, e)| e.kind == MessageKind::StoreWrites
                && contains(&e.payload, stored.as_slice())),
            "the tap sees the replicated value"
        );
        // …but the inputs themselves never do, in any message of either kettle.
        for (from, env) in &sent {
            let bytes = env.encode();
            assert!(
                !contains(&bytes, marker),
                "kettle {from} sent the confidential inputs in a {:?} message",
                env.kind
            );
            let hex = alloy_primitives::hex::encode(marker);
            assert!(
                !contains(&bytes, hex.as_bytes()),
                "kettle {from} sent the inputs hex-encoded in a {:?} message",
                env.kind
            );
        }
    }

    for node in nodes {
        node.stop().await;
    }
}
