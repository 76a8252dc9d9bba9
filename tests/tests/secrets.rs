//! Secrets hygiene of a real `kettle` binary (SECURITY.md).
//!
//! - Key files: `kettle key` creates them with mode 0600; `kettle key`, `kettle dev
//!   --key-file`, `kettle run` (key file, or a config file holding `builder.coinbase_key`) and
//!   the client's `kettle request --key-file` refuse files that group or others can read, with
//!   a message naming the file and the fix.
//! - No secret in logs or at rest: one kettle runs with `--log trace` (every crate) on its own
//!   key file, a fixed builder coinbase key and an Ethereum backend URL carrying an API key, and
//!   serves a full session: SUAPP deployments, confidential requests storing secrets (Vault,
//!   StoreSuapp), reading them back (a request and a confidential `eth_call`), a secret HTTP
//!   header sent to a local server, `eth_call` / `eth_estimateGas`, blocks, and errors on
//!   purpose (malformed transactions and JSON carrying a secret, requests whose revert data is
//!   the confidential inputs: raw, `Error(string)` and `PeekerReverted`, a malformed secret
//!   header). Afterwards the kettle's stdout and stderr are searched for every secret (the
//!   kettle's three keys, the store secret derived from them, the coinbase key, the API key,
//!   the user's key, every confidential input and stored value) as raw bytes, hex in either
//!   case (so with or without `0x`) and base64 (standard and URL-safe, any alignment), and
//!   every file of the data directory for the confidential inputs, stored values and keys.
//!   A control run plants each secret in a file and a log of its own and checks the search
//!   finds it in every form, so the test can fail.
//! - The same at `trace` for a two-kettle cluster replicating a record (libp2p's logs too).
//!
//! Build the binary first: `cargo build -p kettle`.

