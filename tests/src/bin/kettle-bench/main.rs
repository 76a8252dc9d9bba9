//! `kettle-bench`: an end-to-end load generator for a kettle over JSON-RPC.
//!
//! It deploys the compute-bound SUAPP `KeccakLoop` (`contracts/test/KeccakLoop.sol`), funds one
//! fresh user per worker from the dev user, then for each concurrency level runs, back to back
//! and with the same workers (one HTTP client each):
//!
//! - **`eth_call`** (the baseline): a plain `eth_call` of `KeccakLoop.run(rounds)`;
//! - **confidential request**: the same call as a signed `0x43` through
//!   `eth_sendRawTransaction` (the kettle runs it in the MEVM, signs the `0x50` and commits it
//!   before answering); each worker is its own user and keeps its nonce locally. After the
//!   warm-up each worker signs, before the measured window, as many requests as the window
//!   should need at the warm-up's rate (and signs on the fly if it runs out): the load
//!   generator shares the kettle's cores, and its signing is not the kettle's work;
//! - optionally (`--confidential-call`) **confidential `eth_call`** (MEVM, nothing committed).
//!
//! Each workload's measured time at a level is cut into `--slices` windows (3) run in turn
//! with the other workloads' windows, so a drift in the machine's speed during a level hits
//! the baseline and the compared workloads alike; every window follows its own warm-up.
//!
//! It reports requests per second, p50/p90/p99 latency and errors (which must be 0) per
//! workload, the ratio confidential req/s ÷ `eth_call` req/s per level, and the kettle's memory
//! (`VmHWM` at the end, `VmRSS` sampled every second). `--soak-secs N` instead runs only the
//! confidential workload at `--soak-concurrency` (8) for N seconds and reports the resident set
//! at the start, every 30 s and at the end, to show growth.
//!
//! Without `--rpc` it starts its own `kettle dev --block-period-ms 0` on free loopback ports
//! (the binary from `--kettle-bin` / `$KETTLE_BIN`, else the `kettle` next to this binary).
//!
//! ```sh
//! cargo build -p kettle && cargo run -p kettle-tests --bin kettle-bench -- \
//!     --concurrency 1,2 --duration-secs 2 --warmup-secs 1 --rounds 100
//! kettle-bench --json out.json --markdown --plot-dir docs/bench
//! kettle-bench plot-build build.json build.svg   # the `build` bench's BUILD_BENCH_JSON
//! ```
//!
//! The exit status is 1 when any request failed (the first error is printed).

mod plot;
mod stats;

use std::{
    collections::VecDeque,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256, U64};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use clap::{Args, Parser, Subcommand};
use eyre::{ensure, eyre, WrapErr};
use kettle_contracts::keccak_loop::KeccakLoop;
use kettle_primitives::{
    signature::FastSigner, ConfidentialComputeRecord, ConfidentialComputeRequest,
};
use kettle_tests::{
    dev_user, KettleClient, KettleOptions, KettleProcess, ReceiptResponse, DEFAULT_REQUEST_GAS,
    RECEIPT_TIMEOUT,
};
use serde_json::{json, Value};
use tokio::time::Instant;

use stats::{Level, Report, RssReport, RssSample, SoakReport, Workload, WorkloadStats};

/// Ether given to each worker's user (requests pay for their `0x50`).
const FUNDING_ETHER: u64 = 10_000;

/// Where the transfers of [`Workload::Transfer`] go.
const TRANSFER_SINK: Address = Address::repeat_byte(0x5e);

/// Seconds between two RSS checkpoints of the soak report.
const SOAK_CHECKPOINT_SECS: f64 = 30.0;

