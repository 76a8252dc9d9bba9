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
