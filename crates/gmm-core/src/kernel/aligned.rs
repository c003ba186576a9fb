//! A fixed-length buffer whose first element sits on a 64-byte boundary.
//!
//! A `Vec<f64>` from the system allocator is only 16-byte aligned, so every 64-byte AVX-512
//! load or store from it straddles two cache lines (a split access: twice the load-port work,
//! and stores that cannot forward to the loads that follow). The kernels' scratch is kept in
//! [`AlignedVec`]s so that a row that starts at a multiple of 8 `f64` (16 `f32`) — every row of a
//! block, [`BLOCK_ROWS`](super::BLOCK_ROWS) being a multiple of 16 — is cache-line aligned.

use std::ops::{Deref, DerefMut};

/// Bytes of alignment: a cache line, and the widest register.
pub const ALIGN: usize = 64;

/// `len` values of `T` starting on a 64-byte boundary (see the module docs). Derefs to a slice.
pub struct AlignedVec<T> {
    buffer: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Clone> AlignedVec<T> {
    /// `len` copies of `value`.
    pub fn new(value: T, len: usize) -> Self {
        let size = size_of::<T>().max(1);
        let buffer = vec![value; len + ALIGN / size];
        let start = buffer.as_ptr().align_offset(ALIGN).min(ALIGN / size);
        Self { buffer, start, len }
    }

    /// A copy of `values`, aligned.
    pub fn from_slice(values: &[T]) -> Self {
        match values.first() {
            None => Self::default(),
            Some(first) => {
                let mut out = Self::new(first.clone(), values.len());
                out.clone_from_slice(values);
                out
            }
        }
    }
}

/// An empty buffer, without an allocation (a placeholder to take a buffer out of a struct
/// with `std::mem::take`).
impl<T> Default for AlignedVec<T> {
    fn default() -> Self {
        Self { buffer: Vec::new(), start: 0, len: 0 }
    }
}

impl<T> Deref for AlignedVec<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        &self.buffer[self.start..self.start + self.len]
    }
}

impl<T> DerefMut for AlignedVec<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.buffer[self.start..self.start + self.len]
    }
}

impl<T: Clone> Clone for AlignedVec<T> {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for AlignedVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for AlignedVec<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_cache_line_and_clones_aligned() {
        for len in [0, 1, 7, 240, 3600] {
            let mut a = AlignedVec::new(0.0f64, len);
            assert_eq!(a.len(), len);
            assert_eq!(a.as_ptr() as usize % ALIGN, 0);
            for (i, v) in a.iter_mut().enumerate() {
                *v = i as f64;
            }
            let b = a.clone();
            // (An empty buffer has no element to align.)
            assert!(len == 0 || (b.as_ptr() as usize).is_multiple_of(ALIGN));
            assert_eq!(a, b);
            let c = AlignedVec::new(0.0f32, len);
            assert_eq!(c.as_ptr() as usize % ALIGN, 0);
        }
    }
}
