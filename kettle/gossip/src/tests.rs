//! Network tests: real swarms on 127.0.0.1 with OS-assigned ports.

use std::time::Duration;

use alloy_primitives::{Address, Bytes};
use alloy_signer_local::PrivateKeySigner;
use libp2p::Multiaddr;
use suave_precompiles::StoreWriteSet;
use tokio::sync::{mpsc, oneshot};

use crate::{
    split_by_store,
    store_sync::tests::{record, write},
    BroadcastTopic, DropReason, Envelope, GossipConfig, GossipError, GossipEvent, GossipHandle,
    GossipService, MessageKind, RateLimit, StoreSync,
};

const WAIT: Duration = Duration::from_secs(20);

struct Node {
    handle: GossipHandle,
    events: mpsc::Receiver<GossipEvent>,
    _stop: oneshot::Sender<()>,
}

async fn node(key: &PrivateKeySigner, cluster: &[Address], bootstrap: Vec<Multiaddr>) -> Node {
    node_with(key, cluster, bootstrap, |_| {}).await
}

/// [`node`] with `tweak` applied to its configuration.
async fn node_with(
    key: &PrivateKeySigner,
    cluster: &[Address],
    bootstrap: Vec<Multiaddr>,
    tweak: impl FnOnce(&mut GossipConfig),
) -> Node {
    let mut config = GossipConfig::new(
        "/ip4/127.0.0.1/tcp/0".parse().expect("addr"),
        cluster.to_vec(),
    );
    config.bootstrap = bootstrap;
    config.max_message_bytes = 4096;
    config.redial_interval = Duration::from_millis(200);
    tweak(&mut config);
    let (service, handle, events) = GossipService::start(config, key.clone())
        .await
        .expect("start");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(service.run(async move {
        let _ = stopped.await;
    }));
    Node {
        handle,
        events,
        _stop: stop,
    }
}

fn addrs(n: &Node) -> Vec<Multiaddr> {
    n.handle.listen_addrs().to_vec()
}