use std::{
    fs,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{hex, keccak256, Address, Bytes, FixedBytes, U256};
use alloy_sol_types::{SolCall, SolError};
use kettle_contracts::{
    network_suapp::{NetworkSuapp, Suave::HttpRequest},
    store_suapp::StoreSuapp,
    vault::Vault,
    PeekerReverted,
};
use kettle_tests::{decode_logs, http_get, kettle_bin, KettleClient, RpcFailure, Signing, TestRng};
use serde_json::{json, Value};

const SEED: &str = "KETTLE_SECRETS_SEED";

/// How long the kettle may take to start or to stop.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

/// Address of the `confidentialInputs` precompile.
const CONFIDENTIAL_INPUTS: u32 = 0x4201_0001;

// ---------------------------------------------------------------------------------------------
// Key files
// ---------------------------------------------------------------------------------------------

/// `kettle <args>` with no RPC or key in the environment.
fn kettle(args: &[&str]) -> Output {
    Command::new(kettle_bin())
        .env_remove("KETTLE_KEY")
        .env_remove("KETTLE_RPC")
        .env_remove("KETTLE_CONFIG")
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .expect("running kettle")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Asserts that `out` failed and its stderr names `path` and `chmod 600`.
fn assert_refused(out: &Output, path: &Path, what: &str) {
    assert!(
        !out.status.success(),
        "{what} accepted a loose file: {}",
        text(out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&path.display().to_string()) && stderr.contains("chmod 600"),
        "{what}: the message must name the file and the fix: {}",
        text(out)
    );
}

/// The three hex keys of a kettle key file.
fn key_file_secrets(path: &Path) -> Vec<(String, Vec<u8>)> {
    let file: Value =
        serde_json::from_str(&fs::read_to_string(path).expect("key file")).expect("key JSON");
    ["kettle_key", "bundle_signing_key", "bls_key"]
        .into_iter()
        .map(|name| {
            let hex_key = file[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in key file"));
            let bytes = hex::decode(hex_key).expect("hex key");
            assert_eq!(bytes.len(), 32, "{name}");
            (name.to_owned(), bytes)
        })
        .collect()
}

#[test]
fn key_files_are_created_private_and_loose_ones_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("keys/kettle.json");

    // Created 0600 (directory created too), address printed, no key material printed.
    let out = kettle(&["key", "--key-file", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&key), 0o600, "key file mode");
    let address: Address = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("`kettle key` prints the address");
    let printed = [out.stdout.clone(), out.stderr.clone()].concat();
    for (name, secret) in key_file_secrets(&key) {
        assert_eq!(
            find_leak(&printed, &secret),
            None,
            "`kettle key` printed {name}"
        );
    }
    // Reading it again prints the same address.
    let again = kettle(&["key", "--key-file", key.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        address.to_string()
    );

    // Group- or world-readable: refused by every command that reads it.
    let datadir = dir.path().join("data");
    let config = dir.path().join("kettle.toml");
    fs::write(
        &config,
        format!(
            "datadir = {:?}\nkey_file = {:?}\n[rpc]\naddr = \"127.0.0.1:0\"\n",
            datadir.display().to_string(),
            key.display().to_string()
        ),
    )
    .expect("config");
    chmod(&config, 0o600);
    for loose in [0o640, 0o604, 0o644] {
        chmod(&key, loose);
        let k = key.to_str().unwrap();
        assert_refused(&kettle(&["key", "--key-file", k]), &key, "kettle key");
        let started = Instant::now();
        let out = kettle(&[
            "dev",
            "--key-file",
            k,
            "--datadir",
            datadir.to_str().unwrap(),
            "--http-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ]);
        assert_refused(&out, &key, "kettle dev --key-file");
        assert!(started.elapsed() < PROCESS_TIMEOUT);
        assert!(
            !datadir.join("db").exists(),
            "the database must not be opened with a refused key"
        );
        let out = kettle(&["run", "--config", config.to_str().unwrap()]);
        assert_refused(&out, &key, "kettle run");
    }
    chmod(&key, 0o600);

    // A config file holding a secret (builder.coinbase_key) must be private too.
    let with_secret = dir.path().join("builder.toml");
    fs::write(
        &with_secret,
        format!(
            "datadir = {:?}\nkey_file = {:?}\n[builder]\ncoinbase_key = \"{}\"\n",
            datadir.display().to_string(),
            key.display().to_string(),
            hex::encode([0x11u8; 32])
        ),
    )
    .expect("config");
    chmod(&with_secret, 0o644);
    assert_refused(
        &kettle(&["run", "--config", with_secret.to_str().unwrap()]),
        &with_secret,
        "kettle run with coinbase_key in a loose config",
    );

    // The client's signing key file: refused before any connection is made.
    let user_key = dir.path().join("user.key");
    fs::write(&user_key, format!("{}\n", hex::encode([0x22u8; 32]))).expect("user key");
    chmod(&user_key, 0o644);
    let out = kettle(&[
        "request",
        "--rpc",
        "http://127.0.0.1:9",
        "--key-file",
        user_key.to_str().unwrap(),
        "0x0000000000000000000000000000000000000001",
        "store()",
    ]);
    assert_refused(&out, &user_key, "kettle request --key-file");
}

// ---------------------------------------------------------------------------------------------
// Secret search
// ---------------------------------------------------------------------------------------------

/// Standard base64 with padding.
fn base64(data: &[u8], url_safe: bool) -> String {
    let alphabet: &[u8; 64] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every form `secret` is searched in: raw bytes, hex in both cases (a `0x` prefix or none
/// makes no difference to a substring search), and the parts of its base64 encoding that do
/// not depend on the bytes around it, for each of the three alignments it can have inside a
/// longer base64 text, in both alphabets.
fn forms(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut forms = vec![
        ("raw".to_owned(), secret.to_vec()),
        ("hex".to_owned(), hex::encode(secret).into_bytes()),
        ("HEX".to_owned(), hex::encode_upper(secret).into_bytes()),
    ];
    for url_safe in [false, true] {
        for shift in 0..3usize {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(secret);
            let encoded = base64(&shifted, url_safe);
            // Leading characters mixing in the shift bytes, trailing ones mixing in whatever
            // follows (or padding).
            let skip = [0, 2, 3][shift];
            let keep = encoded.len().saturating_sub(4);
            if keep > skip + 8 {
                let name = format!(
                    "base64{} (offset {shift})",
                    if url_safe { "url" } else { "" }
                );
                forms.push((name, encoded.as_bytes()[skip..keep].to_vec()));
            }
        }
    }
    forms
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The form in which `secret` is in `haystack`, if any.
fn find_leak(haystack: &[u8], secret: &[u8]) -> Option<String> {
    forms(secret)
        .into_iter()
        .find(|(_, needle)| contains(haystack, needle))
        .map(|(how, _)| how)
}

/// The lines of `haystack` holding `secret` in any form (at most [`MAX_SHOWN`]), shortened,
/// for a failure message that shows every place that leaks.
fn leaking_lines(haystack: &[u8], secret: &[u8]) -> Vec<String> {
    let needles = forms(secret);
    haystack
        .split(|b| *b == b'\n')
        .filter(|line| needles.iter().any(|(_, n)| contains(line, n)))
        .take(MAX_SHOWN)
        .map(|line| String::from_utf8_lossy(line).chars().take(500).collect())
        .collect()
}

/// Leaking lines shown per secret and haystack.
const MAX_SHOWN: usize = 8;

/// Every regular file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

/// The secrets found in `haystack` (`what` names it): one entry per leaking secret, with the
/// lines that hold it.
fn leaks_in(what: &str, haystack: &[u8], secrets: &[(String, Vec<u8>)]) -> Vec<String> {
    secrets
        .iter()
        .filter_map(|(name, secret)| {
            find_leak(haystack, secret).map(|how| {
                format!(
                    "{name} ({how}) in {what}:\n    {}",
                    leaking_lines(haystack, secret).join("\n    ")
                )
            })
        })
        .collect()
}

#[test]
fn the_search_finds_every_form_of_a_planted_secret() {
    let mut rng = TestRng::from_env_or_clock(SEED);
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = vec![
        ("binary".to_owned(), rng.bytes(32)),
        (
            "text".to_owned(),
            format!("pw-{:016x}", rng.next_u64()).into_bytes(),
        ),
    ];
    for (name, secret) in &secrets {
        for (how, form) in forms(secret) {
            // In the middle of other bytes, as in a log line or a database block.
            let mut planted = b"2026-01-01T00:00:00Z DEBUG kettle: value=0x".to_vec();
            let pad = rng.in_range(0..3) as usize;
            planted.extend(rng.bytes(pad));
            planted.extend(&form);
            planted.extend(b" more\n");
            let file = dir.path().join(format!("{name}-{}", how.replace(' ', "_")));
            fs::write(&file, &planted).expect("control file");
            let found: Vec<_> = files_under(dir.path())
                .into_iter()
                .filter(|(p, _)| *p == file)
                .flat_map(|(p, bytes)| leaks_in(&p.display().to_string(), &bytes, &secrets))
                .collect();
            assert!(!found.is_empty(), "{name} planted as {how} was not found");
        }
        // Base64 of the secret inside a longer message, at each alignment.
        for shift in 0..3 {
            let mut message = rng.bytes(shift);
            message.extend(secret);
            message.extend(rng.bytes(5));
            for url_safe in [false, true] {
                let log = format!("body={}\n", base64(&message, url_safe));
                assert!(
                    find_leak(log.as_bytes(), secret).is_some_and(|h| h.starts_with("base64")),
                    "{name} in base64 at offset {shift} not found: {log}"
                );
            }
        }
    }
    // And nothing is found where nothing was planted.
    let clean = format!(
        "{}{}",
        hex::encode(rng.bytes(64)),
        base64(&rng.bytes(64), false)
    );
    assert!(leaks_in("clean", clean.as_bytes(), &secrets).is_empty());
}

// ---------------------------------------------------------------------------------------------
// The kettle process
// ---------------------------------------------------------------------------------------------

/// A `kettle dev` child writing stdout and stderr to files; killed when dropped.
struct Kettle {
    child: Child,
    rpc: SocketAddr,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Drop for Kettle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("free port")
}

impl Kettle {
    /// Starts `kettle dev <args>` on free ports, appending its stdout and stderr to files in
    /// `logs`; returns once `/health` answers.
    fn start(logs: &Path, datadir: &Path, args: &[String]) -> Self {
        let stdout = logs.join("kettle.stdout");
        let stderr = logs.join("kettle.stderr");
        for _attempt in 0..5 {
            let (a, b) = (free_addr(), free_addr());
            let (rpc, metrics) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            drop((a, b));
            let open = |p: &Path| {
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .expect("log file")
            };
            let mut cmd = Command::new(kettle_bin());
            cmd.arg("dev")
                .arg("--datadir")
                .arg(datadir)
                .arg("--http-addr")
                .arg(rpc.to_string())
                .arg("--metrics-addr")
                .arg(metrics.to_string())
                .args(args)
                .env_remove("KETTLE_DATADIR")
                .env_remove("KETTLE_HTTP_ADDR")
                .env_remove("KETTLE_METRICS_ADDR")
                .env("RUST_LOG", "trace")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(open(&stdout))
                .stderr(open(&stderr));
            die_with_parent(&mut cmd);
            let child = cmd.spawn().expect("spawning kettle");
            let mut kettle = Self {
                child,
                rpc,
                stdout: stdout.clone(),
                stderr: stderr.clone(),
            };
            let started = Instant::now();
            loop {
                if let Some(status) = kettle.child.try_wait().expect("try_wait") {
                    let err = fs::read_to_string(&stderr).unwrap_or_default();
                    if err.contains("Address already in use") {
                        break; // another attempt on other ports
                    }
                    panic!("kettle exited during start-up ({status}):\n{err}");
                }
                if matches!(
                    http_get(metrics, "/health", Duration::from_secs(2)),
                    Ok((200, _))
                ) && TcpStream::connect(rpc).is_ok()
                {
                    return kettle;
                }
                assert!(
                    started.elapsed() < PROCESS_TIMEOUT,
                    "kettle not healthy in {PROCESS_TIMEOUT:?}"
                );
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        panic!("kettle could not bind free ports");
    }

    fn url(&self) -> String {
        format!("http://{}", self.rpc)
    }

    /// SIGTERM and wait: the graceful shutdown flushes the logs and RocksDB.
    fn stop(&mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own unreaped child.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        while self.child.try_wait().expect("try_wait").is_none() {
            assert!(Instant::now() < deadline, "kettle did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// The child gets SIGKILL when the test process dies, so a failed run leaves nothing behind.
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A loopback HTTP server answering `200 ok` to everything; keeps the request heads.
struct HeaderServer {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl HeaderServer {
    fn start() -> Self {
        let listener = free_addr();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                seen.lock().unwrap().push(head);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            }
        });
        Self { addr, heads }
    }
}

// ---------------------------------------------------------------------------------------------
// Contracts without Solidity: revert with the confidential inputs
// ---------------------------------------------------------------------------------------------

/// Creation code returning `runtime`.
fn init_code(runtime: &[u8]) -> Bytes {
    let len = u8::try_from(runtime.len()).expect("short runtime");
    // PUSH1 len DUP1 PUSH1 11 PUSH1 0 CODECOPY PUSH1 0 RETURN
    let mut code = vec![0x60, len, 0x80, 0x60, 11, 0x60, 0, 0x39, 0x60, 0, 0xf3];
    code.extend_from_slice(runtime);
    code.into()
}

/// Runtime code: reads the confidential inputs (STATICCALL to the precompile) and reverts
/// with them, either raw or ABI-encoded as `selector(head words…, bytes inputs)`.
fn revert_inputs_runtime(abi: Option<([u8; 4], &[U256])>) -> Vec<u8> {
    let mut c = vec![0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x63];
    c.extend(CONFIDENTIAL_INPUTS.to_be_bytes());
    c.extend([0x5a, 0xfa, 0x50]); // GAS STATICCALL POP
    match abi {
        None => {
            // RETURNDATACOPY(0, 0, size); REVERT(0, size)
            c.extend([0x3d, 0x60, 0, 0x60, 0, 0x3e, 0x3d, 0x60, 0, 0xfd]);
        }
        Some((selector, head)) => {
            c.push(0x63);
            c.extend(selector);
            c.extend([0x60, 224, 0x1b, 0x60, 0, 0x52]); // SHL, MSTORE(0, selector << 224)
            let mut at = 4u8;
            for word in head {
                c.push(0x7f);
                c.extend(word.to_be_bytes::<32>());
                c.extend([0x60, at, 0x52]);
                at += 32;
            }
            c.extend([0x3d, 0x60, at, 0x52]); // MSTORE(at, size)
            let data = at + 32;
            c.extend([0x3d, 0x60, 0, 0x60, data, 0x3e]); // RETURNDATACOPY(data, 0, size)
                                                         // REVERT(0, data + ceil32(size))
            c.extend([
                0x3d, 0x60, 31, 0x01, 0x60, 5, 0x1c, 0x60, 5, 0x1b, 0x60, data, 0x01, 0x60, 0, 0xfd,
            ]);
        }
    }
    c
}

// ---------------------------------------------------------------------------------------------
// The end-to-end run
// ---------------------------------------------------------------------------------------------

/// A distinctive text secret.
fn text_secret(rng: &mut TestRng, label: &str) -> Vec<u8> {
    format!(
        "{label}-{:016x}{:08x}",
        rng.next_u64(),
        rng.next_u64() as u32
    )
    .into_bytes()
}

/// `eth_sendRawTransaction` of raw bytes; must fail.
async fn send_raw_fails(client: &KettleClient, raw: &[u8], what: &str) -> RpcFailure {
    match client.send_raw(raw).await {
        Ok(hash) => panic!("{what} was accepted ({hash})"),
        Err(e) => e,
    }
}

/// POSTs `body` to the kettle's RPC as is; the response text.
fn post_raw(rpc: SocketAddr, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(rpc).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {rpc}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

fn vault_id(receipt: &kettle_tests::AnyTransactionReceipt) -> FixedBytes<16> {
    let stored = decode_logs::<Vault::SecretStored>(receipt);
    assert_eq!(stored.len(), 1, "one SecretStored: {receipt:?}");
    stored[0].id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_or_at_rest_at_trace_level() {
    let mut rng = TestRng::from_env_or_clock(SEED);
    let root = tempfile::tempdir().expect("temp dir");
    let logs_dir = root.path().join("logs");
    let datadir = root.path().join("data");
    fs::create_dir_all(&logs_dir).unwrap();
    let key_file = root.path().join("kettle-key.json");

    // Keys: the kettle's key file (made by `kettle key`), the store secret derived from it,
    // a fixed builder coinbase key and an API key in the Ethereum backend URL.
    let out = kettle(&["key", "--key-file", key_file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let mut keys = key_file_secrets(&key_file);
    let loaded = kettle_node::KettleKeys::load_or_create(&key_file).expect("key file loads");
    keys.push(("store secret".into(), loaded.store_secret().0.to_vec()));
    let coinbase = rng.bytes(32);
    keys.push(("builder coinbase key".into(), coinbase.clone()));
    let api_key = text_secret(&mut rng, "apikey");
    keys.push(("eth backend API key".into(), api_key.clone()));
    let dead_port = free_addr().local_addr().unwrap().port();

    let mut kettle_proc = Kettle::start(
        &logs_dir,
        &datadir,
        &[
            "--key-file".into(),
            key_file.display().to_string(),
            "--log".into(),
            "trace".into(),
            "--eth-backend".into(),
            format!(
                "http://127.0.0.1:{dead_port}/v3/{}",
                String::from_utf8_lossy(&api_key)
            ),
            "--builder-coinbase-key".into(),
            hex::encode(&coinbase),
        ],
    );
    let client = KettleClient::connect(&kettle_proc.url()).await;
    assert_eq!(
        client.kettle_address(),
        loaded.address(),
        "runs on the key file"
    );

    let user = client.funded_user(&mut rng).await;
    keys.push(("user key".into(), user.to_bytes().to_vec()));

    // Confidential inputs and stored values.
    let vault_binary = rng.bytes(32);
    let vault_text = text_secret(&mut rng, "vault");
    let store_text = text_secret(&mut rng, "store");
    let call_text = text_secret(&mut rng, "call");
    let revert_text = text_secret(&mut rng, "revert");
    let bad_header = text_secret(&mut rng, "noheadercolon");
    let header_value = text_secret(&mut rng, "hdr");
    let good_header = [b"X-Api-Key: ".as_slice(), &header_value].concat();
    let malformed = text_secret(&mut rng, "malformed");
    let confidential: Vec<(String, Vec<u8>)> = vec![
        ("Vault input (binary)".into(), vault_binary.clone()),
        ("Vault input (text)".into(), vault_text.clone()),
        ("StoreSuapp input".into(), store_text.clone()),
        ("eth_call input".into(), call_text.clone()),
        ("reverted input".into(), revert_text.clone()),
        ("malformed header input".into(), bad_header.clone()),
        ("secret header value".into(), header_value.clone()),
        ("malformed request marker".into(), malformed.clone()),
    ];

    // SUAPPs.
    let vault = client.deploy(&user, "Vault").await;
    let store_suapp = client.deploy(&user, "StoreSuapp").await;
    let network = client.deploy(&user, "NetworkSuapp").await;
    let raw_revert = client
        .deploy_code(&user, init_code(&revert_inputs_runtime(None)))
        .await;
    let string_revert = client
        .deploy_code(
            &user,
            init_code(&revert_inputs_runtime(Some((
                [0x08, 0xc3, 0x79, 0xa0],
                &[U256::from(0x20)],
            )))),
        )
        .await;
    let peeker_revert = client
        .deploy_code(
            &user,
            init_code(&revert_inputs_runtime(Some((
                PeekerReverted::SELECTOR,
                &[U256::from(CONFIDENTIAL_INPUTS), U256::from(0x40)],
            )))),
        )
        .await;

    // Store secrets (EIP-712 and plain signatures), read them back in requests.
    let store_call: Bytes = Vault::storeCall {}.abi_encode().into();
    let r1 = client
        .request_and_wait(&user, vault, store_call.clone(), &vault_binary)
        .await;
    let id1 = vault_id(&r1);
    let request = client
        .build_request(
            &user,
            vault,
            store_call.clone(),
            &vault_text,
            Signing::Plain,
        )
        .await;
    let hash = client.send_request(&request).await.expect("plain store");
    let id2 = vault_id(&client.wait_receipt(hash).await);
    let reveal: Bytes = Vault::revealCall {
        ids: vec![id1, id2],
    }
    .abi_encode()
    .into();
    let revealed = client
        .request_and_wait(&user, vault, reveal.clone(), b"")
        .await;
    let events = decode_logs::<Vault::SecretRevealed>(&revealed);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].digest, keccak256(&vault_binary));
    assert_eq!(events[1].digest, keccak256(&vault_text));

    let stored = client
        .request_and_wait(
            &user,
            store_suapp,
            StoreSuapp::storeAndRetrieveCall { cond: 7 }
                .abi_encode()
                .into(),
            &store_text,
        )
        .await;
    let store_id = decode_logs::<StoreSuapp::Stored>(&stored)[0].id;

    // Confidential eth_call / eth_estimateGas: reading a stored value back, and a run that
    // has confidential inputs of its own.
    let back = client
        .confidential_call(
            store_suapp,
            StoreSuapp::retrieveCall {
                id: store_id,
                key: "secret".into(),
            }
            .abi_encode()
            .into(),
            b"",
        )
        .await
        .expect("confidential eth_call of retrieve");
    assert!(
        contains(&back, &store_text),
        "eth_call returns the stored value"
    );
    client
        .confidential_call(vault, store_call.clone(), &call_text)
        .await
        .expect("confidential eth_call of store");
    client
        .confidential_estimate(vault, store_call.clone(), &call_text)
        .await
        .expect("confidential eth_estimateGas");
    // A plain eth_call and the usual queries.
    let key: String = client.view(vault, Vault::KEYCall {}).await;
    assert_eq!(key, "secret");
    let head = client.block_number().await;
    assert!(head >= 8, "blocks were built: {head}");
    client.block_json(head, true).await;

    // HTTP with a secret header line: reaches the server; a malformed one is refused.
    let server = HeaderServer::start();
    let fetch = |url: String| -> Bytes {
        NetworkSuapp::fetchCall {
            request: HttpRequest {
                url,
                method: "GET".into(),
                headers: vec![],
                body: Bytes::new(),
                withFlashbotsSignature: false,
                timeout: 5_000,
            },
        }
        .abi_encode()
        .into()
    };
    let url = format!("http://{}/price", server.addr);
    client
        .request_and_wait(&user, network, fetch(url.clone()), &good_header)
        .await;
    assert!(
        server
            .heads
            .lock()
            .unwrap()
            .iter()
            .any(|h| contains(h.as_bytes(), &header_value)),
        "the secret header reached the server"
    );
    let request = client
        .build_request(&user, network, fetch(url), &bad_header, Signing::Eip712)
        .await;
    let err = client
        .send_request(&request)
        .await
        .expect_err("a header without ':' is refused");
    assert!(err.message().contains("incorrect header format"), "{err}");

    // Requests whose revert data is the confidential inputs: raw, Error(string),
    // PeekerReverted. The user who sent them may see them; the log may not.
    for (target, what) in [
        (raw_revert, "raw revert"),
        (string_revert, "Error(string) revert"),
        (peeker_revert, "PeekerReverted revert"),
    ] {
        let request = client
            .build_request(&user, target, Bytes::new(), &revert_text, Signing::Eip712)
            .await;
        let err = client
            .send_request(&request)
            .await
            .expect_err("reverting request refused");
        assert!(
            err.message().contains("execution reverted"),
            "{what}: {err}"
        );
        let err = client
            .confidential_call(target, Bytes::new(), &revert_text)
            .await
            .expect_err("reverting eth_call fails");
        assert!(
            err.message().contains("execution reverted"),
            "{what}: {err}"
        );
        let _ = client
            .confidential_estimate(target, Bytes::new(), &revert_text)
            .await;
    }
    // The PeekerReverted one shows the user its message, as suave-geth does.
    let request = client
        .build_request(
            &user,
            peeker_revert,
            Bytes::new(),
            &revert_text,
            Signing::Eip712,
        )
        .await;
    let err = client.send_request(&request).await.expect_err("reverts");
    assert!(
        contains(err.message().as_bytes(), &revert_text),
        "the sender sees the revert message: {err}"
    );

    // Malformed and refused requests carrying a secret.
    let mut garbage = vec![0x43];
    garbage.extend(&malformed);
    send_raw_fails(&client, &garbage, "a garbage 0x43").await;
    let mut garbage = vec![0xf8, 0x80];
    garbage.extend(&malformed);
    send_raw_fails(&client, &garbage, "garbage RLP").await;
    let good = client
        .build_request(
            &user,
            vault,
            store_call.clone(),
            &malformed,
            Signing::Eip712,
        )
        .await;
    // Inputs swapped after signing: the inputs hash no longer matches.
    let mut swapped = good.clone();
    swapped.confidential_inputs = Bytes::from([malformed.as_slice(), b"!"].concat());
    send_raw_fails(&client, &swapped.encoded(), "a 0x43 with swapped inputs").await;
    // Signed for another kettle.
    let mut other = good.clone();
    other.record.kettle_address = Address::repeat_byte(0x77);
    let other = kettle_primitives::ConfidentialComputeRequest::new(
        other.record,
        Bytes::from(malformed.clone()),
    )
    .into_signed(&user)
    .expect("sign");
    send_raw_fails(&client, &other.encoded(), "a 0x43 for another kettle").await;
    // To an address without code, and with too little gas.
    let nobody = client
        .build_request(
            &user,
            Address::repeat_byte(0x55),
            Bytes::new(),
            &malformed,
            Signing::Eip712,
        )
        .await;
    send_raw_fails(&client, &nobody.encoded(), "a 0x43 to no code").await;
    let mut starved = good.record.clone();
    starved.gas = 21_000;
    let starved =
        kettle_primitives::ConfidentialComputeRequest::new(starved, Bytes::from(malformed.clone()))
            .into_signed(&user)
            .expect("sign");
    send_raw_fails(&client, &starved.encoded(), "a starved 0x43").await;
    // Accepted once, replayed.
    let hash = client.send_request(&good).await.expect("good request");
    client.wait_receipt(hash).await;
    send_raw_fails(&client, &good.encoded(), "a replayed 0x43").await;
    // Vault.store with empty inputs reverts with a plain message; a missing record too.
    let empty = client
        .build_request(&user, vault, store_call.clone(), b"", Signing::Eip712)
        .await;
    send_raw_fails(&client, &empty.encoded(), "an empty secret").await;
    let missing: Bytes = Vault::revealCall {
        ids: vec![FixedBytes::repeat_byte(1)],
    }
    .abi_encode()
    .into();
    let err = client
        .confidential_call(vault, missing, &malformed)
        .await
        .expect_err("missing record");
    assert!(err.message().contains("reverted"), "{err}");
    // Malformed JSON-RPC carrying the secret: bad hex, bad JSON, unknown method, bad params.
    let m = String::from_utf8_lossy(&malformed).into_owned();
    for body in [
        json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[format!("0x43{m}")]}).to_string(),
        json!({"jsonrpc":"2.0","id":2,"method":"eth_call","params":[{"to": vault, "isConfidential": true, "confidentialInputs": m}, "latest"]}).to_string(),
        json!({"jsonrpc":"2.0","id":3,"method":"eth_call","params":[{"to": vault, "isConfidential": true, "confidentialInputs": format!("0x{}", hex::encode(&malformed)), "gas": m}, "latest"]}).to_string(),
        json!({"jsonrpc":"2.0","id":4,"method":"kettle_noSuchMethod","params":[m]}).to_string(),
        format!("{{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"eth_call\",\"params\":[\"{m}\""),
        json!([{"jsonrpc":"2.0","id":6,"method":"eth_sendRawTransaction","params":[format!("0x{}", hex::encode(&garbage))]}]).to_string(),
    ] {
        let response = post_raw(kettle_proc.rpc, body.as_bytes());
        assert!(response.contains("error"), "refused: {response}");
    }
    // The kettle still works.
    client.request_and_wait(&user, vault, reveal, b"").await;
    let stopped_at_head = client.block_number().await;
    drop(client);
    kettle_proc.stop();

    // The search.
    let stdout = fs::read(&kettle_proc.stdout).expect("stdout");
    let stderr = fs::read(&kettle_proc.stderr).expect("stderr");
    let log_text = String::from_utf8_lossy(&stderr);
    // The run really logged at trace level, including the paths that matter.
    for needle in [
        " TRACE ",
        "confidential request rejected",
        "precompile reverted",
        "kettle ready",
    ] {
        assert!(log_text.contains(needle), "the log has no `{needle}` line");
    }
    eprintln!(
        "searched {} bytes of stderr ({} lines), {} bytes of stdout; head {stopped_at_head}",
        stderr.len(),
        log_text.lines().count(),
        stdout.len()
    );
    let everything: Vec<(String, Vec<u8>)> = keys.iter().chain(&confidential).cloned().collect();
    let mut leaks = leaks_in("stderr", &stderr, &everything);
    leaks.extend(leaks_in("stdout", &stdout, &everything));

    // At rest: no confidential input, stored value or key in any file of the data directory.
    let files = files_under(&datadir);
    assert!(files.len() > 3, "the data directory holds the database");
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    eprintln!(
        "searched {} files ({total} bytes) of the data directory",
        files.len()
    );
    for (path, bytes) in &files {
        leaks.extend(leaks_in(&path.display().to_string(), bytes, &everything));
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// A two-kettle cluster at `trace` for every crate (libp2p included): a record stored on A
/// for stores [A, B] reaches B, where a confidential `eth_call` reads it. Neither kettle's
/// stderr holds the confidential inputs or any kettle or user key, and B's data directory
/// does not hold the inputs. (`ClusterStore` stores `keccak256(inputs)`, which is public as
/// the record's `confidentialInputsHash`, so the replicated value itself is not searched
/// for here; `tests/tests/cluster_wire.rs` follows it on the wire.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_replication_logs_no_secret_at_trace_level() {
    use kettle_contracts::cluster_store::ClusterStore;
    use kettle_tests::{Cluster, ClusterOptions};
    const WAIT: Duration = Duration::from_secs(60);

    let mut rng = TestRng::from_env_or_clock(SEED);
    let mut cluster = Cluster::with_options(
        2,
        ClusterOptions {
            log: Some("trace".into()),
            ..ClusterOptions::default()
        },
    );
    cluster.start_all();
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..2 {
        for (name, key) in key_file_secrets(cluster.key_file(i)) {
            secrets.push((format!("kettle {i} {name}"), key));
        }
    }
    let (a, b) = (cluster.client(0).await, cluster.client(1).await);
    let user = a.funded_user(&mut rng).await;
    secrets.push(("user key".into(), user.to_bytes().to_vec()));
    let contract = a.deploy(&user, "ClusterStore").await;
    cluster.wait_heads_agree(&[0, 1], WAIT).await;

    let inputs = text_secret(&mut rng, "replicated-input");
    let value = keccak256(&inputs);
    secrets.push(("confidential input".into(), inputs.clone()));
    let receipt = a
        .request_and_wait(
            &user,
            contract,
            ClusterStore::storeForCall {
                stores: cluster.addresses(),
            }
            .abi_encode()
            .into(),
            &inputs,
        )
        .await;
    let id = decode_logs::<ClusterStore::Stored>(&receipt)[0].id;
    cluster.wait_store_caught_up(1, &[0], WAIT).await;
    cluster.wait_heads_agree(&[0, 1], WAIT).await;
    let raw = b
        .confidential_call(
            contract,
            ClusterStore::retrieveFromCall { id }.abi_encode().into(),
            b"",
        )
        .await
        .expect("B reads the replicated record");
    assert!(contains(&raw, value.as_slice()), "B holds the value");
    drop((a, b));
    cluster.stop_all();

    let mut leaks = Vec::new();
    for i in 0..2 {
        let process = cluster.process(i);
        assert_eq!(
            process.log_lines_dropped(),
            0,
            "kettle {i}'s whole log is searched"
        );
        let logs = process.logs();
        assert!(logs.contains(" TRACE "), "kettle {i} logged at trace");
        leaks.extend(leaks_in(
            &format!("kettle {i}'s stderr"),
            logs.as_bytes(),
            &secrets,
        ));
    }
    let at_rest = &secrets[secrets.len() - 1..];
    for (path, bytes) in files_under(&cluster.member_dir(1).join("data")) {
        leaks.extend(leaks_in(&path.display().to_string(), &bytes, at_rest));
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
