//! A tiny JSON-RPC "execution node" on 127.0.0.1 serving a small fixed state, with real
//! Merkle-Patricia proofs (alloy-trie) so that built blocks' state roots can be checked.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy_consensus::{Header, SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_trie::proof::ProofRetainer;
use alloy_trie::{HashBuilder, Nibbles, TrieAccount, EMPTY_ROOT_HASH, KECCAK_EMPTY};
use serde_json::{json, Value};
use suave_precompiles_network::bundle::{BundleTx, SBundle};

/// Chain id of the mock chain.
pub const CHAIN_ID: u64 = 1337;

/// An account of the mock state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockAccount {
    /// Balance.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Code.
    pub code: Bytes,
    /// Storage (slot → value, non-zero).
    pub storage: BTreeMap<B256, U256>,
}

/// How the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Normal JSON-RPC.
    Normal,
    /// A body that is not JSON.
    BadJson,
    /// HTTP 500.
    Status500,
    /// Sleep before answering.
    Sleep(Duration),
}

/// The node's state.
#[derive(Debug, Clone)]
pub struct MockChain {
    /// Accounts at the head.
    pub accounts: BTreeMap<Address, MockAccount>,
    /// Head header (its state root is filled by [`MockChain::seal`]).
    pub head: Header,
    /// Ancestor hashes by number.
    pub hashes: HashMap<u64, B256>,
    /// Answer of `eth_call`: `Ok(data)` or `Err(revert data)`.
    pub call_reply: Result<Bytes, Bytes>,
    /// Answering mode.
    pub behaviour: Behaviour,
}

/// Root of the trie of `leaves` (unhashed key, RLP value) and the proof of each of `targets`
/// (keys are hashed with keccak256 into trie paths, as Ethereum's state and storage tries do).
fn trie_with_proofs<K: AsRef<[u8]> + Copy + std::hash::Hash + Eq>(
    leaves: impl Iterator<Item = (K, Vec<u8>)>,
    targets: &[K],
) -> (B256, HashMap<K, Vec<Bytes>>) {
    let mut leaves: Vec<(Nibbles, Vec<u8>)> = leaves
        .map(|(k, v)| (Nibbles::unpack(keccak256(k)), v))
        .collect();
    leaves.sort_by_key(|l| l.0);
    let nibbles: Vec<Nibbles> = targets
        .iter()
        .map(|t| Nibbles::unpack(keccak256(t)))
        .collect();
    let mut hb = HashBuilder::default().with_proof_retainer(ProofRetainer::new(nibbles.clone()));
    for (k, v) in &leaves {
        hb.add_leaf(*k, v);
    }
    let root = if leaves.is_empty() {
        EMPTY_ROOT_HASH
    } else {
        hb.root()
    };
    let nodes = hb.take_proof_nodes();
    let proofs = targets
        .iter()
        .zip(&nibbles)
        .map(|(t, n)| {
            (
                *t,
                nodes
                    .matching_nodes_sorted(n)
                    .into_iter()
                    .map(|(_, b)| b)
                    .collect(),
            )
        })
        .collect();
    (root, proofs)
}

fn storage_trie(
    storage: &BTreeMap<B256, U256>,
    targets: &[B256],
) -> (B256, HashMap<B256, Vec<Bytes>>) {
    trie_with_proofs(
        storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (*k, alloy_rlp::encode(v))),
        targets,
    )
}

/// The state root of `accounts`, and the account proof of each of `targets`.
pub fn state_trie(
    accounts: &BTreeMap<Address, MockAccount>,
    targets: &[Address],
) -> (B256, HashMap<Address, Vec<Bytes>>) {
    trie_with_proofs(
        accounts.iter().map(|(a, acc)| {
            let trie_account = TrieAccount {
                nonce: acc.nonce,
                balance: acc.balance,
                storage_root: storage_trie(&acc.storage, &[]).0,
                code_hash: if acc.code.is_empty() {
                    KECCAK_EMPTY
                } else {
                    keccak256(&acc.code)
                },
            };
            (*a, alloy_rlp::encode(trie_account))
        }),
        targets,
    )
}

