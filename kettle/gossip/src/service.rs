//! The gossip service: owns the libp2p swarm, signs outbound messages, verifies inbound
//! ones and talks to the node through channels.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, Bytes, B256};
use alloy_signer_local::PrivateKeySigner;
use futures::{stream::FuturesUnordered, StreamExt};
use libp2p::{
    core::ConnectedPoint,
    gossipsub::{self, IdentTopic, MessageAcceptance, TopicHash},
    identity::Keypair,
    multiaddr::Protocol,
    noise,
    request_response::{self, OutboundRequestId, ResponseChannel},
    swarm::SwarmEvent,
    tcp, yamux, Multiaddr, PeerId, Swarm, SwarmBuilder,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, debug_span, info, warn};

use crate::{
    behaviour::{KettleBehaviour, KettleBehaviourEvent},
    codec::{P2pRequest, P2pResponse},
    config::{ConfigError, GossipConfig},
    envelope::{Envelope, EnvelopeError, MessageKind, Verifier},
    identity::{BindingError, PeerBinding},
    metrics::{DropCounters, DropReason},
    rate::PeerRateLimiter,
    store_sync::StoreSync,
};

/// A broadcast topic. Only public chain data is broadcast; store writes never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BroadcastTopic {
    /// SUAVE chain blocks (`kettle/blocks/1`).
    Blocks,
    /// SUAVE transactions (`kettle/txs/1`).
    Transactions,
}

impl BroadcastTopic {
    /// Every broadcast topic.
    pub const ALL: [Self; 2] = [Self::Blocks, Self::Transactions];

    /// The gossipsub topic name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Blocks => "kettle/blocks/1",
            Self::Transactions => "kettle/txs/1",
        }
    }

    /// The envelope kind the topic carries.
    pub const fn kind(self) -> MessageKind {
        match self {
            Self::Blocks => MessageKind::Block,
            Self::Transactions => MessageKind::Transaction,
        }
    }

    fn hash(self) -> TopicHash {
        IdentTopic::new(self.name()).hash()
    }

    fn from_hash(hash: &TopicHash) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.hash() == *hash)
    }
}

/// The node's answer to an inbound request; dropping it unanswered rejects the request.
pub struct Reply<T> {
    tx: Option<oneshot::Sender<T>>,
}

impl<T> Reply<T> {
    fn new() -> (Self, oneshot::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (Self { tx: Some(tx) }, rx)
    }

    /// Answers the request (only the first answer counts).
    pub fn send(&mut self, value: T) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(value);
        }
    }
}

impl<T> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.tx.is_some() {
            "Reply(open)"
        } else {
            "Reply(answered)"
        })
    }
}

/// A verified inbound message or request, handed to the node.
#[derive(Debug)]
pub enum GossipEvent {
    /// A broadcast message that passed every check.
    Broadcast {
        /// Topic it arrived on.
        topic: BroadcastTopic,
        /// The verified envelope (origin, seq, payload).
        envelope: Envelope,
    },
    /// Consecutive store commits received point-to-point from an authenticated cluster
    /// kettle, for the node to apply in order (`EncryptedStore::apply_remote_seq`).
    StoreWrites {
        /// The sending kettle (verified: envelope signer and handshake-bound peer).
        origin: Address,
        /// Envelope id.
        id: B256,
        /// The commits, in the origin's order (at least one).
        commits: Vec<StoreSync>,
        /// Answer with this kettle's cursor for `origin` after handling them (every commit
        /// of `origin` up to it is applied here), or why they could not be applied.
        reply: Reply<Result<u64, String>>,
    },
    /// A cluster kettle asks for blocks `from..` (catch-up).
    BlocksRequested {
        /// The asking kettle (handshake-bound).
        kettle: Address,
        /// First block number wanted.
        from: u64,
        /// Most blocks wanted (already clamped by the service).
        max: u32,
        /// Answer with encoded blocks in order (empty when there are none).
        reply: Reply<Vec<Vec<u8>>>,
    },
    /// A peer proved it is the cluster kettle `kettle`.
    PeerVerified {
        /// The kettle address.
        kettle: Address,
        /// Its libp2p peer.
        peer: PeerId,
    },
    /// The last connection to cluster kettle `kettle` closed.
    PeerLost {
        /// The kettle address.
        kettle: Address,
    },
}

