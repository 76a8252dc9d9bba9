//! Shared helpers for the end-to-end tests of `tests/tests/`: they start the real `kettle`
//! binary and talk to it over JSON-RPC the way a SUAVE user does.
//!
//! - [`KettleProcess`] spawns `kettle dev` on free loopback ports and a data directory, waits
//!   until it is healthy, and stops (SIGTERM), kills (SIGKILL) and restarts it.
//! - [`Cluster`] runs several such kettles as one kettle cluster (own keys, shared genesis,
//!   libp2p on fixed loopback ports, kettle 0 producing blocks) with waits for convergence.
//! - [`L1Node`] runs a local Ethereum L1 (hardhat, `tests/l1/`, chain id 1337) on a free
//!   loopback port, with its funded dev keys and [`L1Node::mine_with`] to mine a block of
//!   chosen transactions and header inputs (to replay a kettle-built block).
//! - [`TestRelay`] is a builder relay on a free loopback port that checks `SubmitBlockRequest`s
//!   (BLS signature, block hash recomputed from the payload) and records them.
//! - [`BundleEndpoint`] is a builder's JSON-RPC bundle endpoint on a free loopback port that
//!   checks each call's `X-Flashbots-Signature` and records it.
//! - [`KettleClient`] is an alloy provider (`AnyNetwork`, plain HTTP) plus what a SUAVE client
//!   adds: sign and send EIP-1559 transactions, deploy contracts from the
//!   [`kettle_contracts::ARTIFACTS`], build `0x43` confidential compute requests with
//!   `kettle-primitives` (plain or EIP-712 signatures), confidential `eth_call` /
//!   `eth_estimateGas`, and bounded waits for receipts.
//!
//! ```no_run
//! use kettle_tests::{dev_user, KettleClient, KettleProcess, ReceiptResponse, Signing};
//! use kettle_contracts::hello::Hello;
//! use alloy_sol_types::SolCall;
//!
//! # async fn example() {
//! let kettle = KettleProcess::start();
//! let client = KettleClient::connect(&kettle.rpc_url()).await;
//! let user = dev_user();
//! let hello = client.deploy(&user, "Hello").await;
//! let request = client
//!     .build_request(&user, hello, Hello::helloCall {}.abi_encode().into(), b"world", Signing::Eip712)
//!     .await;
//! let hash = client.send_request(&request).await.expect("accepted");
//! let receipt = client.wait_receipt(hash).await;
//! assert!(receipt.inner.status());
//! # }
//! ```
//!
//! The binary is not built by `cargo test -p kettle-tests`: build it first with
//! `cargo build -p kettle` (`scripts/test` builds every binary before testing).
//!
//! # Environment
//!
//! | variable | effect |
//! |---|---|
//! | `KETTLE_BIN` | the `kettle` binary to start (default: the one next to the test executable) |
//! | `KETTLE_TEST_LOG` | `1`: echo each kettle's stderr into the test output; a `tracing` filter (`debug`, `kettle_node=trace`): echo it at that level |
//! | `KETTLE_E2E_SEED`, `KETTLE_CRASH_SEED`, `KETTLE_CLUSTER_SEED` | replay the random choices of `node_e2e` / `crash` / `cluster` (each run prints its seed) |
//! | `KETTLE_CRASH_ROUNDS` | kill/restart rounds of `crash` (default 50) |
//!
//! # The tests
//!
//! | file | what it proves |
//! |---|---|
//! | `tests/node_e2e.rs` | deploy + `0x43` → `0x50` round trip (EIP-712 and plain signatures), suave-geth JSON forms, state across requests, restart durability, failure paths commit nothing, confidential `eth_call` / `eth_estimateGas`, `cast`-style queries; confidential inputs never reach RPC output or logs |
//! | `tests/crash.rs` | 50 SIGKILLs at random points of mixed traffic (deployments, transfers and calls, multi-record confidential requests, block production at period 0 and 150 ms): after each restart nothing acknowledged is lost or doubled, blocks, transaction, receipt and log indexes agree, nonces have no gaps, state matches the mined transactions, and each request's store records are all there (with every value, listed by `fetchDataRecords`) exactly when its callback is on chain |
//! | `tests/cluster.rs` | a cluster of 3 kettles ([`Cluster`]): store records replicate only to their allowed stores and never leak the inputs; a late or SIGKILLed kettle catches up exactly (heads, state roots, store cursors); the producer seals every kettle's transactions; forged gossip from a key outside the cluster is dropped |
//! | `tests/builder.rs` | block building on a real local L1 (hardhat): the `Builder` SUAPP simulates and stores bundles, builds a block the relay accepts (BLS signature, block hash) and the L1 re-mines to the same roots; reverting bundles; builder sessions |
//! | `tests/cluster_wire.rs` | two in-process kettles: every gossip envelope they send, read in plaintext through the gossip tap, carries replicated store values but never a request's confidential inputs |
//! | `tests/suapp_ofa.rs` | the `Ofa` SUAPP (MEV-Share order-flow auction): only the hint of a user bundle reaches the chain; a searcher's match sends one signed `mev_sendBundle` with both transactions and the refund to a [`BundleEndpoint`] |
//! | `tests/suapp_oracle.rs` | the `Oracle` SUAPP: an HTTP price lands in `latestPrice`; internal hosts outside the allow-list and HTTP errors are refused with readable messages |
//! | `tests/suapp_custody.rs` | the `Custody` SUAPP: a key generated in the kettle signs transactions for its owner only; no plausible form of the key appears in any output |
//! | `tests/suapp_auction.rs` | the `Auction` SUAPP: sealed bids never appear anywhere before settlement, closing early and late bids are refused, the highest (then earliest) bid wins |
//! | `tests/forge.rs` | `kettle forge` as Foundry's FFI calls it (also as `suave-geth` through a symlink): output format, errors, allow-list, remote mode, `status` |
//! | `tests/cli_dev.rs` | `kettle deploy` / `kettle request` through the binary: positional and flag forms, `--inputs @file`, decoded events, readable reverts; `console.log` lines carry the request hash |
//! | `tests/secrets.rs` | key files are created 0600 and refused when others can read them (`kettle key`, `dev`, `run`, client `--key-file`, a config holding a key); at `trace`, no key, confidential input or stored value reaches a kettle's stdout/stderr (raw, hex, base64) or its data directory in plaintext, standalone and in a cluster |
//! | `tests/limits.rs` | every resource limit over its value against `kettle dev --config` processes (request body, batch, connections, response size, request gas, MEVM wall clock, SUAPP HTTP response size and timeout, transaction size, mempool per sender and total): a clear error, and another client served right after |
//! | `tests/harness.rs` | the harness itself: start-up failures show stderr, stop/kill/drop end the process, one kettle per data dir |

