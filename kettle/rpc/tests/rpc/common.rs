//! Shared test harness: a real chain in a temp dir, the real server on a free loopback port,
//! a test double of the node's confidential pipeline, and transaction builders.

use std::{
    net::SocketAddr,
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams, ClientError},
    http_client::{HttpClient, HttpClientBuilder},
    types::ErrorObjectOwned,
    ws_client::{WsClient, WsClientBuilder},
};
use kettle_chain::{db, Chain, ChainSpec, PoolLimits, SealedBlock};
use kettle_primitives::{
    ConfidentialComputeRecord, ConfidentialComputeRequest, SuaveTransaction, SuaveTxEnvelope,
    DEV_KETTLE_ADDRESS,
};
use kettle_rpc::{ConfidentialApi, ConfidentialCall, ConfidentialError, RpcConfig, RpcHandle};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";
pub const KETTLE_KEY: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
pub const CHAIN_ID: u64 = 16_813_125;
pub const GWEI: u128 = 1_000_000_000;

/// `PUSH1 0x20 CALLDATALOAD PUSH1 0 CALLDATALOAD PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 LOG1 STOP`
/// behind a constructor: emits `LOG1(topic = calldata[32..64], data = calldata[0..32])`.
pub const LOGGER_INITCODE: &str = "600f600c600039600f6000f360203560003560005260206000a100";
/// Returns its first calldata word.
pub const ECHO_INITCODE: &str = "600b600c600039600b6000f360003560005260206000f3";
/// Reverts with the 32-byte word 42.
pub const REVERTER_INITCODE: &str = "600a600c600039600a6000f3602a60005260206000fd";

pub fn user() -> PrivateKeySigner {
    USER_KEY.parse().expect("user key")
}

pub fn kettle_signer() -> PrivateKeySigner {
    KETTLE_KEY.parse().expect("kettle key")
}

pub fn hex_bytes(s: &str) -> Vec<u8> {
    alloy_primitives::hex::decode(s).expect("hex")
}

/// A signed EIP-1559 transaction from the dev user.
pub fn eip1559(nonce: u64, to: TxKind, value: U256, input: Vec<u8>) -> TxEnvelope {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 300_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: 3,
        to,
        value,
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = user().sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::from(tx.into_signed(sig))
}

/// A signed EIP-155 legacy transaction from the dev user.
pub fn legacy(nonce: u64, to: TxKind, value: U256, input: Vec<u8>) -> TxEnvelope {
    let tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 2 * GWEI,
        gas_limit: 300_000,
        to,
        value,
        input: input.into(),
    };
    let sig = user().sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::from(tx.into_signed(sig))
}

pub fn raw(tx: &TxEnvelope) -> Bytes {
    Bytes::from(tx.encoded_2718())
}

/// A `0x43` signed by the dev user, addressed to the dev kettle.
pub fn request(nonce: u64, to: Address, data: &[u8], inputs: &[u8]) -> ConfidentialComputeRequest {
    ConfidentialComputeRequest::new(
        ConfidentialComputeRecord {
            nonce,
            gas_price: U256::from(2 * GWEI),
            gas: 500_000,
            to: Some(to),
            value: U256::ZERO,
            data: Bytes::copy_from_slice(data),
            kettle_address: DEV_KETTLE_ADDRESS,
            chain_id: U256::from(CHAIN_ID),
            ..Default::default()
        },
        Bytes::copy_from_slice(inputs),
    )
    .into_signed(&user())
    .expect("sign request")
}

/// The `0x50` a kettle makes of `request` with `result` as callback calldata.
pub fn suave_tx(request: &ConfidentialComputeRequest, result: &[u8]) -> SuaveTransaction {
    SuaveTransaction::new(request.record.clone(), Bytes::copy_from_slice(result))
        .into_signed(&kettle_signer())
        .expect("kettle sign")
}

/// Test double of the node's confidential pipeline.
///
/// - `send_request`: checks the signature, then submits a `0x50` whose result is the
///   request's calldata; calldata starting with `fail` gives a §3.6-style error instead.
/// - `call`: returns `keccak(inputs) ‖ data`; data `0xff` reverts with `Error("nope")`,
///   data `sleep` sleeps 1.5 s.
/// - `estimate_gas`: `min(gas, 54321)`.
pub struct TestKettle {
    chain: Arc<Chain>,
    pub calls: Mutex<Vec<ConfidentialCall>>,
    pub requests: Mutex<Vec<B256>>,
}

impl TestKettle {
    pub fn last_call(&self) -> ConfidentialCall {
        self.calls
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("a confidential call")
    }
}

/// ABI encoding of `Error("nope")`.
pub fn error_nope() -> Vec<u8> {
    hex_bytes("08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000046e6f706500000000000000000000000000000000000000000000000000000000")
}

impl ConfidentialApi for TestKettle {
    fn kettle_addresses(&self) -> Vec<Address> {
        vec![DEV_KETTLE_ADDRESS]
    }

    fn send_request(&self, request: ConfidentialComputeRequest) -> Result<B256, ConfidentialError> {
        request
            .recover_signer(CHAIN_ID)
            .map_err(|e| ConfidentialError::server(e.to_string()))?;
        self.requests.lock().expect("lock").push(request.tx_hash());
        if request.record.data.starts_with(b"fail") {
            return Err(ConfidentialError::server(
                "execution reverted: precompile '0x0000000000000000000000000000000043200002' reverted: 'boom'",
            ));
        }
        let tx = suave_tx(&request, &request.record.data);
        self.chain
            .add_transaction(&SuaveTxEnvelope::Suave(tx))
            .map_err(|e| ConfidentialError::server(e.to_string()))
    }

