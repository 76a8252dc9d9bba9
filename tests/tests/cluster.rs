//! A kettle cluster: three (or two) `kettle dev` processes joined over libp2p, kettle 0 (A)
//! producing the blocks, B and C importing them and forwarding their transactions to A.
//!
//! - records replicate to their allowed stores only, and the confidential inputs never reach
//!   a log or a file of another kettle;
//! - a kettle started late, or killed with SIGKILL and restarted, catches up exactly: same
//!   head (hash, state root) and exactly every store commit of the others, no more, no less;
//! - gossip signed by a key outside the cluster is dropped and counted;
//! - with traffic on every kettle, all kettles agree on every block.
//!
//! Build the binary first: `cargo build -p kettle`. Replay the random choices of a run with
//! `KETTLE_CLUSTER_SEED=<seed>` (each test prints its seed).

use std::{
    path::Path,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, FixedBytes, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::cluster_store::ClusterStore;
use kettle_gossip::{BroadcastTopic, GossipConfig, GossipService};
use kettle_tests::{
    assert_not_leaked, decode_logs, dev_user, gossip_dropped, metrics_dropped, store_cursor,
    store_seq, AnyTransactionReceipt, Cluster, ClusterOptions, KettleClient, ReceiptResponse,
    RpcFailure, Signing, TestRng,
};
use serde_json::Value;

/// Environment variable that replays a run's random choices.
const SEED: &str = "KETTLE_CLUSTER_SEED";

/// Kettle indices: A produces blocks.
const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

/// Bound of one convergence wait (blocks and store commits travelling between kettles).
const CONVERGE: Duration = Duration::from_secs(60);

/// Bound of a convergence wait after a late start or a crash (a backlog to catch up on).
const CATCH_UP: Duration = Duration::from_secs(120);

/// What `eth_sendRawTransaction` answers when a SUAPP reads a record this kettle does not
/// have: the `PeekerReverted` rewrite naming `confidentialRetrieve`.
const MISSING_RECORD: &str = "transaction failed: execution reverted: precompile \
                              '0x0000000000000000000000000000000042020001' reverted";

/// Log filter of the leak test: everything of the kettle's own crates, `info` for the rest.
const LEAK_LOG: &str = "info,kettle=trace,kettle_node=trace,kettle_gossip=trace,\
                        kettle_store=trace,kettle_chain=trace,kettle_rpc=trace,\
                        suave_precompiles=trace";

fn store_for(stores: &[Address]) -> Bytes {
    ClusterStore::storeForCall {
        stores: stores.to_vec(),
    }
    .abi_encode()
    .into()
}

fn retrieve_from(id: FixedBytes<16>) -> Bytes {
    ClusterStore::retrieveFromCall { id }.abi_encode().into()
}

/// One ether, in wei.
fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// A record a test stored: its id, `keccak256(inputs)` (what the record holds) and whether C
/// is among its allowed stores.
#[derive(Debug, Clone, Copy)]
struct Stored {
    id: FixedBytes<16>,
    digest: B256,
    on_c: bool,
}

/// The id of the one `Stored` event of a `storeFor` receipt.
fn stored_id(receipt: &AnyTransactionReceipt) -> FixedBytes<16> {
    let events = decode_logs::<ClusterStore::Stored>(receipt);
    assert_eq!(events.len(), 1, "one Stored event: {receipt:?}");
    events[0].id
}

/// `storeFor(stores)` with `inputs`, through `client`; waits for the receipt there.
async fn store(
    client: &KettleClient,
    user: &PrivateKeySigner,
    contract: Address,
    stores: &[Address],
    inputs: &[u8],
) -> FixedBytes<16> {
    let receipt = client
        .request_and_wait(user, contract, store_for(stores), inputs)
        .await;
    stored_id(&receipt)
}

/// Reads record `id` on the kettle of `client` with a confidential `eth_call` of
/// `retrieveFrom`: the stored value, or the node's error.
async fn peek(
    client: &KettleClient,
    contract: Address,
    id: FixedBytes<16>,
) -> Result<Bytes, RpcFailure> {
    let raw = client
        .confidential_call(contract, retrieve_from(id), b"")
        .await?;
    let callback = ClusterStore::retrieveFromCall::abi_decode_returns(&raw)
        .unwrap_or_else(|e| panic!("retrieveFrom returned {raw}, not abi.encode(bytes): {e}"));
    let call = ClusterStore::onRetrievedCall::abi_decode(&callback)
        .unwrap_or_else(|e| panic!("retrieveFrom returned {callback}, not onRetrieved: {e}"));
    assert_eq!(call.id, id, "onRetrieved names the record read");
    Ok(call.value)
}

/// Sends `amount` from the dev user to each of `to` through `client`, waiting for each
/// receipt.
async fn fund(client: &KettleClient, to: &[Address], amount: U256) {
    let user = dev_user();
    for &who in to {
        let hash = client
            .send_eip1559(&user, TxKind::Call(who), Bytes::new(), amount, 21_000)
            .await
            .unwrap_or_else(|e| panic!("funding {who}: {e}"));
        let receipt = client.wait_receipt(hash).await;
        assert!(receipt.status(), "funding {who} failed: {receipt:?}");
    }
}

/// Fresh inputs: a label and random bytes.
fn fresh_inputs(rng: &mut TestRng, label: &str) -> Vec<u8> {
    let mut inputs = format!("kettle-cluster-{label}:").into_bytes();
    inputs.extend(rng.bytes(32));
    inputs
}

/// Sends one `storeFor` per plan entry (allowed stores, inputs), one at a time, through
/// `client` as `user`; bumps `progress` after each receipt.
async fn store_stream(
    client: KettleClient,
    user: PrivateKeySigner,
    contract: Address,
    plan: Vec<(Vec<Address>, Vec<u8>)>,
    c: Address,
    progress: Arc<AtomicUsize>,
) -> Vec<Stored> {
    let mut stored = Vec::with_capacity(plan.len());
    for (stores, inputs) in plan {
        let id = store(&client, &user, contract, &stores, &inputs).await;
        stored.push(Stored {
            id,
            digest: keccak256(&inputs),
            on_c: stores.contains(&c),
        });
        progress.fetch_add(1, Ordering::SeqCst);
    }
    stored
}

/// Waits until `progress` reaches `n`, for at most `timeout`.
async fn wait_progress(progress: &AtomicUsize, n: usize, timeout: Duration, cluster: &Cluster) {
    cluster
        .wait_for(
            &format!("{n} requests of the background traffic"),
            timeout,
            |_| progress.load(Ordering::SeqCst) >= n,
        )
        .await;
}

/// Panics if `secret` (raw bytes, or hex in either case) is in any file under `dir`.
fn assert_not_in_files(dir: &Path, secret: &[u8]) {
    let hex_lower = alloy_primitives::hex::encode(secret).into_bytes();
    let hex_upper = alloy_primitives::hex::encode_upper(secret).into_bytes();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading directory {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue; // e.g. a RocksDB file deleted by compaction meanwhile
            };
            files += 1;
            for (needle, how) in [
                (secret, "raw"),
                (&hex_lower[..], "hex"),
                (&hex_upper[..], "HEX"),
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "the secret is in {} ({how})",
                    path.display()
                );
            }
        }
    }
    assert!(files > 0, "no file under {}", dir.display());
}

