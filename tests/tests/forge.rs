//! `kettle forge`, run the way suave-std's Foundry tests run `suave-geth forge` through FFI
//! (SUAVE-COMPAT §10): a child process with arguments, the project root as working directory,
//! hex on stdout with exit 0, or the error on stderr with exit 1.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::Encodable2718;
use alloy_primitives::{address, hex, Bytes, Signature, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::precompiles::SuavePrecompiles as abi;
use kettle_contracts::HttpRequest;
use kettle_tests::{kettle_bin, KettleProcess};

const IS_CONFIDENTIAL: &str = "0x0000000000000000000000000000000042010000";

/// A Foundry project directory with a `foundry.toml` holding `suave_profile` (a TOML text).
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(suave_profile: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("kettle-forge-")
            .tempdir()
            .expect("temp dir");
        std::fs::write(
            dir.path().join("foundry.toml"),
            format!(
                "[profile.default]\nsrc = \"src\"\nout = \"out\"\nlibs = [\"lib\"]\nffi = true\n\n{suave_profile}"
            ),
        )
        .expect("foundry.toml");
        Self { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `<program> forge --local --config <root>/foundry.toml <extra…> <target> <data>`, as
    /// the Connector contract's `vm.tryFfi` does.
    fn forge_with(&self, program: &Path, extra: &[&str], target: &str, data: &str) -> Output {
        let config = self.root().join("foundry.toml");
        Command::new(program)
            .current_dir(self.root())
            .arg("forge")
            .arg("--local")
            .arg("--config")
            .arg(&config)
            .args(extra)
            .arg(target)
            .arg(data)
            .output()
            .expect("run kettle forge")
    }

    fn forge(&self, extra: &[&str], target: &str, data: &str) -> Output {
        self.forge_with(&kettle_bin(), extra, target, data)
    }
}

/// The output bytes of a successful call (stdout is hex without 0x plus a newline).
fn success(out: &Output) -> Vec<u8> {
    let stdout = String::from_utf8(out.stdout.clone()).expect("utf-8 stdout");
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.ends_with('\n'), "one line: {stdout:?}");
    let digits = stdout.trim_end_matches('\n');
    assert!(
        !digits.starts_with("0x") && digits.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
        "lower-case hex without 0x: {stdout:?}"
    );
    assert!(
        out.stderr.is_empty(),
        "no stderr on success: {:?}",
        out.stderr
    );
    hex::decode(digits).expect("hex")
}

/// The stderr of a failed call (exit 1, nothing on stdout).
fn failure(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit status; stdout {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "no stdout on failure: {:?}",
        out.stdout
    );
    let stderr = String::from_utf8(out.stderr.clone()).expect("utf-8 stderr");
    assert!(stderr.ends_with('\n'), "newline-terminated: {stderr:?}");
    stderr
}

fn input<C: SolCall>(call: &C) -> String {
    format!("0x{}", hex::encode(&call.abi_encode()[4..]))
}

#[test]
fn is_confidential_prints_01() {
    let project = Project::new("[profile.suave]\nwhitelist = [\"*\"]\n");
    let out = project.forge(&[], IS_CONFIDENTIAL, "0x");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "01\n");
    assert!(out.status.success() && out.stderr.is_empty());
    // By name, and with no data argument at all.
    let out = Command::new(kettle_bin())
        .current_dir(project.root())
        .args(["forge", "--local", "isConfidential"])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "01\n");
}

