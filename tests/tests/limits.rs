//! Resource limits end to end: real `kettle dev --config` processes with small limits, fed
//! input over each limit over real HTTP and WebSocket connections on 127.0.0.1. Every case
//! checks the error the client sees, and that another client is served right after.
//!
//! | limit (config key) | over it |
//! |---|---|
//! | `rpc.max_request_bytes` | HTTP 413 with a JSON-RPC error |
//! | `rpc.max_batch` | one JSON-RPC error for the batch |
//! | `rpc.max_connections` | HTTP 429 while the WebSocket sessions holding the slots still work |
//! | `rpc.max_response_bytes` | JSON-RPC error -32008 instead of the response |
//! | `rpc.max_request_gas` | a `0x43` request above it is refused before it runs; `eth_call` gas is cut to it |
//! | `rpc.mevm_timeout_ms` | an endless SUAPP loop stops with `execution time limit reached`, others are served meanwhile |
//! | `http.max_response_bytes`, `http.default_timeout_ms` | the SUAPP's HTTP call fails with the limit in the message |
//! | `pool.max_tx_bytes` | `oversized data: transaction size N, limit M` |
//! | `pool.max_per_sender`, `pool.max_transactions` | `too many pending transactions from sender`, `txpool is full` |
//!
//! Gossip message size and rate per peer are tested in `kettle-gossip` (in-process swarms).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::keccak_loop::KeccakLoop;
use kettle_contracts::network_suapp::{NetworkSuapp, Suave::HttpRequest};
use kettle_primitives::{ConfidentialComputeRecord, ConfidentialComputeRequest};
use kettle_tests::http_server::{read_request, respond};
use kettle_tests::{
    dev_user, kettle_bin, KettleClient, KettleOptions, KettleProcess, LoopbackServer, RpcFailure,
    Signing,
};
use serde_json::{json, Value};

/// `rpc.max_request_gas` of the RPC kettle.
const GAS_CAP: u64 = 25_000_000;

/// Limits of the kettle that serves the JSON-RPC cases.
const RPC_LIMITS: &str = r#"
[rpc]
max_request_bytes = 32768
max_batch = 5
max_connections = 4
max_request_gas = 25000000
mevm_timeout_ms = 25
"#;

/// Limits of the kettle that serves the HTTP precompile, response size and mempool cases.
const HTTP_POOL_LIMITS: &str = r#"
[rpc]
max_response_bytes = 8192

[http]
default_timeout_ms = 300
max_timeout_ms = 300
max_response_bytes = 1024

[pool]
max_transactions = 3
max_per_sender = 2
max_tx_bytes = 2048
"#;

/// Where the genesis of the HTTP/pool kettle places `NetworkSuapp`.
const NETWORK_SUAPP: Address = Address::new([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xde,
]);

/// Writes `text` to `dir/name`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// Starts `kettle dev --config <limits>` with `more` arguments.
fn start(dir: &Path, limits: &str, block_period_ms: u64, more: &[String]) -> KettleProcess {
    let config = write(dir, "limits.toml", limits);
    let mut extra_args = vec!["--config".to_owned(), config.display().to_string()];
    extra_args.extend_from_slice(more);
    KettleProcess::start_with(KettleOptions {
        block_period_ms,
        extra_args,
        ..KettleOptions::default()
    })
}

/// One HTTP/1.1 exchange on a fresh connection: status line code and body.
fn http_post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .expect("connecting to the kettle");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("writing the request head");
    // The server may answer (413) and close before reading the whole body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A minimal WebSocket client: handshake, masked text frames out, text frames in.
struct Ws(TcpStream);

impl Ws {
    /// Opens a WebSocket session; `Err(status)` if the server answered the upgrade with
    /// anything but 101.
    fn connect(addr: SocketAddr) -> Result<Self, (u16, String)> {
        let mut stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connecting");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        write!(
            stream,
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .expect("writing the upgrade");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if status == 101 {
            Ok(Self(stream))
        } else {
            // The refusal keeps the connection open (the upgrade asked for no close): read
            // what arrives within a moment.
            let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
            Err((status, String::from_utf8_lossy(&rest).into_owned()))
        }
    }

