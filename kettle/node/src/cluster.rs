//! A kettle in a cluster: the gossip wiring.
//!
//! - **Store replication.** One task per other cluster kettle pushes this kettle's commits to
//!   it, in order, each cut down to what that kettle may hold (possibly nothing, so its
//!   sequence stays contiguous). The receiver answers with its durable cursor for us; the
//!   sender continues from there. A kettle that was down or started late is therefore
//!   caught up by the same path as live traffic: its peers resume from its cursor as soon
//!   as it reconnects. Nothing but committed records and values travels; a request's
//!   confidential inputs never leave the kettle that ran it.
//! - **Blocks.** The producer seals blocks (its kettle key signs each header) and
//!   broadcasts them. The other kettles import them after checking the seal, the parent and
//!   every root by re-execution; a kettle that misses blocks asks the producer for them.
//! - **Transactions.** Transactions a kettle accepts (users' and its own `0x50`s) are
//!   broadcast; every kettle adds them to its pool, and the producer includes them.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy_primitives::{Address, Bytes};
use kettle_chain::{Chain, ImportError, ImportOutcome, WireBlock};
use kettle_gossip::{
    BroadcastTopic, DropCounters, DropReason, GossipConfig, GossipEvent, GossipHandle,
    GossipService, StoreSync,
};
use kettle_primitives::SuaveTxEnvelope;
use kettle_store::{EncryptedStore, RemoteApply};
use suave_precompiles::StoreWriteSet;
use tokio::{
    sync::{watch, Notify},
    task::JoinHandle,
};
use tracing::{debug, info, info_span, warn, Instrument};

use crate::{config::GossipSection, keys::KettleKeys, NodeError};

/// Commits sent per round of a replication task before it re-reads the log.
const REPLICATION_BATCH: usize = 64;
/// Blocks asked for per catch-up request.
const CATCH_UP_BLOCKS: u32 = 64;
/// How often a follower checks for missed blocks without being told.
const BLOCK_POLL: Duration = Duration::from_secs(2);
/// Pause after a failed replication or catch-up attempt.
const RETRY: Duration = Duration::from_millis(500);

/// What the health endpoint shows about the cluster.
#[derive(Debug)]
pub struct ClusterStatus {
    kettle: Address,
    producer: Address,
    members: Vec<Address>,
    peers: Mutex<BTreeSet<Address>>,
    drops: DropCounters,
    store: Arc<EncryptedStore>,
}

impl ClusterStatus {
    /// The `gossip` object of `/health`.
    pub fn health(&self) -> serde_json::Value {
        let peers: Vec<Address> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect();
        let cursors: BTreeMap<String, u64> = self
            .members
            .iter()
            .filter(|m| **m != self.kettle)
            .map(|m| (m.to_string(), self.store.last_seq(m)))
            .collect();
        let dropped: BTreeMap<&'static str, u64> = DropReason::ALL
            .iter()
            .map(|r| (r.as_str(), self.drops.get(*r)))
            .collect();
        serde_json::json!({
            "kettle": self.kettle,
            "producer": self.producer,
            "peers": peers,
            "storeSeq": self.store.last_seq(&self.kettle),
            "storeCursors": cursors,
            "dropped": dropped,
        })
    }

    /// Publishes the drop counters as `kettle_gossip_dropped_total{reason}`.
    pub fn export_metrics(&self) {
        for reason in DropReason::ALL {
            metrics::counter!("kettle_gossip_dropped_total", "reason" => reason.as_str())
                .absolute(self.drops.get(reason));
        }
        metrics::gauge!("kettle_gossip_peers")
            .set(self.peers.lock().unwrap_or_else(|p| p.into_inner()).len() as f64);
    }

    /// Whether this kettle seals blocks.
    pub fn is_producer(&self) -> bool {
        self.kettle == self.producer
    }
}

/// The running cluster wiring of one kettle.
pub(crate) struct Cluster {
    pub(crate) status: Arc<ClusterStatus>,
    pub(crate) gossip: GossipHandle,
    pub(crate) tasks: Vec<JoinHandle<()>>,
}

