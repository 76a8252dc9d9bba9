//! [`TestRelay`]: a small real HTTP relay on `127.0.0.1:<free port>` that accepts builder
//! block submissions (`POST /relay/v1/builder/blocks`, deneb `SubmitBlockRequest` JSON), checks
//! them like a relay does, and records every one for the test to inspect.
//!
//! Checks, in order (the first failure is the 400 reason):
//! 1. the body is JSON with `message`, `execution_payload`, `blobs_bundle` and `signature`;
//! 2. `message` is a `BidTrace` and the BLS signature over its signing root verifies with
//!    `message.builder_pubkey` in the builder domain of the relay's fork version (default:
//!    that of chain id 1337);
//! 3. the payload's fields parse, and `message.parent_hash` / `block_hash` / `gas_limit` /
//!    `gas_used` equal the payload's;
//! 4. every transaction decodes as an EIP-2718 transaction, `gas_used <= gas_limit`, and the
//!    blobs bundle is consistent with `blob_gas_used` (one commitment and proof per blob);
//! 5. the block hash recomputed from the payload (a Cancun header: empty ommers, difficulty
//!    0, nonce 0, `mix_hash` = `prev_randao`, transactions and withdrawals roots computed from
//!    the lists) equals `execution_payload.block_hash`.
//!
//! The payload does not carry the parent beacon block root that the header hash needs: the
//! relay takes `execution_payload.parent_beacon_block_root` or a top-level
//! `parent_beacon_block_root` when the submission has one (non-standard), else the root set
//! with [`TestRelay::with_beacon_root`] / [`TestRelay::set_beacon_root`]; with none of them
//! the submission is rejected.
//!
//! Success answers `200` with `{}`, failure `400` with `{"code":400,"message":<reason>}`.
//! Other paths answer 404. One request per connection (`Connection: close`).

use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use alloy_consensus::{constants::EMPTY_OMMER_ROOT_HASH, proofs, Header, TxEnvelope};
use alloy_eips::{eip2718::Decodable2718, eip4895::Withdrawal};
use alloy_primitives::{Address, Bloom, Bytes, B256, B64, U256};
use kettle_builder::bid::{builder_domain, fork_version_for_chain, verify_bid, BidTrace};
use serde_json::{json, Value};

use crate::http_server::{lock, read_request, respond, LoopbackServer};

/// The path builders post blocks to.
pub const SUBMIT_BLOCK_PATH: &str = "/relay/v1/builder/blocks";

/// Largest accepted request body.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Blob gas per blob (EIP-4844).
const GAS_PER_BLOB: u64 = 131_072;

/// One request to [`SUBMIT_BLOCK_PATH`] and what the relay made of it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The body as JSON (`Value::Null` if it was not JSON).
    pub body: Value,
    /// The parsed bid message, if it parsed.
    pub bid: Option<BidTrace>,
    /// The block hash recomputed from the payload, if the checks got that far.
    pub computed_block_hash: Option<B256>,
    /// `Ok` when accepted (200), else the reason of the 400.
    pub verdict: Result<(), String>,
}

impl Submission {
    /// Whether the relay accepted it.
    pub fn accepted(&self) -> bool {
        self.verdict.is_ok()
    }
}

#[derive(Debug)]
struct Config {
    domain: B256,
    beacon_root: Option<B256>,
}

#[derive(Debug)]
struct Shared {
    config: Mutex<Config>,
    submissions: Mutex<Vec<Submission>>,
}

/// A test relay on a free loopback port; stops on drop.
#[derive(Debug)]
pub struct TestRelay {
    server: LoopbackServer,
    shared: Arc<Shared>,
}

impl TestRelay {
    /// Starts a relay that checks signatures in the builder domain of chain id 1337 (the
    /// local L1's), with no parent beacon block root configured.
    pub fn start() -> Self {
        let fork = fork_version_for_chain(crate::L1_CHAIN_ID).expect("1337 has a fork version");
        Self::start_with_domain(builder_domain(fork))
    }

    /// Starts a relay that checks signatures in `domain`.
    pub fn start_with_domain(domain: B256) -> Self {
        let shared = Arc::new(Shared {
            config: Mutex::new(Config {
                domain,
                beacon_root: None,
            }),
            submissions: Mutex::new(Vec::new()),
        });
        let serving = shared.clone();
        let server = LoopbackServer::start("test-relay", move |stream| handle(stream, &serving));
        Self { server, shared }
    }

