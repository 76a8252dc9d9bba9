//! Crash safety: SIGKILL a kettle in the middle of a stream of confidential requests, start
//! it again on the same data dir, and check that nothing it acknowledged was lost or doubled
//! (issue 6, "How it is checked").
//!
//! A client task sends requests one at a time, each storing a distinct secret through the
//! `Vault` SUAPP, and records every `0x50` hash the node returned. The test kills the node
//! with SIGKILL after a random number of acknowledgements plus a random delay (so the kill
//! lands anywhere inside the processing of the next request or a block), restarts it, and
//! checks:
//! - every acknowledged `0x50` is known right after the restart (mined, or pending and then
//!   mined), with a successful receipt;
//! - every acknowledged secret is readable from the confidential store by a follow-up
//!   request, and reads back exactly (digest and length);
//! - across all rounds no transaction, nonce or record id appears twice and the blocks link.
//!
//! Replay a run with the seed it prints: `KETTLE_CRASH_SEED=<seed>`.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use alloy_primitives::{keccak256, Address, FixedBytes, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use kettle_contracts::vault::Vault;
use kettle_tests::{
    decode_logs, dev_user, KettleClient, KettleOptions, KettleProcess, ReceiptResponse, RpcFailure,
    Signing, TestRng,
};
use serde_json::{json, Value};
use tokio::sync::watch;

/// Kill/restart rounds.
const ROUNDS: usize = 6;
/// Block period of the kettles of the second half of the rounds, in milliseconds: their
/// `0x50`s wait in the (persisted) mempool, so kills hit acknowledged transactions that are
/// not mined yet, and the restarted kettle shows them pending before it mines them. The first
/// half seals a block as soon as a transaction is pending.
const SLOW_BLOCK_PERIOD_MS: u64 = 150;
/// Requests the client tries to send per round (the kill cuts the stream short).
const PER_ROUND: usize = 40;
/// Upper bound of the whole test.
const BUDGET: Duration = Duration::from_secs(60);

/// A request the node acknowledged.
#[derive(Debug, Clone)]
struct Acked {
    hash: B256,
    nonce: u64,
    secret: Vec<u8>,
}

/// How a stream of requests ended.
#[derive(Debug)]
struct StreamEnd {
    acked: Vec<Acked>,
    /// The error that cut the stream short (`None`: all requests were acknowledged).
    error: Option<RpcFailure>,
}

/// Sends `secrets` one request at a time from nonce `first_nonce`, publishing the number of
/// acknowledgements so far on `progress`. Stops at the first failure.
async fn send_stream(
    client: KettleClient,
    user: PrivateKeySigner,
    vault: Address,
    first_nonce: u64,
    gas_price: u128,
    secrets: Vec<Vec<u8>>,
    progress: watch::Sender<usize>,
) -> StreamEnd {
    let mut acked = Vec::new();
    for (i, secret) in secrets.into_iter().enumerate() {
        let nonce = first_nonce + i as u64;
        let request = client.sign_request(
            &user,
            nonce,
            gas_price,
            vault,
            Vault::storeCall {}.abi_encode().into(),
            &secret,
            Signing::Eip712,
        );
        match client.send_request(&request).await {
            Ok(hash) => {
                acked.push(Acked {
                    hash,
                    nonce,
                    secret,
                });
                progress.send_replace(acked.len());
            }
            Err(error) => {
                return StreamEnd {
                    acked,
                    error: Some(error),
                }
            }
        }
    }
    StreamEnd { acked, error: None }
}