/// The larger of A's `not_allowed` drop counts in `/metrics` and in `/health`.
fn not_allowed_drops(cluster: &Cluster, i: usize) -> u64 {
    let from_metrics = cluster
        .process(i)
        .metrics()
        .map(|m| metrics_dropped(&m, "not_allowed"))
        .unwrap_or(0);
    let from_health = cluster
        .health(i)
        .map(|h| gossip_dropped(&h, "not_allowed"))
        .unwrap_or(0);
    from_metrics.max(from_health)
}

/// (a) A record created on A for stores [A, B] reaches B, where a request reads it (B's
/// `0x50` travels to the producer A and comes back in a block); C never gets it, so reading
/// it there fails even once C has applied every commit of A. The confidential inputs are in
/// no kettle's log (kettle crates at `trace`) and in no file of B or C.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_replicate_to_their_allowed_stores_only() {
    let mut rng = TestRng::from_env_or_clock(SEED);
    let mut cluster = Cluster::with_options(
        3,
        ClusterOptions {
            log: Some(LEAK_LOG.into()),
            ..ClusterOptions::default()
        },
    );
    cluster.start_all();
    let user = dev_user();
    let ca = cluster.client(A).await;
    let cb = cluster.client(B).await;
    let cc = cluster.client(C).await;
    for (i, client) in [&ca, &cb, &cc].into_iter().enumerate() {
        assert_eq!(
            client.kettle_address(),
            cluster.address(i),
            "kettle {i} runs on its own key file"
        );
    }

    let contract = ca.deploy(&user, "ClusterStore").await;
    let head = cluster.wait_heads_agree(&[A, B, C], CONVERGE).await;
    assert!(head.number >= 1, "the deployment is in a block: {head:?}");

    let marker = rng.bytes(32);
    let mut inputs = b"kettle-cluster-secret:".to_vec();
    inputs.extend(&marker);
    let id = store(
        &ca,
        &user,
        contract,
        &[cluster.address(A), cluster.address(B)],
        &inputs,
    )
    .await;

    cluster.wait_store_caught_up(B, &[A], CONVERGE).await;
    cluster.wait_heads_agree(&[A, B], CONVERGE).await;
    let request = cb
        .build_request(&user, contract, retrieve_from(id), b"", Signing::Eip712)
        .await;
    let hash = cb
        .send_request(&request)
        .await
        .unwrap_or_else(|e| panic!("retrieveFrom on B refused: {e}"));
    let receipt = cb.wait_receipt_within(hash, CONVERGE).await;
    assert!(receipt.status(), "the callback reverted: {receipt:?}");
    let events = decode_logs::<ClusterStore::Retrieved>(&receipt);
    assert_eq!(events.len(), 1, "one Retrieved event: {receipt:?}");
    assert_eq!(events[0].id, id);
    assert_eq!(
        &events[0].value[..],
        keccak256(&inputs).as_slice(),
        "B read what A stored"
    );
    let on_a = ca.wait_receipt_within(hash, CONVERGE).await;
    assert_eq!(
        on_a.inner.block_hash, receipt.inner.block_hash,
        "B's 0x50 is in the producer's block"
    );

    // C has applied every commit of A and B, but none carried the record.
    cluster.wait_converged(&[A, B, C], CONVERGE).await;
    let request = cc
        .build_request(&user, contract, retrieve_from(id), b"", Signing::Eip712)
        .await;
    match cc.send_request(&request).await {
        Ok(hash) => panic!("C read a record it is not a store of ({hash})"),
        Err(err) => assert!(
            err.message().starts_with(MISSING_RECORD),
            "expected a missing record on C, got {err}"
        ),
    }
    assert!(
        peek(&cc, contract, id).await.is_err(),
        "a confidential eth_call on C cannot read the record either"
    );
    assert_eq!(
        &peek(&cb, contract, id).await.expect("B reads the record")[..],
        keccak256(&inputs).as_slice()
    );

    cluster.stop_all();
    for i in [A, B, C] {
        let process = cluster.process(i);
        assert_eq!(
            process.log_lines_dropped(),
            0,
            "kettle {i}'s whole log is checked"
        );
        assert_not_leaked(&format!("kettle {i}'s stderr"), &process.logs(), &marker);
    }
    for i in [B, C] {
        assert_not_in_files(cluster.member_dir(i), &marker);
    }
}

