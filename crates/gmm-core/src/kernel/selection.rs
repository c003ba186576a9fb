//! Choosing components per frame (Gaussian selection): of a loaded block's `k x BLOCK_ROWS`
//! weighted log-densities `ℓ_nk`, which components each frame keeps.
//!
//! # The rules
//!
//! * **fixed** ([`select_top_c`]): the `c` components with the largest `ℓ_nk`;
//! * **beam** ([`select_beam`]): the same `c` at most, but only those within `beam` nats of the
//!   frame's best, `ℓ_nk ≥ max_j ℓ_nj - beam` (posterior at least `e^-beam` times the best
//!   one's).
//!
//! Both list a frame's components in increasing component order (not best first), and both
//! break ties at the cut (equal values) towards the lower component, as a stable sort by
//! decreasing value would.
//!
//! # Current implementation
//!
//! SIMD lanes run over the frames of the block (the rows of `log_density` are
//! component-major), compiled once per instruction set and chosen at run time by `pulp`;
//! results do not depend on the instruction set (comparisons only).
//!
//! *Fixed `c`*, two passes:
//! 1. *values*: a register of frames whose values beat some frame's running `c`-th best goes
//!    through a branch-free insertion network that keeps the `c` largest values per frame
//!    (`c` SIMD max/min pairs); the others cost one compare and a test
//!    ([`Real::simd_any_greater`]). For `c <= 16` the `c` best stay in registers over all
//!    components, one register of frames at a time; larger `c` streams the rows in memory
//!    order and keeps them in an L1-sized array;
//! 2. *indices*: with every frame's exact `c`-th best value `t` known, the entries `≥ t` are
//!    picked up in component order: one SIMD compare per register, the scalar path only for
//!    registers with such an entry (about `c` per frame). Entries equal to `t` fill the places
//!    left after those strictly above it, lower components first.
//!
//! *Beam*: a SIMD max pass gives every frame's floor `max - beam`; a compare pass lists the
//! registers with a lane at or above its floor (branch-free), then their lanes from a lane
//! mask ([`Real::simd_mask_at_least`]). Hits are appended to a per-frame buffer of `2c`
//! entries, which is cut to its best `c` when full (raising the frame's bar to the `c`-th
//! value) and once more at the end.

use super::{BLOCK_ROWS, BlockScratch};
use crate::real::Real;

/// The `c` largest `log_density` values of every frame of the loaded block (`c <= k`):
/// `idx` (`len x c`) gets their components and `values` (at least `len x c`) the values as
/// `f64`, frame after frame, in component order (see the [module docs](self)).
///
/// # Panics
///
/// If `c` is 0 or above `k`, or `idx` / `values` are shorter than `len x c`.
pub fn select_top_c<T: Real>(
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    idx: &mut [u32],
    values: &mut [f64],
) {
    crate::kernel::isa::arch().dispatch(TopCKernel { scratch, k, c, idx, values });
}

/// The beam rule on the loaded block: for every frame, the components with
/// `ℓ ≥ max ℓ - beam`, at most `c` of them (the best; ties to the lower index), in component
/// order. `counts[b]` gets frame `b`'s count, `idx` the components frame after frame and
/// `values` their `f64` values in the same order; returns the number of entries written.
///
/// # Panics
///
/// If `c` is 0, or `counts` is shorter than `len`, or `idx` / `values` shorter than `len x c`.
pub fn select_beam<T: Real>(
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    beam: f64,
    counts: &mut [usize],
    idx: &mut [u32],
    values: &mut [f64],
) -> usize {
    crate::kernel::isa::arch().dispatch(BeamKernel { scratch, k, c, beam, counts, idx, values })
}

/// [`select_top_c`] for one instruction set.
struct TopCKernel<'a, T> {
    scratch: &'a BlockScratch<T>,
    k: usize,
    c: usize,
    idx: &'a mut [u32],
    values: &'a mut [f64],
}

impl<T: Real> pulp::WithSimd for TopCKernel<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        select_top_c_impl(simd, self.scratch, self.k, self.c, self.idx, self.values);
    }
}

/// [`select_beam`] for one instruction set.
struct BeamKernel<'a, T> {
    scratch: &'a BlockScratch<T>,
    k: usize,
    c: usize,
    beam: f64,
    counts: &'a mut [usize],
    idx: &'a mut [u32],
    values: &'a mut [f64],
}

