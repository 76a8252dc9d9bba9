//! A small blocking JSON-RPC client for the Ethereum execution node the builder forks.
//!
//! The MEVM calls the execution backend from a blocking thread, so this uses `ureq` (no async
//! runtime). Every request is bounded by the client's per-request timeout and, when set, by
//! an absolute [`Deadline`] shared by all requests of one operation (a bundle simulation has
//! one second in all, as in suave-geth). Several calls can go in one HTTP round trip as a
//! JSON-RPC batch ([`RpcClient::batch`]), which the state fetcher uses for
//! balance + nonce + code of an account.
//!
//! Errors name the method and the failure, never the node URL (it may carry credentials).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_rpc_types_eth::EIP1186AccountProofResponse;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use url::Url;

/// JSON-RPC error code of a reverted `eth_call` (geth and most nodes).
pub const REVERT_CODE: i64 = 3;

/// Why a JSON-RPC call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The URL is not an http(s) URL with a host.
    #[error("invalid execution node URL: {0}")]
    InvalidUrl(String),
    /// The node could not be reached or the connection failed.
    #[error("{method}: execution node unreachable: {reason}")]
    Transport {
        /// JSON-RPC method.
        method: String,
        /// What failed (connection refused, reset, ...).
        reason: String,
    },
    /// The node did not answer in time.
    #[error("{method}: execution node did not answer within {after:?}")]
    Timeout {
        /// JSON-RPC method.
        method: String,
        /// Time allowed for the request.
        after: Duration,
    },
    /// The operation's deadline passed before the request could be sent.
    #[error("{method}: deadline exceeded")]
    Deadline {
        /// JSON-RPC method that was about to be sent.
        method: String,
    },
    /// The node answered with a non-2xx HTTP status.
    #[error("{method}: execution node answered HTTP {status}: {body}")]
    Status {
        /// JSON-RPC method.
        method: String,
        /// HTTP status code.
        status: u16,
        /// Start of the body.
        body: String,
    },
    /// The answer is not a JSON-RPC response of the expected shape.
    #[error("{method}: invalid JSON-RPC response: {reason}")]
    InvalidResponse {
        /// JSON-RPC method.
        method: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The node answered with a JSON-RPC error object.
    #[error("{method}: {message} (code {code})")]
    Rpc {
        /// JSON-RPC method.
        method: String,
        /// `error.code`.
        code: i64,
        /// `error.message`.
        message: String,
        /// `error.data`, if any.
        data: Option<Value>,
    },
}

/// Settings of an [`RpcClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcConfig {
    /// Longest time one HTTP exchange may take (connect + send + receive).
    pub request_timeout: Duration,
    /// Largest response body accepted.
    pub max_response_bytes: u64,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(5),
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

/// An absolute point in time by which an operation must be done (`None`: no deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deadline(pub Option<Instant>);

impl Deadline {
    /// No deadline.
    pub const NONE: Deadline = Deadline(None);

    /// A deadline `after` from now.
    pub fn after(after: Duration) -> Self {
        Deadline(Instant::now().checked_add(after))
    }

    /// Time left, `None` without a deadline; zero once passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.0
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        self.remaining().is_some_and(|d| d.is_zero())
    }
}

/// A block selector for state queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    /// `latest`.
    Latest,
    /// A block number.
    Number(u64),
}

impl BlockId {
    fn to_json(self) -> Value {
        match self {
            BlockId::Latest => json!("latest"),
            BlockId::Number(n) => json!(format!("{n:#x}")),
        }
    }
}

#[derive(Debug)]
struct Inner {
    url: Url,
    agent: ureq::Agent,
    config: RpcConfig,
    next_id: AtomicU64,
}

/// Blocking JSON-RPC client of one execution node. Cheap to clone; clones share the
/// connection pool. [`RpcClient::with_deadline`] gives a copy bound by a deadline.
#[derive(Debug, Clone)]
pub struct RpcClient {
    inner: Arc<Inner>,
    deadline: Deadline,
}

/// One call of a batch: method and params.
pub type BatchCall<'a> = (&'a str, Value);

fn quantity_u64(method: &str, value: &Value) -> Result<u64, RpcError> {
    let invalid = |reason: String| RpcError::InvalidResponse {
        method: method.to_owned(),
        reason,
    };
    let s = value
        .as_str()
        .ok_or_else(|| invalid(format!("expected a hex quantity, got {value}")))?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| invalid(format!("expected a hex quantity, got {s:?}")))?;
    u64::from_str_radix(digits, 16).map_err(|e| invalid(format!("bad quantity {s:?}: {e}")))
}