    /// Sets the parent beacon block root used for block hashes (builder style).
    pub fn with_beacon_root(self, root: B256) -> Self {
        self.set_beacon_root(Some(root));
        self
    }

    /// Sets or clears the parent beacon block root used for block hashes.
    pub fn set_beacon_root(&self, root: Option<B256>) {
        lock(&self.shared.config).beacon_root = root;
    }

    /// The base URL builders are given (`http://127.0.0.1:<port>`; they append
    /// [`SUBMIT_BLOCK_PATH`]).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Every submission so far, in arrival order.
    pub fn submissions(&self) -> Vec<Submission> {
        lock(&self.shared.submissions).clone()
    }

    /// The accepted submissions so far.
    pub fn accepted(&self) -> Vec<Submission> {
        self.submissions()
            .into_iter()
            .filter(Submission::accepted)
            .collect()
    }
}

fn handle(stream: &mut TcpStream, shared: &Shared) -> std::io::Result<()> {
    let request = match read_request(stream, MAX_BODY) {
        Ok(r) => r,
        Err(why) => return respond(stream, 400, &error_body(&why)),
    };
    let path = request.path.split('?').next().unwrap_or_default();
    match (request.method.as_str(), path) {
        ("POST", SUBMIT_BLOCK_PATH) => {
            let (domain, beacon_root) = {
                let c = lock(&shared.config);
                (c.domain, c.beacon_root)
            };
            let submission = check_submission(&request.body, domain, beacon_root);
            let (status, body) = match &submission.verdict {
                Ok(()) => (200, "{}".to_owned()),
                Err(why) => (400, error_body(why)),
            };
            lock(&shared.submissions).push(submission);
            respond(stream, status, &body)
        }
        ("GET", "/eth/v1/builder/status") => respond(stream, 200, "{}"),
        _ => respond(stream, 404, &error_body("not found")),
    }
}

fn error_body(why: &str) -> String {
    json!({"code": 400, "message": why}).to_string()
}

/// Runs the checks of the module doc on a submission body.
fn check_submission(body: &[u8], domain: B256, configured_root: Option<B256>) -> Submission {
    let mut submission = Submission {
        body: Value::Null,
        bid: None,
        computed_block_hash: None,
        verdict: Ok(()),
    };
    submission.verdict = check_into(body, domain, configured_root, &mut submission);
    submission
}

