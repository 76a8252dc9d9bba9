//! The `Oracle` SUAPP (`suapps/oracle/Oracle.sol`) end to end: a `kettle dev` and a tiny price
//! server on loopback.
//!
//! - `fetchPrice(url)` GETs the price; the callback's `PriceUpdated` carries it with the
//!   kettle's clock, and a plain (non-confidential) `eth_call` of `latestPrice()` reads it;
//! - internal hosts that only the `*` wildcard could admit (a private address, the cloud
//!   metadata address) are refused before any connection, with the allow-list message;
//! - a 500 from the server, or a body that is not a number, is refused and changes nothing.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use kettle_contracts::oracle::Oracle::{self, PriceUpdated};
use kettle_tests::{decode_logs, dev_user, KettleClient, KettleProcess, RpcFailure, Signing};
use serde_json::json;

/// The price the server answers on `/price`.
const PRICE: u64 = 123_456;

/// A loopback HTTP server: `/price` answers `123456\n`, `/broken` a 500, `/text` a 200 with
/// a body that is not a number. Records the paths it was asked for.
struct PriceServer {
    addr: SocketAddr,
    paths: Arc<Mutex<Vec<String>>>,
}

impl PriceServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().expect("local addr");
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = paths.clone();
        // The thread ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &seen);
            }
        });
        Self { addr, paths }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

fn answer(mut stream: TcpStream, seen: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
    }
    seen.lock().unwrap().push(path.clone());
    let (status, body) = match path.as_str() {
        "/price" => ("200 OK", format!("{PRICE}\n")),
        "/broken" => ("500 Internal Server Error", "oops".to_owned()),
        "/text" => ("200 OK", "about 12 dollars".to_owned()),
        _ => ("404 Not Found", String::new()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

fn fetch(url: &str) -> Bytes {
    Oracle::fetchPriceCall { url: url.into() }
        .abi_encode()
        .into()
}

/// `latestPrice()` through a plain, non-confidential `eth_call`.
async fn latest_price(client: &KettleClient, oracle: Address) -> U256 {
    let out: Bytes = client
        .rpc(
            "eth_call",
            (
                json!({"to": oracle, "input": Bytes::from(Oracle::latestPriceCall {}.abi_encode())}),
                "latest",
            ),
        )
        .await
        .expect("eth_call latestPrice()");
    Oracle::latestPriceCall::abi_decode_returns(&out).expect("uint256")
}

/// Sends a `fetchPrice(url)` request that must be refused; its error.
async fn refused(client: &KettleClient, oracle: Address, url: &str) -> RpcFailure {
    let request = client
        .build_request(&dev_user(), oracle, fetch(url), b"", Signing::Eip712)
        .await;
    client
        .send_request(&request)
        .await
        .expect_err("the request must be refused")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_stores_fetched_prices_and_refuses_bad_sources() {
    let server = PriceServer::start();
    let kettle = KettleProcess::start();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let oracle = client.deploy(&user, "Oracle").await;
    assert_eq!(latest_price(&client, oracle).await, U256::ZERO);

    // A price fetched over HTTP lands on chain.
    let before = now_ms();
    let receipt = client
        .request_and_wait(&user, oracle, fetch(&server.url("/price")), b"")
        .await;
    let after = now_ms();
    let updates = decode_logs::<PriceUpdated>(&receipt);
    assert_eq!(updates.len(), 1, "{receipt:?}");
    assert_eq!(updates[0].price, U256::from(PRICE));
    assert!(
        (before..=after).contains(&updates[0].fetchedAtMs),
        "fetchedAtMs {} outside [{before}, {after}]",
        updates[0].fetchedAtMs
    );
    assert_eq!(latest_price(&client, oracle).await, U256::from(PRICE));
    assert_eq!(server.paths(), ["/price"]);

    // Internal addresses are not covered by the dev preset's `*`: refused before connecting.
    for host in ["10.0.0.1", "169.254.169.254"] {
        let started = Instant::now();
        let err = refused(&client, oracle, &format!("http://{host}/price")).await;
        assert_eq!(
            err.message(),
            format!(
                "transaction failed: execution reverted: precompile \
                 '0x0000000000000000000000000000000043200002' reverted: 'domain {host} resolves \
                 only to internal addresses, which are not allowed'"
            ),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "refusing {host} took {:?}: was a connection attempted?",
            started.elapsed()
        );
    }

    // An HTTP error status is refused with the status in the message.
    let err = refused(&client, oracle, &server.url("/broken")).await;
    assert!(err.message().contains("http error: 500"), "{err}");
    // A body that is not a number is refused by the SUAPP itself (NotANumber).
    let err = refused(&client, oracle, &server.url("/text")).await;
    assert!(
        err.message()
            .starts_with("transaction failed: execution reverted"),
        "{err}"
    );

    assert_eq!(server.paths(), ["/price", "/broken", "/text"]);
    assert_eq!(
        latest_price(&client, oracle).await,
        U256::from(PRICE),
        "refused requests change nothing"
    );
}