#[derive(Debug, Parser)]
#[command(
    name = "kettle-bench",
    about = "End-to-end load generator: eth_call vs confidential requests against a kettle",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Plot a `--json` report again (the same SVGs as `--plot-dir`).
    Plot {
        /// A report written by `--json`.
        json: PathBuf,
        /// The directory of the SVGs.
        dir: PathBuf,
    },
    /// Plot block-build time against bundle count from the JSON the `build` bench writes
    /// when `BUILD_BENCH_JSON=<path>` is set.
    PlotBuild {
        /// The bench's JSON file.
        json: PathBuf,
        /// The SVG to write.
        svg: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// JSON-RPC URL of a running kettle whose dev user is funded (default: start a
    /// `kettle dev --block-period-ms 0` on free loopback ports).
    #[arg(long)]
    rpc: Option<String>,
    /// Process id of the kettle behind `--rpc`, to report its memory.
    #[arg(long, requires = "rpc")]
    kettle_pid: Option<u32>,
    /// The `kettle` binary to start without `--rpc` (default: the one next to kettle-bench).
    #[arg(long, env = "KETTLE_BIN")]
    kettle_bin: Option<PathBuf>,
    /// Data directory of the started kettle (default: a temporary directory, deleted after).
    #[arg(long)]
    kettle_datadir: Option<PathBuf>,
    /// Log filter of the started kettle.
    #[arg(long, default_value = "warn")]
    kettle_log: String,
    /// Concurrency levels (workers sending one request at a time each).
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    concurrency: Vec<usize>,
    /// Measured seconds per workload and level.
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Slices per level: each workload's measured time is cut into this many windows, run
    /// in turn with the other workloads' (`eth_call`, confidential request, `eth_call`, …),
    /// so that a machine whose speed drifts during a level slows the baseline and the
    /// compared workloads alike.
    #[arg(long, default_value_t = 3)]
    slices: u32,
    /// Unmeasured seconds before each workload's measurement.
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    /// `KeccakLoop.run(rounds)`: keccak rounds per request.
    #[arg(long, default_value_t = 1000)]
    rounds: u64,
    /// Gas limit of every call and request.
    #[arg(long, default_value_t = DEFAULT_REQUEST_GAS)]
    gas: u64,
    /// Also measure confidential `eth_call` (MEVM without commit).
    #[arg(long)]
    confidential_call: bool,
    /// Also measure plain EIP-1559 transfers sent with `eth_sendRawTransaction` (admission
    /// and its durable write; no ratio, the baseline runs contract code).
    #[arg(long)]
    transfers: bool,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Print a Markdown table of the results.
    #[arg(long)]
    markdown: bool,
    /// Write SVG plots (latency, throughput, memory) into this directory.
    #[arg(long)]
    plot_dir: Option<PathBuf>,
    /// Soak mode: only the confidential workload at `--soak-concurrency` for this many
    /// seconds, with the kettle's resident set every 30 s.
    #[arg(long)]
    soak_secs: Option<f64>,
    /// Workers of the soak mode.
    #[arg(long, default_value_t = 8)]
    soak_concurrency: usize,
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::PlotBuild { json, svg }) => {
            plot::build_from_json(json, svg)?;
            eprintln!("wrote {}", svg.display());
            return Ok(());
        }
        Some(Command::Plot { json, dir }) => {
            let text = std::fs::read_to_string(json)
                .wrap_err_with(|| format!("reading {}", json.display()))?;
            let report: Report = serde_json::from_str(&text)
                .wrap_err_with(|| format!("{} is not a kettle-bench report", json.display()))?;
            write_plots(&report, dir)?;
            return Ok(());
        }
        None => {}
    }
    let args = cli.run;
    ensure!(
        args.concurrency.iter().all(|&c| c > 0) && !args.concurrency.is_empty(),
        "--concurrency needs positive levels"
    );
    ensure!(
        args.soak_concurrency > 0,
        "--soak-concurrency must be positive"
    );
    ensure!(
        args.duration_secs > 0.0 && args.warmup_secs >= 0.0 && args.slices > 0,
        "--duration-secs must be positive and --warmup-secs not negative"
    );

    // The kettle is started from the main thread, which lives until the end: the child is
    // killed if the thread that spawned it exits (see `KettleProcess`).
    let kettle = match &args.rpc {
        Some(_) => None,
        None => {
            if let Some(bin) = &args.kettle_bin {
                // Read by `kettle_tests::kettle_bin`; set before any other thread exists.
                std::env::set_var("KETTLE_BIN", bin);
            }
            let options = KettleOptions {
                block_period_ms: 0,
                log: Some(args.kettle_log.clone()),
                extra_args: Vec::new(),
            };
            let kettle = match &args.kettle_datadir {
                Some(dir) => KettleProcess::start_in(dir, options),
                None => KettleProcess::start_with(options),
            };
            eprintln!(
                "started {} dev (pid {}) on {}",
                kettle_tests::kettle_bin().display(),
                kettle.pid().unwrap_or_default(),
                kettle.rpc_url()
            );
            Some(kettle)
        }
    };
    let rpc = match (&args.rpc, &kettle) {
        (Some(url), _) => url.clone(),
        (None, Some(k)) => k.rpc_url(),
        (None, None) => unreachable!("a kettle was started"),
    };
    let pid = kettle
        .as_ref()
        .and_then(KettleProcess::pid)
        .or(args.kettle_pid);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("building the tokio runtime")?;
    let metrics = kettle.as_ref().map(KettleProcess::metrics_addr);
    let report = runtime.block_on(run(&args, &rpc, pid, metrics));
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            if let Some(k) = &kettle {
                let logs = k.logs();
                let tail: Vec<&str> = logs.lines().rev().take(40).collect();
                eprintln!("last lines of the kettle's stderr:");
                for line in tail.iter().rev() {
                    eprintln!("  {line}");
                }
            }
            return Err(e);
        }
    };
    drop(runtime);
    drop(kettle);

    output(&args, &report)?;
    if report.errors() > 0 {
        eprintln!(
            "error: {} requests failed; the first: {}",
            report.errors(),
            report.first_error().unwrap_or("(no message)")
        );
        std::process::exit(1);
    }
    Ok(())
}

