//! [`KettleProcess`]: a real `kettle dev` child process on free loopback ports.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crate::kettle_bin;

/// How long a kettle may take from spawn to a healthy `/health` and listening RPC port.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a kettle may take to exit after SIGTERM (graceful shutdown flushes RocksDB).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// Pause between two readiness or exit checks.
const POLL: Duration = Duration::from_millis(20);

/// Lines of the child's stderr kept (all runs of one [`KettleProcess`]); older ones are
/// dropped and counted.
const LOG_LINES: usize = 20_000;

/// Attempts at finding free ports before giving up (another process may grab a port between
/// the moment we find it free and the moment the child binds it).
const PORT_ATTEMPTS: usize = 5;

/// Where the data directory of a [`KettleProcess`] lives.
#[derive(Debug)]
enum DataDir {
    /// A temporary directory deleted when the `KettleProcess` is dropped.
    Owned(tempfile::TempDir),
    /// A directory the test owns (kept after the process is dropped).
    Given(PathBuf),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            DataDir::Owned(dir) => dir.path(),
            DataDir::Given(path) => path,
        }
    }
}

/// Settings of the `kettle dev` processes a [`KettleProcess`] starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KettleOptions {
    /// `--block-period-ms`: 0 seals a block as soon as transactions are pending; otherwise at
    /// most one block per this many milliseconds (transactions stay pending meanwhile).
    pub block_period_ms: u64,
    /// `--log`: the child's log filter; `None` takes `$KETTLE_TEST_LOG` if it is a filter,
    /// else `info` (the caller's `RUST_LOG` is not passed on, so logs are predictable).
    pub log: Option<String>,
    /// More arguments appended to `kettle dev …`.
    pub extra_args: Vec<String>,
}

/// The child's stderr, line by line, shared with the thread that reads it.
type LogBuffer = Arc<Mutex<Logs>>;

/// The kept lines and how many were dropped to stay under [`LOG_LINES`].
#[derive(Debug, Default)]
struct Logs {
    lines: VecDeque<String>,
    dropped: u64,
}

impl Logs {
    fn push(&mut self, line: String) {
        if self.lines.len() == LOG_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }
}

/// A running `kettle dev` process, started from the binary of this workspace.
///
/// [`start`](Self::start) spawns `kettle dev` with a data directory, a JSON-RPC port and a
/// metrics port chosen free on 127.0.0.1, and returns once the child itself listens on both
/// ports and `/health` answers (bounded by [`START_TIMEOUT`]; on timeout or early exit the
/// panic message carries the child's stderr). [`stop`](Self::stop) shuts it down with SIGTERM
/// (bounded by [`STOP_TIMEOUT`]), [`kill`](Self::kill) with SIGKILL, and
/// [`restart`](Self::restart) starts it again on the same data directory. Dropping a
/// `KettleProcess` kills a child that is still running, then deletes an owned data directory.
///
/// Every start uses fresh ports, so clients must re-read [`rpc_url`](Self::rpc_url) after a
/// restart. On Linux the child is also killed if the thread that started it exits (so a
/// crashed test run leaves no kettle behind): start and restart it from the test's own thread.
///
/// Set `KETTLE_TEST_LOG=1` to echo the child's stderr to the test output as it arrives, or
/// `KETTLE_TEST_LOG=<filter>` to echo it with that log filter (default `info`, see
/// [`KettleOptions::log`]).
#[derive(Debug)]
pub struct KettleProcess {
    datadir: DataDir,
    options: KettleOptions,
    child: Option<Child>,
    reader: Option<JoinHandle<()>>,
    rpc_addr: SocketAddr,
    metrics_addr: SocketAddr,
    logs: LogBuffer,
    starts: u32,
}

impl KettleProcess {
    /// Starts a kettle with default [`KettleOptions`] on a fresh temporary data directory
    /// that it owns.
    pub fn start() -> Self {
        Self::start_with(KettleOptions::default())
    }

