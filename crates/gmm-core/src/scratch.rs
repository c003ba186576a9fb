//! Per-thread reuse of scratch buffers.
//!
//! Every leaf of a pass needs block-sized scratch (a few hundred KiB for large `k`). Allocating
//! it per leaf costs page faults and zeroing on every EM iteration; instead each thread keeps
//! the last few scratch objects it used and hands them out again when one of the same type and
//! shape is asked for. Contents are not cleared between uses: scratch users overwrite what they
//! read.

use std::any::Any;
use std::cell::RefCell;

/// Scratch objects kept per thread.
const KEPT_PER_THREAD: usize = 4;

thread_local! {
    static CACHE: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a cached `S` for which `fits` holds, or on a fresh one from `make`, and keeps it
/// for the next call on this thread.
pub fn with_cached<S: Any, R>(
    fits: impl Fn(&S) -> bool,
    make: impl FnOnce() -> S,
    f: impl FnOnce(&mut S) -> R,
) -> R {
    let cached = CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let at = cache.iter().position(|b| b.downcast_ref::<S>().is_some_and(&fits))?;
        cache.remove(at).downcast::<S>().ok()
    });
    let mut scratch = cached.unwrap_or_else(|| Box::new(make()));
    let result = f(&mut scratch);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= KEPT_PER_THREAD {
            cache.remove(0);
        }
        cache.push(scratch);
    });
    result
}
