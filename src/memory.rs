//! Keeps a long-running process's heap close to what it holds: glibc's malloc with one
//! arena and a fixed mmap threshold, and freed pages handed back to the system on a timer.
//!
//! Why: glibc gives each thread that allocates while another holds the lock an arena of
//! its own (up to eight per core), and gives memory back only from the top of a heap, so
//! what a burst freed (a thousand apps' watch events and reconciles, a bulk IAM read) stays
//! resident in the middle of the arenas long after the burst. `malloc_trim(0)` returns every
//! whole free page inside every arena (glibc ≥ 2.8 walks the free lists, not only the top),
//! and fewer arenas leave fewer half-empty heaps to begin with.
//!
//! mimalloc was the operator's allocator before this; side by side at 300 apps its heap
//! (`RssAnon`) was 33.2 MB in steady state against 9.5 MB here, and 11.9 MB against 2.8 MB
//! idle (bench/README.md).
//!
//! Elsewhere than glibc (musl, other systems) these functions do nothing.

use std::time::Duration;

/// Arenas each binary may use. One: at a thousand apps the operator's steady-state RSS was
/// 34.1 MB with one arena (and [`MMAP_THRESHOLD`] fixed) against 38.7 MB with two, and
/// the fleet was Ready no later (bench/README.md). liveness-api's two workers do meet on
/// the arena's lock (about 7% of its samples under load in `perf`, before a request's
/// allocations were cut by two fifths); two arenas served about 6% more gets in one
/// interleaved run, within this machine's noise, for 0.8 MB more peak RSS.
pub const ARENAS: i32 = 1;

/// Blocks of at least this size get pages of their own (mmap), given back whole when freed.
/// glibc starts at this value but raises it to the size of each such block freed (up to
/// 32 MB), after which a watch's list page or a bulk IAM read's response is carved out of
/// the arena and the small blocks allocated beside it keep its pages resident. Set
/// explicitly, it stays put.
pub const MMAP_THRESHOLD: i32 = 128 * 1024;

/// How often freed pages are handed back. A trim walks the free chunks of every arena
/// (well under a millisecond for a heap of tens of MB), so this costs nothing measurable.
pub const TRIM_PERIOD: Duration = Duration::from_secs(10);

/// Caps malloc at [`ARENAS`] arenas and fixes its mmap threshold at [`MMAP_THRESHOLD`].
/// Call first thing in `main`, before any thread starts: an arena that exists is never
/// removed.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc parameters; both values are in range.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Hands every whole free page of the heap back to the system; true when some was.
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes the arena locks itself; 0 keeps no padding at the top.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// What malloc holds, in bytes: handed out (`in_use`, large mmapped blocks included) and
/// free inside its arenas (`free`: what a trim may return, if it spans whole pages). RSS
/// well above `in_use` with `free` small means code and stacks; with `free` large,
/// fragmentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heap {
    pub in_use: u64,
    pub free: u64,
}

/// malloc's own account of the heap; `None` where that is not glibc.
pub fn heap() -> Option<Heap> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 (glibc ≥ 2.33) only reads malloc's statistics under its locks.
        let info = unsafe { libc::mallinfo2() };
        Some(Heap {
            in_use: (info.uordblks + info.hblkhd) as u64,
            free: info.fordblks as u64,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// Trims every `period` for as long as the runtime runs.
pub fn spawn_trimmer(period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            trim();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_trim_after_a_freed_burst_hands_pages_back() {
        // Many small blocks (below the mmap threshold, so they live in an arena), one in 64
        // kept: the freed runs of whole pages sit between live blocks, where only a trim
        // that walks the free lists can return them.
        let blocks: Vec<Vec<u8>> = (0..20_000).map(|i| vec![i as u8; 1_000]).collect();
        let kept: Vec<Vec<u8>> = blocks
            .into_iter()
            .enumerate()
            .filter_map(|(i, b)| (i % 64 == 0).then_some(b))
            .collect();
        assert!(
            trim(),
            "20 MB freed between live blocks, and nothing handed back"
        );
        drop(kept);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_large_block_freed_does_not_raise_the_mmap_threshold() {
        configure();
        let size = 1 << 20;
        drop(vec![1u8; size]);
        // glibc's own rule would now serve a block this size from the arena.
        let again = vec![2u8; size];
        let mapped = heap_mapped_bytes();
        assert!(
            mapped >= size as u64,
            "a 1 MB block allocated after one was freed is not mapped on its own ({mapped} bytes mapped)"
        );
        drop(again);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn heap_mapped_bytes() -> u64 {
        // SAFETY: as in heap().
        unsafe { libc::mallinfo2() }.hblkhd as u64
    }
}