async fn wait_connected(n: &Node, kettles: &[Address]) {
    tokio::time::timeout(WAIT, async {
        loop {
            let connected = n.handle.connected_kettles().await.expect("running");
            if kettles.iter().all(|k| connected.contains(k)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("peers verified in time");
}

async fn wait_drops(n: &Node, reason: DropReason, at_least: u64) {
    tokio::time::timeout(WAIT, async {
        while n.handle.drops().get(reason) < at_least {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("expected {at_least} drops of {}", reason.as_str()));
}

/// Publishes once gossipsub knows a subscribed peer (subscriptions are exchanged
/// asynchronously after connecting).
async fn publish_retry(n: &Node, topic: BroadcastTopic, payload: &'static [u8]) {
    tokio::time::timeout(WAIT, async {
        loop {
            match n.handle.publish(topic, Bytes::from_static(payload)).await {
                Ok(_) => return,
                Err(GossipError::Publish(_)) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("publish: {e}"),
            }
        }
    })
    .await
    .expect("published");
}

async fn publish_raw_retry(n: &Node, bytes: Vec<u8>) {
    tokio::time::timeout(WAIT, async {
        loop {
            match n
                .handle
                .publish_raw(BroadcastTopic::Blocks, bytes.clone())
                .await
            {
                Ok(_) => return,
                Err(GossipError::Publish(_)) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("publish: {e}"),
            }
        }
    })
    .await
    .expect("published");
}

/// Next broadcast payload (skipping peer events).
async fn next_broadcast(n: &mut Node) -> Envelope {
    tokio::time::timeout(WAIT, async {
        loop {
            match n.events.recv().await.expect("events open") {
                GossipEvent::Broadcast { envelope, .. } => return envelope,
                _ => continue,
            }
        }
    })
    .await
    .expect("broadcast received")
}

/// Everything received within `d`; store writes are answered with their sequence number as
/// the cursor, block requests with no blocks.
async fn drain(n: &mut Node, d: Duration) -> Vec<GossipEvent> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + d;
    while let Ok(Some(mut ev)) = tokio::time::timeout_at(deadline, n.events.recv()).await {
        match &mut ev {
            GossipEvent::StoreWrites { commits, reply, .. } => {
                reply.send(Ok(commits.last().map_or(0, |c| c.commit_seq)))
            }
            GossipEvent::BlocksRequested { reply, .. } => reply.send(Vec::new()),
            _ => {}
        }
        out.push(ev);
    }
    out
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_reaches_cluster_and_bad_messages_are_dropped() {
    let (ka, kb, kc, kx) = (
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
    );
    let cluster = [ka.address(), kb.address(), kc.address()];
    let mut a = node(&ka, &cluster, vec![]).await;
    let mut b = node(&kb, &cluster, addrs(&a)).await;
    let mut c = node(&kc, &cluster, addrs(&a)).await;
    wait_connected(&a, &[kb.address(), kc.address()]).await;
    wait_connected(&b, &[ka.address()]).await;
    wait_connected(&c, &[ka.address()]).await;

    // A signed broadcast reaches both others, with A as verified origin.
    publish_retry(&a, BroadcastTopic::Blocks, b"block-1").await;
    for n in [&mut b, &mut c] {
        let env = next_broadcast(n).await;
        assert_eq!(
            (env.origin, env.payload.as_ref()),
            (ka.address(), &b"block-1"[..])
        );
        assert_eq!(env.kind, MessageKind::Block);
    }

    // A kettle outside the allow-list (it lists itself so it runs) is refused at the
    // handshake and its broadcasts are dropped.
    let x_cluster = [ka.address(), kx.address()];
    let x = node(&kx, &x_cluster, addrs(&a)).await;
    wait_drops(&a, DropReason::NotAllowed, 1).await; // its peer binding
    publish_retry(&x, BroadcastTopic::Blocks, b"forged").await;
    wait_drops(&a, DropReason::NotAllowed, 2).await;

    // Tampered signature, replay and oversize, all from cluster member B (raw bytes).
    let seq = u64::MAX / 2;
    let mut tampered = Envelope::sign(
        &kb,
        MessageKind::Block,
        seq,
        now_ms(),
        Bytes::from_static(b"t"),
    )
    .expect("sign")
    .encode();
    let n = tampered.len();
    tampered[n - 40] ^= 0x01; // inside r
    publish_raw_retry(&b, tampered).await;
    wait_drops(&a, DropReason::BadSignature, 1).await;

    let replayed = Envelope::sign(
        &kb,
        MessageKind::Block,
        seq + 1,
        now_ms(),
        Bytes::from_static(b"replay-me"),
    )
    .expect("sign")
    .encode();
    publish_raw_retry(&b, replayed.clone()).await;
    publish_raw_retry(&b, replayed).await;
    wait_drops(&a, DropReason::Replay, 1).await;

    let big = Envelope::sign(
        &kb,
        MessageKind::Block,
        seq + 2,
        now_ms(),
        vec![7u8; 5000].into(),
    )
    .expect("sign")
    .encode();
    publish_raw_retry(&b, big).await;
    wait_drops(&a, DropReason::Oversized, 1).await;

    // A delivered exactly one copy of the replayed message and nothing else.
    let got: Vec<_> = drain(&mut a, Duration::from_millis(500))
        .await
        .into_iter()
        .filter_map(|e| match e {
            GossipEvent::Broadcast { envelope, .. } => Some(envelope.payload),
            _ => None,
        })
        .collect();
    assert_eq!(got, vec![Bytes::from_static(b"replay-me")]);
    // The publish API refuses oversize locally.
    assert!(matches!(
        b.handle
            .publish(BroadcastTopic::Blocks, vec![0u8; 5000].into())
            .await,
        Err(GossipError::Envelope(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_writes_reach_only_allowed_kettles_and_never_the_topic() {
    const SECRET: &[u8] = b"CONFIDENTIAL-VALUE-4f1c";
    const USER_INPUTS: &[u8] = b"user-confidential-inputs-9d2e";
    let (ka, kb, kc) = (
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
    );
    let cluster = [ka.address(), kb.address(), kc.address()];
    let a = node(&ka, &cluster, vec![]).await;
    let mut b = node(&kb, &cluster, addrs(&a)).await;
    let mut c = node(&kc, &cluster, addrs(&a)).await;
    wait_connected(&a, &[kb.address(), kc.address()]).await;

    // A record stored by a request on A that allows A and B only.
    let ws = StoreWriteSet {
        records: vec![record(1, &[ka.address(), kb.address()])],
        writes: vec![write(1, SECRET)],
    };
    let split = split_by_store(&ws, ka.address(), |_| None);
    assert_eq!(
        split.keys().copied().collect::<Vec<_>>(),
        vec![kb.address()]
    );
    let sync = StoreSync {
        commit_seq: 1,
        write_set: split[&kb.address()].clone(),
    };
    // The wire payload has no room for a request's confidential inputs.
    assert!(!sync
        .encode()
        .windows(USER_INPUTS.len())
        .any(|w| w == USER_INPUTS));

    let sent = {
        let (handle, to, sync) = (a.handle.clone(), kb.address(), sync.clone());
        tokio::spawn(async move { handle.send_store_writes(to, vec![sync]).await })
    };
    // Sending the record to a kettle it does not allow is refused before any byte leaves.
    assert!(matches!(
        a.handle
            .send_store_writes(kc.address(), vec![sync.clone()])
            .await,
        Err(GossipError::NotAllowedStore(_))
    ));
    // Public traffic continues on the topic meanwhile.
    publish_retry(&a, BroadcastTopic::Transactions, b"tx-1").await;

    let b_events = drain(&mut b, Duration::from_secs(2)).await;
    let c_events = drain(&mut c, Duration::from_secs(2)).await;
    // B answered with its cursor for A.
    assert_eq!(sent.await.expect("task").expect("B accepts"), 1);
    let received: Vec<_> = b_events
        .iter()
        .filter_map(|e| match e {
            GossipEvent::StoreWrites {
                origin, commits, ..
            } => Some((*origin, commits[0].clone())),
            _ => None,
        })
        .collect();
    assert_eq!(received, vec![(ka.address(), sync)]);
    assert!(!c_events
        .iter()
        .any(|e| matches!(e, GossipEvent::StoreWrites { .. })));
    // Whatever B and C saw on the gossipsub topics never carries the value.
    let mut broadcasts = 0;
    for ev in b_events.iter().chain(&c_events) {
        if let GossipEvent::Broadcast { envelope, .. } = ev {
            broadcasts += 1;
            let bytes = envelope.encode();
            assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET));
        }
    }
    assert_eq!(broadcasts, 2, "tx-1 reached B and C");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_are_served_to_cluster_kettles_on_request() {
    let (ka, kb) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let cluster = [ka.address(), kb.address()];
    let a = node(&ka, &cluster, vec![]).await;
    let mut b = node(&kb, &cluster, addrs(&a)).await;
    wait_connected(&a, &[kb.address()]).await;

    let asked = {
        let (handle, from) = (a.handle.clone(), kb.address());
        tokio::spawn(async move { handle.request_blocks(from, 5, 100_000).await })
    };
    let (kettle, from, max) = tokio::time::timeout(WAIT, async {
        loop {
            if let GossipEvent::BlocksRequested {
                kettle,
                from,
                max,
                mut reply,
            } = b.events.recv().await.expect("events open")
            {
                reply.send(vec![b"block-5".to_vec(), b"block-6".to_vec()]);
                return (kettle, from, max);
            }
        }
    })
    .await
    .expect("request reached B");
    assert_eq!((kettle, from), (ka.address(), 5));
    assert_eq!(max, crate::MAX_BLOCKS_PER_REQUEST, "clamped");
    assert_eq!(
        asked.await.expect("task").expect("answered"),
        vec![b"block-5".to_vec(), b"block-6".to_vec()]
    );
    assert!(matches!(
        a.handle.request_blocks(Address::repeat_byte(9), 0, 1).await,
        Err(GossipError::NotConnected(_))
    ));
}

/// Payloads of the broadcasts received within `d`, with their origin.
async fn broadcasts(n: &mut Node, d: Duration) -> Vec<(Address, Bytes)> {
    drain(n, d)
        .await
        .into_iter()
        .filter_map(|e| match e {
            GossipEvent::Broadcast { envelope, .. } => Some((envelope.origin, envelope.payload)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_or_oversized_peer_is_cut_off_and_the_others_are_still_served() {
    let (ka, kb, kc) = (
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
    );
    let cluster = [ka.address(), kb.address(), kc.address()];
    // A accepts 2 messages a second per peer, in bursts of 4.
    let limit = RateLimit {
        per_second: 2,
        burst: 4,
    };
    let mut a = node_with(&ka, &cluster, vec![], |c| c.rate_limit = limit).await;
    let b = node(&kb, &cluster, addrs(&a)).await;
    let c = node(&kc, &cluster, addrs(&a)).await;
    wait_connected(&a, &[kb.address(), kc.address()]).await;

    // B floods: 30 messages as fast as it can. A takes the burst and drops the rest.
    publish_retry(&b, BroadcastTopic::Transactions, b"flood-0").await;
    for i in 1..30u32 {
        let payload = Bytes::from(format!("flood-{i}").into_bytes());
        b.handle
            .publish(BroadcastTopic::Transactions, payload)
            .await
            .expect("publish");
    }
    wait_drops(&a, DropReason::RateLimited, 20).await;
    let from_b = broadcasts(&mut a, Duration::from_millis(300)).await;
    assert!(
        !from_b.is_empty() && from_b.len() <= 4 + 2,
        "A accepted {} of B's 30 messages",
        from_b.len()
    );
    assert!(from_b.iter().all(|(origin, _)| *origin == kb.address()));

    // C has its own bucket: served right away.
    publish_retry(&c, BroadcastTopic::Transactions, b"from-c").await;
    assert_eq!(
        next_broadcast(&mut a).await.payload,
        Bytes::from_static(b"from-c")
    );

    // An oversized message from C is dropped; C's next normal message still arrives.
    let oversized = Envelope::sign(
        &kc,
        MessageKind::Transaction,
        u64::MAX / 2,
        now_ms(),
        vec![7u8; 5000].into(),
    )
    .expect("sign")
    .encode();
    c.handle
        .publish_raw(BroadcastTopic::Transactions, oversized)
        .await
        .expect("publish raw");
    wait_drops(&a, DropReason::Oversized, 1).await;
    publish_retry(&c, BroadcastTopic::Transactions, b"after-oversize").await;
    assert_eq!(
        next_broadcast(&mut a).await.payload,
        Bytes::from_static(b"after-oversize")
    );

    // Once its bucket refilled, B is heard again.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    publish_retry(&b, BroadcastTopic::Transactions, b"b-again").await;
    let env = next_broadcast(&mut a).await;
    assert_eq!(
        (env.origin, env.payload),
        (kb.address(), Bytes::from_static(b"b-again"))
    );
}

#[test]
fn a_zero_burst_rate_limit_is_refused() {
    let mut config = GossipConfig::new(
        "/ip4/127.0.0.1/tcp/0".parse().expect("addr"),
        vec![Address::repeat_byte(1)],
    );
    config.validate().expect("defaults are valid");
    config.rate_limit = RateLimit {
        per_second: 10,
        burst: 0,
    };
    assert!(config.validate().is_err());
    config.rate_limit.per_second = 0;
    config.validate().expect("a disabled limit needs no burst");
}

/// A kettle of the cluster that follows another chain (another genesis) is refused at the
/// handshake on both sides and counted, while a kettle of the same chain connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kettle_of_another_chain_is_refused_at_the_handshake() {
    let (ka, kb, kc) = (
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
    );
    let cluster = [ka.address(), kb.address(), kc.address()];
    let ours = alloy_primitives::B256::repeat_byte(1);
    let theirs = alloy_primitives::B256::repeat_byte(2);
    let a = node_with(&ka, &cluster, vec![], |c| c.genesis = ours).await;
    let b = node_with(&kb, &cluster, addrs(&a), |c| c.genesis = theirs).await;
    let c = node_with(&kc, &cluster, addrs(&a), |c| c.genesis = ours).await;
    // The same chain connects...
    wait_connected(&a, &[kc.address()]).await;
    wait_connected(&c, &[ka.address()]).await;
    // ...the other one is refused on both sides (each checks the other's hello).
    wait_drops(&a, DropReason::OtherChain, 1).await;
    wait_drops(&b, DropReason::OtherChain, 1).await;
    let connected = a.handle.connected_kettles().await.expect("running");
    assert!(!connected.contains(&kb.address()), "{connected:?}");
    let connected = b.handle.connected_kettles().await.expect("running");
    assert!(connected.is_empty(), "{connected:?}");
}