/// (b) A and B serve 50 requests (records for [A, B, C] and for [A, B], on both kettles)
/// before C starts; C then catches up on the chain (same head hash and state root) and on
/// exactly the store commits of A and B, and reads the records meant for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_kettle_catches_up() {
    let mut rng = TestRng::from_env_or_clock(SEED);
    let mut cluster = Cluster::new(3);
    cluster.start_only(&[A, B]);
    let (a, b, c) = (cluster.address(A), cluster.address(B), cluster.address(C));
    let user = dev_user();
    let user_b = PrivateKeySigner::random();
    let ca = cluster.client(A).await;
    let cb = cluster.client(B).await;
    let contract = ca.deploy(&user, "ClusterStore").await;
    fund(&ca, &[user_b.address()], ether(1_000)).await;
    cluster.wait_heads_agree(&[A, B], CONVERGE).await;

    // 25 requests on each kettle; each stream has records with and without C.
    let mut plans: [Vec<(Vec<Address>, Vec<u8>)>; 2] = Default::default();
    for (k, plan) in plans.iter_mut().enumerate() {
        for n in 0..25 {
            let with_c = match n {
                0 => true,
                1 => false,
                _ => rng.next_u64().is_multiple_of(2),
            };
            let stores = if with_c { vec![a, b, c] } else { vec![a, b] };
            plan.push((stores, fresh_inputs(&mut rng, &format!("late-{k}-{n}"))));
        }
    }
    let [plan_a, plan_b] = plans;
    let progress = Arc::new(AtomicUsize::new(0));
    let (on_a, on_b) = tokio::join!(
        store_stream(
            ca.clone(),
            user.clone(),
            contract,
            plan_a,
            c,
            progress.clone()
        ),
        store_stream(
            cb.clone(),
            user_b.clone(),
            contract,
            plan_b,
            c,
            progress.clone()
        ),
    );
    let stored: Vec<Stored> = on_a.into_iter().chain(on_b).collect();
    assert_eq!(stored.len(), 50);

    cluster.start_member(C);
    let head = cluster.wait_converged(&[A, B, C], CATCH_UP).await;
    let cc = cluster.client(C).await;
    assert!(
        head.number >= 2,
        "deployment, funding and 50 requests: {head:?}"
    );
    let (ha, hb, hc) = (
        cluster.head(A).expect("A"),
        cluster.head(B).expect("B"),
        cluster.head(C).expect("C"),
    );
    assert_eq!(hc, ha, "C's head (number, hash, state root) equals A's");
    assert_eq!(hc, hb, "C's head equals B's");
    let health_c = cluster.health(C).expect("C's health");
    for i in [A, B] {
        let seq = store_seq(&cluster.health(i).expect("health")).expect("storeSeq");
        assert!(seq > 0, "kettle {i} committed to its store");
        assert_eq!(
            store_cursor(&health_c, cluster.address(i)),
            Some(seq),
            "C applied every commit of kettle {i}: {health_c}"
        );
    }

    // A sample of the records for C: one through a real request on C, the rest by eth_call.
    let for_c: Vec<Stored> = stored.iter().filter(|s| s.on_c).copied().collect();
    let first = for_c[0];
    let receipt = cc
        .request_and_wait(&user, contract, retrieve_from(first.id), b"")
        .await;
    let events = decode_logs::<ClusterStore::Retrieved>(&receipt);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].id, &events[0].value[..]),
        (first.id, first.digest.as_slice())
    );
    for s in for_c.iter().skip(1).step_by(2).take(8) {
        let value = peek(&cc, contract, s.id)
            .await
            .unwrap_or_else(|e| panic!("C cannot read record {}: {e}", s.id));
        assert_eq!(&value[..], s.digest.as_slice(), "record {}", s.id);
    }
    let not_for_c = stored
        .iter()
        .find(|s| !s.on_c)
        .expect("a record for [A, B]");
    assert!(
        peek(&cc, contract, not_for_c.id).await.is_err(),
        "C has no record of [A, B]"
    );
    cluster.stop_all();
}