impl<T: Real> pulp::WithSimd for BeamKernel<'_, T> {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> usize {
        let Self { scratch, k, c, beam, counts, idx, values } = self;
        select_beam_impl(simd, scratch, k, c, beam, counts, idx, values)
    }
}

/// [`select_beam`] on instruction set `S` (see the [module docs](self)).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn select_beam_impl<S: pulp::Simd, T: Real>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    beam: f64,
    counts: &mut [usize],
    idx: &mut [u32],
    values: &mut [f64],
) -> usize {
    let len = scratch.len;
    let lanes = T::lanes::<S>();
    let regs = BLOCK_ROWS / lanes;
    let (rows, _) = T::as_simd::<S>(&scratch.log_density[..k * BLOCK_ROWS]);
    let neg = T::from_f64(f64::NEG_INFINITY);
    // Registers holding the block's frames (a short last block leaves the rest stale).
    let live = len.div_ceil(lanes);
    // Pass 1, the rows in memory order: every frame's best value, then its floor.
    let mut floor = vec![neg; BLOCK_ROWS];
    {
        let (best, _) = T::as_mut_simd::<S>(&mut floor);
        for row in rows.chunks_exact(regs) {
            for (b, v) in best.iter_mut().zip(&row[..live]) {
                *b = T::simd_max(simd, *b, *v);
            }
        }
        let beam = T::simd_splat(simd, T::from_f64(beam));
        for b in best.iter_mut() {
            *b = T::simd_sub(simd, *b, beam);
        }
    }
    // Pass 2, in memory order again: entries at or above their frame's floor are appended
    // to the frame's buffer of `2c` (value, component); a full buffer is cut to its best `c`
    // and the frame's bar raised to the `c`-th value. A register costs a compare; only lanes
    // in the beam are visited (about 8 per frame here, ~5% of registers).
    let room = 2 * c;
    let mut kept = vec![(neg, 0u32); BLOCK_ROWS * room];
    let mut n_kept = [0usize; BLOCK_ROWS];
    // Entries must be above `bar` (strictly: an equal later component loses the tie) once a
    // buffer has been cut; `-inf` before.
    let mut bar = [neg; BLOCK_ROWS];
    let (floors, _) = T::as_simd::<S>(&floor);
    // 2a: the registers with a lane in the beam, listed branch-free (the index is always
    // written, the count moves only on a hit), so the loop stays a load, a compare and a test.
    let mut hits = vec![0u32; k * regs];
    let mut n_hits = 0;
    for (comp, row) in rows.chunks_exact(regs).enumerate() {
        let first = (comp * regs) as u32;
        for (r, (v, f)) in row[..live].iter().zip(floors).enumerate() {
            hits[n_hits] = first + r as u32;
            n_hits += usize::from(T::simd_any_at_least(simd, *v, *f));
        }
    }
    // 2b: their lanes in the beam, from a lane mask.
    for &at in &hits[..n_hits] {
        let (comp, r) = (at as usize / regs, at as usize % regs);
        let mut mask = T::simd_mask_at_least(simd, rows[at as usize], floors[r]);
        while mask != 0 {
            let b = r * lanes + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let value = scratch.log_density[comp * BLOCK_ROWS + b];
            if bar[b] != neg && value <= bar[b] {
                continue;
            }
            let buffer = &mut kept[b * room..(b + 1) * room];
            buffer[n_kept[b]] = (value, comp as u32);
            n_kept[b] += 1;
            if n_kept[b] == room {
                bar[b] = keep_best(buffer, c);
                n_kept[b] = c;
            }
        }
    }
    for b in 0..len {
        if n_kept[b] > c {
            keep_best(&mut kept[b * room..b * room + n_kept[b]], c);
            n_kept[b] = c;
        }
    }
    let kept_at = |b: usize| b * room;
    let mut used = 0;
    for b in 0..len {
        let n = n_kept[b];
        counts[b] = n;
        for (i, &(value, comp)) in kept[kept_at(b)..kept_at(b) + n].iter().enumerate() {
            idx[used + i] = comp;
            values[used + i] = value.to_f64();
        }
        used += n;
    }
    used
}

