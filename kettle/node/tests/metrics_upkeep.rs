//! The metrics recorder must not keep histogram samples of a kettle that nobody scrapes.
//!
//! The Prometheus recorder buffers every histogram sample until it is drained. Before the
//! upkeep thread, an unscraped kettle kept every request's latency sample for ever, which a
//! memory soak showed as slow, steady growth. This test counts the heap's live bytes while
//! recording a soak's worth of samples and never rendering `/metrics`.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicI64, Ordering},
    time::{Duration, Instant},
};

/// The system allocator, counting live bytes.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Samples recorded: about six minutes of a busy kettle (1 500 requests/s).
const SAMPLES: usize = 500_000;

#[test]
fn unscraped_histograms_are_drained() {
    let _handle = kettle_node::metrics::install().expect("recorder");
    // Touch the histogram once so that its registration is not counted as growth.
    kettle_node::metrics::record_request("send", true, Duration::from_micros(1));
    let before = LIVE.load(Ordering::Relaxed);
    for i in 0..SAMPLES {
        kettle_node::metrics::record_request("send", true, Duration::from_nanos(i as u64));
    }
    let buffered = LIVE.load(Ordering::Relaxed) - before;
    // The samples are buffered (8 bytes each) until the next upkeep...
    assert!(
        buffered > (SAMPLES * 4) as i64,
        "{SAMPLES} samples buffered only {buffered} bytes: is the histogram recorded at all?"
    );
    // ...which must drain them without anybody rendering `/metrics`.
    let deadline = Instant::now() + kettle_node::metrics::UPKEEP_INTERVAL * 3;
    let mut live = buffered;
    while Instant::now() < deadline {
        // Requests keep coming, slowly: drained blocks are freed once later recordings move
        // the recorder's epoch on (crossbeam's deferred reclamation), as in a live kettle.
        for _ in 0..1_000 {
            kettle_node::metrics::record_request("send", true, Duration::from_micros(3));
        }
        std::thread::sleep(Duration::from_millis(50));
        live = LIVE.load(Ordering::Relaxed) - before;
        if live < (SAMPLES / 4) as i64 {
            return;
        }
    }
    panic!(
        "{live} bytes of {SAMPLES} histogram samples still held {:?} after recording \
         ({buffered} right after): the recorder is not drained",
        kettle_node::metrics::UPKEEP_INTERVAL * 3
    );
}