/// Parses the `[gossip]` section into the gossip crate's configuration.
fn gossip_config(section: &GossipSection, local: Address) -> Result<GossipConfig, NodeError> {
    let listen = section
        .listen
        .parse()
        .map_err(|e| NodeError::Config(format!("gossip.listen {:?}: {e}", section.listen)))?;
    let mut cluster = section.cluster.clone();
    if !cluster.contains(&local) {
        cluster.push(local);
    }
    let mut config = GossipConfig::new(listen, cluster);
    for addr in &section.bootstrap {
        config.bootstrap.push(
            addr.parse()
                .map_err(|e| NodeError::Config(format!("gossip.bootstrap {addr:?}: {e}")))?,
        );
    }
    config.max_message_bytes = section.max_message_bytes;
    config.rate_limit = kettle_gossip::RateLimit {
        per_second: section.max_messages_per_sec,
        burst: section.message_burst,
    };
    config.redial_interval = Duration::from_secs(1);
    config
        .validate()
        .map_err(|e| NodeError::Config(format!("gossip: {e}")))?;
    Ok(config)
}

/// Starts the gossip service and the tasks that replicate the store, follow or publish
/// blocks and forward transactions.
pub(crate) async fn start(
    section: &GossipSection,
    keys: &KettleKeys,
    chain: Arc<Chain>,
    store: Arc<EncryptedStore>,
    commits: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
) -> Result<Cluster, NodeError> {
    let local = keys.address();
    let mut config = gossip_config(section, local)?;
    // Peers on another chain are refused at the handshake.
    config.genesis = chain
        .header_by_number(0)
        .map_err(|e| NodeError::Network(format!("reading the genesis header: {e}")))?
        .ok_or_else(|| NodeError::Network("the chain has no genesis header".into()))?
        .hash_slow();
    let members = config.cluster.clone();
    let producer = section.producer.unwrap_or(local);
    let max_message_bytes = config.max_message_bytes;
    let (service, gossip, events) = GossipService::start(config, keys.kettle.clone())
        .await
        .map_err(|e| NodeError::Network(format!("gossip: {e}")))?;
    info!(kettle = %local, %producer, members = members.len(), p2p = ?gossip.listen_addrs(), "joined cluster");

    let status = Arc::new(ClusterStatus {
        kettle: local,
        producer,
        members: members.clone(),
        peers: Mutex::new(BTreeSet::new()),
        drops: gossip.drops().clone(),
        store: store.clone(),
    });
    let mut tasks = Vec::new();
    {
        let mut stop = shutdown.clone();
        tasks.push(tokio::spawn(service.run(async move {
            let _ = stop.wait_for(|s| *s).await;
        })));
    }

    // One replication task per other member.
    let mut wakers: HashMap<Address, Arc<Notify>> = HashMap::new();
    for member in members.iter().copied().filter(|m| *m != local) {
        let wake = Arc::new(Notify::new());
        wakers.insert(member, wake.clone());
        let span = info_span!("replicate", to = %member);
        tasks.push(tokio::spawn(
            replicate_to(
                member,
                max_message_bytes,
                gossip.clone(),
                store.clone(),
                commits.clone(),
                wake,
                shutdown.clone(),
            )
            .instrument(span),
        ));
    }

    let catch_up = Arc::new(Notify::new());
    if producer == local {
        tasks.push(tokio::spawn(publish_blocks(
            chain.clone(),
            gossip.clone(),
            shutdown.clone(),
        )));
    } else {
        tasks.push(tokio::spawn(
            follow_blocks(
                producer,
                gossip.clone(),
                chain.clone(),
                catch_up.clone(),
                shutdown.clone(),
            )
            .instrument(info_span!("follow_blocks", %producer)),
        ));
    }
    tasks.push(tokio::spawn(forward_transactions(
        chain.clone(),
        gossip.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(
        handle_events(
            events,
            Handlers {
                chain,
                store,
                status: status.clone(),
                wakers,
                catch_up,
                producer,
                max_message_bytes,
            },
            shutdown,
        )
        .instrument(info_span!("gossip_events")),
    ));
    Ok(Cluster {
        status,
        gossip,
        tasks,
    })
}

/// Pushes this kettle's commits to `member` from `member`'s cursor on, one at a time.
async fn replicate_to(
    member: Address,
    max_message_bytes: usize,
    gossip: GossipHandle,
    store: Arc<EncryptedStore>,
    mut commits: watch::Receiver<u64>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    // The member's cursor for us, once it told us; unknown after any failure.
    let mut cursor: Option<u64> = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let known = match cursor {
            Some(c) => c,
            None => {
                // An empty set with sequence 0 is always a duplicate: the answer is the cursor.
                let probe = StoreSync {
                    commit_seq: 0,
                    write_set: StoreWriteSet::default(),
                };
                match gossip.send_store_writes(member, vec![probe]).await {
                    Ok(c) => {
                        debug!(cursor = c, "member cursor");
                        cursor = Some(c);
                        c
                    }
                    Err(e) => {
                        debug!(error = %e, "member not reachable");
                        tokio::select! {
                            _ = wake.notified() => {}
                            _ = tokio::time::sleep(RETRY * 4) => {}
                            _ = shutdown.changed() => return,
                        }
                        continue;
                    }
                }
            }
        };
        // The watch holds the last *durable* local commit: commits still waiting for their
        // group fsync are not shipped yet (outbound_since would return nothing for them).
        let durable = *commits.borrow_and_update();
        if known >= durable {
            tokio::select! {
                _ = commits.changed() => {}
                _ = wake.notified() => {}
                _ = shutdown.changed() => return,
            }
            continue;
        }
        let s = store.clone();
        let batch =
            tokio::task::spawn_blocking(move || s.outbound_since(member, known, REPLICATION_BATCH))
                .await;
        let batch = match batch {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                warn!(error = %e, "reading the commit log failed");
                tokio::time::sleep(RETRY).await;
                continue;
            }
            Err(e) => {
                warn!(error = %e, "commit log task failed");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        // Consecutive commits go in messages of up to half the message limit each.
        let mut messages: Vec<Vec<StoreSync>> = Vec::new();
        let mut size = 0usize;
        for (seq, write_set) in batch {
            let sync = StoreSync {
                commit_seq: seq,
                write_set,
            };
            let len = sync.encode().len();
            match messages.last_mut() {
                Some(m) if size + len <= max_message_bytes / 2 => {
                    size += len;
                    m.push(sync);
                }
                _ => {
                    size = len;
                    messages.push(vec![sync]);
                }
            }
        }
        for commits in messages {
            let (count, last) = (commits.len(), commits.last().map_or(0, |c| c.commit_seq));
            match gossip.send_store_writes(member, commits).await {
                Ok(c) => {
                    cursor = Some(c);
                    metrics::counter!("kettle_gossip_store_commits_sent_total")
                        .increment(count as u64);
                    if c < last {
                        // The member has a gap or refused part: resume from its cursor.
                        debug!(cursor = c, last, "member behind; resending from its cursor");
                        break;
                    }
                }
                Err(e) => {
                    debug!(error = %e, last, "replication failed; will retry");
                    cursor = None;
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
        if cursor == Some(known) {
            // No progress (the member refuses the next commit): do not spin.
            warn!(
                cursor = known,
                "member makes no progress on our commits; retrying later"
            );
            tokio::select! {
                _ = tokio::time::sleep(RETRY * 10) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Broadcasts every block this kettle seals.
async fn publish_blocks(
    chain: Arc<Chain>,
    gossip: GossipHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut blocks = chain.subscribe_blocks();
    loop {
        let block = tokio::select! {
            b = blocks.recv() => b,
            _ = shutdown.changed() => return,
        };
        match block {
            Ok(block) => {
                let wire = Bytes::from(WireBlock::from(&*block).encode());
                if let Err(e) = gossip.publish(BroadcastTopic::Blocks, wire).await {
                    // Followers that missed it fetch it on their next catch-up round.
                    debug!(number = block.header.number, error = %e, "block not broadcast");
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                debug!(missed = n, "block broadcast lagged; followers catch up");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Fetches missed blocks from the producer and imports them: when told (a gap or the
/// producer reconnecting) and every [`BLOCK_POLL`].
async fn follow_blocks(
    producer: Address,
    gossip: GossipHandle,
    chain: Arc<Chain>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Pending transactions seen at the previous poll: still pending one poll later means the
    // producer may never have got them (broadcast before the mesh formed, or lost while this
    // kettle was down), so they are broadcast again. The producer ignores ones it knows.
    let mut stuck: std::collections::HashSet<alloy_primitives::B256> = Default::default();
    loop {
        let polled = tokio::select! {
            _ = wake.notified() => false,
            _ = tokio::time::sleep(BLOCK_POLL) => true,
            _ = shutdown.changed() => return,
        };
        if polled {
            let pending = chain.pending_transactions();
            let mut again = 0usize;
            for (hash, raw) in &pending {
                if stuck.contains(hash)
                    && gossip
                        .publish(BroadcastTopic::Transactions, raw.clone())
                        .await
                        .is_ok()
                {
                    again += 1;
                }
            }
            if again > 0 {
                debug!(again, "re-broadcast pending transactions");
            }
            stuck = pending.into_iter().map(|(h, _)| h).collect();
        }
        loop {
            let from = chain.head().1.number + 1;
            let blocks = match gossip.request_blocks(producer, from, CATCH_UP_BLOCKS).await {
                Ok(b) => b,
                Err(e) => {
                    debug!(error = %e, from, "catch-up request failed");
                    break;
                }
            };
            let got = blocks.len();
            if got == 0 {
                break;
            }
            let mut imported = 0;
            for raw in blocks {
                match import(&chain, raw, producer).await {
                    Ok(_) => imported += 1,
                    Err(e) => {
                        warn!(error = %e, from, "catch-up block refused");
                        break;
                    }
                }
            }
            info!(from, imported, "caught up blocks");
            if imported < got || got < CATCH_UP_BLOCKS as usize {
                break;
            }
        }
    }
}

/// Why an inbound block was not imported.
#[derive(Debug, thiserror::Error)]
enum BlockError {
    #[error("undecodable block: {0}")]
    Decode(String),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("import task failed: {0}")]
    Task(String),
}

async fn import(
    chain: &Arc<Chain>,
    raw: Vec<u8>,
    producer: Address,
) -> Result<ImportOutcome, BlockError> {
    let chain = chain.clone();
    tokio::task::spawn_blocking(move || {
        let block =
            WireBlock::decode(&raw, raw.len()).map_err(|e| BlockError::Decode(e.to_string()))?;
        let outcome = chain.import_block(block, producer)?;
        if let ImportOutcome::Imported(b) = &outcome {
            crate::metrics::record_head(b.header.number, b.transactions.len());
        }
        Ok(outcome)
    })
    .await
    .map_err(|e| BlockError::Task(e.to_string()))?
}

/// Broadcasts transactions this kettle accepted itself (not those it got from peers).
async fn forward_transactions(
    chain: Arc<Chain>,
    gossip: GossipHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut txs = chain.subscribe_local_transactions();
    loop {
        let tx = tokio::select! {
            t = txs.recv() => t,
            _ = shutdown.changed() => return,
        };
        match tx {
            Ok(raw) => {
                if let Err(e) = gossip.publish(BroadcastTopic::Transactions, raw).await {
                    debug!(error = %e, "transaction not broadcast");
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                warn!(missed = n, "transaction broadcast lagged");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Applies `origin`'s consecutive commits in order; the answer is the cursor afterwards.
fn apply_commits(
    store: &EncryptedStore,
    origin: Address,
    commits: Vec<StoreSync>,
) -> Result<u64, String> {
    let mut cursor = store.last_seq(&origin);
    for sync in commits {
        match store.apply_remote_seq(origin, sync.commit_seq, &sync.write_set) {
            Ok(RemoteApply::Applied(r)) => {
                metrics::counter!("kettle_gossip_store_commits_applied_total").increment(1);
                debug!(%origin, seq = r.seq, records = r.records_created, values = r.values_written, "applied remote commit");
                cursor = r.seq;
            }
            Ok(RemoteApply::Duplicate { cursor: c }) => cursor = c,
            Ok(RemoteApply::Gap { cursor: c }) => return Ok(c),
            Err(e) => {
                warn!(%origin, seq = sync.commit_seq, error = %e, "remote commit refused");
                if cursor > 0 {
                    // Keep what was applied; the sender resumes at the refused commit.
                    return Ok(cursor);
                }
                return Err(e.to_string());
            }
        }
    }
    Ok(cursor)
}

struct Handlers {
    chain: Arc<Chain>,
    store: Arc<EncryptedStore>,
    status: Arc<ClusterStatus>,
    wakers: HashMap<Address, Arc<Notify>>,
    catch_up: Arc<Notify>,
    producer: Address,
    max_message_bytes: usize,
}

/// Applies what the gossip service hands over.
async fn handle_events(
    mut events: tokio::sync::mpsc::Receiver<GossipEvent>,
    h: Handlers,
    mut shutdown: watch::Receiver<bool>,
) {
    let h = Arc::new(h);
    loop {
        let event = tokio::select! {
            e = events.recv() => match e {
                Some(e) => e,
                None => return,
            },
            _ = shutdown.changed() => return,
        };
        match event {
            GossipEvent::StoreWrites {
                origin,
                commits,
                mut reply,
                ..
            } => {
                let store = h.store.clone();
                tokio::spawn(async move {
                    let applied =
                        tokio::task::spawn_blocking(move || apply_commits(&store, origin, commits))
                            .await;
                    reply.send(applied.unwrap_or_else(|e| Err(format!("apply task failed: {e}"))));
                });
            }
            GossipEvent::BlocksRequested {
                from,
                max,
                mut reply,
                kettle,
            } => {
                let (chain, limit) = (h.chain.clone(), h.max_message_bytes);
                tokio::spawn(async move {
                    let blocks = tokio::task::spawn_blocking(move || {
                        // Leave room for the framing of the list.
                        chain.wire_blocks(from, max as usize, limit.saturating_sub(1024))
                    })
                    .await;
                    match blocks {
                        Ok(Ok(b)) => {
                            debug!(%kettle, from, count = b.len(), "served blocks");
                            reply.send(b);
                        }
                        Ok(Err(e)) => warn!(error = %e, from, "serving blocks failed"),
                        Err(e) => warn!(error = %e, "block serving task failed"),
                    }
                });
            }
            GossipEvent::Broadcast { topic, envelope } => match topic {
                BroadcastTopic::Transactions => {
                    let chain = h.chain.clone();
                    tokio::task::spawn_blocking(move || {
                        match SuaveTxEnvelope::decode(&envelope.payload) {
                            Ok(tx) => {
                                if let Err(e) = chain.add_peer_transaction(&tx) {
                                    debug!(origin = %envelope.origin, error = %e, "peer transaction not pooled");
                                }
                            }
                            Err(e) => {
                                debug!(origin = %envelope.origin, error = %e, "undecodable peer transaction")
                            }
                        }
                    });
                }
                BroadcastTopic::Blocks => {
                    if envelope.origin != h.producer {
                        debug!(origin = %envelope.origin, "block from a kettle that is not the producer");
                        continue;
                    }
                    if h.status.is_producer() {
                        continue;
                    }
                    let (chain, producer, catch_up) =
                        (h.chain.clone(), h.producer, h.catch_up.clone());
                    match import(&chain, envelope.payload.to_vec(), producer).await {
                        Ok(ImportOutcome::Imported(b)) => {
                            debug!(number = b.header.number, "imported gossiped block")
                        }
                        Ok(ImportOutcome::Known) => {}
                        Err(BlockError::Import(ImportError::Gap { .. })) => catch_up.notify_one(),
                        Err(e) => warn!(error = %e, "gossiped block refused"),
                    }
                }
            },
            GossipEvent::PeerVerified { kettle, .. } => {
                info!(%kettle, "cluster kettle connected");
                h.status
                    .peers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(kettle);
                if let Some(w) = h.wakers.get(&kettle) {
                    w.notify_one();
                }
                if kettle == h.producer {
                    h.catch_up.notify_one();
                }
            }
            GossipEvent::PeerLost { kettle } => {
                h.status
                    .peers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&kettle);
                if let Some(w) = h.wakers.get(&kettle) {
                    w.notify_one();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_adds_self_and_parses_addresses() {
        let local = Address::repeat_byte(1);
        let section = GossipSection {
            listen: "/ip4/127.0.0.1/tcp/0".into(),
            bootstrap: vec!["/ip4/127.0.0.1/tcp/30334".into()],
            cluster: vec![Address::repeat_byte(2)],
            producer: None,
            max_message_bytes: 1 << 20,
            max_messages_per_sec: 7,
            message_burst: 9,
        };
        let cfg = gossip_config(&section, local).expect("valid");
        assert!(cfg.cluster.contains(&local));
        assert_eq!(
            cfg.rate_limit,
            kettle_gossip::RateLimit {
                per_second: 7,
                burst: 9
            }
        );
        assert_eq!(cfg.bootstrap.len(), 1);

        let bad = GossipSection {
            listen: "not a multiaddr".into(),
            ..section.clone()
        };
        assert!(gossip_config(&bad, local)
            .unwrap_err()
            .to_string()
            .contains("gossip.listen"));
        let bad = GossipSection {
            bootstrap: vec!["127.0.0.1:30334".into()],
            ..section
        };
        assert!(gossip_config(&bad, local)
            .unwrap_err()
            .to_string()
            .contains("gossip.bootstrap"));
    }
}