/// (c) SIGKILL of C in the middle of traffic on A and B, more traffic, restart: C converges
/// to the same head and to exactly the store commits of A and B, and reads every record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_kettle_catches_up_exactly() {
    const PER_KETTLE: usize = 20;
    let mut rng = TestRng::from_env_or_clock(SEED);
    let mut cluster = Cluster::start(3);
    let all = cluster.addresses();
    let user = dev_user();
    let user_b = PrivateKeySigner::random();
    let ca = cluster.client(A).await;
    let cb = cluster.client(B).await;
    let contract = ca.deploy(&user, "ClusterStore").await;
    fund(&ca, &[user_b.address()], ether(1_000)).await;
    cluster.wait_heads_agree(&[A, B, C], CONVERGE).await;

    let progress = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (k, (client, signer)) in [(ca.clone(), user.clone()), (cb.clone(), user_b.clone())]
        .into_iter()
        .enumerate()
    {
        let plan = (0..PER_KETTLE)
            .map(|n| {
                (
                    all.clone(),
                    fresh_inputs(&mut rng, &format!("crash-{k}-{n}")),
                )
            })
            .collect();
        tasks.push(tokio::spawn(store_stream(
            client,
            signer,
            contract,
            plan,
            cluster.address(C),
            progress.clone(),
        )));
    }
    let kill_at = rng.in_range(5..15) as usize;
    wait_progress(&progress, kill_at, CONVERGE, &cluster).await;
    cluster.kill(C);
    eprintln!("killed C after {kill_at} requests");
    wait_progress(&progress, kill_at + 10, CONVERGE, &cluster).await;
    cluster.restart(C);
    eprintln!(
        "restarted C after {} requests",
        progress.load(Ordering::SeqCst)
    );
    let mut stored = Vec::new();
    for task in tasks {
        let part = tokio::time::timeout(CATCH_UP, task)
            .await
            .expect("the traffic ends in time")
            .expect("the traffic task succeeded");
        stored.extend(part);
    }
    assert_eq!(stored.len(), 2 * PER_KETTLE);

    let head = cluster.wait_converged(&[A, B, C], CATCH_UP).await;
    for i in [A, B, C] {
        assert_eq!(cluster.head(i).expect("head"), head, "kettle {i}'s head");
    }
    let health: Vec<Value> = [A, B, C]
        .iter()
        .map(|&i| cluster.health(i).expect("health"))
        .collect();
    for (j, here) in health.iter().enumerate() {
        for (i, origin) in health.iter().enumerate().filter(|(i, _)| *i != j) {
            assert_eq!(
                store_cursor(here, cluster.address(i)),
                store_seq(origin),
                "kettle {j} applied exactly the commits of kettle {i}: {here} vs {origin}"
            );
        }
    }
    let cc = cluster.client(C).await;
    for s in &stored {
        let value = peek(&cc, contract, s.id)
            .await
            .unwrap_or_else(|e| panic!("C lost record {}: {e}", s.id));
        assert_eq!(&value[..], s.digest.as_slice(), "record {} on C", s.id);
    }
    cluster.stop_all();
}

