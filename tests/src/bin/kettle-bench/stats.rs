//! Latency statistics, the JSON report and its text and Markdown renderings.

use std::{fmt::Write as _, time::Duration};

use serde::{Deserialize, Serialize};

/// One workload of a concurrency level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// Plain `eth_call` of `KeccakLoop.run(rounds)`: the baseline.
    EthCall,
    /// Signed `0x43` through `eth_sendRawTransaction` (MEVM, `0x50` signed and committed).
    ConfidentialRequest,
    /// `eth_call` with `isConfidential: true` (MEVM, nothing committed).
    ConfidentialCall,
    /// Signed EIP-1559 transfer of 1 wei through `eth_sendRawTransaction`: admission, the
    /// synced write of the pending entry and block inclusion, no contract code.
    Transfer,
}

impl Workload {
    /// Label in tables, plots and logs.
    pub fn label(self) -> &'static str {
        match self {
            Workload::EthCall => "eth_call",
            Workload::ConfidentialRequest => "confidential request",
            Workload::ConfidentialCall => "confidential eth_call",
            Workload::Transfer => "transfer",
        }
    }
}

/// What one workload measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadStats {
    /// Which workload.
    pub workload: Workload,
    /// Requests that started in the measured window and succeeded.
    pub requests: u64,
    /// Failed requests (warm-up included; must be 0).
    pub errors: u64,
    /// The first error's text.
    pub first_error: Option<String>,
    /// Length of the measured window, seconds (until the last measured request ended).
    pub window_secs: f64,
    /// `requests / window_secs`.
    pub req_per_sec: f64,
    /// Latency percentiles and extremes, milliseconds (0 without samples).
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Maximum, ms.
    pub max_ms: f64,
    /// CPU time the kettle process spent per measured request, ms (user + system, all
    /// threads); `None` when the kettle's process id is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kettle_cpu_ms: Option<f64>,
    /// CPU time the load generator itself spent per measured request, ms: it shares the
    /// machine with the kettle, so this is CPU the kettle could not use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cpu_ms: Option<f64>,
}

impl WorkloadStats {
    /// Statistics of `latencies` (any order) over a window of `window`.
    pub fn new(
        workload: Workload,
        mut latencies: Vec<Duration>,
        window: Duration,
        errors: u64,
        first_error: Option<String>,
    ) -> Self {
        latencies.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let requests = latencies.len() as u64;
        let window_secs = window.as_secs_f64();
        let mean_ms = if latencies.is_empty() {
            0.0
        } else {
            ms(latencies.iter().sum::<Duration>()) / latencies.len() as f64
        };
        Self {
            workload,
            requests,
            errors,
            first_error,
            window_secs,
            req_per_sec: if window_secs > 0.0 {
                requests as f64 / window_secs
            } else {
                0.0
            },
            p50_ms: ms(percentile(&latencies, 0.50)),
            p90_ms: ms(percentile(&latencies, 0.90)),
            p99_ms: ms(percentile(&latencies, 0.99)),
            mean_ms,
            max_ms: ms(latencies.last().copied().unwrap_or_default()),
            kettle_cpu_ms: None,
            client_cpu_ms: None,
        }
    }

    /// Sets the CPU time per request from the CPU seconds the kettle and the load generator
    /// used over the measured window.
    pub fn with_cpu(mut self, kettle_secs: Option<f64>, client_secs: Option<f64>) -> Self {
        let per_request =
            |secs: f64| (self.requests > 0).then(|| secs * 1e3 / self.requests as f64);
        self.kettle_cpu_ms = kettle_secs.and_then(per_request);
        self.client_cpu_ms = client_secs.and_then(per_request);
        self
    }

    /// One line: rate, percentiles, errors, CPU per request when known.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{:<22} {:>9.1} req/s  p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  ({} requests, {} errors)",
            self.workload.label(),
            self.req_per_sec,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.requests,
            self.errors
        );
        if let Some(k) = self.kettle_cpu_ms {
            line.push_str(&format!("  cpu/req: kettle {k:.3} ms"));
        }
        if let Some(c) = self.client_cpu_ms {
            line.push_str(&format!(", client {c:.3} ms"));
        }
        line
    }
}

/// Nearest-rank percentile of sorted samples (`p` in 0..=1); zero without samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The workloads of one concurrency level, measured back to back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Concurrent workers (one connection and, for requests, one user each).
    pub concurrency: usize,
    /// Every workload of the level, baseline first.
    pub workloads: Vec<WorkloadStats>,
}

impl Level {
    /// The stats of `workload`, if it ran.
    pub fn get(&self, workload: Workload) -> Option<&WorkloadStats> {
        self.workloads.iter().find(|w| w.workload == workload)
    }

    /// req/s of `workload` ÷ req/s of the `eth_call` baseline.
    pub fn ratio(&self, workload: Workload) -> Option<f64> {
        let base = self.get(Workload::EthCall)?.req_per_sec;
        let other = self.get(workload)?.req_per_sec;
        (base > 0.0).then(|| other / base)
    }
}