/// Most blocks one catch-up request may ask for.
pub const MAX_BLOCKS_PER_REQUEST: u32 = 256;

type InboundAnswer =
    Pin<Box<dyn Future<Output = (ResponseChannel<P2pResponse>, P2pResponse)> + Send>>;

enum PendingReply {
    Store(oneshot::Sender<Result<u64, GossipError>>),
    Blocks(oneshot::Sender<Result<Vec<Vec<u8>>, GossipError>>),
}

impl PendingReply {
    fn fail(self, e: GossipError) {
        match self {
            Self::Store(tx) => {
                let _ = tx.send(Err(e));
            }
            Self::Blocks(tx) => {
                let _ = tx.send(Err(e));
            }
        }
    }
}

/// Why a gossip operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The transport or swarm could not be built or could not listen.
    #[error("transport: {0}")]
    Transport(String),
    /// Signing or size limit of an outbound envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The service task has stopped.
    #[error("gossip service stopped")]
    Stopped,
    /// No authenticated connection to that kettle.
    #[error("kettle {0} is not connected")]
    NotConnected(Address),
    /// A record in the write set does not allow the destination kettle.
    #[error("record does not allow store {0}")]
    NotAllowedStore(Address),
    /// Gossipsub refused the publish (e.g. no subscribed peers yet).
    #[error("publish: {0}")]
    Publish(String),
    /// The peer answered with a rejection.
    #[error("rejected by peer: {0}")]
    Rejected(String),
    /// The request failed (timeout, connection closed, …).
    #[error("request: {0}")]
    Request(String),
}

enum Command {
    Publish {
        topic: BroadcastTopic,
        payload: Bytes,
        reply: oneshot::Sender<Result<B256, GossipError>>,
    },
    SendStoreWrites {
        to: Address,
        commits: Vec<StoreSync>,
        reply: oneshot::Sender<Result<u64, GossipError>>,
    },
    RequestBlocks {
        from_kettle: Address,
        from: u64,
        max: u32,
        reply: oneshot::Sender<Result<Vec<Vec<u8>>, GossipError>>,
    },
    ConnectedKettles {
        reply: oneshot::Sender<Vec<Address>>,
    },
    /// Publishes raw bytes unchecked (tests of the receive-side checks).
    #[cfg(test)]
    PublishRaw {
        topic: BroadcastTopic,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<B256, GossipError>>,
    },
}

/// Cheap-to-clone handle to a running [`GossipService`].
#[derive(Debug, Clone)]
pub struct GossipHandle {
    commands: mpsc::Sender<Command>,
    local_kettle: Address,
    local_peer: PeerId,
    listen_addrs: Vec<Multiaddr>,
    drops: DropCounters,
    tap: tokio::sync::broadcast::Sender<Envelope>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl GossipHandle {
    /// This kettle's address.
    pub fn local_kettle(&self) -> Address {
        self.local_kettle
    }

    /// This node's libp2p peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer
    }

