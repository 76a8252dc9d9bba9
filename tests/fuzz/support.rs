//! The harness every fuzz target shares: budget, seed, structure-aware mutation, the
//! per-case allocation cap and the report `scripts/fuzz` collects.
//!
//! Not a crate: each fuzz target includes this file with
//! `#[path = "<relative path>/tests/fuzz/support.rs"] mod fuzz_support;`, so no crate depends on a
//! test helper crate and every target runs on stable Rust with plain `cargo test`.
//!
//! - Budget: `KETTLE_FUZZ_CASES` (default [`DEFAULT_CASES`]) is the number of cases of a
//!   cheap target; costly targets run a fixed fraction of it ([`cases`]). `scripts/test`
//!   runs the default, `scripts/fuzz [CASES]` a large budget in release mode.
//! - Seed: `KETTLE_FUZZ_SEED` (decimal or `0x` hex, default [`DEFAULT_SEED`]), so CI is
//!   reproducible and a failure found with a random seed replays with the seed printed.
//! - Report: every campaign prints one `fuzz-report target=… cases=… seed=… ms=… outcomes=…`
//!   line (visible with `--nocapture` / `--show-output`).
//! - Allocation cap: a target binary that installs [`TrackingAlloc`] as its global allocator
//!   gets, for every case, an assertion that no single allocation on the fuzzing thread
//!   exceeded the target's cap (hostile length prefixes must be refused, not allocated).

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Environment variable: cases of a cheap target.
pub(crate) const CASES_VAR: &str = "KETTLE_FUZZ_CASES";
/// Environment variable: the campaign seed.
pub(crate) const SEED_VAR: &str = "KETTLE_FUZZ_SEED";
/// Cases of a cheap target when `KETTLE_FUZZ_CASES` is unset (sized for `scripts/test`: all
/// targets together in well under a minute of debug builds on 2 cores).
pub(crate) const DEFAULT_CASES: u64 = 8_000;
/// Seed when `KETTLE_FUZZ_SEED` is unset.
pub(crate) const DEFAULT_SEED: u64 = 0x6b65_7474_6c65_f022;
/// Default cap of one allocation during a case (see [`Campaign::alloc_cap`]).
pub(crate) const DEFAULT_ALLOC_CAP: usize = 8 << 20;

/// `KETTLE_FUZZ_CASES`, or [`DEFAULT_CASES`].
pub(crate) fn base_cases() -> u64 {
    match std::env::var(CASES_VAR) {
        Ok(v) if !v.trim().is_empty() => {
            parse_u64(&v).unwrap_or_else(|| panic!("{CASES_VAR}={v:?} is not a number of cases"))
        }
        _ => DEFAULT_CASES,
    }
}

/// Cases of a target that costs `divisor` times a cheap one (at least 1).
pub(crate) fn cases(divisor: u64) -> u64 {
    (base_cases() / divisor.max(1)).max(1)
}

/// `KETTLE_FUZZ_SEED`, or [`DEFAULT_SEED`].
pub(crate) fn seed() -> u64 {
    match std::env::var(SEED_VAR) {
        Ok(v) if !v.trim().is_empty() => {
            parse_u64(&v).unwrap_or_else(|| panic!("{SEED_VAR}={v:?} is not a seed"))
        }
        _ => DEFAULT_SEED,
    }
}