/// Prints the summary, writes the JSON and the plots.
fn output(args: &RunArgs, report: &Report) -> eyre::Result<()> {
    println!();
    println!(
        "summary (KeccakLoop.run({}), gas {}, {} s per workload):",
        report.rounds, report.gas, report.duration_secs
    );
    for level in &report.levels {
        let ratios: Vec<String> = [Workload::ConfidentialRequest, Workload::ConfidentialCall]
            .into_iter()
            .filter_map(|w| level.ratio(w).map(|r| format!("{} {r:.2}", w.label())))
            .collect();
        println!(
            "  concurrency {:>3}: req/s ÷ eth_call: {}",
            level.concurrency,
            ratios.join(", ")
        );
    }
    let transfers: Vec<String> = report
        .levels
        .iter()
        .filter_map(|l| {
            l.get(Workload::Transfer).map(|w| {
                format!(
                    "concurrency {} {:.0} tx/s (p99 {:.1} ms)",
                    l.concurrency, w.req_per_sec, w.p99_ms
                )
            })
        })
        .collect();
    if !transfers.is_empty() {
        println!("  transfers: {}", transfers.join(", "));
    }
    if let Some(level) = report.levels.iter().find(|l| l.concurrency == 64) {
        if let Some(r) = level.ratio(Workload::ConfidentialRequest) {
            let verdict = if r >= 0.8 { "meets" } else { "misses" };
            println!(
                "  confidential/eth_call at concurrency 64: {r:.2} ({verdict} the 0.8 target)"
            );
        }
    }
    if let Some(soak) = &report.soak {
        println!(
            "  soak: {} workers for {:.0} s: {}",
            soak.concurrency,
            soak.secs,
            soak.stats.line()
        );
        println!("  soak RSS checkpoints (s: MiB):");
        for s in &soak.checkpoints {
            println!("    {:>7.0}: {:.1}", s.t_secs, s.rss_kib as f64 / 1024.0);
        }
    }
    if let Some(rss) = &report.rss {
        println!("  {}", rss.summary());
    }
    if args.markdown {
        println!();
        print!("{}", report.markdown());
    }
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(report)?)
            .wrap_err_with(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(dir) = &args.plot_dir {
        write_plots(report, dir)?;
    }
    Ok(())
}