/// One resident-set sample of the kettle process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RssSample {
    /// Seconds since the first sample.
    pub t_secs: f64,
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
}

/// Memory of the kettle process during the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RssReport {
    /// The kettle's process id.
    pub pid: u32,
    /// `VmHWM` at the end: the peak resident set since the process started, KiB.
    pub peak_kib: Option<u64>,
    /// Largest sampled `VmRSS`, KiB.
    pub max_sampled_kib: u64,
    /// First sampled `VmRSS`, KiB.
    pub start_kib: u64,
    /// Last sampled `VmRSS`, KiB.
    pub end_kib: u64,
    /// Last sample minus the sample one minute before it (the first one if the run was
    /// shorter), KiB: the recent trend.
    pub last_minute_change_kib: i64,
    /// Seconds the last-minute change covers.
    pub last_minute_span_secs: f64,
    /// Every sample (about one per second).
    pub samples: Vec<RssSample>,
}

impl RssReport {
    /// The report of `samples` (non-empty) and the final `VmHWM`.
    pub fn new(pid: u32, samples: Vec<RssSample>, peak_kib: Option<u64>) -> Option<Self> {
        let first = *samples.first()?;
        let last = *samples.last()?;
        let since = samples
            .iter()
            .find(|s| s.t_secs >= last.t_secs - 60.0)
            .copied()
            .unwrap_or(first);
        Some(Self {
            pid,
            peak_kib,
            max_sampled_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
            start_kib: first.rss_kib,
            end_kib: last.rss_kib,
            last_minute_change_kib: last.rss_kib as i64 - since.rss_kib as i64,
            last_minute_span_secs: last.t_secs - since.t_secs,
            samples,
        })
    }

    /// The samples at the start, every `every` seconds, and the end.
    pub fn checkpoints(&self, every: f64) -> Vec<RssSample> {
        let mut out: Vec<RssSample> = Vec::new();
        let mut next = 0.0;
        for s in &self.samples {
            if s.t_secs >= next {
                out.push(*s);
                next = (s.t_secs / every).floor() * every + every;
            }
        }
        if let (Some(last), Some(kept)) = (self.samples.last(), out.last()) {
            if last.t_secs > kept.t_secs {
                out.push(*last);
            }
        }
        out
    }

    /// A few lines: peak, max, start → end, last-minute change.
    pub fn summary(&self) -> String {
        let mib = |kib: u64| kib as f64 / 1024.0;
        format!(
            "kettle (pid {}) memory: peak VmHWM {}; sampled VmRSS max {:.1} MiB, start {:.1} MiB, end {:.1} MiB; last {:.0} s: {:+.1} MiB",
            self.pid,
            self.peak_kib
                .map_or_else(|| "unknown".to_owned(), |k| format!("{:.1} MiB", mib(k))),
            mib(self.max_sampled_kib),
            mib(self.start_kib),
            mib(self.end_kib),
            self.last_minute_span_secs,
            self.last_minute_change_kib as f64 / 1024.0
        )
    }
}

/// The soak run: the confidential workload at a fixed concurrency for a long time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoakReport {
    /// Concurrent workers.
    pub concurrency: usize,
    /// Measured seconds.
    pub secs: f64,
    /// The confidential workload's stats over the whole soak.
    pub stats: WorkloadStats,
    /// RSS at the start, every 30 s and at the end.
    pub checkpoints: Vec<RssSample>,
}

/// Everything one `kettle-bench` run measured (the `--json` file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The kettle's JSON-RPC endpoint.
    pub rpc: String,
    /// Whether `kettle-bench` started that kettle (`kettle dev --block-period-ms 0`).
    pub started_kettle: bool,
    /// `KeccakLoop.run` rounds per request.
    pub rounds: u64,
    /// Gas limit of the requests and calls.
    pub gas: u64,
    /// Warm-up seconds before each measured window (not measured).
    pub warmup_secs: f64,
    /// Measured seconds per workload.
    pub duration_secs: f64,
    /// Windows each workload's measured time was cut into, interleaved with the other
    /// workloads' (1 in reports from before slices, and in soak mode).
    #[serde(default = "one")]
    pub slices: u32,
    /// One entry per concurrency level (empty in soak mode).
    pub levels: Vec<Level>,
    /// The soak run, in soak mode.
    pub soak: Option<SoakReport>,
    /// The kettle's memory, when its pid is known.
    pub rss: Option<RssReport>,
}

fn one() -> u32 {
    1
}

impl Report {
    /// Total errors over every workload.
    pub fn errors(&self) -> u64 {
        let levels: u64 = self
            .levels
            .iter()
            .flat_map(|l| &l.workloads)
            .map(|w| w.errors)
            .sum();
        levels + self.soak.as_ref().map_or(0, |s| s.stats.errors)
    }