use std::path::PathBuf;

mod bundle_endpoint;
mod client;
mod cluster;
pub mod http_server;
mod l1;
mod process;
mod relay;

pub use bundle_endpoint::{
    verify_flashbots_signature, BundleCall, BundleEndpoint, SIGNATURE_HEADER,
};
pub use client::{
    artifact_bytecode, decode_logs, signed_eip1559, KettleClient, RpcFailure, Signing,
    DEFAULT_REQUEST_GAS, RECEIPT_TIMEOUT, RPC_TIMEOUT,
};
pub use cluster::{
    gossip_dropped, gossip_peers, metrics_dropped, store_cursor, store_seq, Cluster,
    ClusterOptions, Head,
};
pub use http_server::LoopbackServer;
pub use l1::{
    free_port, l1_dev_keys, L1Error, L1Node, MineParams, L1_CHAIN_ID, L1_DEV_KEYS, L1_START_TIMEOUT,
};
pub use process::{http_get, KettleOptions, KettleProcess, START_TIMEOUT, STOP_TIMEOUT};
pub use relay::{Submission, TestRelay, SUBMIT_BLOCK_PATH};

pub use alloy_network::{AnyTransactionReceipt, ReceiptResponse};
use alloy_signer_local::PrivateKeySigner;

/// Private key of the funded dev user `0xBE69d72ca5f88aCba033a063dF5DBe43a4148De0`
/// (published in suave-geth; never use it for value).
pub const DEV_USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";

/// The transactions root of a block with these EIP-2718 transactions, in order.
pub fn transactions_root(txs: &[alloy_primitives::Bytes]) -> alloy_primitives::B256 {
    alloy_consensus::proofs::ordered_trie_root_with_encoder(txs, |tx, buf| {
        buf.extend_from_slice(tx)
    })
}

/// The funded dev user as a signer.
pub fn dev_user() -> PrivateKeySigner {
    DEV_USER_KEY.parse().expect("the dev user key is valid")
}

