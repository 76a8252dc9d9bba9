//! [`L1Node`]: a local Ethereum L1 for the builder tests — a hardhat node (`tests/l1/`, chain
//! id 1337, Cancun) on a free loopback port, with blocking JSON-RPC helpers.
//!
//! The npm packages must be installed first (`npm ci` in `tests/l1/`; `scripts/test` and
//! `scripts/dev` do it through `scripts/lib/setup.sh`).
//!
//! Known differences from a real L1 (hardhat 2.29.1), found while writing this harness:
//! - the EIP-4788 beacon-roots contract is in genesis, but blocks do **not** run its system
//!   call: its storage stays empty and the state root ignores `parentBeaconBlockRoot`, which
//!   hardhat picks itself (there is no RPC to set it);
//! - `eth_getProof` works (storage keys must be 32-byte hex); the proof of an empty storage
//!   trie is `["0x80"]`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, B256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::{json, Value};

use crate::{process::die_with_parent, RpcFailure};

/// Time limit for the hardhat node to answer `eth_chainId` after being spawned.
pub const L1_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Time limit of one JSON-RPC call to the L1.
const L1_RPC_TIMEOUT: Duration = Duration::from_secs(20);

/// Chain id of the local L1 (`tests/l1/hardhat.config.js`).
pub const L1_CHAIN_ID: u64 = 1337;

/// Private keys of hardhat's default accounts #0..#9 (mnemonic "test test … junk"), each
/// funded with 10000 ETH on the local L1. Publicly known: never use them for value.
pub const L1_DEV_KEYS: [&str; 10] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// Output lines of the node kept for error messages.
const KEPT_LINES: usize = 300;

/// Attempts at finding a free port.
const PORT_ATTEMPTS: usize = 5;

/// Why an L1 helper failed.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// A JSON-RPC call failed.
    #[error("{method}: {failure}")]
    Rpc {
        /// The method called.
        method: String,
        /// What went wrong.
        #[source]
        failure: RpcFailure,
    },
    /// `evm_mine` left some of the sent transactions out of the block.
    #[error("the mined block {number} has {mined} of the {sent} transactions sent")]
    NotAllMined {
        /// Number of the mined block.
        number: u64,
        /// Transactions sent.
        sent: usize,
        /// Transactions in the block.
        mined: usize,
    },
    /// The node answered something unexpected.
    #[error("unexpected answer to {method}: {answer}")]
    Unexpected {
        /// The method called.
        method: String,
        /// The answer.
        answer: String,
    },
}

/// The block-level inputs of [`L1Node::mine_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MineParams {
    /// The block's timestamp (must be above the parent's).
    pub timestamp: u64,
    /// The block's coinbase (`miner`).
    pub coinbase: Address,
    /// The block's base fee per gas.
    pub base_fee: u64,
    /// The block's `prevRandao` (`mixHash`).
    pub prev_randao: B256,
}

/// A hardhat node on `127.0.0.1:<free port>`, killed on drop.
///
/// Its JSON-RPC helpers are blocking (`ureq`); from an async test call them directly (they
/// are short) or through `spawn_blocking`.
pub struct L1Node {
    child: Option<Child>,
    port: u16,
    output: Arc<Mutex<VecDeque<String>>>,
    readers: Vec<JoinHandle<()>>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for L1Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1Node")
            .field("url", &self.url())
            .field("pid", &self.child.as_ref().map(Child::id))
            .finish()
    }
}