fn check_into(
    body: &[u8],
    domain: B256,
    configured_root: Option<B256>,
    out: &mut Submission,
) -> Result<(), String> {
    out.body = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let body = &out.body;
    for key in ["message", "execution_payload", "blobs_bundle", "signature"] {
        if body.get(key).is_none() {
            return Err(format!("missing field {key}"));
        }
    }

    // 2. signature
    let bid: BidTrace = serde_json::from_value(body["message"].clone())
        .map_err(|e| format!("invalid message: {e}"))?;
    out.bid = Some(bid.clone());
    let signature: [u8; 96] = hex_bytes(&body["signature"], "signature")?
        .try_into()
        .map_err(|_| "signature is not 96 bytes".to_owned())?;
    if !verify_bid(&bid.builder_pubkey.0, bid.signing_root(domain), &signature) {
        return Err("invalid signature".into());
    }

    // 3. payload fields and consistency with the message
    let p = &body["execution_payload"];
    let parent_hash: B256 = field(p, "parent_hash")?;
    let block_hash: B256 = field(p, "block_hash")?;
    let gas_limit = decimal(p, "gas_limit")?;
    let gas_used = decimal(p, "gas_used")?;
    if bid.parent_hash != parent_hash {
        return Err(format!(
            "parent hash mismatch: message {} payload {parent_hash}",
            bid.parent_hash
        ));
    }
    if bid.block_hash != block_hash {
        return Err(format!(
            "block hash mismatch: message {} payload {block_hash}",
            bid.block_hash
        ));
    }
    if bid.gas_limit != gas_limit || bid.gas_used != gas_used {
        return Err(format!(
            "gas mismatch: message {}/{} payload {gas_limit}/{gas_used} (limit/used)",
            bid.gas_limit, bid.gas_used
        ));
    }
    if gas_used > gas_limit {
        return Err(format!("gas used {gas_used} above gas limit {gas_limit}"));
    }

    // 4. transactions, withdrawals, blobs
    let transactions: Vec<Bytes> = field(p, "transactions")?;
    for (i, tx) in transactions.iter().enumerate() {
        let mut raw = tx.as_ref();
        TxEnvelope::decode_2718(&mut raw)
            .map_err(|e| format!("transaction {i} does not decode: {e}"))?;
        if !raw.is_empty() {
            return Err(format!("transaction {i} has trailing bytes"));
        }
    }
    let withdrawals = p["withdrawals"]
        .as_array()
        .ok_or("execution_payload.withdrawals is not a list")?
        .iter()
        .map(|w| {
            Ok(Withdrawal {
                index: decimal(w, "index")?,
                validator_index: decimal(w, "validator_index")?,
                address: field(w, "address")?,
                amount: decimal(w, "amount")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let blob_gas_used = decimal(p, "blob_gas_used")?;
    let excess_blob_gas = decimal(p, "excess_blob_gas")?;
    let blobs = &body["blobs_bundle"];
    let count = |k: &str| blobs[k].as_array().map(Vec::len);
    let (Some(commitments), Some(proofs), Some(blob_count)) =
        (count("commitments"), count("proofs"), count("blobs"))
    else {
        return Err("blobs_bundle needs commitments, proofs and blobs lists".into());
    };
    if commitments != blob_count
        || proofs != blob_count
        || blob_gas_used != blob_count as u64 * GAS_PER_BLOB
    {
        return Err(format!(
            "blobs bundle ({commitments} commitments, {proofs} proofs, {blob_count} blobs) \
             does not match blob_gas_used {blob_gas_used}"
        ));
    }

    // 5. block hash
    let beacon_root = match p
        .get("parent_beacon_block_root")
        .or_else(|| body.get("parent_beacon_block_root"))
    {
        Some(v) => serde_json::from_value::<B256>(v.clone())
            .map_err(|e| format!("invalid parent_beacon_block_root: {e}"))?,
        None => configured_root
            .ok_or("parent beacon block root unknown (not in the submission, none configured)")?,
    };
    let header = Header {
        parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: field::<Address>(p, "fee_recipient")?,
        state_root: field(p, "state_root")?,
        transactions_root: proofs::ordered_trie_root_with_encoder(&transactions, |tx, buf| {
            buf.extend_from_slice(tx)
        }),
        receipts_root: field(p, "receipts_root")?,
        logs_bloom: field::<Bloom>(p, "logs_bloom")?,
        difficulty: U256::ZERO,
        number: decimal(p, "block_number")?,
        gas_limit,
        gas_used,
        timestamp: decimal(p, "timestamp")?,
        extra_data: field(p, "extra_data")?,
        mix_hash: field(p, "prev_randao")?,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(
            u64::try_from(decimal_u256(p, "base_fee_per_gas")?)
                .map_err(|_| "base_fee_per_gas above 64 bits")?,
        ),
        withdrawals_root: Some(proofs::calculate_withdrawals_root(&withdrawals)),
        blob_gas_used: Some(blob_gas_used),
        excess_blob_gas: Some(excess_blob_gas),
        parent_beacon_block_root: Some(beacon_root),
        ..Default::default()
    };
    let computed = header.hash_slow();
    out.computed_block_hash = Some(computed);
    if computed != block_hash {
        return Err(format!(
            "block hash mismatch: payload {block_hash}, computed {computed}"
        ));
    }
    Ok(())
}

fn field<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    let raw = v.get(key).ok_or_else(|| format!("missing field {key}"))?;
    serde_json::from_value(raw.clone()).map_err(|e| format!("invalid {key}: {e}"))
}

fn decimal(v: &Value, key: &str) -> Result<u64, String> {
    let s = v[key]
        .as_str()
        .ok_or_else(|| format!("{key} is not a decimal string"))?;
    s.parse()
        .map_err(|_| format!("{key} is not a decimal uint64: {s:?}"))
}

fn decimal_u256(v: &Value, key: &str) -> Result<U256, String> {
    let s = v[key]
        .as_str()
        .ok_or_else(|| format!("{key} is not a decimal string"))?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{key} is not a decimal uint256: {s:?}"));
    }
    U256::from_str_radix(s, 10).map_err(|_| format!("{key} out of range: {s:?}"))
}

fn hex_bytes(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{what} is not a string"))?;
    alloy_primitives::hex::decode(s).map_err(|e| format!("{what} is not hex: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::TxKind;
    use alloy_signer::SignerSync;
    use kettle_builder::bid::{
        bid_json, pubkey_from_slice, submit_block_request, BuilderKey, ExecutionPayload,
    };
    use std::io::{Read, Write};
    use std::time::Duration;

    const BEACON_ROOT: B256 = B256::repeat_byte(0xbe);

    fn post(relay: &TestRelay, body: &[u8]) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut response = agent
            .post(&format!("{}{SUBMIT_BLOCK_PATH}", relay.url()))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    }

    /// A signed submission of a one-transaction block, and its parts.
    fn submission(key: &BuilderKey) -> (BidTrace, ExecutionPayload, [u8; 96]) {
        let signer = crate::l1_dev_keys().remove(0);
        let tx = TxEip1559 {
            chain_id: 1337,
            nonce: 0,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(7)),
            value: U256::from(1),
            ..Default::default()
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        let raw: Bytes = TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into();
        let withdrawals = [Withdrawal {
            index: 1,
            validator_index: 2,
            address: Address::repeat_byte(3),
            amount: 4,
        }];
        let header = Header {
            parent_hash: B256::repeat_byte(0x01),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::repeat_byte(0xcb),
            state_root: B256::repeat_byte(0x02),
            transactions_root: proofs::ordered_trie_root_with_encoder(
                std::slice::from_ref(&raw),
                |tx, buf| buf.extend_from_slice(tx),
            ),
            receipts_root: B256::repeat_byte(0x03),
            number: 100,
            gas_limit: 30_000_000,
            gas_used: 21_000,
            timestamp: 1_800_000_000,
            extra_data: Bytes::from_static(b"kettle"),
            mix_hash: B256::repeat_byte(0x04),
            base_fee_per_gas: Some(1_000_000_000),
            withdrawals_root: Some(proofs::calculate_withdrawals_root(&withdrawals)),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(BEACON_ROOT),
            ..Default::default()
        };
        let payload = ExecutionPayload::from_block(&header, vec![raw], &withdrawals);
        let bid = BidTrace {
            slot: 9,
            parent_hash: payload.parent_hash,
            block_hash: payload.block_hash,
            builder_pubkey: key.public_key().into(),
            proposer_pubkey: pubkey_from_slice(&[0x99; 48]),
            proposer_fee_recipient: Address::repeat_byte(0xfe),
            gas_limit: payload.gas_limit,
            gas_used: payload.gas_used,
            value: U256::from(10_u64.pow(15)),
        };
        let domain = builder_domain(fork_version_for_chain(1337).unwrap());
        let signature = key.sign_bid(&bid, domain);
        (bid, payload, signature)
    }

    fn key() -> BuilderKey {
        BuilderKey::from_secret([0x11; 32]).unwrap()
    }

    #[test]
    fn relay_accepts_a_valid_submission() {
        let relay = TestRelay::start().with_beacon_root(BEACON_ROOT);
        let key = key();
        let (bid, payload, signature) = submission(&key);
        let (status, body) = post(&relay, &bid_json(&bid, &payload, signature));
        assert_eq!(status, 200, "{body}");
        // the Value form is accepted too
        let value = submit_block_request(&bid, serde_json::to_value(&payload).unwrap(), signature);
        let (status, body) = post(&relay, value.to_string().as_bytes());
        assert_eq!(status, 200, "{body}");

        let subs = relay.submissions();
        assert_eq!(subs.len(), 2);
        assert!(subs.iter().all(Submission::accepted));
        assert_eq!(subs[0].bid.as_ref(), Some(&bid));
        assert_eq!(subs[0].computed_block_hash, Some(payload.block_hash));
        assert_eq!(relay.accepted().len(), 2);
    }

    #[test]
    fn relay_takes_the_beacon_root_from_the_submission() {
        let relay = TestRelay::start();
        let key = key();
        let (bid, payload, signature) = submission(&key);
        let mut value =
            submit_block_request(&bid, serde_json::to_value(&payload).unwrap(), signature);
        let (status, body) = post(&relay, value.to_string().as_bytes());
        assert_eq!(status, 400);
        assert!(body.contains("parent beacon block root unknown"), "{body}");
        value["execution_payload"]["parent_beacon_block_root"] = json!(BEACON_ROOT);
        let (status, body) = post(&relay, value.to_string().as_bytes());
        assert_eq!(status, 200, "{body}");
        relay.set_beacon_root(Some(B256::ZERO));
        value["execution_payload"]
            .as_object_mut()
            .unwrap()
            .remove("parent_beacon_block_root");
        let (status, body) = post(&relay, value.to_string().as_bytes());
        assert_eq!(status, 400);
        assert!(body.contains("block hash mismatch"), "{body}");
    }

    #[test]
    fn relay_rejects_tampered_submissions() {
        let relay = TestRelay::start().with_beacon_root(BEACON_ROOT);
        let key = key();
        let (bid, payload, signature) = submission(&key);
        let domain = builder_domain(fork_version_for_chain(1337).unwrap());
        let reject = |body: Vec<u8>, reason: &str| {
            let (status, text) = post(&relay, &body);
            assert_eq!(status, 400, "{text}");
            assert!(text.contains(reason), "{text} lacks {reason}");
        };

        // signature: flipped bit, another key, another domain
        let mut bad = signature;
        bad[10] ^= 1;
        reject(bid_json(&bid, &payload, bad), "signature");
        let other = BuilderKey::from_secret([0x22; 32]).unwrap();
        reject(
            bid_json(&bid, &payload, other.sign_bid(&bid, domain)),
            "invalid signature",
        );
        reject(
            bid_json(&bid, &payload, key.sign_bid(&bid, builder_domain([0; 4]))),
            "invalid signature",
        );

        // block hash: a wrong one in message and payload (re-signed) fails the recomputation
        let mut wrong = payload.clone();
        wrong.block_hash = B256::repeat_byte(0xee);
        let mut wrong_bid = bid.clone();
        wrong_bid.block_hash = wrong.block_hash;
        reject(
            bid_json(&wrong_bid, &wrong, key.sign_bid(&wrong_bid, domain)),
            "block hash mismatch: payload",
        );
        // ... and a payload field changed under a correctly signed bid
        let mut changed = payload.clone();
        changed.state_root = B256::repeat_byte(0x55);
        reject(bid_json(&bid, &changed, signature), "block hash mismatch");
        let mut changed = payload.clone();
        changed.transactions.clear();
        reject(bid_json(&bid, &changed, signature), "block hash mismatch");
        // message and payload disagree
        let mut changed = payload.clone();
        changed.block_hash = B256::repeat_byte(0xee);
        reject(
            bid_json(&bid, &changed, signature),
            "block hash mismatch: message",
        );
        let mut changed = payload.clone();
        changed.parent_hash = B256::repeat_byte(0xee);
        reject(bid_json(&bid, &changed, signature), "parent hash mismatch");
        let mut changed = payload.clone();
        changed.gas_used += 1;
        reject(bid_json(&bid, &changed, signature), "gas mismatch");
        // garbage
        let mut changed = payload.clone();
        changed.transactions.push(Bytes::from_static(&[0x02, 0x01]));
        reject(
            bid_json(&bid, &changed, signature),
            "transaction 1 does not decode",
        );
        reject(b"not json".to_vec(), "not JSON");
        reject(b"{}".to_vec(), "missing field message");

        let subs = relay.submissions();
        assert_eq!(subs.len(), 12);
        assert!(subs.iter().all(|s| !s.accepted()));
    }

    /// The relay's block hash agrees with a real chain's: a block mined on the local L1,
    /// resubmitted as a payload, is accepted with the L1's own hash.
    #[test]
    fn relay_recomputes_the_hash_of_a_real_l1_block() {
        let l1 = crate::L1Node::start();
        let keys = l1.dev_keys();
        let txs: Vec<Bytes> = (0..2)
            .map(|nonce| {
                let tx = TxEip1559 {
                    chain_id: 1337,
                    nonce,
                    gas_limit: 21_000,
                    max_fee_per_gas: 10_000_000_000,
                    max_priority_fee_per_gas: 1_000_000_000,
                    to: TxKind::Call(Address::repeat_byte(0x77)),
                    value: U256::from(nonce + 1),
                    ..Default::default()
                };
                let sig = keys[4].sign_hash_sync(&tx.signature_hash()).unwrap();
                TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into()
            })
            .collect();
        let parent = l1.block("latest", false).unwrap();
        let timestamp =
            u64::from_str_radix(&parent["timestamp"].as_str().unwrap()[2..], 16).unwrap() + 12;
        let params = crate::MineParams {
            timestamp,
            coinbase: Address::repeat_byte(0xc0),
            base_fee: 1_000_000_000,
            prev_randao: B256::repeat_byte(0x5a),
        };
        let block = l1.mine_with(&txs, &params).unwrap();
        let q = |k: &str| u64::from_str_radix(&block[k].as_str().unwrap()[2..], 16).unwrap();
        let header = Header {
            parent_hash: serde_json::from_value(block["parentHash"].clone()).unwrap(),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: serde_json::from_value(block["miner"].clone()).unwrap(),
            state_root: serde_json::from_value(block["stateRoot"].clone()).unwrap(),
            transactions_root: serde_json::from_value(block["transactionsRoot"].clone()).unwrap(),
            receipts_root: serde_json::from_value(block["receiptsRoot"].clone()).unwrap(),
            logs_bloom: serde_json::from_value(block["logsBloom"].clone()).unwrap(),
            number: q("number"),
            gas_limit: q("gasLimit"),
            gas_used: q("gasUsed"),
            timestamp: q("timestamp"),
            extra_data: serde_json::from_value(block["extraData"].clone()).unwrap(),
            mix_hash: serde_json::from_value(block["mixHash"].clone()).unwrap(),
            base_fee_per_gas: Some(q("baseFeePerGas")),
            withdrawals_root: Some(proofs::calculate_withdrawals_root(&[])),
            blob_gas_used: Some(q("blobGasUsed")),
            excess_blob_gas: Some(q("excessBlobGas")),
            parent_beacon_block_root: serde_json::from_value(
                block["parentBeaconBlockRoot"].clone(),
            )
            .unwrap(),
            ..Default::default()
        };
        let l1_hash: B256 = serde_json::from_value(block["hash"].clone()).unwrap();
        let payload = ExecutionPayload::from_block(&header, txs, &[]);
        assert_eq!(
            payload.block_hash, l1_hash,
            "alloy's header hash differs from the L1's"
        );

        let relay = TestRelay::start();
        relay.set_beacon_root(header.parent_beacon_block_root);
        let key = key();
        let bid = BidTrace {
            slot: 1,
            parent_hash: payload.parent_hash,
            block_hash: payload.block_hash,
            builder_pubkey: key.public_key().into(),
            proposer_pubkey: pubkey_from_slice(&[]),
            proposer_fee_recipient: Address::repeat_byte(0xfe),
            gas_limit: payload.gas_limit,
            gas_used: payload.gas_used,
            value: U256::ZERO,
        };
        let signature = key.sign_bid(&bid, builder_domain(fork_version_for_chain(1337).unwrap()));
        let (status, body) = post(&relay, &bid_json(&bid, &payload, signature));
        assert_eq!(status, 200, "{body}");
        assert_eq!(relay.submissions()[0].computed_block_hash, Some(l1_hash));
    }

    #[test]
    fn relay_serves_only_its_paths_and_reads_chunked_bodies() {
        let relay = TestRelay::start().with_beacon_root(BEACON_ROOT);
        let (status, _) = crate::http_get(relay.addr(), "/nope", Duration::from_secs(5)).unwrap();
        assert_eq!(status, 404);
        let (status, _) = crate::http_get(
            relay.addr(),
            "/eth/v1/builder/status",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(status, 200);

        let key = key();
        let (bid, payload, signature) = submission(&key);
        let body = bid_json(&bid, &payload, signature);
        let mut stream = TcpStream::connect(relay.addr()).unwrap();
        write!(
            stream,
            "POST {SUBMIT_BLOCK_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .unwrap();
        for part in body.chunks(1000) {
            write!(stream, "{:x}\r\n", part.len()).unwrap();
            stream.write_all(part).unwrap();
            stream.write_all(b"\r\n").unwrap();
        }
        stream.write_all(b"0\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(relay.accepted().len(), 1);
    }
}