fn options_for(round: usize) -> KettleOptions {
    KettleOptions {
        block_period_ms: if round >= ROUNDS / 2 {
            SLOW_BLOCK_PERIOD_MS
        } else {
            0
        },
        ..KettleOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_nothing_acknowledged() {
    let started = Instant::now();
    let mut rng = TestRng::from_env_or_clock("KETTLE_CRASH_SEED");
    let mut kettle = KettleProcess::start_with(options_for(0));
    let mut client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let vault = client.deploy(&user, "Vault").await;

    let mut all_acked: Vec<Acked> = Vec::new();
    let mut ids_by_hash: HashMap<B256, FixedBytes<16>> = HashMap::new();
    let mut mid_stream_kills = 0;
    let mut pending_at_restart = 0;
    let mut reveals = 0;
    for round in 0..ROUNDS {
        let round_started = Instant::now();
        // Fresh nonce and a price with headroom for base-fee changes, asked before the stream
        // starts: once it runs, the node may die at any moment.
        let first_nonce = client.pending_nonce(user.address()).await;
        let gas_price = client.gas_price().await * 2;
        let secrets: Vec<Vec<u8>> = (0..PER_ROUND)
            .map(|i| {
                let mut s = format!("round {round} secret {i} ").into_bytes();
                let extra = 1 + rng.in_range(0..64) as usize;
                s.extend(rng.bytes(extra));
                s
            })
            .collect();
        let kill_after = rng.in_range(3..PER_ROUND as u64 - 8) as usize;
        let jitter = Duration::from_micros(rng.in_range(0..4_000));

        let (progress, mut acks) = watch::channel(0usize);
        let stream = tokio::spawn(send_stream(
            client.clone(),
            user.clone(),
            vault,
            first_nonce,
            gas_price,
            secrets,
            progress,
        ));
        let reached =
            tokio::time::timeout(Duration::from_secs(20), acks.wait_for(|n| *n >= kill_after))
                .await
                .unwrap_or_else(|_| {
                    panic!("round {round}: {kill_after} acknowledgements did not come within 20 s")
                })
                .is_ok();
        if !reached {
            // The client stopped on its own: the node refused a request before any kill.
            let end = stream.await.expect("the client task panicked");
            panic!(
                "round {round}: the client stopped after {} of {kill_after} acknowledgements: {:?}; stderr:\n{}",
                end.acked.len(),
                end.error,
                kettle.logs()
            );
        }
        tokio::time::sleep(jitter).await;
        kettle.kill();
        let end = tokio::time::timeout(Duration::from_secs(30), stream)
            .await
            .unwrap_or_else(|_| panic!("round {round}: the client hung after the kill"))
            .expect("the client task panicked");
        match &end.error {
            Some(RpcFailure::Transport(_)) => mid_stream_kills += 1,
            Some(e) => panic!(
                "round {round}: request {} refused by the node before the kill: {e}",
                end.acked.len()
            ),
            None => {}
        }
        let acked = end.acked;
        eprintln!(
            "round {round} (block period {} ms): killed after {} acknowledged requests (target {kill_after}, jitter {jitter:?}), {}",
            kettle.options().block_period_ms,
            acked.len(),
            if end.error.is_some() { "mid-stream" } else { "after the stream" },
        );

        kettle.restart_with(options_for(round + 1));
        client = KettleClient::connect(&kettle.rpc_url()).await;

        // Nothing acknowledged is lost: each 0x50 is known at once (mined or pending) ...
        for a in &acked {
            let tx = client.transaction_json(a.hash).await;
            assert!(
                !tx.is_null(),
                "round {round}: acknowledged 0x50 {} (nonce {}) is gone after the restart; stderr:\n{}",
                a.hash,
                a.nonce,
                kettle.logs()
            );
            if tx["blockNumber"].is_null() {
                pending_at_restart += 1;
            }
        }
        // ... and then mined, successfully, as a 0x50 of the user.
        let mut ids = Vec::new();
        for a in &acked {
            let receipt = client.wait_receipt(a.hash).await;
            assert!(
                receipt.status(),
                "round {round}: callback of {} reverted",
                a.hash
            );
            assert_eq!(receipt.inner.inner.r#type, 0x50);
            assert_eq!(receipt.inner.from, user.address());
            let stored = decode_logs::<Vault::SecretStored>(&receipt);
            assert_eq!(
                stored.len(),
                1,
                "round {round}: one SecretStored in {}",
                a.hash
            );
            ids.push(stored[0].id);
            ids_by_hash.insert(a.hash, stored[0].id);
        }
        // Every acknowledged record is readable, and holds exactly its secret.
        if !ids.is_empty() {
            let receipt = client
                .request_and_wait(
                    &user,
                    vault,
                    Vault::revealCall { ids: ids.clone() }.abi_encode().into(),
                    b"",
                )
                .await;
            reveals += 1;
            let revealed = decode_logs::<Vault::SecretRevealed>(&receipt);
            assert_eq!(
                revealed.len(),
                acked.len(),
                "round {round}: one SecretRevealed per record"
            );
            for ((event, a), id) in revealed.iter().zip(&acked).zip(&ids) {
                assert_eq!(event.id, *id);
                assert_eq!(
                    (event.digest, event.length),
                    (keccak256(&a.secret), U256::from(a.secret.len())),
                    "round {round}: record {id} of {} does not hold its secret",
                    a.hash
                );
            }
        }
        all_acked.extend(acked);
        eprintln!("round {round} took {:?}", round_started.elapsed());
        assert!(
            started.elapsed() < BUDGET,
            "the crash test ran over its {BUDGET:?} budget"
        );
    }

    let user_txs =
        check_chain_has_no_duplicates(&client, user.address(), vault, &all_acked, &ids_by_hash)
            .await;
    // The deployment, the acknowledged requests and one reveal per round are the user's
    // transactions we know of; the rest are requests in flight at a kill that the node
    // committed but could not acknowledge (allowed: the client saw an error, not a hash).
    let known = 1 + all_acked.len() + reveals;
    assert!(
        user_txs >= known,
        "fewer user transactions on chain ({user_txs}) than known ({known})"
    );
    eprintln!(
        "{ROUNDS} rounds, {} acknowledged requests ({pending_at_restart} still pending at restart, {} committed but unacknowledged), {mid_stream_kills} kills mid-stream, {:?}",
        all_acked.len(),
        user_txs - known,
        started.elapsed()
    );
    assert!(
        all_acked.len() >= ROUNDS * 3,
        "each round acknowledged at least 3 requests"
    );
    assert!(
        started.elapsed() < BUDGET,
        "the crash test ran over its {BUDGET:?} budget"
    );
}

/// Walks the whole chain: blocks link, no transaction appears twice, the user's nonces run
/// without gaps or repeats, every acknowledged `0x50` is included exactly once, and no record
/// id was announced twice. Returns the number of the user's transactions on chain.
async fn check_chain_has_no_duplicates(
    client: &KettleClient,
    user: Address,
    vault: Address,
    acked: &[Acked],
    ids_by_hash: &HashMap<B256, FixedBytes<16>>,
) -> usize {
    let head = client.block_number().await;
    let mut seen = HashSet::new();
    let mut user_nonces = Vec::new();
    let mut parent = B256::ZERO;
    for number in 0..=head {
        let block = client.block_json(number, true).await;
        let hash: B256 = serde_json::from_value(block["hash"].clone()).expect("block hash");
        let parent_hash: B256 =
            serde_json::from_value(block["parentHash"].clone()).expect("parent hash");
        assert_eq!(
            parent_hash,
            parent,
            "block {number} does not link to block {}",
            number.saturating_sub(1)
        );
        parent = hash;
        for tx in block["transactions"].as_array().expect("full transactions") {
            let tx_hash: B256 = serde_json::from_value(tx["hash"].clone()).expect("tx hash");
            assert!(
                seen.insert(tx_hash),
                "transaction {tx_hash} appears twice (block {number})"
            );
            let from: Address = serde_json::from_value(tx["from"].clone()).expect("from");
            if from == user {
                let nonce = u64::from_str_radix(
                    tx["nonce"]
                        .as_str()
                        .expect("nonce")
                        .trim_start_matches("0x"),
                    16,
                )
                .expect("hex nonce");
                user_nonces.push(nonce);
            }
        }
    }
    let expected: Vec<u64> = (0..user_nonces.len() as u64).collect();
    assert_eq!(
        user_nonces, expected,
        "the user's nonces on chain have gaps or repeats"
    );
    for a in acked {
        assert!(
            seen.contains(&a.hash),
            "acknowledged {} is not on chain",
            a.hash
        );
    }
    let acked_hashes: HashSet<B256> = acked.iter().map(|a| a.hash).collect();
    assert_eq!(
        acked_hashes.len(),
        acked.len(),
        "the node returned a hash twice"
    );

    let logs: Value = client
        .json(
            "eth_getLogs",
            json!([{
                "fromBlock": "0x0",
                "toBlock": "latest",
                "address": vault,
                "topics": [Vault::SecretStored::SIGNATURE_HASH],
            }]),
        )
        .await
        .expect("eth_getLogs");
    let mut ids = HashSet::new();
    for log in logs.as_array().expect("log list") {
        let topic: B256 = serde_json::from_value(log["topics"][1].clone()).expect("id topic");
        assert!(ids.insert(topic), "record id {topic} announced twice");
    }
    for (hash, id) in ids_by_hash {
        let mut topic = [0u8; 32];
        topic[..16].copy_from_slice(id.as_slice());
        assert!(
            ids.contains(&B256::from(topic)),
            "the record of {hash} is not among the SecretStored logs"
        );
    }
    user_nonces.len()
}
