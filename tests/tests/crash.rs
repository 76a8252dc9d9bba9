//! Crash safety (issue 6, "How it is checked"; issue 11, item 3): SIGKILL a kettle at random
//! points of mixed traffic, start it again on the same data dir, and check after every
//! restart that the chain, the mempool, the confidential store and their indexes agree with
//! what the node acknowledged.
//!
//! Each round, four client tasks send concurrently, each from its own funded account and one
//! transaction at a time:
//! - the deployer deploys `Box` contracts (plain signed EIP-1559 creations);
//! - the caller sends value transfers to fresh addresses and `CrashStore.bump(by)` calls;
//! - two writers send confidential requests `CrashStore.write(cond, records, keys)`, each
//!   creating 0–3 store records of 1–4 values plus metadata in one request, tagged with a
//!   random 32-byte tag (the confidential inputs); each writer uses its own decryption
//!   condition per round. A request of 0 records writes nothing to the store, so the kettle
//!   acknowledges it without waiting for a sync to disk (`chain.sync_public_requests` off).
//!
//! The kettle runs with a block period of 0 (a block as soon as a transaction is pending) or
//! 150 ms (acknowledged transactions wait in the persisted mempool), chosen at random per
//! start. It is killed with SIGKILL after a random number of acknowledgements (over all
//! tasks) plus a random delay, so the kill lands inside request processing, a store commit,
//! block production or an idle moment. After each restart the test checks:
//! 1. nothing acknowledged is lost: every hash `eth_sendRawTransaction` returned is known at
//!    once (mined or pending) and then mined, successfully;
//! 2. the chain is consistent: blocks link from genesis to the head (and earlier blocks never
//!    change), `eth_getBlockByHash`, `eth_getTransactionByHash`, `eth_getTransactionReceipt`,
//!    `eth_getBlockReceipts` and `eth_getLogs` (by block hash and by range) agree with the
//!    blocks, no transaction appears twice, every sender's nonces run without gaps, every
//!    transaction of the test's accounts is one it sent, deployed code is at each deployed
//!    address (and nothing at the address of a deployment that was lost unacknowledged),
//!    transferred values arrived, `CrashStore.total` is the sum of the mined `bump`s, and
//!    `/health` agrees with the head;
//! 3. store writes are all-or-nothing per request and agree with the chain: the records of a
//!    condition are exactly those of the mined `Written` callbacks (acknowledged requests,
//!    plus any request in flight at the kill that was committed, chain and store together),
//!    each with all its values;
//! 4. the store's index agrees with the values: `CrashStore.audit(cond)`, a confidential
//!    `eth_call`, lists the records `fetchDataRecords(cond, namespace)` returns (in commit
//!    order, which must be the requests' nonce order) and reads every value back.
//!
//! At the end the whole chain is walked again, every acknowledged transaction is looked up
//! once more and every condition is audited again.
//!
//! `KETTLE_CRASH_ROUNDS=<n>` sets the number of kills (default 50); `KETTLE_CRASH_SEED=<seed>`
//! replays the random choices of a run (the seed is printed; thread timing still varies).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, FixedBytes, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use kettle_contracts::{crash_store::CrashStore, storage_writer::Box as BoxContract};
use kettle_tests::{
    dev_user, KettleClient, KettleOptions, KettleProcess, ReceiptResponse, RpcFailure, Signing,
    TestRng,
};
use serde_json::{json, Value};
use tokio::sync::watch;

/// Kills (kill/restart rounds) unless `KETTLE_CRASH_ROUNDS` says otherwise.
const DEFAULT_ROUNDS: usize = 50;
/// Transactions or requests each client task tries to send per round (the kill usually cuts
/// the stream short).
const OPS_PER_TASK: usize = 12;
/// Confidential-request writers (each has its own account and conditions).
const WRITERS: usize = 2;
/// The slow block period, in milliseconds (the other is 0).
const SLOW_BLOCK_PERIOD_MS: u64 = 150;
/// Gas of the confidential `audit` calls (fetching and reading back a round's records).
const AUDIT_GAS: u64 = 25_000_000;
/// Gas of a `bump` call.
const BUMP_GAS: u64 = 100_000;
/// Wait for the kill target, for the client tasks after the kill, for the pool to drain.
const WAIT: Duration = Duration::from_secs(20);

/// Which client task sent something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    Deployer,
    Caller,
    Writer(usize),
}

/// One transaction or request a task sends.
#[derive(Debug, Clone)]
enum Op {
    /// Deploys `Box`; `address` is where it lands (sender, nonce).
    Deploy { address: Address },
    /// Sends `value` wei to a fresh address.
    Transfer { to: Address, value: U256 },
    /// `CrashStore.bump(by)`.
    Bump { by: U256 },
    /// Confidential `CrashStore.write(cond, records, keys)` with inputs `tag`.
    Write {
        tag: B256,
        cond: u64,
        records: u8,
        keys: u8,
    },
}