fn decode<T: DeserializeOwned>(method: &str, value: Value) -> Result<T, RpcError> {
    serde_json::from_value(value).map_err(|e| RpcError::InvalidResponse {
        method: method.to_owned(),
        reason: e.to_string(),
    })
}

/// The revert data of a reverted `eth_call`: geth answers code 3 with the data as a hex
/// string; hardhat answers another code with `data: {data: "0x…"}` and a message about a
/// revert.
fn revert_data(err: &RpcError) -> Option<Bytes> {
    let RpcError::Rpc {
        code,
        message,
        data: Some(data),
        ..
    } = err
    else {
        return None;
    };
    let hex = match data {
        Value::String(s) if *code == REVERT_CODE => s.as_str(),
        Value::Object(obj) if message.contains("revert") => obj.get("data")?.as_str()?,
        _ => return None,
    };
    hex.parse().ok()
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        std::io::ErrorKind::UnexpectedEof => "unexpected EOF".into(),
        _ => err.to_string(),
    }
}

impl RpcClient {
    /// A client of the node at `url` (http or https).
    pub fn new(url: &str, config: RpcConfig) -> Result<Self, RpcError> {
        let url = Url::parse(url).map_err(|e| RpcError::InvalidUrl(e.to_string()))?;
        Self::from_url(url, config)
    }

