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
fn dev_says_the_node_is_not_built_yet_and_fails() {
    let dir = std::env::temp_dir().join(format!("kettle-cli-test-{}", std::process::id()));
    let out = kettle()
        .args(["dev", "--http-addr", "127.0.0.1:0", "--datadir"])
        .arg(&dir)
        .output()
        .expect("run kettle dev");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not implemented"), "stderr: {stderr}");
    assert!(
        !dir.exists(),
        "dev must not create a data dir it does not use"
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = kettle().arg("frobnicate").output().expect("run kettle");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
}