fn parse_u64(v: &str) -> Option<u64> {
    let v = v.trim().replace('_', "");
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// FNV-1a, to derive per-target seeds from names.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Cases and seed of a `proptest!` target (`divisor` as in [`cases`]); prints its report
/// line. Use through `proptest_config!`.
pub(crate) fn proptest_params(target: &str, divisor: u64) -> (u32, u64) {
    let cases = u32::try_from(cases(divisor)).unwrap_or(u32::MAX);
    let seed = seed() ^ fnv(target);
    println!("fuzz-report target={target} cases={cases} seed={seed:#x} engine=proptest");
    (cases, seed)
}

/// A `ProptestConfig` for `proptest!` targets: [`proptest_params`] cases, the fixed (or
/// configured) seed with the ChaCha generator, and no failure files. Expects this module
/// in scope as `fuzz_support`.
#[allow(unused_macros)]
macro_rules! proptest_config {
    ($target:expr, $divisor:expr) => {{
        let (cases, seed) = fuzz_support::proptest_params($target, $divisor);
        proptest::test_runner::Config {
            cases,
            rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
            rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use proptest_config;

/// SplitMix64: small, fast, good enough to drive mutations, and stable across platforms.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for case `index` of `target` under `seed`.
    pub(crate) fn for_case(seed: u64, target: &str, index: u64) -> Self {
        let mut r = Self(seed ^ fnv(target) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        r.next_u64();
        r
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `1 / n`.
    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random byte.
    pub(crate) fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// `len` random bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.byte()).collect()
    }

    /// Random bytes of a random length below `max`.
    pub(crate) fn bytes_below(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }

    /// One element of `items` (which must not be empty).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A short string of printable ASCII and a few special characters.
    pub(crate) fn text(&mut self, max: usize) -> String {
        const CHARS: &[u8] = b"abcxyz019 _-:/.?#%@[]{}\"\\,";
        (0..self.below(max + 1))
            .map(|_| *self.pick(CHARS) as char)
            .collect()
    }

    /// A u64 biased towards edge values.
    pub(crate) fn edge_u64(&mut self) -> u64 {
        match self.below(6) {
            0 => 0,
            1 => self.below(256) as u64,
            2 => u64::MAX - self.below(3) as u64,
            3 => 1 << self.below(64),
            4 => u64::from(u32::MAX) + self.below(3) as u64,
            _ => self.next_u64(),
        }
    }
}

/// Length claims that must never be allocated: 2^32 and more, and just below.
pub(crate) const HUGE_LENGTHS: [u64; 6] = [
    u32::MAX as u64,
    1 << 31,
    1 << 32,
    (1 << 32) + 1,
    u64::MAX,
    1 << 40,
];

/// 4-byte length claims that must never be allocated.
pub(crate) const HUGE_U32: [u32; 4] = [u32::MAX, u32::MAX - 1, 1 << 31, 0x7fff_ffff];

/// Bytes that mean something in RLP, ABI, JSON and the codecs here.
const INTERESTING: [u8; 14] = [
    0x00, 0x01, 0x20, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xbf, 0xc0, 0xf7, 0xf8, 0xff, 0x43,
];

/// An RLP header (string or list) whose long-form length claims `len` bytes.
pub(crate) fn rlp_huge_header(list: bool, len: u64) -> Vec<u8> {
    let be = len.to_be_bytes();
    let skip = be.iter().take_while(|b| **b == 0).count().min(7);
    let body = &be[skip..];
    let base = if list { 0xf7 } else { 0xb7 };
    let mut out = vec![base + body.len() as u8];
    out.extend_from_slice(body);
    out
}

/// One structure-aware damage of `input`: bit flips, interesting bytes, truncation,
/// extension, insertion, removal, duplication, splices from `donors`, and length fields
/// overwritten with huge claims (4- and 8-byte big-endian, 32-byte ABI words, RLP long-form
/// headers).
pub(crate) fn mutate_once(rng: &mut Rng, input: &mut Vec<u8>, donors: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(14) {
        0 => {
            if len > 0 {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            if len > 0 {
                let i = rng.below(len);
                input[i] = rng.byte();
            }
        }
        2 => {
            if len > 0 {
                let i = rng.below(len);
                input[i] = *rng.pick(&INTERESTING);
            }
        }
        3 => input.truncate(rng.below(len + 1)),
        4 => {
            let n = 1 + rng.below(40);
            input.extend(rng.bytes(n));
        }
        5 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes = rng.bytes(n);
            input.splice(at..at, bytes);
        }
        6 => {
            if len > 0 {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at..end);
            }
        }
        7 => {
            if len > 0 {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                let chunk = input[at..end].to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, chunk);
            }
        }
        8 => {
            // 4-byte big-endian length claims (the store codec, the gossip frames)
            let claim = rng.pick(&HUGE_U32).to_be_bytes();
            overwrite(rng, input, &claim);
        }
        9 => {
            let claim = rng.pick(&HUGE_LENGTHS).to_be_bytes();
            overwrite(rng, input, &claim);
        }
        10 => {
            // an ABI word (offset or length), aligned as the ABI aligns them
            let mut word = [0u8; 32];
            match rng.below(4) {
                0 => word = [0xff; 32],
                1 => word[24..].copy_from_slice(&rng.pick(&HUGE_LENGTHS).to_be_bytes()),
                2 => word[0] = 0x80,
                _ => word[24..]
                    .copy_from_slice(&(len as u64 + 32 * rng.below(4) as u64).to_be_bytes()),
            }
            if len >= 32 {
                let at = 32 * rng.below(len / 32);
                input[at..at + 32].copy_from_slice(&word);
            } else {
                input.extend_from_slice(&word);
            }
        }
        11 => {
            // an RLP header claiming 2^32+ bytes, in place of or in front of something
            let header = rlp_huge_header(rng.one_in(2), *rng.pick(&HUGE_LENGTHS));
            let at = rng.below(len + 1);
            let end = if rng.one_in(2) {
                (at + header.len()).min(len)
            } else {
                at
            };
            input.splice(at..end, header);
        }
        12 => {
            if let Some(donor) = (!donors.is_empty()).then(|| rng.pick(donors)) {
                if !donor.is_empty() {
                    let from = rng.below(donor.len());
                    let end = (from + 1 + rng.below(48)).min(donor.len());
                    let at = rng.below(len + 1);
                    let to = (at + rng.below(48)).min(len);
                    input.splice(at..to, donor[from..end].iter().copied());
                }
            }
        }
        _ => {
            if len > 1 {
                let (a, b) = (rng.below(len), rng.below(len));
                input.swap(a, b);
            }
        }
    }
}

fn overwrite(rng: &mut Rng, input: &mut Vec<u8>, bytes: &[u8]) {
    if input.len() < bytes.len() {
        input.extend_from_slice(bytes);
        return;
    }
    let at = rng.below(input.len() - bytes.len() + 1);
    input[at..at + bytes.len()].copy_from_slice(bytes);
}

/// `base` damaged by one to four [`mutate_once`] steps.
pub(crate) fn mutate(rng: &mut Rng, base: &[u8], donors: &[Vec<u8>]) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..=rng.below(4) {
        mutate_once(rng, &mut out, donors);
    }
    out
}

/// Random bytes of length below `max`, half of the time behind a first byte from `firsts`.
pub(crate) fn random_input(rng: &mut Rng, max: usize, firsts: &[u8]) -> Vec<u8> {
    let n = rng.below(max);
    let mut v = rng.bytes(n);
    if let (Some(b), false, true) = (v.first_mut(), firsts.is_empty(), rng.one_in(2)) {
        *b = *rng.pick(firsts);
    }
    v
}

/// One case of a campaign: its random source, and what it fed the target (printed if the
/// case fails).
pub(crate) struct Case {
    /// The case's random source.
    pub(crate) rng: Rng,
    /// Index of the case in the campaign.
    pub(crate) index: u64,
}

thread_local! {
    static INPUT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Case {
    /// Records `bytes` as this case's input, for the failure report.
    pub(crate) fn record(&mut self, bytes: &[u8]) {
        INPUT.with(|i| {
            let mut i = i.borrow_mut();
            i.clear();
            i.extend_from_slice(bytes);
        });
    }
}

/// A fuzz campaign over one target.
pub(crate) struct Campaign {
    target: &'static str,
    cases: u64,
    seed: u64,
    alloc_cap: usize,
}

impl Campaign {
    /// A campaign of [`cases`]`(divisor)` cases over `target`.
    pub(crate) fn new(target: &'static str, divisor: u64) -> Self {
        Self {
            target,
            cases: cases(divisor),
            seed: seed(),
            alloc_cap: DEFAULT_ALLOC_CAP,
        }
    }

    /// Largest single allocation a case may make on the fuzzing thread (checked when the
    /// binary installs [`TrackingAlloc`]).
    pub(crate) fn alloc_cap(mut self, bytes: usize) -> Self {
        self.alloc_cap = bytes;
        self
    }

    /// Runs every case: `f` builds an input from the case's generator, records it, feeds it
    /// to the target and names the outcome. Prints the report line and returns the outcome
    /// counts.
    pub(crate) fn run(
        self,
        mut f: impl FnMut(&mut Case) -> &'static str,
    ) -> BTreeMap<&'static str, u64> {
        let start = Instant::now();
        let mut outcomes = BTreeMap::new();
        for index in 0..self.cases {
            let mut case = Case {
                rng: Rng::for_case(self.seed, self.target, index),
                index,
            };
            case.record(&[]);
            let report = FailureReport {
                target: self.target,
                seed: self.seed,
                index,
            };
            reset_largest_alloc();
            let outcome = f(&mut case);
            let largest = largest_alloc();
            assert!(
                largest <= self.alloc_cap,
                "{}: case {index} allocated {largest} bytes at once (cap {})",
                self.target,
                self.alloc_cap
            );
            drop(report);
            *outcomes.entry(outcome).or_insert(0) += 1;
        }
        println!(
            "fuzz-report target={} cases={} seed={:#x} ms={} alloc-tracked={} outcomes={:?}",
            self.target,
            self.cases,
            self.seed,
            start.elapsed().as_millis(),
            ALLOC_INSTALLED.load(Ordering::Relaxed),
            outcomes
        );
        outcomes
    }
}

/// Asserts that the campaign produced every one of `expected` outcomes at least once (a
/// campaign that never reaches an outcome is not exercising that path).
#[track_caller]
pub(crate) fn assert_outcomes(outcomes: &BTreeMap<&'static str, u64>, expected: &[&str]) {
    for outcome in expected {
        assert!(outcomes.contains_key(outcome), "{outcomes:?}");
    }
}

/// Prints, when a case panics, the case and how to replay it.
struct FailureReport {
    target: &'static str,
    seed: u64,
    index: u64,
}

impl Drop for FailureReport {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let input = INPUT
                .try_with(|i| {
                    let i = i.borrow();
                    hex(&i[..i.len().min(1024)])
                })
                .unwrap_or_default();
            eprintln!(
                "fuzz target {} failed at case {} (replay: {SEED_VAR}={:#x}); input (first 1 KiB): 0x{input}",
                self.target, self.index, self.seed
            );
        }
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

static ALLOC_INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: allocations during thread teardown must not touch a destroyed slot.
    let _ = LARGEST.try_with(|c| {
        if size > c.get() {
            c.set(size);
        }
    });
}

fn reset_largest_alloc() {
    let _ = LARGEST.try_with(|c| c.set(0));
}

/// Largest single allocation on this thread since the last reset (0 without
/// [`TrackingAlloc`]).
pub(crate) fn largest_alloc() -> usize {
    LARGEST.try_with(Cell::get).unwrap_or(0)
}

/// The system allocator, remembering per thread the largest single allocation, so a case
/// can assert that hostile length prefixes were not allocated. Install it in a fuzz target
/// binary with `#[global_allocator] static A: fuzz_support::TrackingAlloc = fuzz_support::TrackingAlloc;`.
pub(crate) struct TrackingAlloc;

// SAFETY: forwards every call unchanged to `System`; the bookkeeping touches only a
// const-initialised thread-local `Cell<usize>` (no allocation, no destructor).
unsafe impl GlobalAlloc for TrackingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOC_INSTALLED.store(true, Ordering::Relaxed);
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
