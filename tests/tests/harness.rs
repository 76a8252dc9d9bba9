//! The test harness itself: [`KettleProcess`] start-up failures show the child's stderr,
//! stop/kill/drop really end the process, and a data dir serves one kettle at a time.

use std::time::{Duration, Instant};

use kettle_tests::{KettleOptions, KettleProcess};

/// Whether a process with this pid exists (and is not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            // state is the field after the parenthesised command name
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

#[test]
#[should_panic(expected = "unexpected argument '--no-such-flag'")]
fn start_failure_shows_the_childs_stderr() {
    let _ = KettleProcess::start_with(KettleOptions {
        extra_args: vec!["--no-such-flag".into()],
        ..KettleOptions::default()
    });
}

#[test]
fn stop_kill_and_drop_end_the_process() {
    let mut kettle = KettleProcess::start();
    let health = kettle.health().expect("/health answers once started");
    assert_eq!(health["status"], "ok");

    let pid = kettle.pid().expect("running");
    let status = kettle.stop();
    assert!(
        status.success(),
        "SIGTERM exit status {status}; stderr:\n{}",
        kettle.logs()
    );
    assert!(!alive(pid), "kettle {pid} still alive after stop()");
    assert!(
        kettle.logs().contains("stopped"),
        "graceful shutdown is logged; stderr:\n{}",
        kettle.logs()
    );

    kettle.restart();
    let pid = kettle.pid().expect("running again");
    kettle.kill();
    assert!(!alive(pid), "kettle {pid} still alive after kill()");

    kettle.restart();
    let pid = kettle.pid().expect("running again");
    drop(kettle);
    assert!(!alive(pid), "kettle {pid} still alive after drop");
}

#[test]
fn a_data_dir_serves_one_kettle_at_a_time() {
    let first = KettleProcess::start();
    let started = Instant::now();
    let datadir = first.datadir().to_path_buf();
    let second = std::panic::catch_unwind(move || {
        KettleProcess::start_in(datadir, KettleOptions::default())
    });
    let message = match second {
        Ok(_) => panic!("a second kettle started on the data dir of a running one"),
        Err(panic) => panic.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert!(
        message.contains("exited during start-up") && message.to_lowercase().contains("lock"),
        "the second kettle must refuse to start, saying the data dir is locked: {message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "refusing took {:?}",
        started.elapsed()
    );
    assert!(first.health().is_ok(), "the first kettle is unharmed");
}
