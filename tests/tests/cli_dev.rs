//! The developer commands against a running `kettle dev`: `kettle deploy` and `kettle request`
//! through the binary (positional and flag forms, `--inputs @file`, `--key-file`, decoded
//! events, readable reverts), and `console.log` lines in the kettle's log carrying the
//! request hash.

use std::{
    path::PathBuf,
    process::{Command, Output},
    time::{Duration, Instant},
};

use alloy_primitives::{hex, keccak256, Address};
use kettle_tests::{kettle_bin, KettleProcess, DEV_USER_KEY};

/// The workspace root, where `contracts/out` is (`KETTLE_ROOT` of the CLI).
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// Runs `kettle <args>` against `kettle`, from an empty directory (artifacts are found
/// through `KETTLE_ROOT`).
fn cli(kettle: &KettleProcess, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().expect("temp dir");
    Command::new(kettle_bin())
        .current_dir(cwd.path())
        .env("KETTLE_ROOT", workspace_root())
        .env("KETTLE_RPC", kettle.rpc_url())
        .env_remove("KETTLE_KEY")
        .args(args)
        .output()
        .expect("run kettle")
}

fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn deploy(kettle: &KettleProcess, contract: &str) -> Address {
    let stdout = stdout_ok(&cli(kettle, &["deploy", contract]));
    stdout.trim().parse().expect("deploy prints the address")
}

/// The `0x43` hash from `request 0x… (0x43)` in `kettle request`'s output.
fn request_hash(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("request ")?.strip_suffix(" (0x43)"))
        .unwrap_or_else(|| panic!("no request line in {stdout}"))
        .to_owned()
}

#[test]
fn deploy_request_events_and_console_log() {
    let kettle = KettleProcess::start();

    // console.log of a request: the kettle logs the line with the request's hash.
    let probe = deploy(&kettle, "Probe").to_string();
    let stdout = stdout_ok(&cli(&kettle, &["request", &probe, "logToConsole()"]));
    assert!(stdout.contains("(status 0x1)"), "{stdout}");
    let hash = request_hash(&stdout);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = kettle.logs();
        if let Some(line) = logs
            .lines()
            .find(|l| l.contains("hello 42") && l.contains(&hash))
        {
            assert!(line.contains("suave_precompiles::console"), "{line}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no console line with request {hash}:\n{logs}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Positional form with an argument and --inputs @file; the artifact is recognised from
    // the deployed code, so the event is decoded without --contract.
    let store = deploy(&kettle, "StoreSuapp").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs = dir.path().join("inputs.bin");
    let secret = b"\x00\x01 binary secret \xff";
    std::fs::write(&inputs, secret).expect("inputs file");
    let stdout = stdout_ok(&cli(
        &kettle,
        &[
            "request",
            &store,
            "storeRetrieveAndLog(uint64)",
            "7",
            "--inputs",
            &format!("@{}", inputs.display()),
        ],
    ));
    let digest = format!("0x{}", hex::encode(keccak256(secret)));
    let event = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Stored(0x"))
        .unwrap_or_else(|| panic!("decoded Stored event in {stdout}"));
    assert!(event.trim_end().ends_with(&format!("{digest})")), "{event}");

    // The older flag form, a function name looked up in --contract's ABI, text inputs, and
    // a key file.
    let hello = deploy(&kettle, "Hello").to_string();
    let key_file = dir.path().join("user.key");
    std::fs::write(&key_file, format!("0x{DEV_USER_KEY}\n")).expect("key file");
    // Key files that others can read are refused (tests/tests/secrets.rs).
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod 600");
    let stdout = stdout_ok(&cli(
        &kettle,
        &[
            "request",
            "--contract",
            "Hello",
            "--to",
            &hello,
            "--sig",
            "hello",
            "--inputs",
            "Ada",
            "--key-file",
            key_file.to_str().expect("utf-8 path"),
        ],
    ));
    assert!(stdout.contains("Greeted(\"hello, Ada\")"), "{stdout}");

    // deploy by artifact path.
    let path = workspace_root().join("contracts/out/Hello.json");
    let addr = deploy(&kettle, path.to_str().expect("utf-8 path"));
    assert_ne!(addr.to_string(), hello);
}

fn stderr_failed(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr.clone()).expect("utf-8")
}

#[test]
fn failing_requests_explain_the_revert() {
    let kettle = KettleProcess::start();
    let store = deploy(&kettle, "StoreSuapp").to_string();

    // A failing precompile behind Suave.sol: PeekerReverted, decoded.
    let err = stderr_failed(&cli(
        &kettle,
        &[
            "request",
            &store,
            "retrieve(bytes16,string)",
            "0x0102030405060708090a0b0c0d0e0f10",
            "key",
        ],
    ));
    assert!(
        err.contains(
            "precompile 0x0000000000000000000000000000000042020001 (confidentialRetrieve) \
             reverted: data record not found"
        ),
        "{err}"
    );

    // require(…, "empty secret"): Error(string), which eth_sendRawTransaction does not carry.
    let vault = deploy(&kettle, "Vault").to_string();
    let err = stderr_failed(&cli(&kettle, &["request", &vault, "store()"]));
    assert!(err.contains("execution reverted: empty secret"), "{err}");

    // Bad arguments never reach the kettle.
    let err = stderr_failed(&cli(
        &kettle,
        &[
            "request",
            &store,
            "storeAndRetrieve(uint64)",
            "not-a-number",
        ],
    ));
    assert!(err.contains("argument `not-a-number`"), "{err}");
    let err = stderr_failed(&cli(
        &kettle,
        &["request", &store, "storeAndRetrieve(uint64)"],
    ));
    assert!(err.contains("takes 1 argument"), "{err}");
    let err = stderr_failed(&cli(&kettle, &["deploy", "NoSuchContract"]));
    assert!(err.contains("no artifact `NoSuchContract`"), "{err}");
}