/// Writes the SVGs of `report` into `dir`: latency and throughput against concurrency and the
/// kettle's memory (`e2e-*.svg`), or the memory during a soak (`soak-rss.svg`).
fn write_plots(report: &Report, dir: &Path) -> eyre::Result<()> {
    let mut written = Vec::new();
    if report.levels.is_empty() {
        if let Some(rss) = &report.rss {
            let path = dir.join("soak-rss.svg");
            plot::rss(&rss.samples, "kettle resident set during the soak", &path)?;
            written.push(path);
        }
    } else {
        let path = dir.join("e2e-latency.svg");
        plot::latency(&report.levels, &path)?;
        written.push(path);
        let path = dir.join("e2e-throughput.svg");
        plot::throughput(&report.levels, &path)?;
        written.push(path);
        if let Some(rss) = &report.rss {
            let path = dir.join("e2e-rss.svg");
            plot::rss(
                &rss.samples,
                "kettle resident set during kettle-bench",
                &path,
            )?;
            written.push(path);
        }
    }
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// What every worker calls.
struct Target {
    contract: Address,
    calldata: Bytes,
    gas: u64,
    /// Gas price of the `0x43` requests.
    gas_price: u128,
    /// `run(rounds)`'s return data, which every call must return.
    expected: Bytes,
    /// The `eth_call` argument object of the baseline.
    call_args: Value,
    /// The `eth_call` argument object of the confidential call.
    confidential_args: Value,
}

/// One worker: its own HTTP client and its own user (with the next nonce kept locally).
struct Worker {
    client: KettleClient,
    user: PrivateKeySigner,
    /// `user` as a libsecp256k1 signer: the load generator shares the kettle's cores, so its
    /// signing cost (k256 is about 3× slower) would count against the kettle.
    signer: FastSigner,
    nonce: u64,
    /// Hash of the last accepted transaction (for a request, its `0x50`).
    last_hash: Option<B256>,
    /// Requests signed ahead, for nonces `nonce`, `nonce + 1`, ….
    presigned: VecDeque<Vec<u8>>,
}

impl Worker {
    /// One request of `workload`; its latency (signing excluded) and outcome.
    async fn once(
        &mut self,
        workload: Workload,
        target: &Target,
    ) -> (Duration, Result<(), String>) {
        match workload {
            Workload::EthCall | Workload::ConfidentialCall => {
                let args = if workload == Workload::EthCall {
                    &target.call_args
                } else {
                    &target.confidential_args
                };
                let t0 = Instant::now();
                let result = self
                    .client
                    .rpc::<_, Bytes>("eth_call", (args.clone(), "latest"))
                    .await;
                let elapsed = t0.elapsed();
                let outcome = match result {
                    Ok(out) if out == target.expected => Ok(()),
                    Ok(out) => Err(format!(
                        "{}: unexpected return data {out}",
                        workload.label()
                    )),
                    Err(e) => Err(format!("{}: {e}", workload.label())),
                };
                (elapsed, outcome)
            }
            Workload::ConfidentialRequest | Workload::Transfer => {
                let raw = match self.presigned.pop_front() {
                    Some(raw) => raw,
                    None => sign_tx(workload, &self.client, &self.signer, self.nonce, target),
                };
                let t0 = Instant::now();
                let result = self.client.send_raw(&raw).await;
                let elapsed = t0.elapsed();
                match result {
                    Ok(hash) => {
                        self.nonce += 1;
                        self.last_hash = Some(hash);
                        (elapsed, Ok(()))
                    }
                    Err(e) => {
                        let why = format!(
                            "{} (user {}, nonce {}): {e}",
                            workload.label(),
                            self.user.address(),
                            self.nonce
                        );
                        // The request may have been committed after all (a timeout), so the
                        // requests signed ahead may carry the wrong nonces.
                        self.presigned.clear();
                        if let Ok(n) = self.pending_nonce().await {
                            self.nonce = n;
                        }
                        (elapsed, Err(why))
                    }
                }
            }
        }
    }

    /// Signs `n` transactions of `workload` ahead, from the next nonce on.
    fn presign(&mut self, n: usize, workload: Workload, target: &Target) {
        let first = self.nonce + self.presigned.len() as u64;
        for nonce in first..first + n as u64 {
            let raw = sign_tx(workload, &self.client, &self.signer, nonce, target);
            self.presigned.push_back(raw);
        }
    }

    async fn pending_nonce(&self) -> Result<u64, String> {
        self.client
            .rpc::<_, U64>("eth_getTransactionCount", (self.user.address(), "pending"))
            .await
            .map(|n| n.to())
            .map_err(|e| e.to_string())
    }
}

/// The signed transaction of a workload that sends one: a `0x43` ([`sign_request`]) or a
/// 1-wei EIP-1559 transfer to [`TRANSFER_SINK`].
fn sign_tx(
    workload: Workload,
    client: &KettleClient,
    user: &FastSigner,
    nonce: u64,
    target: &Target,
) -> Vec<u8> {
    if workload != Workload::Transfer {
        return sign_request(client, user, nonce, target);
    }
    let tx = TxEip1559 {
        chain_id: client.chain_id(),
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: target.gas_price,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(TRANSFER_SINK),
        value: U256::from(1),
        ..Default::default()
    };
    kettle_tests::signed_eip1559(user, tx).encoded_2718()
}

/// A signed (EIP-712) `0x43` calling `target` from `user`, encoded.
fn sign_request(client: &KettleClient, user: &FastSigner, nonce: u64, target: &Target) -> Vec<u8> {
    let record = ConfidentialComputeRecord {
        nonce,
        gas_price: U256::from(target.gas_price),
        gas: target.gas,
        to: Some(target.contract),
        data: target.calldata.clone(),
        kettle_address: client.kettle_address(),
        is_eip712: true,
        chain_id: U256::from(client.chain_id()),
        ..Default::default()
    };
    ConfidentialComputeRequest::new(record, Bytes::new())
        .into_signed(user)
        .expect("signing a confidential compute request")
        .encoded()
}

/// Polls for the receipt of `hash` (bounded by [`RECEIPT_TIMEOUT`]); `Err` unless it arrives
/// with status 1.
async fn check_receipt(client: &KettleClient, hash: B256) -> Result<(), String> {
    let deadline = Instant::now() + RECEIPT_TIMEOUT;
    loop {
        match client.receipt(hash).await {
            Ok(Some(receipt)) if receipt.inner.status() => return Ok(()),
            Ok(Some(_)) => return Err(format!("the transaction {hash} reverted on chain")),
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Ok(None) => {
                return Err(format!(
                    "no receipt for the transaction {hash} within {RECEIPT_TIMEOUT:?}"
                ))
            }
            Err(e) => return Err(format!("eth_getTransactionReceipt({hash}): {e}")),
        }
    }
}

/// Deploys, funds, measures every level (or the soak); the report.
async fn run(
    args: &RunArgs,
    rpc: &str,
    pid: Option<u32>,
    metrics: Option<std::net::SocketAddr>,
) -> eyre::Result<Report> {
    let setup = KettleClient::connect(rpc).await;
    let dev = dev_user();
    let contract = setup.deploy(&dev, "KeccakLoop").await;
    let calldata: Bytes = KeccakLoop::runCall {
        rounds: U256::from(args.rounds),
    }
    .abi_encode()
    .into();
    let call_args = json!({
        "to": contract,
        "input": calldata,
        "gas": format!("{:#x}", args.gas),
    });
    let mut confidential_args = call_args.clone();
    confidential_args["isConfidential"] = json!(true);
    confidential_args["confidentialInputs"] = json!("0x");

    let expected: Bytes = setup
        .rpc("eth_call", (call_args.clone(), "latest"))
        .await
        .map_err(|e| {
            eyre!(
                "eth_call of run({}) with gas {} failed: {e} (lower --rounds or raise --gas)",
                args.rounds,
                args.gas
            )
        })?;
    let used: U64 = setup
        .rpc(
            "eth_estimateGas",
            (json!({ "to": contract, "input": calldata }),),
        )
        .await
        .map_err(|e| eyre!("eth_estimateGas of run({}): {e}", args.rounds))?;
    let confidential: Bytes = setup
        .rpc("eth_call", (confidential_args.clone(), "latest"))
        .await
        .map_err(|e| eyre!("confidential eth_call of run({}): {e}", args.rounds))?;
    ensure!(
        confidential == expected,
        "the confidential eth_call returned {confidential}, the plain one {expected}"
    );
    eprintln!(
        "KeccakLoop at {contract}; run({}) needs {} gas (limit {})",
        args.rounds,
        used.to::<u64>(),
        args.gas
    );
    let target = Arc::new(Target {
        contract,
        calldata,
        gas: args.gas,
        gas_price: setup.gas_price().await * 2,
        expected,
        call_args,
        confidential_args,
    });

    let workers_needed = match args.soak_secs {
        Some(_) => args.soak_concurrency,
        None => args.concurrency.iter().copied().max().unwrap_or(1),
    };
    let mut workers = make_workers(&setup, &dev, rpc, workers_needed).await?;
    // One request end to end before measuring: the path works and the 0x50 lands.
    {
        let first = &mut workers[0];
        let (_, result) = first.once(Workload::ConfidentialRequest, &target).await;
        result.map_err(|e| eyre!("the first confidential request failed: {e}"))?;
        let hash = first.last_hash.expect("set by a successful request");
        check_receipt(&first.client, hash)
            .await
            .map_err(|e| eyre!("the first confidential request: {e}"))?;
    }

    let monitor = pid.map(|pid| RssMonitor::start(pid, args.soak_secs.is_some(), metrics));
    let warmup = Duration::from_secs_f64(args.warmup_secs);
    let mut levels = Vec::new();
    let mut soak = None;
    if let Some(secs) = args.soak_secs {
        eprintln!(
            "soak: confidential requests from {} workers for {secs} s",
            workers.len()
        );
        let (_, window) = measure(
            workers,
            Workload::ConfidentialRequest,
            &target,
            warmup,
            Duration::from_secs_f64(secs),
            pid,
            false,
        )
        .await?;
        let stats = Window::merge(Workload::ConfidentialRequest, vec![window]);
        println!("soak: {}", stats.line());
        soak = Some(SoakReport {
            concurrency: args.soak_concurrency,
            secs,
            stats,
            checkpoints: Vec::new(),
        });
    } else {
        let mut workloads = vec![Workload::EthCall, Workload::ConfidentialRequest];
        if args.confidential_call {
            workloads.push(Workload::ConfidentialCall);
        }
        if args.transfers {
            workloads.push(Workload::Transfer);
        }
        for &concurrency in &args.concurrency {
            println!("concurrency {concurrency}:");
            let mut level = Level {
                concurrency,
                workloads: Vec::new(),
            };
            let slice_len = Duration::from_secs_f64(args.duration_secs / f64::from(args.slices));
            let mut slices: Vec<Vec<Window>> = vec![Vec::new(); workloads.len()];
            for _ in 0..args.slices {
                for (i, &workload) in workloads.iter().enumerate() {
                    let active: Vec<Worker> = workers.drain(..concurrency).collect();
                    let (back, window) =
                        measure(active, workload, &target, warmup, slice_len, pid, true).await?;
                    workers.splice(0..0, back);
                    slices[i].push(window);
                }
            }
            for (&workload, windows) in workloads.iter().zip(slices) {
                let stats = Window::merge(workload, windows);
                println!("  {}", stats.line());
                if let Some(e) = &stats.first_error {
                    println!("    first error: {e}");
                }
                level.workloads.push(stats);
            }
            if let Some(r) = level.ratio(Workload::ConfidentialRequest) {
                println!("  confidential request req/s ÷ eth_call req/s: {r:.2}");
            }
            levels.push(level);
        }
    }

    let rss = match monitor {
        Some(monitor) => monitor.finish().await,
        None => None,
    };
    if let (Some(soak), Some(rss)) = (&mut soak, &rss) {
        soak.checkpoints = rss.checkpoints(SOAK_CHECKPOINT_SECS);
    }
    Ok(Report {
        rpc: rpc.to_owned(),
        started_kettle: args.rpc.is_none(),
        rounds: args.rounds,
        gas: args.gas,
        warmup_secs: args.warmup_secs,
        duration_secs: args.soak_secs.unwrap_or(args.duration_secs),
        slices: if args.soak_secs.is_some() {
            1
        } else {
            args.slices
        },
        levels,
        soak,
        rss,
    })
}

/// `n` workers, each with a fresh user funded by `funder` (funding receipts awaited) and its
/// own client.
async fn make_workers(
    setup: &KettleClient,
    funder: &PrivateKeySigner,
    rpc: &str,
    n: usize,
) -> eyre::Result<Vec<Worker>> {
    eprintln!("funding {n} users with {FUNDING_ETHER} ether each");
    let amount = U256::from(FUNDING_ETHER) * U256::from(10u64).pow(U256::from(18u64));
    let users: Vec<PrivateKeySigner> = (0..n).map(|_| PrivateKeySigner::random()).collect();
    let mut hashes = Vec::with_capacity(n);
    for user in &users {
        let hash = setup
            .send_eip1559(
                funder,
                TxKind::Call(user.address()),
                Bytes::new(),
                amount,
                21_000,
            )
            .await
            .map_err(|e| eyre!("funding {}: {e}", user.address()))?;
        hashes.push(hash);
    }
    for hash in hashes {
        check_receipt(setup, hash)
            .await
            .map_err(|e| eyre!("funding transfer: {e}"))?;
    }
    let mut workers = Vec::with_capacity(n);
    for user in users {
        let client = KettleClient::connect(rpc).await;
        let signer = FastSigner::new(&user).map_err(|e| eyre!("signer of a user: {e}"))?;
        let mut worker = Worker {
            client,
            user,
            signer,
            nonce: 0,
            last_hash: None,
            presigned: VecDeque::new(),
        };
        worker.nonce = worker
            .pending_nonce()
            .await
            .map_err(|e| eyre!("nonce of {}: {e}", worker.user.address()))?;
        workers.push(worker);
    }
    Ok(workers)
}

/// What one worker saw during [`measure`].
#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    /// When the last measured request ended.
    last_end: Option<Instant>,
}

