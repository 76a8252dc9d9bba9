//! Store replication across a 5-kettle cluster on loopback, in one process.
//!
//! Five real kettles (own RocksDB, own keys, libp2p on 127.0.0.1) start with one shared
//! genesis. Kettle 0 commits write sets whose records allow every kettle; the bench measures
//! the time from the end of the commit on kettle 0 until the four others have applied it
//! (their durable cursor for kettle 0 reached its sequence number):
//!
//! - **latency**: one commit at a time, p50/p90/p99 over the samples, next to the local commit
//!   itself (a synced RocksDB write: the baseline of the same run);
//! - **throughput**: a burst of commits as fast as kettle 0 makes them, until all four others
//!   have them: write sets per second replicated to all.
//!
//! Run: `cargo bench -p kettle-node --bench gossip` (`GOSSIP_BENCH_SAMPLES`, default 300;
//! `GOSSIP_BENCH_BURST`, default 1000).

use std::{
    net::TcpListener,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, Bytes, FixedBytes};
use kettle_node::{config::GossipSection, launch, KettleKeys, NodeConfig, NodeHandle};
use kettle_primitives::DataRecord;
use kettle_store::EncryptedStore;
use suave_precompiles::{StoreWrite, StoreWriteSet};

const KETTLES: usize = 5;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn write_set(i: u64, stores: &[Address], caller: Address) -> StoreWriteSet {
    let record = DataRecord::new(
        FixedBytes::from(u128::from(i).to_be_bytes()),
        i,
        vec![caller],
        stores.to_vec(),
        "kettle:bench:gossip".into(),
    );
    let value = Bytes::from(vec![(i % 251) as u8; 256]);
    StoreWriteSet {
        writes: vec![StoreWrite {
            id: record.id,
            key: "v".into(),
            value,
            caller,
        }],
        records: vec![record],
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn wait_all(others: &[Arc<EncryptedStore>], origin: Address, seq: u64, limit: Duration) {
    let start = Instant::now();
    while others.iter().any(|s| s.last_seq(&origin) < seq) {
        assert!(
            start.elapsed() < limit,
            "replication of commit {seq} did not finish within {limit:?}"
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let samples = env_usize("GOSSIP_BENCH_SAMPLES", 300);
    let burst = env_usize("GOSSIP_BENCH_BURST", 1000) as u64;
    let root = tempfile::tempdir().expect("temp dir");

    // Keys first: the cluster list and the genesis need every address.
    let mut keys = Vec::new();
    for i in 0..KETTLES {
        let dir = root.path().join(format!("k{i}"));
        std::fs::create_dir_all(&dir).expect("datadir");
        let key = KettleKeys::load_or_create(&dir.join("kettle-key.json")).expect("key");
        keys.push((dir, key.address()));
    }
    let cluster: Vec<Address> = keys.iter().map(|(_, a)| *a).collect();
    let genesis = root.path().join("genesis.json");
    std::fs::write(
        &genesis,
        serde_json::to_string(&kettle_chain::ChainSpec::dev(cluster[0]).genesis).expect("json"),
    )
    .expect("genesis");
    let ports: Vec<u16> = (0..KETTLES).map(|_| free_port()).collect();

    let mut nodes: Vec<NodeHandle> = Vec::new();
    for (i, (dir, _)) in keys.iter().enumerate() {
        let mut cfg = NodeConfig {
            datadir: dir.clone(),
            log: "warn".into(),
            ..NodeConfig::default()
        };
        cfg.rpc.addr = "127.0.0.1:0".parse().expect("addr");
        cfg.chain.genesis = Some(genesis.clone());
        cfg.gossip = Some(GossipSection {
            listen: format!("/ip4/127.0.0.1/tcp/{}", ports[i]),
            bootstrap: (0..KETTLES)
                .filter(|j| *j != i)
                .map(|j| format!("/ip4/127.0.0.1/tcp/{}", ports[j]))
                .collect(),
            cluster: cluster.clone(),
            producer: Some(cluster[0]),
            ..GossipSection::default()
        });
        nodes.push(launch(cfg).await.expect("kettle starts"));
    }
    let origin = cluster[0];
    let source = nodes[0].store().clone();
    let others: Vec<Arc<EncryptedStore>> = nodes[1..].iter().map(|n| n.store().clone()).collect();

    // Warm-up: every kettle connected and one commit replicated everywhere.
    let mut next = 1u64;
    source
        .commit_local(&write_set(next, &cluster, origin))
        .expect("commit");
    wait_all(
        &others,
        origin,
        source.last_seq(&origin),
        Duration::from_secs(60),
    )
    .await;
    next += 1;

    let mut commit_times = Vec::with_capacity(samples);
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let ws = write_set(next, &cluster, origin);
        next += 1;
        let t0 = Instant::now();
        let seq = source
            .commit_local(&ws)
            .expect("commit")
            .expect("non-empty")
            .seq;
        let committed = Instant::now();
        wait_all(&others, origin, seq, Duration::from_secs(30)).await;
        commit_times.push(committed - t0);
        latencies.push(committed.elapsed());
    }
    latencies.sort();
    commit_times.sort();
    println!("gossip/latency: {KETTLES} kettles, {samples} commits one at a time, commit on kettle 0 -> applied on all 4 others");
    println!(
        "  replication p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    println!(
        "  baseline (local synced commit) p50 {:?}  p99 {:?}; replication p50 = {:.1}x local commit",
        percentile(&commit_times, 0.5),
        percentile(&commit_times, 0.99),
        percentile(&latencies, 0.5).as_secs_f64() / percentile(&commit_times, 0.5).as_secs_f64()
    );

    let t0 = Instant::now();
    let mut last = 0;
    for _ in 0..burst {
        let ws = write_set(next, &cluster, origin);
        next += 1;
        last = source
            .commit_local(&ws)
            .expect("commit")
            .expect("non-empty")
            .seq;
    }
    let committed = t0.elapsed();
    wait_all(&others, origin, last, Duration::from_secs(300)).await;
    let total = t0.elapsed();
    println!("gossip/throughput: burst of {burst} commits on kettle 0");
    println!(
        "  committed locally in {committed:?} ({:.0}/s); on all 4 others after {total:?}: {:.0} write sets/s replicated to all ({:.0} commit deliveries/s; consecutive commits share messages)",
        burst as f64 / committed.as_secs_f64(),
        burst as f64 / total.as_secs_f64(),
        (burst * (KETTLES as u64 - 1)) as f64 / total.as_secs_f64()
    );

    for n in nodes {
        n.stop().await;
    }
}