#[test]
fn pure_precompiles_give_their_encoded_output() {
    let project = Project::new("");
    // randomBytes(8): abi.encode(bytes) of 8 random bytes.
    let out = success(&project.forge(
        &[],
        "0x000000000000000000000000000000007770000b",
        &input(&abi::randomBytesCall { numBytes: 8 }),
    ));
    let bytes = abi::randomBytesCall::abi_decode_returns(&out).expect("bytes");
    assert_eq!(bytes.len(), 8);

    // signEthTransaction: deterministic (RFC 6979), so the exact signed transaction.
    let key = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
    let tx = TxEip1559 {
        chain_id: 13,
        nonce: 7,
        gas_limit: 21_000,
        max_fee_per_gas: 20,
        max_priority_fee_per_gas: 2,
        to: TxKind::Call(address!("0x00000000000000000000000000000000000000aa")),
        value: U256::from(42),
        input: Bytes::from_static(&[1, 2, 3]),
        access_list: Default::default(),
    };
    let unsigned = TxEnvelope::from(tx.clone().into_signed(Signature::new(
        U256::ZERO,
        U256::ZERO,
        false,
    )))
    .encoded_2718();
    let signer: PrivateKeySigner = key.parse().expect("key");
    let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let expected = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    let call = abi::signEthTransactionCall {
        txn: unsigned.into(),
        chainId: "0xd".into(),
        signingKey: key.into(),
    };
    let out = success(&project.forge(&[], "signEthTransaction", &input(&call)));
    assert_eq!(
        abi::signEthTransactionCall::abi_decode_returns(&out)
            .expect("bytes")
            .to_vec(),
        expected
    );

    // extractHint: raw JSON output (not ABI-encoded).
    let hint_tx = TxEip1559 {
        chain_id: 1,
        to: TxKind::Call(address!("0x00000000000000000000000000000000000000AB")),
        input: Bytes::from_static(b"hi!"),
        gas_limit: 21_000,
        ..Default::default()
    };
    let sig = signer
        .sign_hash_sync(&hint_tx.signature_hash())
        .expect("sign");
    let raw = TxEnvelope::from(hint_tx.into_signed(sig)).encoded_2718();
    let bundle = format!("{{\"txs\":[\"0x{}\"]}}", hex::encode(raw));
    let call = abi::extractHintCall {
        bundleData: bundle.into_bytes().into(),
    };
    let out = success(&project.forge(
        &[],
        "0x0000000000000000000000000000000042100037",
        &input(&call),
    ));
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "{\"To\":\"0x00000000000000000000000000000000000000ab\",\"Data\":\"aGkh\"}"
    );
}

#[test]
fn bad_invocations_fail_with_a_message() {
    let project = Project::new("");
    let err = failure(&project.forge(&[], "randomBytes", "0xnothex"));
    assert!(err.contains("invalid hex data"), "{err}");
    let err = failure(&project.forge(&[], "noSuchPrecompile", "0x"));
    assert_eq!(err, "unknown precompile `noSuchPrecompile`\n");
    // The precompile's own raw message.
    let err = failure(&project.forge(&[], "randomBytes", "0x01"));
    assert_eq!(err, "failed to decode input\n");
    let err = failure(&project.forge(&[], "0x0000000000000000000000000000000012345678", "0x"));
    assert!(err.starts_with("no precompile at"), "{err}");
    // The store is mocked in Solidity by suave-std; there is none here.
    let err = failure(&project.forge(&[], "confidentialRetrieve", "0x"));
    assert!(err.contains("confidential store"), "{err}");
    // A config file that is not TOML.
    std::fs::write(project.root().join("foundry.toml"), "[profile").expect("write");
    let err = failure(&project.forge(&[], IS_CONFIDENTIAL, "0x"));
    assert!(
        err.contains("foundry.toml") && err.contains("TOML"),
        "{err}"
    );
}

/// Serves one `GET` on 127.0.0.1 with body `hello`; returns its port and the request line.
fn one_shot_server() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut first = String::new();
        reader.read_line(&mut first).expect("request line");
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok() && line != "\r\n" && !line.is_empty() {
            line.clear();
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            .expect("respond");
        let _ = reader.read(&mut [0u8; 1]);
        first
    });
    (port, handle)
}

fn get(url: &str) -> String {
    input(&abi::doHTTPRequestCall {
        request: HttpRequest {
            url: url.into(),
            method: "GET".into(),
            headers: vec![],
            body: Bytes::new(),
            withFlashbotsSignature: false,
            timeout: 5_000,
        },
    })
}