/// Something a task sent: acknowledged (the node returned a hash) or in flight at the kill
/// (no answer: it may or may not have been committed).
#[derive(Debug, Clone)]
struct Sent {
    round: usize,
    role: Role,
    from: Address,
    nonce: u64,
    op: Op,
    /// The hash the node returned, or for an unanswered plain transaction its own hash
    /// (`None`: an unanswered confidential request, whose `0x50` hash only the node knows).
    hash: Option<B256>,
    acked: bool,
}

/// How a task's stream ended.
#[derive(Debug)]
struct TaskEnd {
    sent: Vec<Sent>,
    /// A refusal by a live node (a test failure) or a hash that differs from the one signed.
    failure: Option<String>,
}

/// Fees of a round's transactions, asked before the stream starts.
#[derive(Debug, Clone, Copy)]
struct Fees {
    /// `gasPrice` of the requests and `maxFeePerGas` of the transactions.
    max_fee: u128,
    tip: u128,
}

/// Where a mined transaction is.
#[derive(Debug, Clone, Copy)]
struct TxLoc {
    block: u64,
    index: u64,
}

/// A mined `Written` callback.
#[derive(Debug, Clone)]
struct WrittenLog {
    cond: u64,
    ids: Vec<FixedBytes<16>>,
    tx: B256,
    from: Address,
    nonce: u64,
}

/// A task's plan for one round.
struct TaskPlan {
    role: Role,
    signer: PrivateKeySigner,
    first_nonce: u64,
    ops: Vec<Op>,
}

/// What the tasks share.
#[derive(Clone)]
struct TaskEnv {
    client: KettleClient,
    crash_store: Address,
    fees: Fees,
    deploy_gas: u64,
    round: usize,
    acks: Arc<watch::Sender<usize>>,
}

/// Everything the test knows and has verified so far, across rounds.
#[derive(Default)]
struct Ledger {
    /// Hash of each verified block, by number.
    blocks: Vec<B256>,
    /// Every mined transaction.
    mined: HashMap<B256, TxLoc>,
    /// Next nonce of each sender, from the mined transactions.
    next_nonce: HashMap<Address, u64>,
    /// Every mined `Written` callback, by tag.
    written: HashMap<B256, WrittenLog>,
    /// Sum and count of the mined `Bumped` events.
    bumped: (U256, u64),
    /// Everything sent with a known hash (plain transactions; acknowledged requests).
    by_hash: HashMap<B256, Sent>,
    /// Every confidential request sent, by tag.
    by_tag: HashMap<B256, Sent>,
    /// Conditions used, with the writer using each.
    conds: Vec<(u64, Address)>,
    /// Accounts of the client tasks.
    task_accounts: HashSet<Address>,
    /// Logs counted by the walks.
    logs: usize,
}

fn rounds() -> usize {
    std::env::var("KETTLE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_ROUNDS)
}

fn options(rng: &mut TestRng) -> KettleOptions {
    KettleOptions {
        block_period_ms: if rng.in_range(0..2) == 0 {
            0
        } else {
            SLOW_BLOCK_PERIOD_MS
        },
        ..KettleOptions::default()
    }
}

fn random_signer(rng: &mut TestRng) -> PrivateKeySigner {
    loop {
        if let Ok(signer) = PrivateKeySigner::from_slice(&rng.bytes(32)) {
            return signer;
        }
    }
}

/// The decryption condition of `writer`'s records in `round` (distinct per writer and round).
fn cond_of(round: usize, writer: usize) -> u64 {
    1_000 + (round * WRITERS + writer) as u64
}

/// A signed EIP-1559 transaction: its hash and EIP-2718 bytes.
#[allow(clippy::too_many_arguments)]
fn sign_plain(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    fees: Fees,
    to: TxKind,
    input: Bytes,
    value: U256,
    gas_limit: u64,
) -> (B256, Vec<u8>) {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: fees.max_fee,
        max_priority_fee_per_gas: fees.tip,
        to,
        value,
        access_list: Default::default(),
        input,
    };
    let envelope = kettle_tests::signed_eip1559(signer, tx);
    (*envelope.tx_hash(), envelope.encoded_2718())
}