impl L1Node {
    /// The npm project of the L1 (`tests/l1`).
    pub fn project_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("l1")
    }

    /// Starts the node and waits until `eth_chainId` answers (at most [`L1_START_TIMEOUT`]).
    ///
    /// Panics, with the node's output, if it does not come up; and with the install command
    /// if the npm packages are missing.
    pub fn start() -> Self {
        let dir = Self::project_dir();
        let cli = dir.join("node_modules/hardhat/internal/cli/bootstrap.js");
        assert!(
            cli.is_file(),
            "hardhat is not installed in {}: run `npm ci` there (scripts/test does)",
            dir.display()
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(L1_RPC_TIMEOUT))
            .build()
            .into();
        let mut last_failure = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut node = Self {
                child: None,
                port,
                output: Arc::new(Mutex::new(VecDeque::new())),
                readers: Vec::new(),
                agent: agent.clone(),
            };
            node.spawn(&cli);
            match node.wait_ready() {
                Ok(()) => return node,
                Err(Ready::PortTaken) => {
                    last_failure = format!("port {port} was taken:\n{}", node.output());
                    continue;
                }
                Err(Ready::Failed(why)) => {
                    panic!(
                        "the hardhat L1 did not start: {why}; its output:\n{}",
                        node.output()
                    )
                }
            }
        }
        panic!("the hardhat L1 could not bind a free port in {PORT_ATTEMPTS} attempts; last: {last_failure}")
    }

    fn spawn(&mut self, cli: &std::path::Path) {
        // `node <hardhat cli>` rather than `npx hardhat`: one process, so killing it kills
        // the node (npx would leave its child running).
        let mut cmd = Command::new("node");
        cmd.arg(cli)
            .args(["node", "--hostname", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .current_dir(Self::project_dir())
            .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning `node` for the hardhat L1: {e}"));
        let pid = child.id();
        let echo = std::env::var("KETTLE_TEST_LOG").is_ok_and(|v| !v.is_empty());
        if let Some(out) = child.stdout.take() {
            self.readers
                .push(reader("stdout", pid, out, self.output.clone(), echo));
        }
        if let Some(err) = child.stderr.take() {
            self.readers
                .push(reader("stderr", pid, err, self.output.clone(), echo));
        }
        self.child = Some(child);
    }

    fn wait_ready(&mut self) -> Result<(), Ready> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    self.join_readers();
                    let out = self.output();
                    if out.contains("EADDRINUSE") {
                        return Err(Ready::PortTaken);
                    }
                    return Err(Ready::Failed(format!("it exited with {status}")));
                }
            }
            if let Ok(id) = self.rpc("eth_chainId", json!([])) {
                return match id.as_str() {
                    Some("0x539") => Ok(()),
                    _ => Err(Ready::Failed(format!(
                        "eth_chainId answered {id}, not 1337"
                    ))),
                };
            }
            if started.elapsed() > L1_START_TIMEOUT {
                self.kill();
                return Err(Ready::Failed(format!(
                    "eth_chainId did not answer within {L1_START_TIMEOUT:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The JSON-RPC endpoint, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The chain id ([`L1_CHAIN_ID`]).
    pub fn chain_id(&self) -> u64 {
        L1_CHAIN_ID
    }

    /// The funded dev accounts #0..#9 as signers.
    pub fn dev_keys(&self) -> Vec<PrivateKeySigner> {
        l1_dev_keys()
    }

    /// The last lines of the node's stdout and stderr.
    pub fn output(&self) -> String {
        let lines = self.output.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Any JSON-RPC call; the result as raw JSON.
    pub fn rpc(&self, method: &str, params: Value) -> Result<Value, RpcFailure> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut response = self
            .agent
            .post(&self.url())
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .map_err(|e| RpcFailure::Transport(e.to_string()))?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| RpcFailure::Transport(e.to_string()))?;
        let mut answer: Value = serde_json::from_str(&text)
            .map_err(|e| RpcFailure::Transport(format!("malformed answer {text:?}: {e}")))?;
        if let Some(error) = answer.get("error") {
            return Err(RpcFailure::Error {
                code: error["code"].as_i64().unwrap_or_default(),
                message: error["message"].as_str().unwrap_or_default().to_owned(),
                data: error.get("data").cloned(),
            });
        }
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(RpcFailure::Transport(format!("no result in {text:?}"))),
        }
    }

    /// [`rpc`](Self::rpc) with the method named in the error.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, L1Error> {
        self.rpc(method, params).map_err(|failure| L1Error::Rpc {
            method: method.to_owned(),
            failure,
        })
    }

    /// `eth_blockNumber`.
    pub fn block_number(&self) -> Result<u64, L1Error> {
        let n = self.call("eth_blockNumber", json!([]))?;
        quantity(&n).ok_or_else(|| L1Error::Unexpected {
            method: "eth_blockNumber".into(),
            answer: n.to_string(),
        })
    }

    /// `eth_getBlockByNumber` (`tag` is a hex number or `latest`…); `full` includes the
    /// transactions as objects.
    pub fn block(&self, tag: &str, full: bool) -> Result<Value, L1Error> {
        self.call("eth_getBlockByNumber", json!([tag, full]))
    }

    /// Mines one block holding exactly `txs` (raw EIP-2718 transactions, in this order) with
    /// the given timestamp, coinbase, base fee and prevRandao, and returns it (transactions
    /// as hashes).
    ///
    /// Automining is switched off while the transactions queue in the (FIFO) mempool and
    /// switched back on afterwards, also when a step fails. Fails if a transaction is
    /// rejected or left out of the block.
    pub fn mine_with(&self, txs: &[Bytes], params: &MineParams) -> Result<Value, L1Error> {
        self.call("evm_setAutomine", json!([false]))?;
        let mined = self.mine_queued(txs, params);
        let restored = self.call("evm_setAutomine", json!([true]));
        let block = mined?;
        restored?;
        Ok(block)
    }

    fn mine_queued(&self, txs: &[Bytes], params: &MineParams) -> Result<Value, L1Error> {
        self.call("hardhat_setCoinbase", json!([params.coinbase]))?;
        self.call("evm_setNextBlockTimestamp", json!([params.timestamp]))?;
        self.call(
            "hardhat_setNextBlockBaseFeePerGas",
            json!([format!("{:#x}", params.base_fee)]),
        )?;
        self.call("hardhat_setPrevRandao", json!([params.prev_randao]))?;
        for tx in txs {
            self.call("eth_sendRawTransaction", json!([tx]))?;
        }
        let parent = self.block_number()?;
        self.call("evm_mine", json!([]))?;
        let tag = format!("{:#x}", parent + 1);
        let block = self.block(&tag, false)?;
        let mined = block["transactions"].as_array().map_or(0, Vec::len);
        if mined != txs.len() {
            return Err(L1Error::NotAllMined {
                number: parent + 1,
                sent: txs.len(),
                mined,
            });
        }
        Ok(block)
    }

    /// Kills the node (SIGKILL) and waits for it; idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_readers();
    }

    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl Drop for L1Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Hardhat's funded dev accounts #0..#9 ([`L1_DEV_KEYS`]) as signers.
