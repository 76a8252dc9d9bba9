//! Shared helpers for end-to-end tests: locating and starting the `kettle` binary.

use std::path::PathBuf;

/// Path of the `kettle` binary built for this test run.
///
/// Cargo builds workspace binaries before integration tests of the package that owns them,
/// but not for other packages, so tests ask for the binary next to the test executable and
/// fail with a clear message if it is missing.
pub fn kettle_bin() -> PathBuf {
    let mut dir = std::env::current_exe().expect("test executable path");
    dir.pop(); // the test binary itself
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(format!("kettle{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "kettle binary not found at {}: build it first (`cargo build -p kettle`)",
        bin.display()
    );
    bin
}