impl MockChain {
    /// A Cancun chain whose head is block 5 (base fee `base_fee`, at the gas target).
    pub fn cancun(base_fee: u64) -> Self {
        let head = Header {
            parent_hash: B256::repeat_byte(4),
            number: 5,
            timestamp: 1_000,
            gas_limit: 30_000_000,
            gas_used: 15_000_000,
            base_fee_per_gas: Some(base_fee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            mix_hash: B256::repeat_byte(0x77),
            ..Header::default()
        };
        let mut chain = Self {
            accounts: BTreeMap::new(),
            head,
            hashes: HashMap::new(),
            call_reply: Ok(Bytes::from_static(&[0x12, 0x34])),
            behaviour: Behaviour::Normal,
        };
        for n in 0..5u64 {
            chain.hashes.insert(n, B256::with_last_byte(n as u8 + 0xa0));
        }
        chain.seal();
        chain
    }

    /// Recomputes the head's state root from the accounts.
    pub fn seal(&mut self) {
        self.head.state_root = state_trie(&self.accounts, &[]).0;
        self.hashes.insert(self.head.number, self.head.hash_slow());
    }

    /// The head's hash.
    pub fn head_hash(&self) -> B256 {
        self.head.hash_slow()
    }

    fn header_json(&self, number: u64) -> Value {
        if number == self.head.number {
            serde_json::to_value(alloy_rpc_types_eth::Header::new(self.head.clone()))
                .unwrap_or(Value::Null)
        } else if let Some(hash) = self.hashes.get(&number) {
            let mut h = Header {
                number,
                ..self.head.clone()
            };
            h.parent_hash = B256::ZERO;
            let mut v =
                serde_json::to_value(alloy_rpc_types_eth::Header::new(h)).unwrap_or(Value::Null);
            v["hash"] = json!(hash);
            v
        } else {
            Value::Null
        }
    }

    fn answer(&self, method: &str, params: &Value) -> Result<Value, (i64, String, Option<Value>)> {
        let addr = |i: usize| -> Address {
            params[i]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default()
        };
        let acc = |a: Address| self.accounts.get(&a).cloned().unwrap_or_default();
        match method {
            "eth_chainId" => Ok(json!(format!("{CHAIN_ID:#x}"))),
            "eth_getBlockByNumber" => {
                let n = match params[0].as_str() {
                    Some("latest") => self.head.number,
                    Some(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(0),
                    None => 0,
                };
                Ok(self.header_json(n))
            }
            "eth_getBlockByHash" => {
                let want: B256 = params[0]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default();
                if want == self.head_hash() {
                    Ok(self.header_json(self.head.number))
                } else {
                    Ok(Value::Null)
                }
            }
            "eth_getBalance" => Ok(json!(acc(addr(0)).balance)),
            "eth_getTransactionCount" => Ok(json!(format!("{:#x}", acc(addr(0)).nonce))),
            "eth_getCode" => Ok(json!(acc(addr(0)).code)),
            "eth_getStorageAt" => {
                let slot: B256 = params[1]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default();
                let v = acc(addr(0)).storage.get(&slot).copied().unwrap_or_default();
                Ok(json!(B256::from(v)))
            }
            "eth_getProof" => {
                let a = addr(0);
                let slots: Vec<B256> = params[1]
                    .as_array()
                    .map(|v| v.iter().filter_map(|s| s.as_str()?.parse().ok()).collect())
                    .unwrap_or_default();
                let (_, proofs) = state_trie(&self.accounts, &[a]);
                let account = acc(a);
                let (storage_hash, storage_proofs) = storage_trie(&account.storage, &slots);
                Ok(json!({
                    "address": a,
                    "balance": account.balance,
                    "codeHash": if account.code.is_empty() { KECCAK_EMPTY } else { keccak256(&account.code) },
                    "nonce": format!("{:#x}", account.nonce),
                    "storageHash": storage_hash,
                    "accountProof": proofs.get(&a).cloned().unwrap_or_default(),
                    "storageProof": slots.iter().map(|s| json!({
                        "key": s,
                        "value": account.storage.get(s).copied().unwrap_or_default(),
                        "proof": storage_proofs.get(s).cloned().unwrap_or_default(),
                    })).collect::<Vec<_>>(),
                }))
            }
            "eth_call" => match &self.call_reply {
                Ok(data) => Ok(json!(data)),
                Err(data) => Err((3, "execution reverted".into(), Some(json!(data)))),
            },
            other => Err((
                -32601,
                format!("the method {other} does not exist/is not available"),
                None,
            )),
        }
    }

    fn reply_to(&self, request: &Value) -> Value {
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let method = request.get("method").and_then(Value::as_str).unwrap_or("");
        let params = request.get("params").cloned().unwrap_or(json!([]));
        match self.answer(method, &params) {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err((code, message, data)) => {
                let mut err = json!({"code": code, "message": message});
                if let Some(d) = data {
                    err["data"] = d;
                }
                json!({"jsonrpc": "2.0", "id": id, "error": err})
            }
        }
    }
}

/// A running mock node.
pub struct MockNode {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its state (editable while it runs).
    pub chain: Arc<Mutex<MockChain>>,
    /// JSON-RPC calls served (a batch counts each call).
    pub calls: Arc<AtomicUsize>,
    /// HTTP requests served.
    pub requests: Arc<AtomicUsize>,
}

fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn serve(
    mut stream: TcpStream,
    chain: &Mutex<MockChain>,
    calls: &AtomicUsize,
    requests: &AtomicUsize,
) {
    let Some(body) = read_request(&mut stream) else {
        return;
    };
    requests.fetch_add(1, Ordering::SeqCst);
    let chain = chain.lock().map(|c| c.clone());
    let Ok(chain) = chain else { return };
    let (status, text) = match &chain.behaviour {
        Behaviour::BadJson => ("200 OK", "this is not json".to_owned()),
        Behaviour::Status500 => ("500 Internal Server Error", "boom".to_owned()),
        other => {
            if let Behaviour::Sleep(d) = other {
                std::thread::sleep(*d);
            }
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let reply = match &request {
                Value::Array(items) => {
                    calls.fetch_add(items.len(), Ordering::SeqCst);
                    Value::Array(items.iter().map(|r| chain.reply_to(r)).collect())
                }
                single => {
                    calls.fetch_add(1, Ordering::SeqCst);
                    chain.reply_to(single)
                }
            };
            ("200 OK", reply.to_string())
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

impl MockNode {
    /// Starts a node serving `chain` on a free loopback port.
    pub fn start(chain: MockChain) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let chain = Arc::new(Mutex::new(chain));
        let calls = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (c, n, r) = (
            Arc::clone(&chain),
            Arc::clone(&calls),
            Arc::clone(&requests),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (c, n, r) = (Arc::clone(&c), Arc::clone(&n), Arc::clone(&r));
                std::thread::spawn(move || serve(stream, &c, &n, &r));
            }
        });
        Self {
            url,
            chain,
            calls,
            requests,
        }
    }

    /// Edits the state.
    pub fn edit(&self, f: impl FnOnce(&mut MockChain)) {
        let mut chain = self.chain.lock().expect("chain lock");
        f(&mut chain);
    }
}

/// A deterministic key.
pub fn key(byte: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(byte)).expect("valid key")
}

/// A signed EIP-1559 transaction.
#[allow(clippy::too_many_arguments)]
pub fn eip1559(
    key: &PrivateKeySigner,
    nonce: u64,
    to: Address,
    value: U256,
    input: &[u8],
    max_fee: u128,
    tip: u128,
    gas: u64,
) -> TxEnvelope {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(to),
        value,
        access_list: Default::default(),
        input: Bytes::copy_from_slice(input),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::Eip1559(tx.into_signed(sig))
}

/// A signed legacy transaction.
pub fn legacy(
    key: &PrivateKeySigner,
    nonce: u64,
    to: Address,
    value: U256,
    gas_price: u128,
) -> TxEnvelope {
    let tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value,
        input: Bytes::new(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::Legacy(tx.into_signed(sig))
}

/// A bundle of `txs`.
pub fn bundle(txs: Vec<TxEnvelope>, reverting: Option<Vec<B256>>, percent: Option<i64>) -> SBundle {
    SBundle {
        txs: txs
            .iter()
            .map(|tx| BundleTx::decode(&tx.encoded_2718()).expect("decodes"))
            .collect(),
        reverting_hashes: reverting,
        refund_percent: percent,
        ..SBundle::default()
    }
}

/// Code that always reverts.
pub const REVERTER: &[u8] = &[0x60, 0x00, 0x60, 0x00, 0xfd];
/// Code that writes 1 into slot 0.
pub const WRITER: &[u8] = &[0x60, 0x01, 0x60, 0x00, 0x55, 0x00];

/// Code that emits one LOG1 with `topic` and no data.
pub fn logger(topic: B256) -> Bytes {
    let mut code = vec![0x7f];
    code.extend_from_slice(topic.as_slice());
    code.extend_from_slice(&[0x60, 0x00, 0x60, 0x00, 0xa1, 0x00]);
    code.into()
}