/// Path of the `kettle` binary the tests start.
///
/// In order: `$KETTLE_BIN`; the binary next to the test executable (the target directory this
/// test run was built in, which honours `CARGO_TARGET_DIR`); `$CARGO_TARGET_DIR/debug`.
/// Cargo does not build other packages' binaries for `cargo test -p kettle-tests`, so a
/// missing binary fails with a message saying how to build it, and a binary older than the
/// node's sources gets a warning on stderr (once per test process).
pub fn kettle_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let name = format!("kettle{}", std::env::consts::EXE_SUFFIX);
        let mut candidates = Vec::new();
        if let Some(bin) = std::env::var_os("KETTLE_BIN") {
            candidates.push(PathBuf::from(bin));
        }
        if let Ok(mut dir) = std::env::current_exe() {
            dir.pop(); // the test binary itself
            if dir.ends_with("deps") {
                dir.pop();
            }
            candidates.push(dir.join(&name));
        }
        if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
            candidates.push(PathBuf::from(target).join("debug").join(&name));
        }
        let Some(bin) = candidates.iter().find(|c| c.is_file()).cloned() else {
            panic!(
                "kettle binary not found (looked at {}): build it first with `cargo build -p kettle` \
                 (scripts/test builds every binary before testing), or point KETTLE_BIN at one",
                candidates
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        warn_if_stale(&bin);
        bin
    })
    .clone()
}

/// Warns when a source file of the node is newer than the binary (a forgotten rebuild makes
/// the end-to-end tests test old code).
fn warn_if_stale(bin: &std::path::Path) {
    let Ok(built) = bin.metadata().and_then(|m| m.modified()) else {
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stack: Vec<PathBuf> = ["kettle", "precompiles", "contracts/out"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && name != "node_modules" {
                    stack.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|e| e == "rs" || e == "json" || e == "toml")
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|m| m > built)
            {
                eprintln!(
                    "warning: {} is newer than {}: rebuild with `cargo build -p kettle`",
                    path.display(),
                    bin.display()
                );
                return;
            }
        }
    }
}

/// Panics if `secret` appears in `haystack` (JSON text, logs), hex-encoded (any case, with or
/// without `0x`) or as text; `what` names the haystack in the message.
pub fn assert_not_leaked(what: &str, haystack: &str, secret: &[u8]) {
    assert!(
        !secret.is_empty(),
        "assert_not_leaked needs a non-empty secret"
    );
    let hex = alloy_primitives::hex::encode(secret);
    let text = std::str::from_utf8(secret).ok().map(str::to_lowercase);
    for line in haystack.lines() {
        let lower = line.to_lowercase();
        let how = if lower.contains(&hex) {
            "hex-encoded"
        } else if text.as_ref().is_some_and(|t| lower.contains(t)) {
            "as text"
        } else {
            continue;
        };
        let shown: String = line.chars().take(300).collect();
        panic!("the secret leaked, {how}, into {what}: {shown}");
    }
}

/// A small deterministic random generator (SplitMix64) for tests that want random choices
/// they can replay: print the seed, re-run with it.
#[derive(Debug, Clone)]
pub struct TestRng(u64);

impl TestRng {
    /// A generator seeded from `$var` if set (decimal), otherwise from the clock; the seed is
    /// printed so a failing run can be replayed with `var=<seed>`.
    pub fn from_env_or_clock(var: &str) -> Self {
        let seed = std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0x5eed)
            });
        eprintln!("random seed {seed} (replay with {var}={seed})");
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `range` (half-open, non-empty).
    pub fn in_range(&mut self, range: std::ops::Range<u64>) -> u64 {
        assert!(range.start < range.end, "empty range {range:?}");
        range.start + self.next_u64() % (range.end - range.start)
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_replays_from_its_seed() {
        let (mut a, mut b) = (TestRng(7), TestRng(7));
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        for _ in 0..100 {
            assert!((3..9).contains(&a.in_range(3..9)));
        }
        assert_eq!(a.bytes(5).len(), 5);
    }

    #[test]
    fn leak_check_finds_hex_and_text_in_any_case() {
        let secret = b"Top Secret";
        assert_not_leaked("clean", "{\"input\":\"0x1234\"}", secret);
        let hex = alloy_primitives::hex::encode_upper(secret);
        for haystack in [format!("x 0x{hex} y"), "a top secret b".to_owned()] {
            let caught = std::panic::catch_unwind(|| assert_not_leaked("h", &haystack, secret));
            assert!(caught.is_err(), "not caught in {haystack}");
        }
    }

    #[test]
    fn artifacts_have_deployable_bytecode() {
        for name in ["Hello", "Vault", "StoreSuapp", "ClusterStore"] {
            assert!(artifact_bytecode(name).len() > 100, "{name}");
        }
        assert!(std::panic::catch_unwind(|| artifact_bytecode("NoSuchContract")).is_err());
    }

    #[test]
    fn dev_user_is_the_funded_dev_account() {
        assert_eq!(dev_user().address(), kettle_primitives::DEV_USER_ADDRESS);
    }
}