/// Sends `plan.ops` one at a time from `plan.first_nonce` until one fails, counting
/// acknowledgements on `env.acks`.
async fn run_task(env: TaskEnv, plan: TaskPlan) -> TaskEnd {
    let mut sent = Vec::new();
    let from = plan.signer.address();
    for (i, op) in plan.ops.into_iter().enumerate() {
        let nonce = plan.first_nonce + i as u64;
        let (own_hash, result) = match &op {
            Op::Write {
                tag,
                cond,
                records,
                keys,
            } => {
                let calldata = CrashStore::writeCall {
                    cond: *cond,
                    records: *records,
                    keys: *keys,
                };
                let request = env.client.sign_request(
                    &plan.signer,
                    nonce,
                    env.fees.max_fee,
                    env.crash_store,
                    calldata.abi_encode().into(),
                    tag.as_slice(),
                    Signing::Eip712,
                );
                (None, env.client.send_request(&request).await)
            }
            plain => {
                let (to, input, value, gas) = match plain {
                    Op::Deploy { .. } => (
                        TxKind::Create,
                        BoxContract::BYTECODE.clone(),
                        U256::ZERO,
                        env.deploy_gas,
                    ),
                    Op::Transfer { to, value } => (TxKind::Call(*to), Bytes::new(), *value, 21_000),
                    Op::Bump { by } => (
                        TxKind::Call(env.crash_store),
                        CrashStore::bumpCall { by: *by }.abi_encode().into(),
                        U256::ZERO,
                        BUMP_GAS,
                    ),
                    Op::Write { .. } => unreachable!(),
                };
                let (hash, raw) = sign_plain(
                    &plan.signer,
                    env.client.chain_id(),
                    nonce,
                    env.fees,
                    to,
                    input,
                    value,
                    gas,
                );
                (Some(hash), env.client.send_raw(&raw).await)
            }
        };
        let mut entry = Sent {
            round: env.round,
            role: plan.role,
            from,
            nonce,
            op,
            hash: own_hash,
            acked: false,
        };
        match result {
            Ok(hash) => {
                if own_hash.is_some_and(|own| own != hash) {
                    return TaskEnd {
                        sent,
                        failure: Some(format!(
                            "{:?} nonce {nonce}: the node returned {hash}, the signed transaction is {}",
                            plan.role,
                            own_hash.unwrap_or_default()
                        )),
                    };
                }
                entry.hash = Some(hash);
                entry.acked = true;
                sent.push(entry);
                env.acks.send_modify(|n| *n += 1);
            }
            Err(RpcFailure::Transport(_)) => {
                sent.push(entry);
                return TaskEnd {
                    sent,
                    failure: None,
                };
            }
            Err(e) => {
                return TaskEnd {
                    sent,
                    failure: Some(format!(
                        "{:?} nonce {nonce} ({:?}) refused by the live node: {e}",
                        plan.role, entry.op
                    )),
                }
            }
        }
    }
    TaskEnd {
        sent,
        failure: None,
    }
}

fn hex_u64(value: &Value, what: &str) -> u64 {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a hex string: {value}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("{what} {s} is not hex: {e}"))
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value, what: &str) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{what} ({value}): {e}"))
}

/// `CrashStore.audit(cond)` as a confidential `eth_call`.
async fn audit(
    client: &KettleClient,
    crash_store: Address,
    cond: u64,
) -> Result<Vec<CrashStore::Entry>, RpcFailure> {
    let raw = client
        .json(
            "eth_call",
            json!([{
                "to": crash_store,
                "input": Bytes::from(CrashStore::auditCall { cond }.abi_encode()),
                "isConfidential": true,
                "confidentialInputs": "0x",
                "gas": format!("{AUDIT_GAS:#x}"),
            }, "latest"]),
        )
        .await?;
    let raw: Bytes = parse(&raw, "audit return data");
    Ok(CrashStore::auditCall::abi_decode_returns(&raw)
        .unwrap_or_else(|e| panic!("audit({cond}) returned {raw}: {e}")))
}