/// (d) A gossip node signing with a key outside the cluster publishes a valid, funded
/// transaction on the transactions topic: A drops it as `not_allowed` and never sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_gossip_is_dropped() {
    let mut cluster = Cluster::start(2);
    cluster.wait_peers(A, &[B], CONVERGE).await;
    let ca = cluster.client(A).await;
    let cb = cluster.client(B).await;
    let user = dev_user();
    let nonce = ca.pending_nonce(user.address()).await;
    let head = ca.block_number().await;
    let baseline = not_allowed_drops(&cluster, A);

    // A real transaction any kettle would accept over JSON-RPC.
    let price = ca.gas_price().await;
    let tip: U256 = ca
        .rpc("eth_maxPriorityFeePerGas", ())
        .await
        .expect("eth_maxPriorityFeePerGas");
    let tx = TxEip1559 {
        chain_id: ca.chain_id(),
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: price * 2,
        max_priority_fee_per_gas: tip.to(),
        to: TxKind::Call(Address::repeat_byte(0x77)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let envelope = kettle_tests::signed_eip1559(&user, tx);
    let tx_hash = *envelope.tx_hash();
    let raw = Bytes::from(envelope.encoded_2718());

    let forger = PrivateKeySigner::random();
    let mut config = GossipConfig::new(
        "/ip4/127.0.0.1/tcp/0".parse().expect("multiaddr"),
        vec![forger.address(), cluster.address(A)],
    );
    config.bootstrap = vec![cluster.p2p_addr(A).parse().expect("multiaddr")];
    config.redial_interval = Duration::from_millis(500);
    let (service, handle, _events) = GossipService::start(config, forger)
        .await
        .expect("starting the forged gossip node");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async move {
        let _ = stopped.await;
    }));

    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        match handle
            .publish(BroadcastTopic::Transactions, raw.clone())
            .await
        {
            Ok(_) => break,
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("publish not possible yet: {e}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!(
                "the forged node could not publish within {CONVERGE:?}: {e}; cluster:\n{}",
                cluster.health_report()
            ),
        }
    }
    cluster
        .wait_for(
            "A to count a not_allowed drop",
            Duration::from_secs(20),
            |c| not_allowed_drops(c, A) > baseline,
        )
        .await;
    // The count above may come from the refused handshake alone: publish more copies (each a
    // new envelope) until A counts one more, i.e. drops a broadcast from the forged key.
    let after_handshake = not_allowed_drops(&cluster, A);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while not_allowed_drops(&cluster, A) <= after_handshake {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A counts no not_allowed drop for the forged broadcasts; cluster:\n{}",
            cluster.health_report()
        );
        let _ = handle
            .publish(BroadcastTopic::Transactions, raw.clone())
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Time for a wrongly accepted copy to be pooled or sealed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (name, client) in [("A", &ca), ("B", &cb)] {
        assert_eq!(
            client.transaction_json(tx_hash).await,
            Value::Null,
            "{name} took the forged transaction"
        );
        assert_eq!(
            client.pending_nonce(user.address()).await,
            nonce,
            "{name} counts the forged transaction"
        );
    }
    assert_eq!(ca.block_number().await, head, "no block sealed");
    let health = cluster.health(A).expect("A's health");
    assert_eq!(health["pendingTransactions"], 0, "{health}");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the forged node stops")
        .expect("the forged node's task");
    cluster.stop_all();
}