#[test]
fn http_requests_follow_the_whitelist() {
    // suave-std's own profile: `*` reaches public hosts only, not this machine.
    let project = Project::new("[profile.suave]\nwhitelist = [\"*\"]\n");
    let err = failure(&project.forge(&[], "doHTTPRequest", &get("http://127.0.0.1:9/never")));
    assert!(
        err.contains("127.0.0.1") && err.contains("not allowed"),
        "{err}"
    );

    // Listed on the command line: the request goes out.
    let (port, server) = one_shot_server();
    let url = format!("http://127.0.0.1:{port}/path");
    let out = success(&project.forge(&["--whitelist", "127.0.0.1"], "doHTTPRequest", &get(&url)));
    assert_eq!(
        abi::doHTTPRequestCall::abi_decode_returns(&out)
            .expect("bytes")
            .to_vec(),
        b"hello"
    );
    assert_eq!(server.join().expect("server"), "GET /path HTTP/1.1\r\n");

    // Listed in the config file instead, and a service alias from it.
    let (port, server) = one_shot_server();
    let project = Project::new(&format!(
        "[profile.suave]\nwhitelist = [\"example.com\"]\nunknown_key = 1\n\
         service_alias = {{ local = \"http://127.0.0.1:{port}/aliased\" }}\n"
    ));
    let out = success(&project.forge(&[], "doHTTPRequest", &get("local")));
    assert_eq!(
        abi::doHTTPRequestCall::abi_decode_returns(&out)
            .expect("bytes")
            .to_vec(),
        b"hello"
    );
    assert_eq!(server.join().expect("server"), "GET /aliased HTTP/1.1\r\n");
    let err = failure(&project.forge(&[], "doHTTPRequest", &get("http://127.0.0.1:9/")));
    assert_eq!(err, "domain 127.0.0.1 is not allowed\n");
}

/// A directory with `suave-geth -> kettle`, to put first on `PATH`.
fn suave_geth_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("kettle-suave-geth-")
        .tempdir()
        .expect("temp dir");
    let link = dir.path().join("suave-geth");
    std::os::unix::fs::symlink(kettle_bin(), &link).expect("symlink");
    (dir, link)
}

fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_owned()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("PATH")
}

#[test]
fn works_as_suave_geth_through_a_symlink() {
    let (bin_dir, link) = suave_geth_dir();
    let project = Project::new("[profile.suave]\nwhitelist = [\"*\"]\n");
    // `SuaveEnabled.setUp()`: `suave-geth version`, looked up on PATH.
    let out = Command::new("suave-geth")
        .env("PATH", path_with(bin_dir.path()))
        .current_dir(project.root())
        .arg("version")
        .output()
        .expect("suave-geth on PATH");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("kettle "), "{stdout}");
    assert_eq!(lines[1], "Suave-Geth", "{stdout}");
    assert!(lines[2].starts_with("Version: "), "{stdout}");

    let out = project.forge_with(&link, &[], IS_CONFIDENTIAL, "0x");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "01\n");
    let err = failure(&project.forge_with(&link, &[], "nope", "0x"));
    assert_eq!(err, "unknown precompile `nope`\n");

    // Invoked as kettle, `version` keeps its one line.
    let out = Command::new(kettle_bin())
        .arg("version")
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn remote_mode_status_and_reset() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        Command::new(kettle_bin())
            .current_dir(dir.path())
            .arg("forge")
            .args(args)
            .output()
            .expect("run kettle forge")
    };
    // Nobody listens on port 9.
    let out = run(&["status", "--rpc", "http://127.0.0.1:9"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("not-ok: "),
        "{out:?}"
    );

    let kettle = KettleProcess::start();
    let url = kettle.rpc_url();
    let out = run(&["status", "--rpc", &url]);
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    // Without --local: a confidential eth_call to the kettle.
    let out = run(&["--rpc", &url, IS_CONFIDENTIAL, "0x"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "01\n", "{out:?}");
    let out = success(&run(&[
        "--rpc",
        &url,
        "randomBytes",
        &input(&abi::randomBytesCall { numBytes: 3 }),
    ]));
    assert_eq!(
        abi::randomBytesCall::abi_decode_returns(&out)
            .expect("bytes")
            .len(),
        3
    );
    let err = failure(&run(&["--rpc", &url, "randomBytes", "0x01"]));
    assert_eq!(err, "failed to decode input\n");
    let err = failure(&run(&["reset-conf-store", "--rpc", &url]));
    assert!(err.contains("not supported"), "{err}");
}