    fn call(&self, call: ConfidentialCall) -> Result<Bytes, ConfidentialError> {
        self.calls.lock().expect("lock").push(call.clone());
        if call.data[..] == [0xff] {
            return Err(ConfidentialError::reverted(Bytes::from(error_nope())));
        }
        if call.data[..] == b"sleep"[..] {
            std::thread::sleep(Duration::from_millis(1500));
        }
        let mut out = keccak256(&call.confidential_inputs).to_vec();
        out.extend_from_slice(&call.data);
        Ok(Bytes::from(out))
    }

    fn estimate_gas(&self, call: ConfidentialCall) -> Result<u64, ConfidentialError> {
        self.calls.lock().expect("lock").push(call.clone());
        Ok(call.gas.min(54_321))
    }
}

/// A chain, the server on it, and an HTTP client.
pub struct TestNode {
    _dir: tempfile::TempDir,
    pub chain: Arc<Chain>,
    pub kettle: Arc<TestKettle>,
    pub handle: RpcHandle,
    pub http: HttpClient,
    timestamp: AtomicU64,
}

impl TestNode {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut RpcConfig)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let chain = dev_chain(dir.path());
        let kettle = Arc::new(TestKettle {
            chain: chain.clone(),
            calls: Mutex::default(),
            requests: Mutex::default(),
        });
        let mut config = RpcConfig {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..RpcConfig::default()
        };
        configure(&mut config);
        let handle = kettle_rpc::start(config, chain.clone(), kettle.clone())
            .await
            .expect("start server");
        let http = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(20))
            .build(handle.http_url())
            .expect("http client");
        Self {
            _dir: dir,
            chain,
            kettle,
            handle,
            http,
            timestamp: AtomicU64::new(1_700_000_000),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// Seals a block from the pool (panics if the pool is empty).
    pub fn produce(&self) -> Arc<SealedBlock> {
        let ts = self.timestamp.fetch_add(2, Ordering::Relaxed);
        self.chain
            .produce_block(ts, Address::ZERO)
            .expect("produce")
            .expect("a block")
    }

    pub async fn ws(&self) -> WsClient {
        WsClientBuilder::default()
            .build(self.handle.ws_url())
            .await
            .expect("ws client")
    }

    pub async fn call<T: DeserializeOwned>(&self, method: &str, params: ArrayParams) -> T {
        match self.http.request(method, params).await {
            Ok(v) => v,
            Err(e) => panic!("{method} failed: {e}"),
        }
    }

    pub async fn call_err(&self, method: &str, params: ArrayParams) -> ErrorObjectOwned {
        match self
            .http
            .request::<serde_json::Value, _>(method, params)
            .await
        {
            Err(ClientError::Call(e)) => e,
            other => panic!("{method}: expected a JSON-RPC error, got {other:?}"),
        }
    }

    /// Sends `raw` with `eth_sendRawTransaction`, returning the hash.
    pub async fn send_raw(&self, raw: Bytes) -> B256 {
        self.call("eth_sendRawTransaction", jsonrpsee::rpc_params![raw])
            .await
    }

    /// POSTs `body` as JSON and returns status, response headers and body.
    pub async fn post(&self, body: &[u8]) -> (u16, String, String) {
        post_json(self.addr(), body, HTTP_TIMEOUT).await
    }
}

/// A dev chain in `dir`: shared with `tests/fuzz.rs` so both open the chain the same way.
pub fn dev_chain(dir: &Path) -> Arc<Chain> {
    let db = db::open_db(dir, &[]).expect("open db");
    Arc::new(
        Chain::open(
            db,
            ChainSpec::dev(DEV_KETTLE_ADDRESS),
            PoolLimits::default(),
        )
        .expect("open chain"),
    )
}

/// How long [`raw_http`] waits for a whole exchange.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// POSTs `body` as JSON over a raw connection within `timeout`; status, headers and body
/// (shared with `tests/fuzz.rs`, which needs a longer timeout).
pub async fn post_json(addr: SocketAddr, body: &[u8], timeout: Duration) -> (u16, String, String) {
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    raw_http_within(addr, &request, timeout).await
}

/// Sends raw bytes over TCP and parses the HTTP/1.1 response.
pub async fn raw_http(addr: SocketAddr, request: &[u8]) -> (u16, String, String) {
    raw_http_within(addr, request, HTTP_TIMEOUT).await
}

/// [`raw_http`] with its own timeout for the whole exchange.
pub async fn raw_http_within(
    addr: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> (u16, String, String) {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        // The server may answer (and close) before reading everything; that is fine.
        let _ = stream.write_all(request).await;
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf).await;
        buf
    };
    let buf = tokio::time::timeout(timeout, exchange)
        .await
        .expect("HTTP exchange timed out");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, head.to_owned(), body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The first 20 bytes of `Address::create`-style helpers: contract address of the user's
/// transaction with `nonce`.
pub fn user_contract(nonce: u64) -> Address {
    user().address().create(nonce)
}