impl Ledger {
    /// Verifies blocks `self.blocks.len()..=head` (their links, indexes, receipts and logs)
    /// and records their transactions and events.
    async fn walk(&mut self, client: &KettleClient, crash_store: Address, head: u64) {
        let first = self.blocks.len() as u64;
        if let Some(&tip) = self.blocks.last() {
            // The verified chain is still there (the links of the new blocks then cover the
            // rest; the final check re-reads every block).
            let block = client.block_json(first - 1, false).await;
            assert_eq!(
                parse::<B256>(&block["hash"], "block hash"),
                tip,
                "block {} changed across a restart",
                first - 1
            );
        }
        for number in first..=head {
            let block = client.block_json(number, true).await;
            assert!(!block.is_null(), "block {number} (head {head}) is missing");
            assert_eq!(hex_u64(&block["number"], "block number"), number);
            let hash: B256 = parse(&block["hash"], "block hash");
            let parent: B256 = parse(&block["parentHash"], "parent hash");
            assert_eq!(
                parent,
                self.blocks.last().copied().unwrap_or(B256::ZERO),
                "block {number} does not link to block {}",
                number.saturating_sub(1)
            );
            let by_hash = client
                .json("eth_getBlockByHash", json!([hash, true]))
                .await
                .expect("eth_getBlockByHash");
            assert_eq!(
                by_hash, block,
                "eth_getBlockByHash({hash}) differs from block {number}"
            );
            let receipts = client
                .json("eth_getBlockReceipts", json!([format!("{number:#x}")]))
                .await
                .expect("eth_getBlockReceipts");
            let txs = block["transactions"].as_array().expect("full transactions");
            let receipts = receipts.as_array().expect("receipt list");
            assert_eq!(
                txs.len(),
                receipts.len(),
                "block {number}: one receipt per transaction"
            );
            let mut logs = Vec::new();
            let mut cumulative = 0;
            for (index, (tx, receipt)) in txs.iter().zip(receipts).enumerate() {
                let tx_hash: B256 = parse(&tx["hash"], "tx hash");
                let from: Address = parse(&tx["from"], "from");
                let nonce = hex_u64(&tx["nonce"], "nonce");
                let by_index = client.transaction_json(tx_hash).await;
                assert_eq!(
                    by_index, *tx,
                    "eth_getTransactionByHash({tx_hash}) differs from block {number}'s transaction {index}"
                );
                let receipt_by_hash = client.receipt_json(tx_hash).await;
                assert_eq!(
                    receipt_by_hash, *receipt,
                    "eth_getTransactionReceipt({tx_hash}) differs from block {number}'s receipt {index}"
                );
                assert_eq!(
                    parse::<B256>(&receipt["transactionHash"], "tx hash"),
                    tx_hash
                );
                assert_eq!(parse::<B256>(&receipt["blockHash"], "block hash"), hash);
                assert_eq!(hex_u64(&receipt["transactionIndex"], "index"), index as u64);
                assert_eq!(hex_u64(&receipt["status"], "status"), 1, "{tx_hash} failed");
                let gas = hex_u64(&receipt["cumulativeGasUsed"], "cumulative gas");
                assert!(gas > cumulative, "block {number}: cumulative gas decreases");
                cumulative = gas;

                let previous = self.mined.insert(
                    tx_hash,
                    TxLoc {
                        block: number,
                        index: index as u64,
                    },
                );
                assert!(
                    previous.is_none(),
                    "transaction {tx_hash} is in block {number} and in {previous:?}"
                );
                let next = self.next_nonce.entry(from).or_insert(0);
                assert_eq!(
                    nonce, *next,
                    "block {number}: {from} has nonce {nonce} where {next} was next"
                );
                *next += 1;

                let mut written_tag = None;
                for log in receipt["logs"].as_array().expect("receipt logs") {
                    logs.push(log.clone());
                    let address: Address = parse(&log["address"], "log address");
                    let topics: Vec<B256> = parse(&log["topics"], "log topics");
                    let data: Bytes = parse(&log["data"], "log data");
                    if address != crash_store {
                        continue;
                    }
                    if topics.first() == Some(&CrashStore::Written::SIGNATURE_HASH) {
                        let event = CrashStore::Written::decode_raw_log(topics, &data)
                            .expect("Written decodes");
                        written_tag = Some(event.tag);
                        let previous = self.written.insert(
                            event.tag,
                            WrittenLog {
                                cond: event.cond,
                                ids: event.ids,
                                tx: tx_hash,
                                from,
                                nonce,
                            },
                        );
                        assert!(
                            previous.is_none(),
                            "request {} committed twice: {previous:?} and {tx_hash}",
                            event.tag
                        );
                    } else if topics.first() == Some(&CrashStore::Bumped::SIGNATURE_HASH) {
                        let event = CrashStore::Bumped::decode_raw_log(topics, &data)
                            .expect("Bumped decodes");
                        self.bumped.0 += event.by;
                        self.bumped.1 += 1;
                    }
                }

                // Every transaction of a task account is one the task sent.
                if self.task_accounts.contains(&from) {
                    let sent = match self.by_hash.get(&tx_hash) {
                        Some(sent) => sent,
                        None => {
                            // An unanswered request that was committed: found by its tag.
                            let tag = written_tag.unwrap_or_else(|| {
                                panic!("{from} sent {tx_hash} (nonce {nonce}, block {number}), which no task sent")
                            });
                            let sent = self.by_tag.get(&tag).unwrap_or_else(|| {
                                panic!("{tx_hash} carries request tag {tag}, which no task sent")
                            });
                            assert!(!sent.acked, "acknowledged request {tag} mined as {tx_hash}, not as the hash the node returned ({:?})", sent.hash);
                            sent
                        }
                    };
                    assert_eq!(
                        (sent.from, sent.nonce),
                        (from, nonce),
                        "{tx_hash} is not what the task sent"
                    );
                    match &sent.op {
                        Op::Write { tag, .. } => {
                            assert_eq!(hex_u64(&tx["type"], "type"), 0x50);
                            assert_eq!(written_tag, Some(*tag), "{tx_hash} wrote another tag");
                        }
                        Op::Deploy { address } => {
                            let created: Address =
                                parse(&receipt["contractAddress"], "contractAddress");
                            assert_eq!(created, *address, "deployment {tx_hash}");
                        }
                        Op::Transfer { .. } | Op::Bump { .. } => {}
                    }
                }
            }
            assert_eq!(
                cumulative,
                hex_u64(&block["gasUsed"], "gasUsed"),
                "block {number}: gasUsed is not the receipts' total"
            );
            let by_block_hash = client
                .json("eth_getLogs", json!([{ "blockHash": hash }]))
                .await
                .expect("eth_getLogs by block hash");
            assert_eq!(
                by_block_hash,
                Value::Array(logs.clone()),
                "eth_getLogs of block {number} differs from its receipts' logs"
            );
            self.logs += logs.len();
            self.blocks.push(hash);
        }
        // The range query (address and topic filter) agrees with the receipts walked.
        if first <= head {
            let range = client
                .json(
                    "eth_getLogs",
                    json!([{
                        "fromBlock": format!("{first:#x}"),
                        "toBlock": format!("{head:#x}"),
                        "address": crash_store,
                        "topics": [CrashStore::Written::SIGNATURE_HASH],
                    }]),
                )
                .await
                .expect("eth_getLogs by range");
            let mut in_range: Vec<B256> = self
                .written
                .values()
                .filter(|w| (first..=head).contains(&self.mined[&w.tx].block))
                .map(|w| w.tx)
                .collect();
            let mut got: Vec<B256> = range
                .as_array()
                .expect("log list")
                .iter()
                .map(|log| parse(&log["transactionHash"], "log tx hash"))
                .collect();
            in_range.sort();
            got.sort();
            assert_eq!(
                got, in_range,
                "eth_getLogs of Written in blocks {first}..={head} differs from the receipts"
            );
        }
    }