pub fn l1_dev_keys() -> Vec<PrivateKeySigner> {
    L1_DEV_KEYS
        .iter()
        .map(|k| k.parse().expect("the hardhat dev keys are valid"))
        .collect()
}

/// A hex quantity (`"0x1a"`) as a number.
fn quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}

enum Ready {
    PortTaken,
    Failed(String),
}

/// A loopback port that was free a moment ago (another process may take it before it is
/// used; callers that bind it in a child retry).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding a free loopback port")
}

/// A thread that reads `stream` to EOF (so the pipe never fills), keeping the last lines.
fn reader(
    name: &'static str,
    pid: u32,
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<VecDeque<String>>>,
    echo: bool,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("l1-{pid}-{name}"))
        .spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
                if echo {
                    eprintln!("[l1 {pid}] {line}");
                }
                let mut lines = output.lock().unwrap_or_else(|e| e.into_inner());
                if lines.len() == KEPT_LINES {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        })
        .expect("spawning an output reader")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{keccak256, TxKind, U256};
    use alloy_signer::SignerSync;

    fn transfer(signer: &PrivateKeySigner, nonce: u64, to: Address, value: u64) -> Bytes {
        let tx = TxEip1559 {
            chain_id: L1_CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(to),
            value: U256::from(value),
            ..Default::default()
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into()
    }

    #[test]
    fn l1_starts_proves_and_mines_a_chosen_block() {
        let l1 = L1Node::start();
        assert_eq!(l1.rpc("eth_chainId", json!([])).unwrap(), "0x539");
        let keys = l1.dev_keys();
        assert_eq!(
            keys[0].address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse::<Address>()
                .unwrap()
        );

        // eth_getProof: the first account-proof node hashes to the state root
        let genesis = l1.block("latest", false).unwrap();
        let proof = l1
            .call(
                "eth_getProof",
                json!([keys[0].address(), [B256::ZERO], "latest"]),
            )
            .unwrap();
        let first: Bytes = serde_json::from_value(proof["accountProof"][0].clone()).unwrap();
        assert_eq!(
            format!("{:?}", keccak256(&first)),
            genesis["stateRoot"].as_str().unwrap()
        );

        // a block with two transfers, in order, and the chosen header inputs
        let coinbase = Address::repeat_byte(0xcc);
        let to = Address::repeat_byte(0x77);
        let txs = vec![transfer(&keys[1], 0, to, 5), transfer(&keys[1], 1, to, 6)];
        let params = MineParams {
            timestamp: quantity(&genesis["timestamp"]).unwrap() + 12,
            coinbase,
            base_fee: 7,
            prev_randao: B256::repeat_byte(0x42),
        };
        let block = l1.mine_with(&txs, &params).unwrap();
        assert_eq!(quantity(&block["number"]), Some(1));
        assert_eq!(quantity(&block["timestamp"]), Some(params.timestamp));
        assert_eq!(quantity(&block["baseFeePerGas"]), Some(7));
        assert_eq!(block["miner"], json!(coinbase));
        assert_eq!(block["mixHash"], json!(params.prev_randao));
        let hashes: Vec<B256> = serde_json::from_value(block["transactions"].clone()).unwrap();
        assert_eq!(hashes, txs.iter().map(keccak256).collect::<Vec<_>>());
        assert_ne!(block["stateRoot"], genesis["stateRoot"]);

        // automining is back on: a lone transaction is mined at once
        let n = l1.block_number().unwrap();
        l1.call(
            "eth_sendRawTransaction",
            json!([transfer(&keys[2], 0, to, 1)]),
        )
        .unwrap();
        assert_eq!(l1.block_number().unwrap(), n + 1);

        // a transaction that cannot be mined fails the helper, and automining is restored
        let params2 = MineParams {
            timestamp: params.timestamp + 100,
            ..params.clone()
        };
        let err = l1
            .mine_with(&[transfer(&keys[1], 0, to, 1)], &params2)
            .unwrap_err();
        assert!(matches!(err, L1Error::Rpc { .. }), "{err}");
        l1.call(
            "eth_sendRawTransaction",
            json!([transfer(&keys[3], 0, to, 1)]),
        )
        .unwrap();
        assert_eq!(l1.block_number().unwrap(), n + 2);
    }
}