/// Moves the `c` best of `entries` (larger values first, equal values by lower component)
/// to the front, in component order, and returns the `c`-th best value.
fn keep_best<T: Real>(entries: &mut [(T, u32)], c: usize) -> T {
    let better = |a: &(T, u32), b: &(T, u32)| {
        b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1))
    };
    entries.select_nth_unstable_by(c - 1, better);
    let bar = entries[c - 1].0;
    entries[..c].sort_unstable_by_key(|&(_, comp)| comp);
    bar
}

/// [`select_top_c`] on instruction set `S` (see the [module docs](self)).
#[inline(always)]
fn select_top_c_impl<S: pulp::Simd, T: Real>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    idx: &mut [u32],
    values: &mut [f64],
) {
    let len = scratch.len;
    let neg = T::from_f64(f64::NEG_INFINITY);
    // best[i * BLOCK_ROWS + b]: the i-th largest value of frame b.
    let mut best = vec![neg; c * BLOCK_ROWS];
    match c {
        1 => network_in_registers::<S, T, 1>(simd, scratch, k, &mut best),
        2 => network_in_registers::<S, T, 2>(simd, scratch, k, &mut best),
        3 => network_in_registers::<S, T, 3>(simd, scratch, k, &mut best),
        4 => network_in_registers::<S, T, 4>(simd, scratch, k, &mut best),
        5 => network_in_registers::<S, T, 5>(simd, scratch, k, &mut best),
        6 => network_in_registers::<S, T, 6>(simd, scratch, k, &mut best),
        7 => network_in_registers::<S, T, 7>(simd, scratch, k, &mut best),
        8 => network_in_registers::<S, T, 8>(simd, scratch, k, &mut best),
        9 => network_in_registers::<S, T, 9>(simd, scratch, k, &mut best),
        10 => network_in_registers::<S, T, 10>(simd, scratch, k, &mut best),
        11 => network_in_registers::<S, T, 11>(simd, scratch, k, &mut best),
        12 => network_in_registers::<S, T, 12>(simd, scratch, k, &mut best),
        13 => network_in_registers::<S, T, 13>(simd, scratch, k, &mut best),
        14 => network_in_registers::<S, T, 14>(simd, scratch, k, &mut best),
        15 => network_in_registers::<S, T, 15>(simd, scratch, k, &mut best),
        16 => network_in_registers::<S, T, 16>(simd, scratch, k, &mut best),
        _ => network_streaming(simd, scratch, k, c, &mut best),
    }
    // Pass 2. Per frame: how many selected values lie strictly above the threshold (those are
    // all taken); entries equal to it fill the rest in component order.
    let threshold = &best[(c - 1) * BLOCK_ROWS..c * BLOCK_ROWS];
    let mut room_for_ties = [0usize; BLOCK_ROWS];
    for b in 0..len {
        let above = (0..c).filter(|&i| best[i * BLOCK_ROWS + b] > threshold[b]).count();
        room_for_ties[b] = c - above;
    }
    let mut count = [0usize; BLOCK_ROWS];
    let mut picked = vec![neg; BLOCK_ROWS * c];
    let lanes = T::lanes::<S>();
    let (thresholds, _) = T::as_simd::<S>(threshold);
    for comp in 0..k {
        let row = &scratch.log_density[comp * BLOCK_ROWS..(comp + 1) * BLOCK_ROWS];
        let (regs, _) = T::as_simd::<S>(row);
        for (r, (v, t)) in regs.iter().zip(thresholds).enumerate() {
            // About C entries per frame reach the threshold: most registers have none.
            if !T::simd_any_at_least(simd, *v, *t) {
                continue;
            }
            for b in r * lanes..((r + 1) * lanes).min(len) {
                let v = row[b];
                let take = if v > threshold[b] {
                    true
                } else if v == threshold[b] && room_for_ties[b] > 0 {
                    room_for_ties[b] -= 1;
                    true
                } else {
                    false
                };
                if take && count[b] < c {
                    idx[b * c + count[b]] = comp as u32;
                    picked[b * c + count[b]] = v;
                    count[b] += 1;
                }
            }
        }
    }
    // The picks are in component order already.
    for b in 0..len {
        for (o, v) in values[b * c..(b + 1) * c].iter_mut().zip(&picked[b * c..(b + 1) * c]) {
            *o = v.to_f64();
        }
    }
}

