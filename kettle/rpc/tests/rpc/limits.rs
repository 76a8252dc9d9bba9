//! Robustness: malformed requests, wrong params, size, batch, connection and time limits,
//! CORS and shutdown. Every failure is a proper JSON-RPC (or HTTP) error and the server
//! keeps serving.

use std::time::{Duration, Instant};

use alloy_primitives::{Address, U64};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};

use crate::common::*;

fn error_code(body: &str) -> i64 {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

async fn assert_alive(node: &TestNode) {
    let n: U64 = node.call("eth_blockNumber", rpc_params![]).await;
    assert_eq!(n, U64::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_json_rpc_errors() {
    let node = TestNode::start().await;
    let cases: &[(&[u8], i64)] = &[
        (br#"{"jsonrpc":"2.0","id":1,"method":"#, -32700),
        (b"not json at all", -32700),
        (&[0xff, 0xfe, 0x00, 0x80, 0x13], -32700),
        (br#"{"jsonrpc":"2.0","id":1}"#, -32600),
        (
            br#"{"jsonrpc":"2.0","id":1,"method":"eth_noSuchMethod","params":[]}"#,
            -32601,
        ),
        (
            br#"{"jsonrpc":"2.0","id":1,"method":"debug_traceTransaction","params":[]}"#,
            -32601,
        ),
        (br#"[]"#, -32600),
    ];
    for (body, code) in cases {
        let (status, _, text) = node.post(body).await;
        // jsonrpsee answers unparsable bodies with 400, the rest with 200
        assert!(
            status == 200 || (status == 400 && *code == -32700),
            "{status} {text}"
        );
        assert_eq!(
            error_code(&text),
            *code,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // wrong parameter counts and types
    let me = user().address();
    for (method, params, code) in [
        ("eth_getBalance", json!([]), -32602),
        ("eth_getBalance", json!(["0x1234"]), -32602),
        ("eth_getBalance", json!([me, "notatag"]), -32602),
        ("eth_getBlockByNumber", json!(["latest"]), -32602),
        ("eth_getBlockByNumber", json!([1.5, false]), -32602),
        ("eth_getTransactionByHash", json!([123]), -32602),
        ("eth_sendRawTransaction", json!(["0xzz"]), -32602),
        ("eth_sendRawTransaction", json!([{"raw": "0x00"}]), -32602),
        ("eth_call", json!(["0x00"]), -32602),
        ("eth_call", json!([{"gas": "lots"}]), -32602),
        ("eth_getLogs", json!([{"fromBlock": "yesterday"}]), -32602),
        ("eth_feeHistory", json!(["0x1"]), -32602),
        ("eth_feeHistory", json!([-1, "latest"]), -32602),
        (
            "eth_getStorageAt",
            json!([
                me,
                "0x1234567890123456789012345678901234567890123456789012345678901234567890",
                "latest"
            ]),
            -32602,
        ),
    ] {
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let (status, _, text) = node.post(body.to_string().as_bytes()).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&text), code, "{method} {params}: {text}");
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["id"], json!(7));
    }
    // not JSON content, not POST
    let (status, _, _) = raw_http(
        node.addr(),
        format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
            node.addr()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 415);
    let (status, _, _) = raw_http(
        node.addr(),
        format!(
            "PUT / HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            node.addr()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 405);
    // garbage that is not HTTP: the connection is dropped, nothing else happens
    let _ = raw_http_lenient(node.addr(), b"\x00\x01\x02 GARBAGE\r\n\r\n").await;
    assert_alive(&node).await;
}

async fn raw_http_lenient(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.write_all(bytes).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_batch_limits() {
    let node = TestNode::start_with(|c| {
        c.max_request_body_bytes = 1024;
        c.max_response_body_bytes = 600;
        c.max_batch_len = 2;
    })
    .await;
    // oversized body: HTTP 413 with a JSON-RPC error, promptly
    let padding = "0".repeat(2000);
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x{padding}"]}}"#
    );
    let started = Instant::now();
    let (status, _, text) = node.post(body.as_bytes()).await;
    assert_eq!(status, 413);
    assert_eq!(error_code(&text), -32007);
    assert!(started.elapsed() < Duration::from_secs(5));

    // oversized response
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", true]});
    let (status, _, text) = node.post(body.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&text), -32008);

    // batches: within the limit answered in full, above it refused as a whole
    let call = |id: u64| json!({"jsonrpc": "2.0", "id": id, "method": "eth_chainId", "params": []});
    let (_, _, text) = node
        .post(json!([call(1), call(2)]).to_string().as_bytes())
        .await;
    let answers: Vec<Value> = serde_json::from_str(&text).expect("batch");
    assert_eq!(answers.len(), 2);
    assert!(answers.iter().all(|a| a["result"] == json!("0x1008c45")));
    let (_, _, text) = node
        .post(json!([call(1), call(2), call(3)]).to_string().as_bytes())
        .await;
    assert_eq!(error_code(&text), -32010);
    // a batch mixing good and bad calls answers each
    let (_, _, text) = node
        .post(
            json!([call(1), {"jsonrpc": "2.0", "id": 2, "method": "nope"}])
                .to_string()
                .as_bytes(),
        )
        .await;
    let answers: Vec<Value> = serde_json::from_str(&text).expect("batch");
    assert_eq!(answers[1]["error"]["code"], json!(-32601));
    assert_alive(&node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_can_be_disabled() {
    let node = TestNode::start_with(|c| c.max_batch_len = 0).await;
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
    let (_, _, text) = node.post(json!([call]).to_string().as_bytes()).await;
    assert_eq!(error_code(&text), -32005);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_calls_time_out() {
    let node = TestNode::start_with(|c| {
        c.method_timeouts
            .insert("eth_call".into(), Duration::from_millis(300));
    })
    .await;
    let started = Instant::now();
    let err = node
        .call_err(
            "eth_call",
            rpc_params![json!({"to": Address::ZERO, "input": "0x736c656570", "isConfidential": true, "gas": "0x10000"})],
        )
        .await;
    assert_eq!((err.code(), err.message()), (-32002, "request timed out"));
    assert!(started.elapsed() < Duration::from_millis(1400));
    // other methods keep the default timeout and still answer
    assert_alive(&node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_refuses_extra_connections() {
    let node = TestNode::start_with(|c| c.max_connections = 1).await;
    let ws = node.ws().await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
    let (status, _, _) = node.post(body.to_string().as_bytes()).await;
    assert_eq!(status, 429);
    drop(ws);
    // the slot frees up once the WebSocket is gone
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, _) = node.post(body.to_string().as_bytes()).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "connection slot never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_for_configured_origins() {
    let preflight = |addr: std::net::SocketAddr, origin: &str| {
        format!(
            "OPTIONS / HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
        )
    };
    let node = TestNode::start_with(|c| {
        c.cors_origins = Some(vec!["http://app.example".into()]);
    })
    .await;
    let (status, headers, _) = raw_http(
        node.addr(),
        preflight(node.addr(), "http://app.example").as_bytes(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(headers
        .to_lowercase()
        .contains("access-control-allow-origin: http://app.example"));
    let (_, headers, _) = raw_http(
        node.addr(),
        preflight(node.addr(), "http://evil.example").as_bytes(),
    )
    .await;
    assert!(!headers
        .to_lowercase()
        .contains("access-control-allow-origin"));

    let any = TestNode::start_with(|c| c.cors_origins = Some(vec!["*".into()])).await;
    let (_, headers, _) = raw_http(
        any.addr(),
        preflight(any.addr(), "http://x.example").as_bytes(),
    )
    .await;
    assert!(headers
        .to_lowercase()
        .contains("access-control-allow-origin: *"));

    let none = TestNode::start().await;
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nOrigin: http://app.example\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        none.addr(),
        body.len()
    );
    let (status, headers, _) = raw_http(none.addr(), request.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(!headers
        .to_lowercase()
        .contains("access-control-allow-origin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_config_is_refused_and_stop_is_graceful() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = kettle_chain::db::open_db(dir.path(), &[]).expect("db");
    let chain = std::sync::Arc::new(
        kettle_chain::Chain::open(
            db,
            kettle_chain::ChainSpec::dev(kettle_primitives::DEV_KETTLE_ADDRESS),
            Default::default(),
        )
        .expect("chain"),
    );
    let node = TestNode::start().await;
    let config = kettle_rpc::RpcConfig {
        max_connections: 0,
        ..Default::default()
    };
    let err = kettle_rpc::start(config, chain.clone(), node.kettle.clone())
        .await
        .expect_err("refused");
    assert!(matches!(err, kettle_rpc::RpcError::Config(_)), "{err}");
    // binding an address in use fails cleanly
    let config = kettle_rpc::RpcConfig {
        listen_addr: node.addr(),
        ..Default::default()
    };
    let err = kettle_rpc::start(config, chain, node.kettle.clone())
        .await
        .expect_err("address in use");
    assert!(matches!(err, kettle_rpc::RpcError::Bind { .. }), "{err}");

    let addr = node.addr();
    tokio::time::timeout(Duration::from_secs(10), node.handle.clone().stop())
        .await
        .expect("stops promptly");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