    /// Sends one JSON-RPC call and returns the next text message.
    fn call(&mut self, method: &str) -> Value {
        let text = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).to_string();
        let payload = text.as_bytes();
        assert!(payload.len() < 126, "short frames only");
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let mut frame = vec![0x81, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.0.write_all(&frame).expect("sending a frame");
        loop {
            let mut head = [0u8; 2];
            self.0.read_exact(&mut head).expect("reading a frame");
            let len = match head[1] & 0x7f {
                126 => {
                    let mut ext = [0u8; 2];
                    self.0.read_exact(&mut ext).expect("length");
                    usize::from(u16::from_be_bytes(ext))
                }
                127 => {
                    let mut ext = [0u8; 8];
                    self.0.read_exact(&mut ext).expect("length");
                    usize::try_from(u64::from_be_bytes(ext)).expect("length")
                }
                n => usize::from(n),
            };
            let mut data = vec![0u8; len];
            self.0.read_exact(&mut data).expect("payload");
            if head[0] & 0x0f == 1 {
                return serde_json::from_slice(&data).expect("JSON message");
            }
        }
    }
}

/// Another client's ordinary request succeeds right now.
async fn others_are_served(url: &str) {
    let other = KettleClient::connect(url).await;
    let started = Instant::now();
    let _ = other.block_number().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "eth_blockNumber took {:?}",
        started.elapsed()
    );
}

/// The message of an expected JSON-RPC error.
fn rpc_error<T: std::fmt::Debug>(result: Result<T, RpcFailure>, what: &str) -> String {
    match result {
        Err(RpcFailure::Error { message, .. }) => message,
        other => panic!("{what}: expected a JSON-RPC error, got {other:?}"),
    }
}