    /// Addresses the node listens on, each ending in `/p2p/<peer id>` (usable as another
    /// node's bootstrap address).
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.listen_addrs
    }

    /// Dropped-message counters.
    pub fn drops(&self) -> &DropCounters {
        &self.drops
    }

    /// Every envelope this node sends from now on (broadcast or point-to-point), in
    /// plaintext, as signed. For in-process diagnostics and tests that check what leaves a
    /// kettle; nothing is copied while no one subscribes.
    pub fn tap_outbound(&self) -> tokio::sync::broadcast::Receiver<Envelope> {
        self.tap.subscribe()
    }

    /// Signs `payload` and broadcasts it on `topic`; returns the envelope id. Fails with
    /// [`GossipError::Publish`] while no peer subscribes to the topic.
    pub async fn publish(
        &self,
        topic: BroadcastTopic,
        payload: Bytes,
    ) -> Result<B256, GossipError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Publish {
            topic,
            payload,
            reply,
        })
        .await?;
        rx.await.map_err(|_| GossipError::Stopped)?
    }

    /// Sends consecutive commits to kettle `to` in one message over an authenticated
    /// point-to-point stream and waits until `to` has handled them; returns `to`'s cursor for
    /// this kettle (every commit of this kettle up to it is applied there). Every record in
    /// them must allow `to` (see [`crate::split_by_store`]).
    pub async fn send_store_writes(
        &self,
        to: Address,
        commits: Vec<StoreSync>,
    ) -> Result<u64, GossipError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::SendStoreWrites { to, commits, reply })
            .await?;
        rx.await.map_err(|_| GossipError::Stopped)?
    }

    /// Asks cluster kettle `from_kettle` for up to `max` encoded blocks starting at `from`
    /// (catch-up). The answer is unverified: the caller checks every block.
    pub async fn request_blocks(
        &self,
        from_kettle: Address,
        from: u64,
        max: u32,
    ) -> Result<Vec<Vec<u8>>, GossipError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::RequestBlocks {
            from_kettle,
            from,
            max,
            reply,
        })
        .await?;
        rx.await.map_err(|_| GossipError::Stopped)?
    }

    /// Cluster kettles with a verified, open connection.
    pub async fn connected_kettles(&self) -> Result<Vec<Address>, GossipError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::ConnectedKettles { reply }).await?;
        rx.await.map_err(|_| GossipError::Stopped)
    }

    #[cfg(test)]
    pub(crate) async fn publish_raw(
        &self,
        topic: BroadcastTopic,
        bytes: Vec<u8>,
    ) -> Result<B256, GossipError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::PublishRaw {
            topic,
            bytes,
            reply,
        })
        .await?;
        rx.await.map_err(|_| GossipError::Stopped)?
    }

    async fn send(&self, cmd: Command) -> Result<(), GossipError> {
        self.commands
            .send(cmd)
            .await
            .map_err(|_| GossipError::Stopped)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The running node. Build with [`GossipService::start`], then drive with
/// [`GossipService::run`] (typically in its own task).
pub struct GossipService {
    swarm: Swarm<KettleBehaviour>,
    signer: PrivateKeySigner,
    config: GossipConfig,
    verifier: Verifier,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<GossipEvent>,
    bindings: HashMap<PeerId, Address>,
    peers_by_kettle: HashMap<Address, PeerId>,
    pending: HashMap<OutboundRequestId, PendingReply>,
    inbound: FuturesUnordered<InboundAnswer>,
    /// Bootstrap addresses (without `/p2p/…`) dialled successfully, and the peer behind each.
    dialled: HashMap<Multiaddr, PeerId>,
    next_seq: u64,
    drops: DropCounters,
    tap: tokio::sync::broadcast::Sender<Envelope>,
    /// Inbound message rate per peer.
    rates: PeerRateLimiter,
}

impl std::fmt::Debug for GossipService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GossipService")
            .field("kettle", &self.signer.address())
            .field("peer", self.swarm.local_peer_id())
            .finish_non_exhaustive()
    }
}