/// Runs `workload` on every worker for `warmup` (unmeasured) then `duration`; returns the
/// workers (for the next workload) and the statistics. Requests that start in the measured
/// window count; the window ends when the last of them ends. A confidential workload ends
/// with a receipt check of each worker's last `0x50`.
///
/// With `presign`, a confidential workload warms up first, then each worker signs the
/// requests the window should need at the warm-up's rate (half as many again, to spare),
/// and the window starts once they are signed.
async fn measure(
    mut workers: Vec<Worker>,
    workload: Workload,
    target: &Arc<Target>,
    mut warmup: Duration,
    duration: Duration,
    kettle_pid: Option<u32>,
    presign: bool,
) -> eyre::Result<(Vec<Worker>, Window)> {
    // Failed warm-up requests count as errors too.
    let mut warmup_outcomes = Vec::new();
    let sends = matches!(workload, Workload::ConfidentialRequest | Workload::Transfer);
    if presign && sends && !warmup.is_zero() {
        let from = Instant::now();
        let (back, outcomes) = drive(workers, workload, target, from, from + warmup).await?;
        let done: usize = outcomes.iter().map(|o| o.latencies.len()).sum();
        warmup_outcomes = outcomes
            .into_iter()
            .map(|o| Outcome {
                latencies: Vec::new(),
                last_end: None,
                ..o
            })
            .collect();
        let rate = done as f64 / warmup.as_secs_f64();
        let per_worker =
            (rate * duration.as_secs_f64() * 1.5 / back.len().max(1) as f64).ceil() as usize + 8;
        workers = back;
        for worker in &mut workers {
            worker.presign(per_worker, workload, target);
        }
        warmup = Duration::ZERO;
    }
    let measure_from = Instant::now() + warmup;
    let end = measure_from + duration;
    // CPU of both processes at the start of the measured window.
    let cpu_at_start = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from).await;
        (kettle_pid.and_then(cpu_secs), cpu_secs(std::process::id()))
    });
    let (mut workers, outcomes) = drive(workers, workload, target, measure_from, end).await?;
    for worker in &mut workers {
        // Left over: their nonces are still unused, but the next workload starts afresh.
        worker.presigned.clear();
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    let mut last_end = end;
    for out in warmup_outcomes.into_iter().chain(outcomes) {
        latencies.extend(out.latencies);
        errors += out.errors;
        if first_error.is_none() {
            first_error = out.first_error;
        }
        if let Some(t) = out.last_end {
            last_end = last_end.max(t);
        }
    }
    if sends {
        for worker in &workers {
            if let Some(hash) = worker.last_hash {
                if let Err(e) = check_receipt(&worker.client, hash).await {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    let (kettle_start, client_start) = cpu_at_start
        .await
        .map_err(|e| eyre!("the CPU sampler panicked: {e}"))?;
    let kettle_cpu = kettle_pid
        .and_then(cpu_secs)
        .zip(kettle_start)
        .map(|(end, start)| end - start);
    let client_cpu = cpu_secs(std::process::id())
        .zip(client_start)
        .map(|(end, start)| end - start);
    Ok((
        workers,
        Window {
            latencies,
            length: last_end.saturating_duration_since(measure_from),
            errors,
            first_error,
            kettle_cpu_secs: kettle_cpu,
            client_cpu_secs: client_cpu,
        },
    ))
}

/// What one measured window of one workload saw.
#[derive(Debug, Clone)]
struct Window {
    /// Latencies of the requests that started in the window and succeeded.
    latencies: Vec<Duration>,
    /// From the window's start until its last request ended.
    length: Duration,
    /// Failed requests, warm-up included.
    errors: u64,
    first_error: Option<String>,
    /// CPU seconds of the kettle and of the load generator over the window.
    kettle_cpu_secs: Option<f64>,
    client_cpu_secs: Option<f64>,
}

impl Window {
    /// The statistics of `workload` over all its windows: requests, time and CPU added up.
    fn merge(workload: Workload, windows: Vec<Window>) -> WorkloadStats {
        let sum =
            |cpu: &dyn Fn(&Window) -> Option<f64>| windows.iter().map(cpu).sum::<Option<f64>>();
        let kettle = sum(&|w| w.kettle_cpu_secs);
        let client = sum(&|w| w.client_cpu_secs);
        let length = windows.iter().map(|w| w.length).sum();
        let errors = windows.iter().map(|w| w.errors).sum();
        let first_error = windows.iter().find_map(|w| w.first_error.clone());
        let latencies = windows.into_iter().flat_map(|w| w.latencies).collect();
        WorkloadStats::new(workload, latencies, length, errors, first_error)
            .with_cpu(kettle, client)
    }
}

/// Runs `workload` on every worker until `end`; requests that start at `measure_from` or
/// later count in each worker's [`Outcome`]. Returns the workers and their outcomes.
async fn drive(
    workers: Vec<Worker>,
    workload: Workload,
    target: &Arc<Target>,
    measure_from: Instant,
    end: Instant,
) -> eyre::Result<(Vec<Worker>, Vec<Outcome>)> {
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            let target = target.clone();
            tokio::spawn(async move {
                let mut out = Outcome::default();
                worker.last_hash = None;
                while Instant::now() < end {
                    let started = Instant::now();
                    let (latency, result) = worker.once(workload, &target).await;
                    match result {
                        Ok(()) if started >= measure_from => {
                            out.latencies.push(latency);
                            out.last_end = Some(Instant::now());
                        }
                        Ok(()) => {}
                        Err(e) => {
                            out.errors += 1;
                            out.first_error.get_or_insert(e);
                        }
                    }
                }
                (worker, out)
            })
        })
        .collect();
    let mut workers = Vec::with_capacity(tasks.len());
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (worker, out) = task.await.map_err(|e| eyre!("a worker panicked: {e}"))?;
        workers.push(worker);
        outcomes.push(out);
    }
    Ok((workers, outcomes))
}

/// User + system CPU seconds process `pid` has used (all its threads), from `/proc`.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces): state is field 3, utime 14,
    // stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_sec > 0).then(|| ticks as f64 / per_sec as f64)
}