/// A signed `0x43` request from the dev user with an explicit gas limit.
async fn request_with_gas(
    client: &KettleClient,
    to: Address,
    calldata: Vec<u8>,
    gas: u64,
) -> ConfidentialComputeRequest {
    let user = dev_user();
    let record = ConfidentialComputeRecord {
        nonce: client.pending_nonce(user.address()).await,
        gas_price: U256::from(client.gas_price().await),
        gas,
        to: Some(to),
        data: calldata.into(),
        kettle_address: client.kettle_address(),
        is_eip712: true,
        chain_id: U256::from(client.chain_id()),
        ..Default::default()
    };
    ConfidentialComputeRequest::new(record, Bytes::new())
        .into_signed(&user)
        .expect("signing")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rpc_limits_refuse_over_limit_input_and_keep_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kettle = start(dir.path(), RPC_LIMITS, 0, &[]);
    let url = kettle.rpc_url();
    let addr = kettle.rpc_addr();
    let client = KettleClient::connect(&url).await;

    // Body over rpc.max_request_bytes: 413 with a JSON-RPC error.
    let pad = "x".repeat(40_000);
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [pad]});
    let (status, body) = http_post(addr, big.to_string().as_bytes());
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("-32007"), "{body}");
    others_are_served(&url).await;

    // Batch over rpc.max_batch: one error; a batch at the limit is answered in full.
    let batch = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []}))
                .collect(),
        )
        .to_string()
    };
    let (status, body) = http_post(addr, batch(6).as_bytes());
    let answer: Value = serde_json::from_str(&body).expect("JSON answer");
    assert_eq!(status, 200, "{body}");
    assert_eq!(answer["error"]["code"], -32010, "{body}");
    let (_, body) = http_post(addr, batch(5).as_bytes());
    let answer: Value = serde_json::from_str(&body).expect("JSON answer");
    assert_eq!(answer.as_array().map(Vec::len), Some(5), "{body}");
    others_are_served(&url).await;

    // rpc.max_connections: four WebSocket sessions hold every slot; a fifth connection is
    // refused with 429 while the sessions keep working; closing them frees the slots.
    let mut sessions: Vec<Ws> = (0..4)
        .map(|i| Ws::connect(addr).unwrap_or_else(|e| panic!("session {i}: {e:?}")))
        .collect();
    let (status, body) = http_post(addr, batch(1).as_bytes());
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("Too many connections"), "{body}");
    let refused = Ws::connect(addr).err().expect("a fifth session is refused");
    assert_eq!(refused.0, 429);
    let answer = sessions[0].call("eth_chainId");
    assert_eq!(answer["result"], format!("{:#x}", client.chain_id()));
    drop(sessions);
    let deadline = Instant::now() + Duration::from_secs(5);
    while http_post(addr, batch(1).as_bytes()).0 != 200 {
        assert!(Instant::now() < deadline, "slots not released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    others_are_served(&url).await;

    // rpc.max_request_gas: a 0x43 request above the cap is refused before it runs.
    let keccak = client.deploy(&dev_user(), "KeccakLoop").await;
    let endless = KeccakLoop::runCall { rounds: U256::MAX }.abi_encode();
    let nonce = client.pending_nonce(dev_user().address()).await;
    let over = request_with_gas(&client, keccak, endless.clone(), GAS_CAP + 1).await;
    let message = rpc_error(client.send_request(&over).await, "0x43 over the gas cap");
    assert_eq!(
        message,
        format!(
            "gas limit {} exceeds this kettle's limit of {GAS_CAP} gas per confidential request",
            GAS_CAP + 1
        )
    );
    others_are_served(&url).await;
    // eth_call is cut to the cap (as geth's --rpc.gascap): an endless loop runs out of gas.
    let message = rpc_error(
        client
            .json(
                "eth_call",
                json!([{"to": keccak, "input": Bytes::from(endless.clone()), "gas": "0x3b9aca00"}, "latest"]),
            )
            .await,
        "plain eth_call of an endless loop",
    );
    assert_eq!(message, "out of gas");

    // rpc.mevm_timeout_ms: an endless loop with the full gas cap is stopped by the wall
    // clock; another client is served while it runs.
    let loop_client = client.clone();
    let endless_call = endless.clone();
    let running = tokio::spawn(async move {
        let started = Instant::now();
        let result = loop_client
            .json(
                "eth_call",
                json!([{
                    "to": keccak,
                    "input": Bytes::from(endless_call),
                    "gas": format!("{GAS_CAP:#x}"),
                    "isConfidential": true,
                }, "latest"]),
            )
            .await;
        (result, started.elapsed())
    });
    others_are_served(&url).await;
    let (result, took) = running.await.expect("task");
    let message = rpc_error(result, "confidential eth_call of an endless loop");
    assert_eq!(
        message,
        "execution time limit reached: the run was stopped after 25 ms"
    );
    assert!(took < Duration::from_secs(5), "stopped only after {took:?}");
    // The same through a 0x43 request: refused, nothing pending, the nonce unused.
    let timed = request_with_gas(&client, keccak, endless, GAS_CAP).await;
    let message = rpc_error(client.send_request(&timed).await, "0x43 endless loop");
    assert!(
        message.contains("execution time limit reached"),
        "{message}"
    );
    assert_eq!(client.pending_nonce(dev_user().address()).await, nonce);
    // Short runs are unaffected.
    let short = KeccakLoop::runCall {
        rounds: U256::from(3),
    }
    .abi_encode();
    client
        .confidential_call(keccak, short.into(), &[])
        .await
        .expect("a short confidential call");
    others_are_served(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_precompile_response_and_mempool_limits() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A genesis with NetworkSuapp in place and a second funded user: blocks are sealed only
    // once every 10 minutes, so transactions stay pending.
    let second = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).expect("key");
    let output = std::process::Command::new(kettle_bin())
        .arg("genesis")
        .output()
        .expect("kettle genesis");
    let mut genesis: Value = serde_json::from_slice(&output.stdout).expect("genesis JSON");
    genesis["alloc"][format!("{NETWORK_SUAPP:#x}")] = json!({
        "balance": "0x0",
        "code": Bytes::from(NetworkSuapp::DEPLOYED_BYTECODE.to_vec()),
    });
    genesis["alloc"][format!("{:#x}", second.address())] =
        json!({ "balance": "0x3635c9adc5dea00000" });
    let genesis = write(dir.path(), "genesis.json", &genesis.to_string());
    let kettle = start(
        dir.path(),
        HTTP_POOL_LIMITS,
        600_000,
        &["--genesis".to_owned(), genesis.display().to_string()],
    );
    let url = kettle.rpc_url();
    let client = KettleClient::connect(&url).await;

    // A loopback server with a big answer, a slow one and a small one.
    let server = LoopbackServer::start("limits-http", |stream| {
        let request = read_request(stream, 1 << 16).map_err(std::io::Error::other)?;
        match request.path.as_str() {
            "/big" => respond(stream, 200, &"b".repeat(4096)),
            "/slow" => {
                std::thread::sleep(Duration::from_millis(1_500));
                respond(stream, 200, "late")
            }
            _ => respond(stream, 200, "small"),
        }
    });
    let fetch = |path: &str| {
        Bytes::from(
            NetworkSuapp::fetchCall {
                request: HttpRequest {
                    url: format!("http://{}{path}", server.addr()),
                    method: "GET".into(),
                    headers: Vec::new(),
                    body: Bytes::new(),
                    withFlashbotsSignature: false,
                    timeout: 0,
                },
            }
            .abi_encode(),
        )
    };
    let user = dev_user();

    // http.max_response_bytes: the SUAPP's call fails with the limit in the message.
    let request = client
        .build_request(&user, NETWORK_SUAPP, fetch("/big"), &[], Signing::Eip712)
        .await;
    let message = rpc_error(client.send_request(&request).await, "a 4 KiB response");
    assert!(
        message.contains("response body exceeds the limit of 1024 bytes"),
        "{message}"
    );
    others_are_served(&url).await;

    // http.default_timeout_ms: a server slower than 300 ms.
    let started = Instant::now();
    let request = client
        .build_request(&user, NETWORK_SUAPP, fetch("/slow"), &[], Signing::Eip712)
        .await;
    let message = rpc_error(client.send_request(&request).await, "a slow server");
    assert!(message.contains("deadline exceeded"), "{message}");
    assert!(started.elapsed() < Duration::from_millis(1_400));
    others_are_served(&url).await;
    // Within the limits the same SUAPP works.
    let ok = client
        .confidential_call(NETWORK_SUAPP, fetch("/small"), &[])
        .await
        .expect("a small, fast response");
    let calldata = NetworkSuapp::fetchCall::abi_decode_returns(&ok).expect("fetch returns bytes");
    let callback = NetworkSuapp::onFetchedCall::abi_decode(&calldata).expect("onFetched calldata");
    assert_eq!(callback.body.as_ref(), b"small");

    // rpc.max_response_bytes: NetworkSuapp's code (about 13 KB of hex) does not fit in 8 KiB.
    let failure = client
        .json("eth_getCode", json!([NETWORK_SUAPP, "latest"]))
        .await
        .expect_err("a response over the limit");
    assert_eq!(failure.code(), Some(-32008), "{failure}");
    others_are_served(&url).await;

    // pool.max_tx_bytes = 2048: a transaction carrying 3000 bytes of data.
    let message = rpc_error(
        client
            .send_eip1559(
                &user,
                TxKind::Call(Address::repeat_byte(0x77)),
                Bytes::from(vec![1u8; 3000]),
                U256::ZERO,
                100_000,
            )
            .await,
        "a 3 KB transaction",
    );
    assert!(message.contains("oversized data"), "{message}");
    others_are_served(&url).await;

    // pool.max_per_sender = 2, pool.max_transactions = 3.
    let transfer = |signer: PrivateKeySigner| {
        let client = client.clone();
        async move {
            client
                .send_eip1559(
                    &signer,
                    TxKind::Call(Address::repeat_byte(0x77)),
                    Bytes::new(),
                    U256::from(1),
                    21_000,
                )
                .await
        }
    };
    for _ in 0..2 {
        transfer(user.clone())
            .await
            .expect("within the sender limit");
    }
    let message = rpc_error(transfer(user.clone()).await, "a third pending transaction");
    assert_eq!(message, "too many pending transactions from sender");
    transfer(second.clone())
        .await
        .expect("another sender, pool not yet full");
    let message = rpc_error(
        transfer(second.clone()).await,
        "a fourth pending transaction",
    );
    assert_eq!(message, "txpool is full");
    others_are_served(&url).await;
    assert_eq!(
        client.pending_nonce(user.address()).await,
        client.nonce(user.address()).await + 2
    );
}
