//! [`Cluster`]: several `kettle dev` processes joined into one kettle cluster over libp2p.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    time::Duration,
};

use alloy_primitives::{Address, B256};
use serde_json::Value;

use crate::{kettle_bin, KettleClient, KettleOptions, KettleProcess, TestRng};

/// Pause between two polls of the wait helpers.
const POLL: Duration = Duration::from_millis(100);

/// The p2p ports are picked below Linux's ephemeral range (32768–60999), so that the RPC and
/// metrics ports [`KettleProcess`] picks (ephemeral) and outgoing connections never take the
/// port of a kettle that is down for a moment.
const P2P_PORTS: std::ops::Range<u64> = 20_000..32_000;

/// Settings of a [`Cluster`].
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// `--log` of every kettle (see [`KettleOptions::log`]).
    pub log: Option<String>,
    /// `--block-period-ms` of every kettle (0: seal as soon as transactions are pending).
    pub block_period_ms: u64,
    /// More arguments appended to every kettle's `kettle dev …`.
    pub extra_args: Vec<String>,
}

/// The chain head a kettle reports in `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// State root of the block.
    pub state_root: B256,
}

impl Head {
    /// The `head` object of a `/health` body.
    pub fn from_health(health: &Value) -> Option<Self> {
        let head = &health["head"];
        Some(Self {
            number: head["number"].as_u64()?,
            hash: head["hash"].as_str()?.parse().ok()?,
            state_root: head["stateRoot"].as_str()?.parse().ok()?,
        })
    }
}

/// `gossip.storeSeq` of a `/health` body: how many store commits this kettle made itself.
pub fn store_seq(health: &Value) -> Option<u64> {
    health["gossip"]["storeSeq"].as_u64()
}

/// `gossip.storeCursors[origin]` of a `/health` body: the highest commit of `origin` applied
/// on this kettle (0 when `origin` is not listed yet). `None` if the body has no cursors.
pub fn store_cursor(health: &Value, origin: Address) -> Option<u64> {
    let cursors = health["gossip"]["storeCursors"].as_object()?;
    Some(
        cursors
            .iter()
            .find(|(k, _)| k.parse::<Address>().ok() == Some(origin))
            .and_then(|(_, v)| v.as_u64())
            .unwrap_or(0),
    )
}