/// Samples the kettle's `VmRSS` every second in the background.
struct RssMonitor {
    pid: u32,
    started: Instant,
    samples: Arc<Mutex<Vec<RssSample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssMonitor {
    /// Starts sampling `pid`; `announce` prints a line at every soak checkpoint, with the
    /// kettle's own memory breakdown when its `metrics` endpoint is known.
    fn start(pid: u32, announce: bool, metrics: Option<std::net::SocketAddr>) -> Self {
        let started = Instant::now();
        let samples: Arc<Mutex<Vec<RssSample>>> = Arc::default();
        let shared = samples.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut next_announce = 0.0;
            loop {
                tick.tick().await;
                let Some(rss_kib) = proc_status_kib(pid, "VmRSS") else {
                    break;
                };
                let t_secs = started.elapsed().as_secs_f64();
                shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(RssSample { t_secs, rss_kib });
                if announce && t_secs >= next_announce {
                    let breakdown = match metrics {
                        Some(addr) => tokio::task::spawn_blocking(move || {
                            kettle_tests::http_get(addr, "/metrics", Duration::from_secs(5))
                        })
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .map(|(_, body)| memory_breakdown(&body))
                        .unwrap_or_default(),
                        None => String::new(),
                    };
                    eprintln!(
                        "soak: {t_secs:>6.0} s, kettle VmRSS {:.1} MiB{breakdown}",
                        rss_kib as f64 / 1024.0
                    );
                    next_announce += SOAK_CHECKPOINT_SECS;
                }
            }
        });
        Self {
            pid,
            started,
            samples,
            task,
        }
    }

    /// Stops sampling (after one last sample); the report, if anything was sampled.
    async fn finish(self) -> Option<RssReport> {
        self.task.abort();
        let _ = self.task.await;
        let mut samples =
            std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(rss_kib) = proc_status_kib(self.pid, "VmRSS") {
            samples.push(RssSample {
                t_secs: self.started.elapsed().as_secs_f64(),
                rss_kib,
            });
        }
        RssReport::new(self.pid, samples, proc_status_kib(self.pid, "VmHWM"))
    }
}