    /// Starts a kettle with `options` on a fresh temporary data directory that it owns.
    pub fn start_with(options: KettleOptions) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("kettle-e2e-")
            .tempdir()
            .expect("creating a temporary data dir");
        Self::launch(DataDir::Owned(dir), options)
    }

    /// Starts a kettle on `datadir`, which the caller owns (created if missing, kept when this
    /// value is dropped), e.g. to start a second process on the data of a first one.
    pub fn start_in(datadir: impl Into<PathBuf>, options: KettleOptions) -> Self {
        Self::launch(DataDir::Given(datadir.into()), options)
    }

    fn launch(datadir: DataDir, options: KettleOptions) -> Self {
        let mut process = Self {
            datadir,
            options,
            child: None,
            reader: None,
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            logs: Arc::default(),
            starts: 0,
        };
        process.spawn_until_ready();
        process
    }

    /// Starts the kettle again on the same data directory (after [`stop`](Self::stop) or
    /// [`kill`](Self::kill)), on fresh ports.
    ///
    /// # Panics
    /// If the process is still running, or does not become ready (see [`start`](Self::start)).
    pub fn restart(&mut self) {
        assert!(
            !self.is_running(),
            "restart of a kettle that is still running (pid {:?}): stop or kill it first",
            self.pid()
        );
        self.spawn_until_ready();
    }

    /// As [`restart`](Self::restart), with new options (kept for later restarts).
    pub fn restart_with(&mut self, options: KettleOptions) {
        self.options = options;
        self.restart();
    }

    /// The options of the current (or last) process.
    pub fn options(&self) -> &KettleOptions {
        &self.options
    }

    /// The JSON-RPC endpoint over HTTP, e.g. `http://127.0.0.1:41234`.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// The JSON-RPC endpoint over WebSocket (same port as HTTP).
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.rpc_addr)
    }

    /// The address JSON-RPC listens on.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc_addr
    }

    /// The address `/health` and `/metrics` are served on.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// The data directory (chain, confidential store).
    pub fn datadir(&self) -> &Path {
        self.datadir.path()
    }

    /// The child's process id, while one was spawned and not yet reaped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the child is still running (reaps it if it exited).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            None => false,
            Some(child) => match child.try_wait() {
                Ok(None) => true,
                Ok(Some(_)) | Err(_) => false,
            },
        }
    }

    /// `GET /health`: the parsed JSON body (`status`, `chainId`, `head`, `pendingTransactions`).
    pub fn health(&self) -> Result<serde_json::Value, String> {
        let (status, body) = http_get(self.metrics_addr, "/health", Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("/health answered HTTP {status}: {body}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("/health body is not JSON ({e}): {body}"))
    }

    /// `GET /metrics`: the Prometheus text exposition.
    pub fn metrics(&self) -> Result<String, String> {
        let (status, body) = http_get(self.metrics_addr, "/metrics", Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("/metrics answered HTTP {status}"));
        }
        Ok(body)
    }

    /// What the child (and its earlier runs) wrote to stderr: the last 20,000 lines.
    pub fn logs(&self) -> String {
        let logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// How many early lines [`logs`](Self::logs) no longer holds (0: it is complete).
    pub fn log_lines_dropped(&self) -> u64 {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).dropped
    }

    /// Graceful shutdown: SIGTERM, then waits for the exit (bounded by [`STOP_TIMEOUT`]).
    ///
    /// # Panics
    /// If nothing is running, or the child does not exit in time (it is then killed and the
    /// panic message carries its stderr).
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self
            .child
            .take()
            .expect("stop: no kettle process is running");
        send_signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    self.join_reader();
                    panic!(
                        "kettle (pid {}) did not exit within {STOP_TIMEOUT:?} of SIGTERM; its stderr:\n{}",
                        child.id(),
                        self.logs()
                    );
                }
                Err(e) => panic!("waiting for kettle: {e}"),
            }
        };
        self.join_reader();
        status
    }

    /// Hard crash: SIGKILL and reap the child. No-op if nothing is running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            self.join_reader();
        }
    }

    fn join_reader(&mut self) {
        // The reader ends at EOF, which comes as soon as the child is gone.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    fn push_log(&self, line: String) {
        self.logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    /// Spawns the child on fresh ports until it is ready, retrying when a port was taken.
    fn spawn_until_ready(&mut self) {
        for attempt in 1..=PORT_ATTEMPTS {
            let [rpc, metrics] = free_ports();
            self.rpc_addr = rpc;
            self.metrics_addr = metrics;
            self.starts += 1;
            self.push_log(format!(
                "----- kettle-tests: start #{} (rpc {rpc}, metrics {metrics}, datadir {}, {:?}) -----",
                self.starts,
                self.datadir().display(),
                self.options
            ));
            self.spawn();
            match self.wait_ready() {
                Ok(()) => return,
                Err(Exit::PortTaken) if attempt < PORT_ATTEMPTS => continue,
                Err(Exit::PortTaken) => panic!(
                    "kettle could not bind free ports in {PORT_ATTEMPTS} attempts; its stderr:\n{}",
                    self.logs()
                ),
                Err(Exit::Failed(why)) => panic!("{why}; kettle's stderr:\n{}", self.logs()),
            }
        }
    }

    fn spawn(&mut self) {
        let bin = kettle_bin();
        let mut cmd = Command::new(&bin);
        cmd.arg("dev")
            .arg("--datadir")
            .arg(self.datadir())
            .arg("--http-addr")
            .arg(self.rpc_addr.to_string())
            .arg("--metrics-addr")
            .arg(self.metrics_addr.to_string())
            .arg("--block-period-ms")
            .arg(self.options.block_period_ms.to_string())
            .args(&self.options.extra_args)
            .env_remove("KETTLE_DATADIR")
            .env_remove("KETTLE_HTTP_ADDR")
            .env_remove("KETTLE_METRICS_ADDR")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let (echo, env_filter) = match std::env::var("KETTLE_TEST_LOG") {
            Ok(v) if v == "1" || v == "true" => (true, None),
            Ok(filter) if !filter.is_empty() => (true, Some(filter)),
            _ => (false, None),
        };
        let filter = self
            .options
            .log
            .clone()
            .or(env_filter)
            .unwrap_or_else(|| "info".to_owned());
        cmd.arg("--log").arg(filter).env_remove("RUST_LOG");
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", bin.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = self.logs.clone();
        let pid = child.id();
        self.reader = Some(
            std::thread::Builder::new()
                .name(format!("kettle-{pid}-stderr"))
                .spawn(move || {
                    // Read until EOF whatever the bytes are: a reader that stopped early
                    // would let the pipe fill up and block the child.
                    let mut reader = BufReader::new(stderr);
                    let mut raw = Vec::new();
                    loop {
                        raw.clear();
                        match reader.read_until(b'\n', &mut raw) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                        let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
                        if echo {
                            eprintln!("[kettle {pid}] {line}");
                        }
                        logs.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                    }
                })
                .expect("spawning the stderr reader"),
        );
        self.child = Some(child);
    }

    /// Waits until the child listens on both ports and `/health` answers.
    fn wait_ready(&mut self) -> Result<(), Exit> {
        let started = Instant::now();
        loop {
            let child = self.child.as_mut().expect("spawned");
            if let Some(status) = child.try_wait().map_err(|e| Exit::Failed(e.to_string()))? {
                self.child = None;
                self.join_reader();
                if self
                    .logs()
                    .lines()
                    .rev()
                    .take(20)
                    .any(|l| l.contains("Address already in use"))
                {
                    return Err(Exit::PortTaken);
                }
                return Err(Exit::Failed(format!(
                    "kettle exited during start-up with {status}"
                )));
            }
            // Only the child's own sockets count: another process may answer on a port we
            // found free a moment ago.
            if listens_on(
                child.id(),
                &[self.rpc_addr.port(), self.metrics_addr.port()],
            ) && self.health().is_ok()
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                self.kill();
                return Err(Exit::Failed(format!(
                    "kettle did not become healthy within {START_TIMEOUT:?} (rpc {}, metrics {})",
                    self.rpc_addr, self.metrics_addr
                )));
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for KettleProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Why a start attempt failed.
enum Exit {
    /// A port was taken before the child could bind it: try other ports.
    PortTaken,
    /// Anything else.
    Failed(String),
}

/// Two distinct ports that are free on 127.0.0.1 right now.
fn free_ports() -> [SocketAddr; 2] {
    let a = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    let b = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    [
        a.local_addr().expect("local addr"),
        b.local_addr().expect("local addr"),
    ]
}

fn send_signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet, so the pid
    // cannot have been reused by another process.
    let rc = unsafe { libc::kill(pid, signal) };
    assert!(
        rc == 0,
        "kill({pid}, {signal}) failed: {}",
        std::io::Error::last_os_error()
    );
}

/// Makes the child die with SIGKILL when the test process dies (Linux), so a crashed or
/// killed test leaves no child behind.
#[cfg(target_os = "linux")]
pub(crate) fn die_with_parent(cmd: &mut Command) {
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

#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_parent(_cmd: &mut Command) {}

/// Whether process `pid` owns a listening TCP socket on each of `ports` (Linux: through
/// `/proc`; elsewhere always true).
#[cfg(target_os = "linux")]
fn listens_on(pid: u32, ports: &[u16]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let inodes: std::collections::HashSet<String> = fds
        .filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            target
                .strip_prefix("socket:[")
                .and_then(|rest| rest.strip_suffix(']'))
                .map(str::to_owned)
        })
        .collect();
    let mut listening = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if fields.len() < 10 || fields[3] != "0A" || !inodes.contains(fields[9]) {
                continue;
            }
            if let Some(port) = fields[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            {
                listening.push(port);
            }
        }
    }
    ports.iter().all(|p| listening.contains(p))
}

#[cfg(not(target_os = "linux"))]
fn listens_on(_pid: u32, _ports: &[u16]) -> bool {
    true
}

/// A minimal HTTP/1.1 `GET`: the status code and the body.
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("malformed HTTP response: {response:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("malformed status line: {head:?}")))?;
    Ok((status, body.to_owned()))
}