/// (e) Transfers and requests sent to every kettle all end up in A's blocks, and every kettle
/// serves the same block at every height (hash and state root).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_agree_after_traffic_on_every_kettle() {
    let mut rng = TestRng::from_env_or_clock(SEED);
    let mut cluster = Cluster::start(3);
    let all = cluster.addresses();
    let user = dev_user();
    let users = [
        user.clone(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
    ];
    let clients = [
        cluster.client(A).await,
        cluster.client(B).await,
        cluster.client(C).await,
    ];
    let contract = clients[A].deploy(&user, "ClusterStore").await;
    fund(
        &clients[A],
        &[users[B].address(), users[C].address()],
        ether(1_000),
    )
    .await;
    cluster.wait_heads_agree(&[A, B, C], CONVERGE).await;

    let recipients: Vec<Address> = (0..3)
        .map(|_| Address::from_slice(&rng.bytes(20)))
        .collect();
    let traffic = (0..3).map(|k| {
        let client = clients[k].clone();
        let signer = users[k].clone();
        let stores = all.clone();
        let to = recipients[k];
        let inputs: Vec<Vec<u8>> = (0..2)
            .map(|n| fresh_inputs(&mut rng, &format!("heads-{k}-{n}")))
            .collect();
        async move {
            for (n, inputs) in inputs.iter().enumerate() {
                store(&client, &signer, contract, &stores, inputs).await;
                let hash = client
                    .send_eip1559(
                        &signer,
                        TxKind::Call(to),
                        Bytes::new(),
                        U256::from(n + 1),
                        21_000,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("transfer on kettle {k} refused: {e}"));
                let receipt = client.wait_receipt_within(hash, CONVERGE).await;
                assert!(receipt.status(), "transfer on kettle {k}: {receipt:?}");
            }
        }
    });
    let traffic: Vec<_> = traffic.collect();
    let [t0, t1, t2]: [_; 3] = traffic.try_into().unwrap_or_else(|_| unreachable!());
    tokio::join!(t0, t1, t2);

    let head = cluster.wait_heads_agree(&[A, B, C], CONVERGE).await;
    for number in 0..=head.number {
        let blocks: Vec<Value> = blocks_at(&clients, number).await;
        let first = &blocks[0];
        assert!(!first.is_null(), "A has block {number}");
        for (i, block) in blocks.iter().enumerate().skip(1) {
            assert_eq!(
                (&block["hash"], &block["stateRoot"]),
                (&first["hash"], &first["stateRoot"]),
                "kettle {i}'s block {number} differs from A's"
            );
        }
        if number == head.number {
            assert_eq!(first["hash"].as_str(), Some(&*head.hash.to_string()));
            assert_eq!(
                first["stateRoot"].as_str(),
                Some(&*head.state_root.to_string())
            );
        }
    }
    for (k, to) in recipients.iter().enumerate() {
        for (i, client) in clients.iter().enumerate() {
            assert_eq!(
                client.balance(*to).await,
                U256::from(3),
                "kettle {i} sees both transfers sent through kettle {k}"
            );
        }
    }
    cluster.stop_all();
}

/// `eth_getBlockByNumber(number)` of every client, in order.
async fn blocks_at(clients: &[KettleClient], number: u64) -> Vec<Value> {
    let mut blocks = Vec::with_capacity(clients.len());
    for client in clients {
        blocks.push(client.block_json(number, false).await);
    }
    blocks
}
