//! Runs the built `kettle` binary the way a user or a script does.

use std::process::Command;

fn kettle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kettle"))
}

#[test]
fn version_prints_semver_and_git_sha() {
    let out = kettle()
        .arg("version")
        .output()
        .expect("run kettle version");
    assert!(out.status.success(), "exit status {:?}", out.status);
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let line = stdout.trim_end();
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    let rest = line.strip_prefix("kettle ").expect("starts with `kettle `");
    let (semver, sha) = rest.split_once(' ').expect("semver and sha");
    assert_eq!(semver, env!("CARGO_PKG_VERSION"));
    let sha = sha
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .expect("sha in parentheses");
    assert!(
        sha == "unknown" || sha.chars().all(|c| c.is_ascii_hexdigit()),
        "sha {sha:?}"
    );
}

#[test]
fn run_with_a_missing_config_fails_clearly() {
    let out = kettle()
        .args(["run", "--config", "/nonexistent/kettle.toml"])
        .output()
        .expect("run kettle run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/kettle.toml") && stderr.contains("configuration"),
        "stderr: {stderr}"
    );
}

#[test]
fn run_with_a_bad_config_key_names_it() {
    let dir = std::env::temp_dir().join(format!("kettle-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let cfg = dir.join("kettle.toml");
    std::fs::write(&cfg, "[rpc]\nadress = \"127.0.0.1:0\"\n").expect("write config");
    let out = kettle()
        .args(["run", "--config"])
        .arg(&cfg)
        .output()
        .expect("run kettle run");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown field") && stderr.contains("adress"),
        "stderr: {stderr}"
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = kettle().arg("frobnicate").output().expect("run kettle");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
}

#[test]
fn key_creates_the_key_file_once_and_prints_its_address() {
    let dir = std::env::temp_dir().join(format!("kettle-cli-key-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = dir.join("sub").join("kettle-key.json");
    let address = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "exit {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        assert_eq!(stdout.lines().count(), 1, "only the address: {stdout:?}");
        stdout.trim().to_owned()
    };
    let first = address(
        kettle()
            .args(["key", "--key-file"])
            .arg(&file)
            .output()
            .expect("run kettle key"),
    );
    assert!(file.is_file(), "the key file was created");
    let again = address(
        kettle()
            .args(["key", "--key-file"])
            .arg(&file)
            .output()
            .expect("run kettle key"),
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        first.len() == 42
            && first.starts_with("0x")
            && first[2..].chars().all(|c| c.is_ascii_hexdigit()),
        "an address: {first}"
    );
    assert_eq!(again, first, "the existing key file is reused");
}

#[test]
fn genesis_prints_the_dev_chain_with_the_faucet() {
    let out = kettle()
        .args([
            "genesis",
            "--faucet",
            "0x1111111111111111111111111111111111111111",
        ])
        .output()
        .expect("run kettle genesis");
    assert!(out.status.success(), "exit {:?}", out.status);
    let genesis: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(genesis["config"]["chainId"], 16813125);
    let alloc = genesis["alloc"].as_object().expect("alloc");
    assert!(
        alloc
            .keys()
            .any(|k| k.eq_ignore_ascii_case("0x1111111111111111111111111111111111111111")),
        "the faucet is funded: {:?}",
        alloc.keys().collect::<Vec<_>>()
    );
    assert!(
        alloc
            .keys()
            .any(|k| k.eq_ignore_ascii_case("0xBE69d72ca5f88aCba033a063dF5DBe43a4148De0")),
        "the dev user is funded"
    );
}