/// Pass 1 for `C <= 16`: one register of frames at a time, its `C` best values held in
/// registers while every component's value goes through the network (no stores in the loop),
/// skipped when no frame's value beats that frame's current `C`-th best (one compare).
#[inline(always)]
fn network_in_registers<S: pulp::Simd, T: Real, const C: usize>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    best: &mut [T],
) {
    let (rows, _) = T::as_simd::<S>(&scratch.log_density[..k * BLOCK_ROWS]);
    let regs = BLOCK_ROWS / T::lanes::<S>();
    let neg = T::simd_splat(simd, T::from_f64(f64::NEG_INFINITY));
    for r in 0..regs {
        let mut b = [neg; C];
        for comp in 0..k {
            let mut v = rows[comp * regs + r];
            // Most values beat no frame's current C-th best: one compare, no network.
            if !T::simd_any_greater(simd, v, b[C - 1]) {
                continue;
            }
            for slot in b.iter_mut() {
                let hi = T::simd_max(simd, *slot, v);
                v = T::simd_min(simd, *slot, v);
                *slot = hi;
            }
        }
        for (i, slot) in b.iter().enumerate() {
            let (out, _) = T::as_mut_simd::<S>(&mut best[i * BLOCK_ROWS..(i + 1) * BLOCK_ROWS]);
            out[r] = *slot;
        }
    }
}