/// `gossip.peers` of a `/health` body: the cluster kettles this kettle is connected to.
pub fn gossip_peers(health: &Value) -> Vec<Address> {
    health["gossip"]["peers"]
        .as_array()
        .map(|peers| {
            peers
                .iter()
                .filter_map(|p| p.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `gossip.dropped[reason]` of a `/health` body (0 when absent).
pub fn gossip_dropped(health: &Value, reason: &str) -> u64 {
    health["gossip"]["dropped"][reason].as_u64().unwrap_or(0)
}

/// The value of the Prometheus sample `kettle_gossip_dropped_total{reason="<reason>"}` in a
/// `/metrics` text (0 when absent).
pub fn metrics_dropped(metrics: &str, reason: &str) -> u64 {
    let label = format!("reason=\"{reason}\"");
    metrics
        .lines()
        .filter(|l| l.starts_with("kettle_gossip_dropped_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// One kettle of a [`Cluster`].
#[derive(Debug)]
struct Member {
    /// `<root>/kettle-<i>`: holds `data/` and `kettle-key.json`.
    dir: PathBuf,
    key_file: PathBuf,
    address: Address,
    p2p_port: u16,
    process: Option<KettleProcess>,
}

/// N `kettle dev` processes forming one kettle cluster on 127.0.0.1.
///
/// [`new`](Self::new) prepares, without starting anything: a temporary root directory, one
/// key file per kettle made by `kettle key` (so every kettle has its own address), one
/// genesis shared by all, written by `kettle genesis` (the dev chain: the dev user
/// [`crate::dev_user`] is funded), and one free p2p port per kettle, kept across restarts.
/// Each kettle runs
///
/// ```text
/// kettle dev --datadir <root>/kettle-<i>/data --key-file <root>/kettle-<i>/kettle-key.json
///   --genesis <root>/genesis.json --p2p-addr /ip4/127.0.0.1/tcp/<port i>
///   --bootnode /ip4/127.0.0.1/tcp/<port j> (every other kettle j)
///   --cluster <all addresses> --producer <address of kettle 0>
/// ```
///
/// Kettle 0 is the block producer. Kettles can be started late
/// ([`start_only`](Self::start_only), then [`start_member`](Self::start_member)), stopped,
/// killed and restarted on their data directory. RPC and metrics ports change on every
/// start: take a new [`client`](Self::client) after a restart. The wait helpers poll
/// `/health` with a bounded timeout and panic with the health of every kettle.
///
/// Dropping a `Cluster` kills the kettles still running, then deletes the root directory.
#[derive(Debug)]
pub struct Cluster {
    // Declared before `root`: processes die before their directories are deleted.
    members: Vec<Member>,
    genesis: PathBuf,
    options: ClusterOptions,
    root: tempfile::TempDir,
}

impl Cluster {
    /// Prepares a cluster of `size` kettles with default options; starts none.
    pub fn new(size: usize) -> Self {
        Self::with_options(size, ClusterOptions::default())
    }

    /// Prepares a cluster of `size` kettles with `options`; starts none.
    ///
    /// # Panics
    /// If `size` is 0, or `kettle key` / `kettle genesis` fail.
    pub fn with_options(size: usize, options: ClusterOptions) -> Self {
        assert!(size > 0, "a cluster needs at least one kettle");
        let root = tempfile::Builder::new()
            .prefix("kettle-cluster-")
            .tempdir()
            .expect("creating the cluster's temporary directory");
        let genesis = root.path().join("genesis.json");
        let text = run_kettle(&["genesis"]);
        std::fs::write(&genesis, text).expect("writing genesis.json");
        let ports = p2p_ports(size);
        let members = ports
            .into_iter()
            .enumerate()
            .map(|(i, p2p_port)| {
                let dir = root.path().join(format!("kettle-{i}"));
                let key_file = dir.join("kettle-key.json");
                let out = run_kettle(&["key", "--key-file", &key_file.to_string_lossy()]);
                let address = out.trim().parse().unwrap_or_else(|e| {
                    panic!("`kettle key` printed {out:?}, not an address: {e}")
                });
                Member {
                    dir,
                    key_file,
                    address,
                    p2p_port,
                    process: None,
                }
            })
            .collect::<Vec<_>>();
        let mut addresses: Vec<Address> = members.iter().map(|m| m.address).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), size, "every kettle has its own key");
        Self {
            members,
            genesis,
            options,
            root,
        }
    }

    /// Prepares and starts a cluster of `size` kettles.
    pub fn start(size: usize) -> Self {
        let mut cluster = Self::new(size);
        cluster.start_all();
        cluster
    }

    /// How many kettles the cluster has (running or not).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the cluster has no kettle (never: [`with_options`](Self::with_options) refuses).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Starts every kettle that is not running, in index order.
    pub fn start_all(&mut self) {
        for i in 0..self.len() {
            if !self.is_running(i) {
                self.start_member(i);
            }
        }
    }

    /// Starts the kettles `indices` (which must not be running), in that order.
    pub fn start_only(&mut self, indices: &[usize]) {
        for &i in indices {
            self.start_member(i);
        }
    }

    /// Starts kettle `i`: the first time on its fresh data directory, later as a restart on
    /// the same one. Call it from the test's own thread (see [`KettleProcess`]).
    ///
    /// # Panics
    /// If it is running, or does not become healthy in time.
    pub fn start_member(&mut self, i: usize) {
        let options = self.kettle_options(i);
        let member = &mut self.members[i];
        match member.process.as_mut() {
            Some(process) => process.restart(),
            None => {
                member.process = Some(KettleProcess::start_in(member.dir.join("data"), options));
            }
        }
    }

    /// Restarts kettle `i` after [`stop`](Self::stop) or [`kill`](Self::kill).
    pub fn restart(&mut self, i: usize) {
        assert!(
            self.members[i].process.is_some(),
            "restart of kettle {i}, which never started"
        );
        self.start_member(i);
    }

    /// SIGTERM to kettle `i`, waiting for its exit.
    pub fn stop(&mut self, i: usize) -> ExitStatus {
        self.process_mut(i).stop()
    }

    /// SIGKILL to kettle `i` (no-op if it is not running).
    pub fn kill(&mut self, i: usize) {
        if let Some(process) = self.members[i].process.as_mut() {
            process.kill();
        }
    }

    /// SIGTERM to every running kettle, waiting for each exit.
    pub fn stop_all(&mut self) {
        for i in 0..self.len() {
            if self.is_running(i) {
                let status = self.stop(i);
                if !status.success() {
                    eprintln!("kettle {i} exited with {status} after SIGTERM");
                }
            }
        }
    }

    /// Whether kettle `i` is running.
    pub fn is_running(&mut self, i: usize) -> bool {
        self.members[i]
            .process
            .as_mut()
            .is_some_and(KettleProcess::is_running)
    }

    /// The kettle address of kettle `i`.
    pub fn address(&self, i: usize) -> Address {
        self.members[i].address
    }

    /// Every kettle address, by index.
    pub fn addresses(&self) -> Vec<Address> {
        self.members.iter().map(|m| m.address).collect()
    }

    /// The libp2p address of kettle `i`, `/ip4/127.0.0.1/tcp/<port>`.
    pub fn p2p_addr(&self, i: usize) -> String {
        format!("/ip4/127.0.0.1/tcp/{}", self.members[i].p2p_port)
    }

    /// Everything kettle `i` writes: its data directory `data/` and its key file.
    pub fn member_dir(&self, i: usize) -> &Path {
        &self.members[i].dir
    }

    /// The key file of kettle `i`.
    pub fn key_file(&self, i: usize) -> &Path {
        &self.members[i].key_file
    }

    /// The shared genesis file.
    pub fn genesis_file(&self) -> &Path {
        &self.genesis
    }

    /// The cluster's root directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The process of kettle `i`.
    ///
    /// # Panics
    /// If kettle `i` never started.
    pub fn process(&self, i: usize) -> &KettleProcess {
        self.members[i]
            .process
            .as_ref()
            .unwrap_or_else(|| panic!("kettle {i} never started"))
    }

    fn process_mut(&mut self, i: usize) -> &mut KettleProcess {
        self.members[i]
            .process
            .as_mut()
            .unwrap_or_else(|| panic!("kettle {i} never started"))
    }

    /// A JSON-RPC client of kettle `i` (its current ports: take a new one after a restart).
    pub async fn client(&self, i: usize) -> KettleClient {
        KettleClient::connect(&self.process(i).rpc_url()).await
    }

    /// `GET /health` of kettle `i`.
    pub fn health(&self, i: usize) -> Result<Value, String> {
        match self.members[i].process.as_ref() {
            Some(process) => process.health(),
            None => Err("not started".into()),
        }
    }

    /// The head kettle `i` reports in `/health`.
    pub fn head(&self, i: usize) -> Result<Head, String> {
        let health = self.health(i)?;
        Head::from_health(&health).ok_or_else(|| format!("/health has no head: {health}"))
    }

    /// One line per kettle: index, address, `/health` (or why it is missing).
    pub fn health_report(&self) -> String {
        (0..self.len())
            .map(|i| {
                let health = match self.health(i) {
                    Ok(h) => h.to_string(),
                    Err(e) => format!("<{e}>"),
                };
                format!("  kettle {i} {}: {health}", self.address(i))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Polls `done` until it holds, for at most `timeout`; panics naming `what`, with the
    /// health of every kettle, when it does not.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&Self) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(self) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; health of the cluster:\n{}",
                    self.health_report()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the kettles `members` report the same head (number, hash, state root) in
    /// `/health`; returns it.
    pub async fn wait_heads_agree(&self, members: &[usize], timeout: Duration) -> Head {
        let mut agreed = None;
        self.wait_for(
            &format!("kettles {members:?} to agree on the head"),
            timeout,
            |c| {
                agreed = c.common_head(members);
                agreed.is_some()
            },
        )
        .await;
        agreed.expect("set when the wait ends")
    }

    /// Waits until kettle `i`'s head is at least `number`.
    pub async fn wait_head_at_least(&self, i: usize, number: u64, timeout: Duration) {
        self.wait_for(
            &format!("kettle {i} to reach block {number}"),
            timeout,
            |c| c.head(i).is_ok_and(|h| h.number >= number),
        )
        .await;
    }

    /// Waits until kettle `j` has applied every store commit of each kettle of `origins`
    /// (other than `j`): `storeCursors[origin]` on `j` equals `storeSeq` on the origin.
    pub async fn wait_store_caught_up(&self, j: usize, origins: &[usize], timeout: Duration) {
        self.wait_for(
            &format!("kettle {j} to apply every store commit of kettles {origins:?}"),
            timeout,
            |c| c.store_caught_up(j, origins),
        )
        .await;
    }

    /// Waits until the kettles `members` agree on the head and each has applied every store
    /// commit of the others; returns the head.
    pub async fn wait_converged(&self, members: &[usize], timeout: Duration) -> Head {
        let mut agreed = None;
        self.wait_for(
            &format!("kettles {members:?} to converge (head and store)"),
            timeout,
            |c| {
                agreed = c.common_head(members);
                agreed.is_some() && members.iter().all(|&j| c.store_caught_up(j, members))
            },
        )
        .await;
        agreed.expect("set when the wait ends")
    }

    /// Waits until kettle `i` lists each kettle of `others` among its verified gossip peers.
    pub async fn wait_peers(&self, i: usize, others: &[usize], timeout: Duration) {
        let wanted: Vec<Address> = others
            .iter()
            .filter(|&&o| o != i)
            .map(|&o| self.address(o))
            .collect();
        self.wait_for(
            &format!("kettle {i} to be connected to kettles {others:?}"),
            timeout,
            |c| {
                c.health(i).is_ok_and(|h| {
                    let peers = gossip_peers(&h);
                    wanted.iter().all(|w| peers.contains(w))
                })
            },
        )
        .await;
    }

    /// The head all of `members` report, if they agree.
    fn common_head(&self, members: &[usize]) -> Option<Head> {
        let mut heads = members.iter().map(|&i| self.head(i).ok());
        let first = heads.next()??;
        heads.all(|h| h == Some(first)).then_some(first)
    }

    /// Whether `j` has applied every commit of each of `origins` (other than `j`).
    fn store_caught_up(&self, j: usize, origins: &[usize]) -> bool {
        let Ok(here) = self.health(j) else {
            return false;
        };
        origins.iter().filter(|&&i| i != j).all(|&i| {
            let Some(seq) = self.health(i).ok().as_ref().and_then(store_seq) else {
                return false;
            };
            store_cursor(&here, self.address(i)) == Some(seq)
        })
    }

    /// The `kettle dev` options of kettle `i`.
    fn kettle_options(&self, i: usize) -> KettleOptions {
        let member = &self.members[i];
        let mut args: Vec<String> = vec![
            "--key-file".into(),
            member.key_file.to_string_lossy().into_owned(),
            "--genesis".into(),
            self.genesis.to_string_lossy().into_owned(),
            "--p2p-addr".into(),
            self.p2p_addr(i),
        ];
        for j in (0..self.len()).filter(|&j| j != i) {
            args.push("--bootnode".into());
            args.push(self.p2p_addr(j));
        }
        args.push("--cluster".into());
        args.push(
            self.addresses()
                .iter()
                .map(Address::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        args.push("--producer".into());
        args.push(self.address(0).to_string());
        args.extend(self.options.extra_args.iter().cloned());
        KettleOptions {
            block_period_ms: self.options.block_period_ms,
            log: self.options.log.clone(),
            extra_args: args,
        }
    }
}

/// Runs `kettle <args>` to completion; its stdout.
fn run_kettle(args: &[&str]) -> String {
    let bin = kettle_bin();
    let out = Command::new(&bin)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "`kettle {}` failed with {}; stderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("kettle prints UTF-8")
}

/// `n` distinct ports of [`P2P_PORTS`] that are free on 127.0.0.1 right now.
fn p2p_ports(n: usize) -> Vec<u16> {
    let mut rng = TestRng(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (u64::from(std::process::id()) << 32),
    );
    let mut ports = Vec::with_capacity(n);
    for _ in 0..1000 {
        if ports.len() == n {
            break;
        }
        let port = u16::try_from(rng.in_range(P2P_PORTS)).expect("in u16 range");
        if !ports.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            ports.push(port);
        }
    }
    assert_eq!(ports.len(), n, "could not find {n} free p2p ports");
    ports
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn health_accessors_read_the_gossip_section() {
        let a = Address::repeat_byte(0xaa);
        let b = Address::repeat_byte(0xbb);
        let health = json!({
            "status": "ok",
            "head": {"number": 7, "hash": B256::repeat_byte(1), "stateRoot": B256::repeat_byte(2)},
            "gossip": {
                "kettle": a, "producer": a, "peers": [b.to_string().to_lowercase()],
                "storeSeq": 5,
                "storeCursors": {b.to_string().to_lowercase(): 3},
                "dropped": {"not_allowed": 2}
            }
        });
        assert_eq!(
            Head::from_health(&health),
            Some(Head {
                number: 7,
                hash: B256::repeat_byte(1),
                state_root: B256::repeat_byte(2)
            })
        );
        assert_eq!(store_seq(&health), Some(5));
        assert_eq!(store_cursor(&health, b), Some(3));
        assert_eq!(store_cursor(&health, a), Some(0), "unlisted origin");
        assert_eq!(gossip_peers(&health), [b]);
        assert_eq!(gossip_dropped(&health, "not_allowed"), 2);
        assert_eq!(gossip_dropped(&health, "replay"), 0);
        assert_eq!(store_cursor(&json!({}), a), None, "no gossip section");
    }

    #[test]
    fn metrics_dropped_reads_the_labelled_sample() {
        let text = "# TYPE kettle_gossip_dropped_total counter\n\
                    kettle_gossip_dropped_total{reason=\"not_allowed\"} 4\n\
                    kettle_gossip_dropped_total{reason=\"replay\"} 1\n";
        assert_eq!(metrics_dropped(text, "not_allowed"), 4);
        assert_eq!(metrics_dropped(text, "replay"), 1);
        assert_eq!(metrics_dropped(text, "stale"), 0);
    }

    #[test]
    fn p2p_ports_are_distinct_and_below_the_ephemeral_range() {
        let ports = p2p_ports(4);
        assert_eq!(ports.len(), 4);
        for (k, p) in ports.iter().enumerate() {
            assert!(P2P_PORTS.contains(&u64::from(*p)));
            assert!(!ports[k + 1..].contains(p));
        }
    }
}