    /// Audits condition `cond` of `writer`: the store's records are exactly those of the
    /// mined `Written` callbacks of `cond`, in nonce order, each complete.
    async fn audit_cond(
        &self,
        client: &KettleClient,
        crash_store: Address,
        cond: u64,
        writer: Address,
    ) -> usize {
        let entries = audit(client, crash_store, cond)
            .await
            .unwrap_or_else(|e| panic!("audit of condition {cond}: {e}"));
        let mut requests: Vec<(&B256, &WrittenLog)> = self
            .written
            .iter()
            .filter(|(_, w)| w.cond == cond)
            .collect();
        requests.sort_by_key(|(_, w)| w.nonce);
        let expected: Vec<(FixedBytes<16>, B256, u8)> = requests
            .iter()
            .flat_map(|(tag, w)| {
                assert_eq!(w.from, writer, "condition {cond} written by {}", w.from);
                w.ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| (*id, **tag, i as u8))
            })
            .collect();
        let got: Vec<(FixedBytes<16>, B256, u8)> =
            entries.iter().map(|e| (e.id, e.tag, e.index)).collect();
        assert_eq!(
            got, expected,
            "condition {cond}: the store's records (id, tag, index) differ from the mined requests'"
        );
        for entry in &entries {
            let w = &self.written[&entry.tag];
            let sent = &self.by_tag[&entry.tag];
            let Op::Write { records, keys, .. } = sent.op else {
                unreachable!()
            };
            assert_eq!(
                (entry.records, entry.keys, w.ids.len()),
                (records, keys, records as usize),
                "condition {cond}: record {} of request {} has the wrong shape",
                entry.id,
                entry.tag
            );
        }
        entries.len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_mixed_traffic_keeps_chain_and_store_consistent() {
    let started = Instant::now();
    let rounds = rounds();
    let budget = Duration::from_secs(60 + 3 * rounds as u64);
    let mut rng = TestRng::from_env_or_clock("KETTLE_CRASH_SEED");
    let mut kettle = KettleProcess::start_with(options(&mut rng));
    let mut client = KettleClient::connect(&kettle.rpc_url()).await;

    // Setup: the SUAPP and one funded account per task.
    let dev = dev_user();
    let crash_store = client.deploy(&dev, "CrashStore").await;
    let mut accounts: Vec<(Role, PrivateKeySigner)> =
        vec![(Role::Deployer, random_signer(&mut rng))];
    accounts.push((Role::Caller, random_signer(&mut rng)));
    for w in 0..WRITERS {
        accounts.push((Role::Writer(w), random_signer(&mut rng)));
    }
    for (_, signer) in &accounts {
        let hash = client
            .send_eip1559(
                &dev,
                TxKind::Call(signer.address()),
                Bytes::new(),
                U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64)),
                21_000,
            )
            .await
            .expect("funding transfer accepted");
        assert!(
            client.wait_receipt(hash).await.status(),
            "funding {hash} failed"
        );
    }
    let estimate: alloy_primitives::U64 = client
        .rpc(
            "eth_estimateGas",
            (json!({ "from": accounts[0].1.address(), "input": BoxContract::BYTECODE }),),
        )
        .await
        .expect("eth_estimateGas of Box");
    let deploy_gas = estimate.to::<u64>() * 3 / 2;

    let mut ledger = Ledger {
        task_accounts: accounts.iter().map(|(_, s)| s.address()).collect(),
        ..Ledger::default()
    };
    let (mut acked, mut lost_in_flight, mut committed_in_flight) = (0usize, 0usize, 0usize);
    let mut pending_at_restart = 0usize;
    let mut audited_records = 0usize;
    for round in 0..rounds {
        let round_started = Instant::now();
        let period = kettle.options().block_period_ms;
        // Fees and nonces before the stream starts: once it runs, the node may die any time.
        let gas_price = client.gas_price().await;
        let tip: U256 = client
            .rpc("eth_maxPriorityFeePerGas", ())
            .await
            .expect("eth_maxPriorityFeePerGas");
        let fees = Fees {
            max_fee: gas_price * 2,
            tip: tip.to::<u128>().min(gas_price * 2),
        };
        let mut plans = Vec::new();
        for (role, signer) in &accounts {
            let from = signer.address();
            let first_nonce = client.pending_nonce(from).await;
            let ops = (0..OPS_PER_TASK as u64)
                .map(|i| match role {
                    Role::Deployer => Op::Deploy {
                        address: from.create(first_nonce + i),
                    },
                    Role::Caller if rng.in_range(0..2) == 0 => Op::Transfer {
                        to: Address::from_slice(&rng.bytes(20)),
                        value: U256::from(rng.in_range(1..1_000_000_000_000)),
                    },
                    Role::Caller => Op::Bump {
                        by: U256::from(rng.in_range(1..1_000)),
                    },
                    Role::Writer(w) => Op::Write {
                        tag: B256::from_slice(&rng.bytes(32)),
                        cond: cond_of(round, *w),
                        records: rng.in_range(0..4) as u8,
                        keys: rng.in_range(1..5) as u8,
                    },
                })
                .collect();
            if let Role::Writer(w) = role {
                ledger.conds.push((cond_of(round, *w), from));
            }
            plans.push(TaskPlan {
                role: *role,
                signer: signer.clone(),
                first_nonce,
                ops,
            });
        }
        let total_ops = plans.len() * OPS_PER_TASK;
        let kill_after = rng.in_range(1..(total_ops as u64 * 3 / 4)) as usize;
        // Mostly a short delay (inside the next request, or a block at period 0); sometimes a
        // long one (past the first block of a slow period; the tasks may be done, the kill
        // then hits block production or an idle node).
        let delay = if rng.in_range(0..3) == 0 {
            Duration::from_millis(rng.in_range(0..400))
        } else {
            Duration::from_micros(rng.in_range(0..4_000))
        };

        let (acks_tx, mut acks_rx) = watch::channel(0usize);
        let env = TaskEnv {
            client: client.clone(),
            crash_store,
            fees,
            deploy_gas,
            round,
            acks: Arc::new(acks_tx),
        };
        let traffic_started = Instant::now();
        let tasks: Vec<_> = plans
            .into_iter()
            .map(|plan| tokio::spawn(run_task(env.clone(), plan)))
            .collect();
        drop(env);
        let deadline = tokio::time::Instant::now() + WAIT;
        while *acks_rx.borrow() < kill_after && !tasks.iter().all(|t| t.is_finished()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: {kill_after} acknowledgements did not come within {WAIT:?} ({} did); stderr:\n{}",
                *acks_rx.borrow(),
                kettle.logs()
            );
            tokio::select! {
                _ = acks_rx.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
        tokio::time::sleep(delay).await;
        kettle.kill();
        let traffic = traffic_started.elapsed();
        let mut sent = Vec::new();
        for task in tasks {
            let end = tokio::time::timeout(WAIT, task)
                .await
                .unwrap_or_else(|_| panic!("round {round}: a client task hung after the kill"))
                .expect("a client task panicked");
            if let Some(failure) = end.failure {
                panic!("round {round}: {failure}; stderr:\n{}", kettle.logs());
            }
            sent.extend(end.sent);
        }
        let round_acked = sent.iter().filter(|s| s.acked).count();
        for s in &sent {
            if let Some(hash) = s.hash {
                // A transaction lost in flight at an earlier kill is signed again, byte for
                // byte, when its nonce and fees come round again (deployments).
                let previous = ledger.by_hash.insert(hash, s.clone());
                assert!(
                    previous
                        .as_ref()
                        .is_none_or(|p| !p.acked && !ledger.mined.contains_key(&hash)),
                    "round {round}: {hash} sent twice: {previous:?} and {s:?}"
                );
            }
            if let Op::Write { tag, .. } = s.op {
                ledger.by_tag.insert(tag, s.clone());
            }
        }

        let next = options(&mut rng);
        kettle.restart_with(next);
        client = KettleClient::connect(&kettle.rpc_url()).await;

        // 1. Nothing acknowledged is lost: known at once, then mined.
        let mut round_pending = 0;
        for s in sent.iter().filter(|s| s.acked) {
            let hash = s.hash.expect("acknowledged");
            let tx = client.transaction_json(hash).await;
            assert!(
                !tx.is_null(),
                "round {round}: acknowledged {hash} ({:?} nonce {}, {:?}) is gone after the restart (seed above); stderr:\n{}",
                s.role,
                s.nonce,
                s.op,
                kettle.logs()
            );
            if tx["blockNumber"].is_null() {
                round_pending += 1;
            }
        }
        for s in sent.iter().filter(|s| s.acked) {
            client.wait_receipt(s.hash.expect("acknowledged")).await;
        }
        // Whatever else the node committed (requests in flight at the kill) is mined too.
        let deadline = Instant::now() + WAIT;
        loop {
            let health = kettle.health().expect("/health");
            if health["pendingTransactions"] == json!(0) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: the pool did not drain: {health}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // 2. The chain: walk the new blocks.
        let head = client.block_number().await;
        ledger.walk(&client, crash_store, head).await;
        let health = kettle.health().expect("/health");
        let head_block = client.block_json(head, false).await;
        assert_eq!(health["head"]["number"], json!(head), "/health head");
        assert_eq!(
            health["head"]["hash"], head_block["hash"],
            "/health head hash"
        );
        assert_eq!(
            health["head"]["stateRoot"], head_block["stateRoot"],
            "/health state root"
        );
        for s in &sent {
            let mined = s.hash.is_some_and(|h| ledger.mined.contains_key(&h));
            assert!(
                mined || !s.acked,
                "round {round}: acknowledged {:?} ({:?} nonce {}) is not on chain",
                s.hash,
                s.role,
                s.nonce
            );
            match &s.op {
                Op::Deploy { address } => {
                    let code: Bytes = client
                        .rpc("eth_getCode", (*address, "latest"))
                        .await
                        .expect("eth_getCode");
                    let expected = if mined {
                        BoxContract::DEPLOYED_BYTECODE.clone()
                    } else {
                        Bytes::new()
                    };
                    assert_eq!(
                        code, expected,
                        "round {round}: code at {address} (deployment nonce {}, mined {mined})",
                        s.nonce
                    );
                }
                Op::Transfer { to, value } => {
                    let expected = if mined { *value } else { U256::ZERO };
                    assert_eq!(
                        client.balance(*to).await,
                        expected,
                        "round {round}: balance of {to} (transfer nonce {}, mined {mined})",
                        s.nonce
                    );
                }
                Op::Bump { .. } => {}
                Op::Write { tag, .. } => match ledger.written.get(tag) {
                    Some(w) => {
                        assert_eq!(w.from, s.from);
                        if s.acked {
                            assert_eq!(Some(w.tx), s.hash, "round {round}: request {tag}");
                        } else {
                            committed_in_flight += 1;
                        }
                    }
                    None => {
                        assert!(
                            !s.acked,
                            "round {round}: acknowledged request {tag} has no Written callback"
                        );
                        lost_in_flight += 1;
                    }
                },
            }
            if !s.acked && !matches!(s.op, Op::Write { .. }) {
                if mined {
                    committed_in_flight += 1;
                } else {
                    lost_in_flight += 1;
                }
            }
        }
        let total = client.view(crash_store, CrashStore::totalCall {}).await;
        let bumps = client.view(crash_store, CrashStore::bumpsCall {}).await;
        let expected_bumps: (U256, u64) = ledger
            .by_hash
            .values()
            .filter(|s| s.hash.is_some_and(|h| ledger.mined.contains_key(&h)))
            .filter_map(|s| match s.op {
                Op::Bump { by } => Some(by),
                _ => None,
            })
            .fold((U256::ZERO, 0), |(sum, n), by| (sum + by, n + 1));
        assert_eq!(
            (total, bumps.to::<u64>()),
            expected_bumps,
            "round {round}: CrashStore state differs from the mined bumps"
        );
        assert_eq!(
            expected_bumps, ledger.bumped,
            "round {round}: Bumped events"
        );
        for (_, signer) in &accounts {
            let who = signer.address();
            let next = ledger.next_nonce.get(&who).copied().unwrap_or(0);
            assert_eq!(
                client.nonce(who).await,
                next,
                "round {round}: nonce of {who}"
            );
            assert_eq!(
                client.pending_nonce(who).await,
                next,
                "round {round}: pending nonce of {who}"
            );
        }

        // 3 and 4. The store: this round's conditions, and one earlier one.
        let mut to_audit: Vec<(u64, Address)> =
            ledger.conds[ledger.conds.len() - WRITERS..].to_vec();
        if round > 0 {
            let earlier = rng.in_range(0..(ledger.conds.len() - WRITERS) as u64) as usize;
            to_audit.push(ledger.conds[earlier]);
        }
        for (cond, writer) in to_audit {
            audited_records += ledger.audit_cond(&client, crash_store, cond, writer).await;
        }

        acked += round_acked;
        pending_at_restart += round_pending;
        eprintln!(
            "round {round} (block period {period} ms): {round_acked} acks (target {kill_after}) then {delay:?}: killed after {traffic:?} of traffic, {round_pending} acknowledged still pending at restart; head {head}; {:?}",
            round_started.elapsed()
        );
        assert!(
            started.elapsed() < budget,
            "the crash test ran over its {budget:?} budget"
        );
    }

    // Final pass: every block is still the one verified, every acknowledged transaction is
    // where it was mined, and every condition audits clean.
    let head = client.block_number().await;
    assert!(head + 1 >= ledger.blocks.len() as u64);
    for (number, hash) in ledger.blocks.iter().enumerate() {
        let block = client.block_json(number as u64, false).await;
        assert_eq!(
            parse::<B256>(&block["hash"], "block hash"),
            *hash,
            "block {number} changed"
        );
    }
    for s in ledger.by_hash.values().filter(|s| s.acked) {
        let hash = s.hash.expect("acknowledged");
        let loc = ledger.mined[&hash];
        let tx = client.transaction_json(hash).await;
        assert_eq!(
            (
                hex_u64(&tx["blockNumber"], "blockNumber"),
                hex_u64(&tx["transactionIndex"], "transactionIndex")
            ),
            (loc.block, loc.index),
            "acknowledged {hash} (round {}) moved",
            s.round
        );
    }
    let logs = client
        .json(
            "eth_getLogs",
            json!([{
                "fromBlock": "0x0",
                "toBlock": "latest",
                "address": crash_store,
                "topics": [CrashStore::Written::SIGNATURE_HASH],
            }]),
        )
        .await
        .expect("eth_getLogs of every Written");
    let mut logged: Vec<B256> = logs
        .as_array()
        .expect("log list")
        .iter()
        .map(|log| parse(&log["topics"][1], "tag topic"))
        .collect();
    let mut written: Vec<B256> = ledger.written.keys().copied().collect();
    logged.sort();
    written.sort();
    assert_eq!(
        logged, written,
        "eth_getLogs of every Written differs from the walks"
    );
    let mut final_records = 0;
    for &(cond, writer) in &ledger.conds {
        final_records += ledger.audit_cond(&client, crash_store, cond, writer).await;
    }
    assert_eq!(
        final_records,
        ledger.written.values().map(|w| w.ids.len()).sum::<usize>(),
        "the store holds records of no mined request"
    );
    eprintln!(
        "{rounds} kills: {acked} acknowledged ({pending_at_restart} pending at restart), {committed_in_flight} unanswered but committed, {lost_in_flight} unanswered and not committed; {} blocks, {} transactions, {} logs, {} requests with {final_records} records ({audited_records} audited during the rounds); {:?}",
        ledger.blocks.len(),
        ledger.mined.len(),
        ledger.logs,
        ledger.written.len(),
        started.elapsed()
    );
    assert!(acked >= rounds, "at least one acknowledgement per round");
    assert!(
        started.elapsed() < budget,
        "the crash test ran over its {budget:?} budget"
    );
}