    /// The first error text, if any.
    pub fn first_error(&self) -> Option<&str> {
        self.levels
            .iter()
            .flat_map(|l| &l.workloads)
            .chain(self.soak.as_ref().map(|s| &s.stats))
            .find_map(|w| w.first_error.as_deref())
    }

    /// A Markdown table: one row per level and workload.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "KeccakLoop.run({}), gas {}, {} s per workload in {} interleaved window(s), each after {} s of warm-up\n",
            self.rounds, self.gas, self.duration_secs, self.slices, self.warmup_secs
        );
        out.push_str(
            "| concurrency | workload | req/s | ÷ eth_call | p50 ms | p90 ms | p99 ms | kettle CPU ms/req | errors |\n",
        );
        out.push_str("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for level in &self.levels {
            for w in &level.workloads {
                let ratio = match w.workload {
                    // Transfers run no contract code: no ratio to `eth_call`.
                    Workload::EthCall | Workload::Transfer => "—".to_owned(),
                    other => level
                        .ratio(other)
                        .map_or_else(|| "—".to_owned(), |r| format!("{r:.2}")),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.1} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
                    level.concurrency,
                    w.workload.label(),
                    w.req_per_sec,
                    ratio,
                    w.p50_ms,
                    w.p90_ms,
                    w.p99_ms,
                    w.kettle_cpu_ms
                        .map_or_else(|| "—".to_owned(), |c| format!("{c:.3}")),
                    w.errors
                );
            }
        }
        if let Some(soak) = &self.soak {
            let w = &soak.stats;
            let _ = writeln!(
                out,
                "| {} (soak, {:.0} s) | {} | {:.1} | — | {:.2} | {:.2} | {:.2} | {} | {} |",
                soak.concurrency,
                soak.secs,
                w.workload.label(),
                w.req_per_sec,
                w.p50_ms,
                w.p90_ms,
                w.p99_ms,
                w.kettle_cpu_ms
                    .map_or_else(|| "—".to_owned(), |c| format!("{c:.3}")),
                w.errors
            );
        }
        if let Some(rss) = &self.rss {
            let _ = writeln!(out, "\n{}", rss.summary());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&sorted, 0.5), ms(50));
        assert_eq!(percentile(&sorted, 0.9), ms(90));
        assert_eq!(percentile(&sorted, 0.99), ms(99));
        assert_eq!(percentile(&sorted, 1.0), ms(100));
        assert_eq!(percentile(&sorted, 0.0), ms(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
        assert_eq!(percentile(&[ms(7)], 0.99), ms(7));
    }

    #[test]
    fn stats_and_ratio() {
        let base = WorkloadStats::new(
            Workload::EthCall,
            vec![ms(3), ms(1), ms(2)],
            Duration::from_secs(1),
            0,
            None,
        );
        assert_eq!(base.requests, 3);
        assert!((base.req_per_sec - 3.0).abs() < 1e-9);
        assert!((base.p50_ms - 2.0).abs() < 1e-9);
        assert!((base.mean_ms - 2.0).abs() < 1e-9);
        assert!((base.max_ms - 3.0).abs() < 1e-9);
        let conf = WorkloadStats::new(
            Workload::ConfidentialRequest,
            vec![ms(4); 6],
            Duration::from_secs(3),
            1,
            Some("boom".into()),
        );
        let level = Level {
            concurrency: 8,
            workloads: vec![base, conf],
        };
        assert!((level.ratio(Workload::ConfidentialRequest).unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(level.ratio(Workload::ConfidentialCall), None);
        let report = Report {
            rpc: "http://127.0.0.1:1".into(),
            started_kettle: true,
            rounds: 10,
            gas: 1,
            warmup_secs: 0.0,
            duration_secs: 1.0,
            slices: 1,
            levels: vec![level],
            soak: None,
            rss: None,
        };
        assert_eq!(report.errors(), 1);
        assert_eq!(report.first_error(), Some("boom"));
        let md = report.markdown();
        assert!(
            md.contains("| 8 | confidential request | 2.0 | 0.67 |"),
            "{md}"
        );
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
    }

    #[test]
    fn rss_trend_and_checkpoints() {
        let samples: Vec<RssSample> = (0..=100)
            .map(|t| RssSample {
                t_secs: t as f64,
                rss_kib: 1000 + t,
            })
            .collect();
        let rss = RssReport::new(1, samples, Some(5000)).unwrap();
        assert_eq!(rss.max_sampled_kib, 1100);
        assert_eq!(rss.last_minute_change_kib, 60);
        assert!((rss.last_minute_span_secs - 60.0).abs() < 1e-9);
        let ts: Vec<f64> = rss.checkpoints(30.0).iter().map(|s| s.t_secs).collect();
        assert_eq!(ts, vec![0.0, 30.0, 60.0, 90.0, 100.0]);
        assert!(RssReport::new(1, vec![], None).is_none());
    }
}