    /// A client of the node at `url` (http or https).
    pub fn from_url(url: Url, config: RpcConfig) -> Result<Self, RpcError> {
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(RpcError::InvalidUrl(
                "not an http(s) URL with a host".into(),
            ));
        }
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(config.request_timeout))
            .build();
        Ok(Self {
            inner: Arc::new(Inner {
                url,
                agent: ureq::Agent::new_with_config(agent_config),
                config,
                next_id: AtomicU64::new(1),
            }),
            deadline: Deadline::NONE,
        })
    }

    /// The node's URL.
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// A copy of this client whose requests all end by `deadline`.
    pub fn with_deadline(&self, deadline: Deadline) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            deadline,
        }
    }

    /// The deadline of this client.
    pub fn deadline(&self) -> Deadline {
        self.deadline
    }

    fn timeout_for(&self, method: &str) -> Result<Duration, RpcError> {
        let per_request = self.inner.config.request_timeout;
        match self.deadline.remaining() {
            None => Ok(per_request),
            Some(left) if left.is_zero() => Err(RpcError::Deadline {
                method: method.to_owned(),
            }),
            Some(left) => Ok(left.min(per_request)),
        }
    }

    /// Posts `body` and returns the parsed JSON answer.
    fn post(&self, method: &str, body: &Value) -> Result<Value, RpcError> {
        let timeout = self.timeout_for(method)?;
        let span = tracing::debug_span!("eth_rpc", method, timeout_ms = timeout.as_millis() as u64);
        let _entered = span.enter();
        let payload = serde_json::to_vec(body).map_err(|e| RpcError::InvalidResponse {
            method: method.to_owned(),
            reason: format!("cannot encode request: {e}"),
        })?;
        let map_err = |err: ureq::Error| match err {
            ureq::Error::Timeout(_) => RpcError::Timeout {
                method: method.to_owned(),
                after: timeout,
            },
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => RpcError::Timeout {
                method: method.to_owned(),
                after: timeout,
            },
            ureq::Error::Io(e) => RpcError::Transport {
                method: method.to_owned(),
                reason: io_reason(&e),
            },
            ureq::Error::BodyExceedsLimit(limit) => RpcError::InvalidResponse {
                method: method.to_owned(),
                reason: format!("response larger than {limit} bytes"),
            },
            other => RpcError::Transport {
                method: method.to_owned(),
                reason: other.to_string(),
            },
        };
        let mut response = self
            .inner
            .agent
            .post(self.inner.url.as_str())
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(&payload[..])
            .map_err(map_err)?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(self.inner.config.max_response_bytes)
            .read_to_vec()
            .map_err(map_err)?;
        if !(200..300).contains(&status) {
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            text.truncate(text.floor_char_boundary(256));
            return Err(RpcError::Status {
                method: method.to_owned(),
                status,
                body: text,
            });
        }
        tracing::trace!(status, bytes = bytes.len(), "execution node answered");
        serde_json::from_slice(&bytes).map_err(|e| RpcError::InvalidResponse {
            method: method.to_owned(),
            reason: e.to_string(),
        })
    }

    fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Unpacks one JSON-RPC response object.
    fn unpack(method: &str, reply: Value) -> Result<Value, RpcError> {
        let Value::Object(mut obj) = reply else {
            return Err(RpcError::InvalidResponse {
                method: method.to_owned(),
                reason: "not a JSON object".into(),
            });
        };
        if let Some(err) = obj.remove("error").filter(|e| !e.is_null()) {
            let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("JSON-RPC error {code}"));
            return Err(RpcError::Rpc {
                method: method.to_owned(),
                code,
                message,
                data: err.get("data").cloned(),
            });
        }
        obj.remove("result")
            .ok_or_else(|| RpcError::InvalidResponse {
                method: method.to_owned(),
                reason: "neither result nor error".into(),
            })
    }

    /// Calls `method` with `params` and returns its `result`.
    pub fn request(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({
            "jsonrpc": "2.0",
            "id": self.next_id(),
            "method": method,
            "params": params,
        });
        let reply = self.post(method, &body)?;
        Self::unpack(method, reply)
    }

    /// Sends `calls` as one JSON-RPC batch; the outer error is a transport failure, the
    /// inner ones are per call, in the order of `calls`.
    pub fn batch(&self, calls: &[BatchCall<'_>]) -> Result<Vec<Result<Value, RpcError>>, RpcError> {
        let first = calls.first().map_or("batch", |c| c.0);
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        if calls.len() == 1 {
            return Ok(vec![self.request(calls[0].0, calls[0].1.clone())]);
        }
        let base = self.next_id();
        // Reserve the ids of the batch.
        for _ in 1..calls.len() {
            self.next_id();
        }
        let body = Value::Array(
            calls
                .iter()
                .enumerate()
                .map(|(i, (method, params))| {
                    json!({
                        "jsonrpc": "2.0",
                        "id": base + i as u64,
                        "method": method,
                        "params": params,
                    })
                })
                .collect(),
        );
        let reply = self.post(first, &body)?;
        let items = match reply {
            Value::Array(items) => items,
            // A node that rejects batches answers with one error object.
            single @ Value::Object(_) => {
                return Err(Self::unpack(first, single).err().unwrap_or_else(|| {
                    RpcError::InvalidResponse {
                        method: first.to_owned(),
                        reason: "batch answered with a single result".into(),
                    }
                }))
            }
            _ => {
                return Err(RpcError::InvalidResponse {
                    method: first.to_owned(),
                    reason: "batch answer is not an array".into(),
                })
            }
        };
        let mut out: Vec<Option<Result<Value, RpcError>>> =
            (0..calls.len()).map(|_| None).collect();
        for item in items {
            let Some(idx) = item
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|id| id.checked_sub(base))
                .and_then(|i| usize::try_from(i).ok())
                .filter(|i| *i < calls.len())
            else {
                continue;
            };
            out[idx] = Some(Self::unpack(calls[idx].0, item));
        }
        Ok(out
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    Err(RpcError::InvalidResponse {
                        method: calls[i].0.to_owned(),
                        reason: "missing from the batch answer".into(),
                    })
                })
            })
            .collect())
    }

    /// `eth_chainId`.
    pub fn chain_id(&self) -> Result<u64, RpcError> {
        let v = self.request("eth_chainId", json!([]))?;
        quantity_u64("eth_chainId", &v)
    }

    /// `eth_getBlockByNumber(block, false)`: the header, or `None` for an unknown block.
    pub fn header_by_number(
        &self,
        block: BlockId,
    ) -> Result<Option<alloy_rpc_types_eth::Header>, RpcError> {
        let method = "eth_getBlockByNumber";
        let v = self.request(method, json!([block.to_json(), false]))?;
        if v.is_null() {
            return Ok(None);
        }
        decode(method, v).map(Some)
    }

    /// `eth_getBlockByHash(hash, false)`: the header, or `None` for an unknown block.
    pub fn header_by_hash(
        &self,
        hash: B256,
    ) -> Result<Option<alloy_rpc_types_eth::Header>, RpcError> {
        let method = "eth_getBlockByHash";
        let v = self.request(method, json!([hash, false]))?;
        if v.is_null() {
            return Ok(None);
        }
        decode(method, v).map(Some)
    }

    /// `eth_getBalance(address, block)`.
    pub fn balance(&self, address: Address, block: BlockId) -> Result<U256, RpcError> {
        let method = "eth_getBalance";
        decode(
            method,
            self.request(method, json!([address, block.to_json()]))?,
        )
    }

    /// `eth_getTransactionCount(address, block)`.
    pub fn nonce(&self, address: Address, block: BlockId) -> Result<u64, RpcError> {
        let method = "eth_getTransactionCount";
        let v = self.request(method, json!([address, block.to_json()]))?;
        quantity_u64(method, &v)
    }

    /// `eth_getCode(address, block)`.
    pub fn code(&self, address: Address, block: BlockId) -> Result<Bytes, RpcError> {
        let method = "eth_getCode";
        decode(
            method,
            self.request(method, json!([address, block.to_json()]))?,
        )
    }

    /// `eth_getStorageAt(address, slot, block)`.
    pub fn storage_at(
        &self,
        address: Address,
        slot: U256,
        block: BlockId,
    ) -> Result<U256, RpcError> {
        let method = "eth_getStorageAt";
        let v = self.request(method, json!([address, B256::from(slot), block.to_json()]))?;
        let word: B256 = decode(method, v)?;
        Ok(U256::from_be_bytes(word.0))
    }

    /// Balance, nonce and code of `address` at `block` in one batch round trip.
    pub fn account(
        &self,
        address: Address,
        block: BlockId,
    ) -> Result<(U256, u64, Bytes), RpcError> {
        let b = block.to_json();
        let mut replies = self
            .batch(&[
                ("eth_getBalance", json!([address, b])),
                ("eth_getTransactionCount", json!([address, b])),
                ("eth_getCode", json!([address, b])),
            ])?
            .into_iter();
        let mut next = |method: &str| {
            replies.next().unwrap_or_else(|| {
                Err(RpcError::InvalidResponse {
                    method: method.to_owned(),
                    reason: "missing from the batch answer".into(),
                })
            })
        };
        let balance: U256 = decode("eth_getBalance", next("eth_getBalance")?)?;
        let nonce = quantity_u64("eth_getTransactionCount", &next("eth_getTransactionCount")?)?;
        let code: Bytes = decode("eth_getCode", next("eth_getCode")?)?;
        Ok((balance, nonce, code))
    }

    /// `eth_getProof(address, slots, block)`.
    pub fn proof(
        &self,
        address: Address,
        slots: &[B256],
        block: BlockId,
    ) -> Result<EIP1186AccountProofResponse, RpcError> {
        let method = "eth_getProof";
        decode(
            method,
            self.request(method, json!([address, slots, block.to_json()]))?,
        )
    }

    /// `eth_getProof` for several accounts, batched `chunk` requests per round trip.
    pub fn proofs(
        &self,
        accounts: &[(Address, Vec<B256>)],
        block: BlockId,
        chunk: usize,
    ) -> Result<Vec<EIP1186AccountProofResponse>, RpcError> {
        let method = "eth_getProof";
        let mut out = Vec::with_capacity(accounts.len());
        for part in accounts.chunks(chunk.max(1)) {
            let calls: Vec<BatchCall<'_>> = part
                .iter()
                .map(|(address, slots)| (method, json!([address, slots, block.to_json()])))
                .collect();
            for reply in self.batch(&calls)? {
                out.push(decode(method, reply?)?);
            }
        }
        Ok(out)
    }

    /// `eth_call({to, data, gas}, block)`: the return data; a revert that carries data
    /// (code 3) yields that data, as go-ethereum's `DoCall` returns it.
    pub fn call(
        &self,
        to: Address,
        data: &[u8],
        gas: u64,
        block: BlockId,
    ) -> Result<Bytes, RpcError> {
        let method = "eth_call";
        let params = json!([
            {
                "to": to,
                "data": Bytes::copy_from_slice(data),
                "gas": format!("{gas:#x}"),
            },
            block.to_json(),
        ]);
        match self.request(method, params) {
            Ok(v) => decode(method, v),
            Err(err) => match revert_data(&err) {
                Some(data) => Ok(data),
                None => Err(err),
            },
        }
    }
}