/// The kettle's `kettle_memory_bytes` gauges in a `/metrics` text, as `; part X.X MiB, ...`
/// (empty if there are none).
fn memory_breakdown(metrics: &str) -> String {
    let mut parts: Vec<(&str, f64)> = metrics
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("kettle_memory_bytes{part=\"")?;
            let (part, value) = rest.split_once("\"} ")?;
            let bytes: f64 = value.trim().parse().ok()?;
            (part != "resident").then_some((part, bytes))
        })
        .collect();
    // The exporter's order is arbitrary; a fixed one makes checkpoints comparable by eye.
    parts.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> = parts
        .iter()
        .map(|(part, bytes)| format!("{part} {:.1}", bytes / (1024.0 * 1024.0)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("; MiB: {}", parts.join(", "))
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`); `None` if unreadable.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status")).ok()?;
    parse_status_kib(&status, field)
}

/// The value of `field` (`VmRSS:     1234 kB`) in a `/proc/<pid>/status` text.
fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_breakdown_lists_the_parts_but_the_resident_set() {
        let text = "# TYPE kettle_memory_bytes gauge\n\
                    kettle_memory_bytes{part=\"resident\"} 104857600\n\
                    kettle_memory_bytes{part=\"rocksdb_memtables\"} 1048576\n\
                    kettle_memory_bytes{part=\"heap_in_use\"} 2097152\n\
                    kettle_block_height 3\n";
        assert_eq!(
            memory_breakdown(text),
            "; MiB: heap_in_use 2.0, rocksdb_memtables 1.0"
        );
        assert_eq!(memory_breakdown("kettle_block_height 3\n"), "");
    }

    #[test]
    fn reads_own_cpu_time() {
        let before = cpu_secs(std::process::id()).expect("own /proc stat");
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(100) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        let after = cpu_secs(std::process::id()).expect("own /proc stat");
        assert!(x > 0 && after > before, "{before} -> {after}");
        assert_eq!(cpu_secs(u32::MAX), None);
    }

    #[test]
    fn parses_proc_status() {
        let status = "Name:\tkettle\nVmHWM:\t  123456 kB\nVmRSS:\t   65432 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(65432));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(123456));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
        let own = proc_status_kib(std::process::id(), "VmRSS");
        assert!(own.is_some_and(|kib| kib > 0));
    }

    #[test]
    fn windows_merge_into_one_workload() {
        let ms = Duration::from_millis;
        let window = |latencies: Vec<u64>, secs: u64, cpu: Option<f64>, errors: u64| Window {
            latencies: latencies.into_iter().map(ms).collect(),
            length: Duration::from_secs(secs),
            errors,
            first_error: (errors > 0).then(|| format!("{errors} failed")),
            kettle_cpu_secs: cpu,
            client_cpu_secs: Some(0.5),
        };
        let stats = Window::merge(
            Workload::EthCall,
            vec![
                window(vec![1, 2, 3], 1, Some(1.0), 0),
                window(vec![4; 5], 3, Some(3.0), 2),
            ],
        );
        assert_eq!(stats.requests, 8);
        assert_eq!(stats.req_per_sec, 2.0);
        assert_eq!(stats.errors, 2);
        assert_eq!(stats.first_error.as_deref(), Some("2 failed"));
        assert_eq!(stats.kettle_cpu_ms, Some(500.0));
        assert_eq!(stats.client_cpu_ms, Some(125.0));
        assert_eq!(stats.max_ms, 4.0);
        // CPU unknown in one window: unknown overall.
        let stats = Window::merge(
            Workload::EthCall,
            vec![
                window(vec![1], 1, None, 0),
                window(vec![1], 1, Some(1.0), 0),
            ],
        );
        assert_eq!(stats.kettle_cpu_ms, None);
    }

    #[test]
    fn cli_parses() {
        let cli = Cli::try_parse_from([
            "kettle-bench",
            "--concurrency",
            "1,2",
            "--duration-secs",
            "2",
            "--warmup-secs",
            "1",
            "--rounds",
            "100",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.concurrency, vec![1, 2]);
        assert_eq!(cli.run.rounds, 100);
        assert_eq!(cli.run.slices, 3);
        let cli = Cli::try_parse_from(["kettle-bench", "plot-build", "a.json", "b.svg"]).unwrap();
        assert!(matches!(cli.command, Some(Command::PlotBuild { .. })));
        assert!(Cli::try_parse_from(["kettle-bench", "--kettle-pid", "1"]).is_err());
    }
}