/// Pass 1 for `C > 16`: the rows in memory order (component by component, a register of frames at a
/// time), the `C` best values of every frame kept in `best` (`C x BLOCK_ROWS`, a few KB: L1).
/// A register goes through the insertion network (`C` max/min pairs) only when one of its
/// frames beats that frame's current `C`-th best; for `C << k` most do not, so the pass is one
/// streaming load, one compare and one test per register.
#[inline(always)]
fn network_streaming<S: pulp::Simd, T: Real>(
    simd: S,
    scratch: &BlockScratch<T>,
    k: usize,
    c: usize,
    best: &mut [T],
) {
    let regs = BLOCK_ROWS / T::lanes::<S>();
    let (rows, _) = T::as_simd::<S>(&scratch.log_density[..k * BLOCK_ROWS]);
    let (best, _) = T::as_mut_simd::<S>(best);
    let last = (c - 1) * regs;
    for row in rows.chunks_exact(regs) {
        for (r, &value) in row.iter().enumerate() {
            if !T::simd_any_greater(simd, value, best[last + r]) {
                continue;
            }
            let mut v = value;
            for i in 0..c {
                let slot = &mut best[i * regs + r];
                let hi = T::simd_max(simd, *slot, v);
                v = T::simd_min(simd, *slot, v);
                *slot = hi;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::isa::Isa;

    /// The naive rules on one frame's values: sort by decreasing value (ties: lower component
    /// first), keep those at or above `floor`, at most `c`, and list them in component order.
    fn naive<T: Real>(values: &[T], c: usize, beam: Option<f64>) -> Vec<u32> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| {
            values[b].partial_cmp(&values[a]).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
        });
        // The floor in the data's precision, as the kernel computes it.
        let floor =
            beam.map_or(T::from_f64(f64::NEG_INFINITY), |b| values[order[0]] - T::from_f64(b));
        let mut kept: Vec<u32> =
            order.into_iter().filter(|&i| values[i] >= floor).take(c).map(|i| i as u32).collect();
        kept.sort_unstable();
        kept
    }

    /// A pseudo-random block of `k x BLOCK_ROWS` values with many exact ties (values on a
    /// coarse grid), some `-inf` (weight-zero components), and stale entries past `len` that
    /// would win every frame if they were read.
    fn block<T: Real>(k: usize, len: usize, seed: u64) -> BlockScratch<T> {
        let mut scratch = BlockScratch::<T>::new(1, k);
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for (at, v) in scratch.log_density.iter_mut().enumerate() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let r = (state >> 11) as f64 / (1u64 << 53) as f64;
            *v = T::from_f64(if at % BLOCK_ROWS >= len {
                1e30
            } else if r < 0.03 {
                f64::NEG_INFINITY
            } else {
                // Half the values on a grid of 0.25 (ties), half anywhere.
                let x = -40.0 * r;
                if state & 1 == 0 { (x * 4.0).round() / 4.0 } else { x }
            });
        }
        scratch.len = len;
        scratch
    }

    /// Both rules on every instruction set against the naive rule: `k = 1`, `c = 1`, `c = k`,
    /// `c` on both sides of 16 (registers and streaming), short blocks whose length is not a
    /// multiple of any SIMD width, exact ties and `-inf` values, `f32` and `f64`.
    fn rules_match_naive<T: Real>() {
        for isa in Isa::available() {
            for (case, &(k, len)) in
                [(1, 240), (2, 1), (5, 17), (40, 240), (40, 100), (130, 33)].iter().enumerate()
            {
                let scratch = block::<T>(k, len, 1 + case as u64);
                for c in [1, 2, 3, 5, 16, 17, 25, 40, 130].into_iter().filter(|&c| c <= k) {
                    let what = format!("{} {isa:?} k={k} len={len} c={c}", T::NAME);
                    let (mut idx, mut values) = (vec![0u32; len * c], vec![0.0; len * c]);
                    isa.run(TopCKernel {
                        scratch: &scratch,
                        k,
                        c,
                        idx: &mut idx,
                        values: &mut values,
                    });
                    for b in 0..len {
                        let frame: Vec<T> =
                            (0..k).map(|i| scratch.log_density[i * BLOCK_ROWS + b]).collect();
                        let want = naive(&frame, c, None);
                        assert_eq!(&idx[b * c..(b + 1) * c], &want[..], "{what} frame {b}");
                        for (v, &i) in values[b * c..(b + 1) * c].iter().zip(&want) {
                            assert_eq!(v.to_bits(), frame[i as usize].to_f64().to_bits(), "{what}");
                        }
                    }
                    for beam in [0.0, 0.25, 3.0, 1e6] {
                        let what = format!("{what} beam {beam}");
                        let mut counts = vec![usize::MAX; len];
                        let (mut idx, mut values) = (vec![0u32; len * c], vec![0.0; len * c]);
                        let used = isa.run(BeamKernel {
                            scratch: &scratch,
                            k,
                            c,
                            beam,
                            counts: &mut counts,
                            idx: &mut idx,
                            values: &mut values,
                        });
                        let mut at = 0;
                        for b in 0..len {
                            let frame: Vec<T> =
                                (0..k).map(|i| scratch.log_density[i * BLOCK_ROWS + b]).collect();
                            let want = naive(&frame, c, Some(beam));
                            assert_eq!(counts[b], want.len(), "{what} frame {b}");
                            assert_eq!(&idx[at..at + want.len()], &want[..], "{what} frame {b}");
                            for (v, &i) in values[at..].iter().zip(&want) {
                                assert_eq!(v.to_bits(), frame[i as usize].to_f64().to_bits());
                            }
                            at += want.len();
                        }
                        assert_eq!(used, at, "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn rules_match_naive_f64() {
        rules_match_naive::<f64>();
    }

    #[test]
    fn rules_match_naive_f32() {
        rules_match_naive::<f32>();
    }

    /// The dispatching entry points are the kernels above on the machine's instruction set.
    #[test]
    fn entry_points_dispatch_to_the_kernels() {
        let scratch = block::<f64>(40, 200, 9);
        let (mut a, mut av) = (vec![0u32; 200 * 7], vec![0.0; 200 * 7]);
        let (mut b, mut bv) = (a.clone(), av.clone());
        select_top_c(&scratch, 40, 7, &mut a, &mut av);
        Isa::Scalar.run(TopCKernel {
            scratch: &scratch,
            k: 40,
            c: 7,
            idx: &mut b,
            values: &mut bv,
        });
        assert_eq!((a, av), (b, bv));
        let mut counts = vec![0; 200];
        let (mut a, mut av) = (vec![0u32; 200 * 7], vec![0.0; 200 * 7]);
        let used = select_beam(&scratch, 40, 7, 2.0, &mut counts, &mut a, &mut av);
        assert_eq!(used, counts.iter().sum::<usize>());
        assert!(counts.iter().all(|&n| (1..=7).contains(&n)));
    }
}