impl GossipService {
    /// Builds the swarm, subscribes to the broadcast topics, starts listening (waiting until
    /// the listen address is known) and dials the bootstrap peers. Returns the service, a
    /// handle, and the receiver of verified inbound messages.
    pub async fn start(
        config: GossipConfig,
        signer: PrivateKeySigner,
    ) -> Result<(Self, GossipHandle, mpsc::Receiver<GossipEvent>), GossipError> {
        config.validate()?;
        let key = Keypair::generate_ed25519();
        let mut swarm = SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|e| GossipError::Transport(e.to_string()))?
            .with_behaviour(|key| {
                KettleBehaviour::new(key, &config)
                    .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
            })
            .map_err(|e| GossipError::Transport(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_connection_timeout))
            .build();
        for topic in BroadcastTopic::ALL {
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&IdentTopic::new(topic.name()))
                .map_err(|e| GossipError::Transport(e.to_string()))?;
        }
        swarm
            .listen_on(config.listen_addr.clone())
            .map_err(|e| GossipError::Transport(e.to_string()))?;
        let local_peer = *swarm.local_peer_id();
        let listen = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::NewListenAddr { address, .. } => return Ok(address),
                    SwarmEvent::ListenerError { error, .. } => return Err(error.to_string()),
                    SwarmEvent::ListenerClosed { reason: Err(e), .. } => return Err(e.to_string()),
                    _ => {}
                }
            }
        })
        .await
        .map_err(|_| GossipError::Transport("no listen address within 10 s".into()))?
        .map_err(GossipError::Transport)?;
        let listen = listen.with(Protocol::P2p(local_peer));

        let drops = DropCounters::default();
        let (tap, _) = tokio::sync::broadcast::channel(1024);
        let (cmd_tx, cmd_rx) = mpsc::channel(config.channel_capacity);
        let (ev_tx, ev_rx) = mpsc::channel(config.channel_capacity);
        let local_kettle = signer.address();
        info!(kettle = %local_kettle, peer = %local_peer, addr = %listen, "gossip listening");
        let handle = GossipHandle {
            commands: cmd_tx,
            local_kettle,
            local_peer,
            listen_addrs: vec![listen],
            drops: drops.clone(),
            tap: tap.clone(),
        };
        // Sequence numbers start at the wall clock in microseconds so they keep increasing
        // across restarts without persisted state (as long as the clock does not go back).
        let next_seq = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2));
        let verifier = Verifier::new(
            config.cluster.iter().copied(),
            config.max_message_bytes,
            config.replay,
        );
        let rates = PeerRateLimiter::new(config.rate_limit);
        let mut service = Self {
            rates,
            swarm,
            signer,
            config,
            verifier,
            commands: cmd_rx,
            events: ev_tx,
            bindings: HashMap::new(),
            peers_by_kettle: HashMap::new(),
            pending: HashMap::new(),
            inbound: FuturesUnordered::new(),
            dialled: HashMap::new(),
            next_seq,
            drops,
            tap,
        };
        service.dial_bootstrap();
        Ok((service, handle, ev_rx))
    }

    /// Runs until `shutdown` resolves or every handle is dropped.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut redial = tokio::time::interval(self.config.redial_interval);
        redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some((channel, response)) = self.inbound.next(), if !self.inbound.is_empty() => {
                    let _ = self.swarm.behaviour_mut().p2p.send_response(channel, response);
                }
                _ = redial.tick() => self.dial_bootstrap(),
            }
        }
        info!(kettle = %self.signer.address(), "gossip stopped");
    }

    fn dial_bootstrap(&mut self) {
        for addr in self.config.bootstrap.clone() {
            let peer = addr.iter().find_map(|p| match p {
                Protocol::P2p(id) => Some(id),
                _ => None,
            });
            let skip = match peer {
                Some(p) => p == *self.swarm.local_peer_id() || self.swarm.is_connected(&p),
                // Without a peer id: skip while the peer we reached at this address is
                // still connected.
                None => self
                    .dialled
                    .get(&strip_p2p(&addr))
                    .is_some_and(|p| self.swarm.is_connected(p)),
            };
            if !skip {
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    debug!(%addr, error = %e, "bootstrap dial failed");
                }
            }
        }
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        seq
    }

    fn seal(&mut self, kind: MessageKind, payload: Bytes) -> Result<(B256, Vec<u8>), GossipError> {
        let seq = self.take_seq();
        let env = Envelope::sign(&self.signer, kind, seq, now_ms(), payload)?;
        let bytes = env.encode();
        if bytes.len() > self.config.max_message_bytes {
            return Err(EnvelopeError::Oversized {
                size: bytes.len(),
                limit: self.config.max_message_bytes,
            }
            .into());
        }
        let id = env.id();
        if self.tap.receiver_count() > 0 {
            let _ = self.tap.send(env);
        }
        Ok((id, bytes))
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Publish {
                topic,
                payload,
                reply,
            } => {
                let res = self.seal(topic.kind(), payload).and_then(|(id, bytes)| {
                    self.publish_bytes(topic, bytes)?;
                    Ok(id)
                });
                let _ = reply.send(res);
            }
            #[cfg(test)]
            Command::PublishRaw {
                topic,
                bytes,
                reply,
            } => {
                let _ = reply.send(self.publish_bytes(topic, bytes).map(|()| B256::ZERO));
            }
            Command::SendStoreWrites { to, commits, reply } => {
                match self.send_store_writes(to, &commits) {
                    Ok(id) => {
                        self.pending.insert(id, PendingReply::Store(reply));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::RequestBlocks {
                from_kettle,
                from,
                max,
                reply,
            } => match self.peers_by_kettle.get(&from_kettle).copied() {
                Some(peer) => {
                    let id = self.swarm.behaviour_mut().p2p.send_request(
                        &peer,
                        P2pRequest::GetBlocks {
                            from,
                            max: max.min(MAX_BLOCKS_PER_REQUEST),
                        },
                    );
                    self.pending.insert(id, PendingReply::Blocks(reply));
                }
                None => {
                    let _ = reply.send(Err(GossipError::NotConnected(from_kettle)));
                }
            },
            Command::ConnectedKettles { reply } => {
                let _ = reply.send(self.peers_by_kettle.keys().copied().collect());
            }
        }
    }

    fn publish_bytes(&mut self, topic: BroadcastTopic, bytes: Vec<u8>) -> Result<(), GossipError> {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic.hash(), bytes)
            .map(|_| ())
            .map_err(|e| GossipError::Publish(e.to_string()))
    }

    fn send_store_writes(
        &mut self,
        to: Address,
        commits: &[StoreSync],
    ) -> Result<OutboundRequestId, GossipError> {
        let _span = debug_span!(
            "store_sync_out",
            %to,
            first = commits.first().map(|c| c.commit_seq),
            count = commits.len()
        )
        .entered();
        if commits.is_empty() {
            return Err(GossipError::Request("no commits to send".into()));
        }
        if !self.verifier.is_allowed(&to) {
            return Err(GossipError::NotConnected(to));
        }
        let peer = *self
            .peers_by_kettle
            .get(&to)
            .ok_or(GossipError::NotConnected(to))?;
        if commits
            .iter()
            .flat_map(|c| &c.write_set.records)
            .any(|r| !r.allowed_stores.contains(&to))
        {
            return Err(GossipError::NotAllowedStore(to));
        }
        let (_, bytes) = self.seal(
            MessageKind::StoreWrites,
            StoreSync::encode_batch(commits).into(),
        )?;
        Ok(self
            .swarm
            .behaviour_mut()
            .p2p
            .send_request(&peer, P2pRequest::Envelope(bytes)))
    }

    fn drop_msg(&self, reason: DropReason) {
        debug!(reason = reason.as_str(), "dropped message");
        self.drops.record(reason);
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<KettleBehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                endpoint,
                ..
            } => {
                if let ConnectedPoint::Dialer { address, .. } = &endpoint {
                    self.dialled.insert(strip_p2p(address), peer_id);
                }
                if num_established.get() == 1 {
                    self.send_hello(peer_id);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.rates.forget(&peer_id);
                if let Some(kettle) = self.bindings.remove(&peer_id) {
                    if self.peers_by_kettle.get(&kettle) == Some(&peer_id) {
                        self.peers_by_kettle.remove(&kettle);
                        info!(%kettle, peer = %peer_id, "cluster kettle disconnected");
                        let _ = self.events.try_send(GossipEvent::PeerLost { kettle });
                    }
                }
            }
            SwarmEvent::Behaviour(KettleBehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                // Counted against the peer that forwarded it: that is who floods.
                let acceptance = if self.rates.allow(propagation_source, Instant::now()) {
                    self.on_broadcast(&message.topic, &message.data)
                } else {
                    self.drop_msg(DropReason::RateLimited);
                    MessageAcceptance::Ignore
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
            }
            SwarmEvent::Behaviour(KettleBehaviourEvent::P2p(event)) => self.on_p2p(event),
            _ => {}
        }
    }

    fn send_hello(&mut self, peer: PeerId) {
        match PeerBinding::sign(
            &self.signer,
            self.swarm.local_peer_id(),
            self.config.genesis,
        ) {
            Ok(b) => {
                self.swarm
                    .behaviour_mut()
                    .p2p
                    .send_request(&peer, P2pRequest::Hello(b));
            }
            Err(e) => warn!(error = %e, "cannot sign peer binding"),
        }
    }

    fn on_broadcast(&mut self, topic: &TopicHash, data: &[u8]) -> MessageAcceptance {
        let Some(topic) = BroadcastTopic::from_hash(topic) else {
            self.drop_msg(DropReason::WrongChannel);
            return MessageAcceptance::Reject;
        };
        let _span = debug_span!("broadcast_in", topic = topic.name(), bytes = data.len()).entered();
        match self.verifier.check(data, topic.kind(), now_ms()) {
            Ok(envelope) => {
                debug!(origin = %envelope.origin, seq = envelope.seq, "accepted broadcast");
                match self
                    .events
                    .try_send(GossipEvent::Broadcast { topic, envelope })
                {
                    Ok(()) => MessageAcceptance::Accept,
                    Err(_) => {
                        self.drop_msg(DropReason::ReceiverFull);
                        MessageAcceptance::Ignore
                    }
                }
            }
            Err(reason) => {
                self.drop_msg(reason);
                // Replays and stale messages can come from honest relays: do not penalize.
                if matches!(reason, DropReason::Replay | DropReason::Stale) {
                    MessageAcceptance::Ignore
                } else {
                    MessageAcceptance::Reject
                }
            }
        }
    }

    fn on_p2p(&mut self, event: request_response::Event<P2pRequest, P2pResponse>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    let pending = self.pending.remove(&request_id);
                    match (response, pending) {
                        (P2pResponse::Hello(b), _) => {
                            self.on_binding(peer, &b);
                        }
                        (P2pResponse::Cursor(c), Some(PendingReply::Store(reply))) => {
                            let _ = reply.send(Ok(c));
                        }
                        (P2pResponse::Blocks(b), Some(PendingReply::Blocks(reply))) => {
                            let _ = reply.send(Ok(b));
                        }
                        (P2pResponse::Rejected(r), Some(reply)) => {
                            reply.fail(GossipError::Rejected(r));
                        }
                        (_, Some(reply)) => {
                            reply.fail(GossipError::Request("unexpected response".into()));
                        }
                        (_, None) => {}
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id,
                error,
                peer,
                ..
            } => {
                debug!(%peer, error = %error, "request failed");
                if let Some(reply) = self.pending.remove(&request_id) {
                    reply.fail(GossipError::Request(error.to_string()));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, error = %error, "inbound request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Verifies a peer's binding; on success the peer is known as that kettle.
    fn on_binding(&mut self, peer: PeerId, binding: &PeerBinding) -> bool {
        match binding.verify(&peer, &self.config.genesis) {
            Ok(kettle) if self.verifier.is_allowed(&kettle) => {
                if self.bindings.insert(peer, kettle).is_none() {
                    debug!(%peer, %kettle, "peer verified");
                    let _ = self
                        .events
                        .try_send(GossipEvent::PeerVerified { kettle, peer });
                }
                self.peers_by_kettle.insert(kettle, peer);
                true
            }
            Ok(_) => {
                self.drop_msg(DropReason::NotAllowed);
                false
            }
            Err(e @ BindingError::OtherChain { .. }) => {
                warn!(%peer, error = %e, "refusing a kettle of another chain");
                self.drop_msg(DropReason::OtherChain);
                false
            }
            Err(_) => {
                self.drop_msg(DropReason::Unauthenticated);
                false
            }
        }
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        request: P2pRequest,
        channel: ResponseChannel<P2pResponse>,
    ) {
        // The handshake is free (once per connection); everything else pays a token.
        if !matches!(request, P2pRequest::Hello(_)) && !self.rates.allow(peer, Instant::now()) {
            self.drop_msg(DropReason::RateLimited);
            let _ = self.swarm.behaviour_mut().p2p.send_response(
                channel,
                P2pResponse::Rejected(DropReason::RateLimited.as_str().into()),
            );
            return;
        }
        let response = match request {
            P2pRequest::Hello(binding) => {
                if self.on_binding(peer, &binding) {
                    match PeerBinding::sign(
                        &self.signer,
                        self.swarm.local_peer_id(),
                        self.config.genesis,
                    ) {
                        Ok(b) => P2pResponse::Hello(b),
                        Err(e) => P2pResponse::Rejected(e.to_string()),
                    }
                } else {
                    P2pResponse::Rejected(DropReason::Unauthenticated.as_str().into())
                }
            }
            P2pRequest::Envelope(bytes) => match self.on_store_writes(peer, &bytes) {
                Ok(answer) => {
                    self.inbound.push(Box::pin(async move {
                        let response = match answer.await {
                            Ok(Ok(cursor)) => P2pResponse::Cursor(cursor),
                            Ok(Err(why)) => P2pResponse::Rejected(why),
                            Err(_) => P2pResponse::Rejected("not handled".into()),
                        };
                        (channel, response)
                    }));
                    return;
                }
                Err(reason) => {
                    self.drop_msg(reason);
                    P2pResponse::Rejected(reason.as_str().into())
                }
            },
            P2pRequest::GetBlocks { from, max } => match self.bindings.get(&peer).copied() {
                Some(kettle) => {
                    let (reply, answer) = Reply::new();
                    let max = max.min(MAX_BLOCKS_PER_REQUEST);
                    match self.events.try_send(GossipEvent::BlocksRequested {
                        kettle,
                        from,
                        max,
                        reply,
                    }) {
                        Ok(()) => {
                            self.inbound.push(Box::pin(async move {
                                let blocks = answer.await.unwrap_or_default();
                                (channel, P2pResponse::Blocks(blocks))
                            }));
                            return;
                        }
                        Err(_) => {
                            self.drop_msg(DropReason::ReceiverFull);
                            P2pResponse::Rejected(DropReason::ReceiverFull.as_str().into())
                        }
                    }
                }
                None => {
                    self.drop_msg(DropReason::Unauthenticated);
                    P2pResponse::Rejected(DropReason::Unauthenticated.as_str().into())
                }
            },
            P2pRequest::Malformed => {
                self.drop_msg(DropReason::Undecodable);
                P2pResponse::Rejected(DropReason::Undecodable.as_str().into())
            }
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .p2p
            .send_response(channel, response);
    }

    fn on_store_writes(
        &mut self,
        peer: PeerId,
        bytes: &[u8],
    ) -> Result<oneshot::Receiver<Result<u64, String>>, DropReason> {
        let _span = debug_span!("store_sync_in", %peer, bytes = bytes.len()).entered();
        let bound = *self
            .bindings
            .get(&peer)
            .ok_or(DropReason::Unauthenticated)?;
        // Size and structure first, so the origin check below never reads hostile garbage.
        let claimed = Envelope::decode(bytes, self.config.max_message_bytes)?;
        if claimed.origin != bound {
            return Err(DropReason::Unauthenticated);
        }
        let env = self
            .verifier
            .check(bytes, MessageKind::StoreWrites, now_ms())?;
        let commits = StoreSync::decode_batch(&env.payload)
            .filter(|c| !c.is_empty())
            .ok_or(DropReason::Undecodable)?;
        let local = self.signer.address();
        if commits
            .iter()
            .flat_map(|c| &c.write_set.records)
            .any(|r| !r.allowed_stores.contains(&local) || !r.allowed_stores.contains(&env.origin))
        {
            return Err(DropReason::NotAllowedStore);
        }
        debug!(origin = %env.origin, first = commits[0].commit_seq, count = commits.len(), "accepted store writes");
        let (reply, answer) = Reply::new();
        self.events
            .try_send(GossipEvent::StoreWrites {
                origin: env.origin,
                id: env.id(),
                commits,
                reply,
            })
            .map_err(|_| DropReason::ReceiverFull)?;
        Ok(answer)
    }
}

/// `addr` without any `/p2p/<peer id>` component.
fn strip_p2p(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn strip_p2p_removes_only_the_peer_id() {
        let peer = PeerId::random();
        let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}")
            .parse()
            .expect("addr");
        assert_eq!(
            strip_p2p(&addr),
            "/ip4/127.0.0.1/tcp/4001"
                .parse::<Multiaddr>()
                .expect("addr")
        );
    }
}
