//! The statistics kernel: one block's contribution to a mixture's shifted moments, SIMD over
//! samples.
//!
//! For a block of samples `x_n` (column-major, `d x stride`), weighted responsibilities
//! `u_nk = w_n r_nk` (component-major, `k x stride`) and a shift `s_k` per component, it adds
//!
//! ```text
//! N_k += Σ_n u_nk,    F_k += Σ_n u_nk (x_n - s_k),    S_k += Σ_n u_nk (x_n - s_k)(x_n - s_k)ᵀ
//! ```
//!
//! (`S_k` as `d` diagonal values, or the lower triangle of a `d x d` matrix) into the caller's
//! sums. These are the sufficient statistics `gmm-em`'s `SuffStats` holds; the textbook
//! per-sample version the tests compare against is [`accumulate_reference`].
//!
//! # Current implementation
//!
//! Dispatched once per block by `pulp` (AVX-512, AVX2+FMA or scalar). Every sum over samples
//! uses four independent accumulators and a scalar tail, so its order depends only on the
//! block length, never on the thread count. A component whose responsibilities in the block
//! are all exactly zero is skipped (it would add exactly nothing). Full second moments centre
//! the block on `s_k` once, form `u_i = r ∘ t_i`, and take the dot products `u_i · t_j`
//! (`j <= i`) in 2 x 4 register tiles (6 loads feed 8 independent FMA chains).

use pulp::{Simd, WithSimd};

/// The per-component sums a block is added into.
pub struct MomentSums<'a> {
    /// Whether `second` holds full `d x d` matrices (lower triangle) or `d` diagonal values
    /// per component.
    pub full: bool,
    /// `k x d` shifts `s_k`.
    pub shift: &'a [f64],
    /// `k` counts `N_k`.
    pub counts: &'a mut [f64],
    /// `k x d` first moments `F_k`.
    pub first: &'a mut [f64],
    /// `k x d` or `k x d x d` second moments `S_k`.
    pub second: &'a mut [f64],
}

/// One block of samples and their weighted responsibilities.
#[derive(Clone, Copy)]
pub struct MomentBlock<'a> {
    /// Samples, column-major `d x stride`.
    pub xt: &'a [f64],
    /// Weighted responsibilities `w_n r_nk`, component-major `k x stride`.
    pub rw: &'a [f64],
    /// Row stride of `xt` and `rw`.
    pub stride: usize,
    /// Samples in the block (the first `len` of each row are read).
    pub len: usize,
}

/// Adds `block` into `sums`. `centred` and `weighted` (`d x stride` each) are scratch.
pub fn accumulate_moments(
    sums: MomentSums<'_>,
    block: MomentBlock<'_>,
    centred: &mut [f64],
    weighted: &mut [f64],
) {
    crate::kernel::isa::arch().dispatch(BlockAccumulator { sums, block, centred, weighted });
}

/// The textbook sums, one sample at a time: the reference [`accumulate_moments`] is tested
/// against.
pub fn accumulate_reference(sums: MomentSums<'_>, block: MomentBlock<'_>) {
    let MomentSums { full, shift, counts, first, second } = sums;
    let MomentBlock { xt, rw, stride, len } = block;
    let k = counts.len();
    let d = first.len() / k.max(1);
    for n in 0..len {
        for c in 0..k {
            let r = rw[c * stride + n];
            counts[c] += r;
            let t: Vec<f64> = (0..d).map(|j| xt[j * stride + n] - shift[c * d + j]).collect();
            for i in 0..d {
                first[c * d + i] += r * t[i];
                if full {
                    for j in 0..=i {
                        second[c * d * d + i * d + j] += r * t[i] * t[j];
                    }
                } else {
                    second[c * d + i] += r * t[i] * t[i];
                }
            }
        }
    }
}

struct BlockAccumulator<'a> {
    sums: MomentSums<'a>,
    block: MomentBlock<'a>,
    centred: &'a mut [f64],
    weighted: &'a mut [f64],
}

impl WithSimd for BlockAccumulator<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let Self { sums, block, centred, weighted } = self;
        let MomentSums { full, shift, counts, first: first_all, second: second_all } = sums;
        let MomentBlock { xt, rw, stride, len } = block;
        let k = counts.len();
        let d = first_all.len() / k.max(1);
        for c in 0..k {
            let r = &rw[c * stride..c * stride + len];
            let weight = sum(simd, r);
            if weight == 0.0 {
                // Every r_nk of the block is exactly 0 (they are never negative): the block adds
                // exactly nothing to this component, so skipping it changes no bit.
                continue;
            }
            counts[c] += weight;
            let first = &mut first_all[c * d..(c + 1) * d];
            if !full {
                let second = &mut second_all[c * d..(c + 1) * d];
                for j in 0..d {
                    let x = &xt[j * stride..j * stride + len];
                    let (f, s2) = centred_moments(simd, r, x, shift[c * d + j]);
                    first[j] += f;
                    second[j] += s2;
                }
            } else {
                for j in 0..d {
                    let x = &xt[j * stride..j * stride + len];
                    subtract(simd, x, shift[c * d + j], &mut centred[j * stride..j * stride + len]);
                }
                let second = &mut second_all[c * d * d..(c + 1) * d * d];
                for i in 0..d {
                    let ti = &centred[i * stride..i * stride + len];
                    let ui = &mut weighted[i * stride..i * stride + len];
                    multiply(simd, r, ti, ui);
                    first[i] += sum(simd, ui);
                }
                let (weighted, centred) = (&*weighted, &*centred);
                for i0 in (0..d).step_by(2) {
                    for j0 in (0..=(i0 + 1).min(d - 1)).step_by(4) {
                        let tile = tile_2x4(
                            simd,
                            [
                                row_of(weighted, d, stride, len, i0),
                                row_of(weighted, d, stride, len, i0 + 1),
                            ],
                            [
                                row_of(centred, d, stride, len, j0),
                                row_of(centred, d, stride, len, j0 + 1),
                                row_of(centred, d, stride, len, j0 + 2),
                                row_of(centred, d, stride, len, j0 + 3),
                            ],
                        );
                        for (a, sums) in tile.iter().enumerate() {
                            let i = i0 + a;
                            for (q, v) in sums.iter().enumerate() {
                                let j = j0 + q;
                                if i < d && j <= i {
                                    second[i * d + j] += v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Row `i` (clamped to the last one) of a `d x stride` matrix, first `len` entries.
#[inline(always)]
fn row_of(m: &[f64], d: usize, stride: usize, len: usize, i: usize) -> &[f64] {
    let i = i.min(d - 1);
    &m[i * stride..i * stride + len]
}

/// `[[u_a · t_q; 4]; 2]`: a 2 x 4 tile of dot products, eight accumulators.
#[inline(always)]
fn tile_2x4<S: Simd>(simd: S, u: [&[f64]; 2], t: [&[f64]; 4]) -> [[f64; 4]; 2] {
    let uh = [S::as_simd_f64s(u[0]), S::as_simd_f64s(u[1])];
    let th = [
        S::as_simd_f64s(t[0]),
        S::as_simd_f64s(t[1]),
        S::as_simd_f64s(t[2]),
        S::as_simd_f64s(t[3]),
    ];
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[zero; 4]; 2];
    for b in 0..uh[0].0.len() {
        let tv = [th[0].0[b], th[1].0[b], th[2].0[b], th[3].0[b]];
        for a in 0..2 {
            let uv = uh[a].0[b];
            for q in 0..4 {
                acc[a][q] = simd.mul_add_e_f64s(uv, tv[q], acc[a][q]);
            }
        }
    }
    let mut out = [[0.0; 4]; 2];
    for a in 0..2 {
        for q in 0..4 {
            out[a][q] = simd.reduce_sum_f64s(acc[a][q])
                + uh[a].1.iter().zip(th[q].1).map(|(x, y)| x * y).sum::<f64>();
        }
    }
    out
}

#[inline(always)]
fn subtract<S: Simd>(simd: S, x: &[f64], s: f64, out: &mut [f64]) {
    let (xh, xt) = S::as_simd_f64s(x);
    let (oh, ot) = S::as_mut_simd_f64s(out);
    let sv = simd.splat_f64s(s);
    for (o, &v) in oh.iter_mut().zip(xh) {
        *o = simd.sub_f64s(v, sv);
    }
    for (o, &v) in ot.iter_mut().zip(xt) {
        *o = v - s;
    }
}

#[inline(always)]
fn multiply<S: Simd>(simd: S, a: &[f64], b: &[f64], out: &mut [f64]) {
    let (ah, at) = S::as_simd_f64s(a);
    let (bh, bt) = S::as_simd_f64s(b);
    let (oh, ot) = S::as_mut_simd_f64s(out);
    for ((o, &x), &y) in oh.iter_mut().zip(ah).zip(bh) {
        *o = simd.mul_f64s(x, y);
    }
    for ((o, &x), &y) in ot.iter_mut().zip(at).zip(bt) {
        *o = x * y;
    }
}

#[inline(always)]
fn sum<S: Simd>(simd: S, a: &[f64]) -> f64 {
    let (head, tail) = S::as_simd_f64s(a);
    let zero = simd.splat_f64s(0.0);
    let mut acc = [zero; 4];
    let mut chunks = head.chunks_exact(4);
    for chunk in &mut chunks {
        for l in 0..4 {
            acc[l] = simd.add_f64s(acc[l], chunk[l]);
        }
    }
    for &v in chunks.remainder() {
        acc[0] = simd.add_f64s(acc[0], v);
    }
    let total = simd.add_f64s(simd.add_f64s(acc[0], acc[1]), simd.add_f64s(acc[2], acc[3]));
    simd.reduce_sum_f64s(total) + tail.iter().sum::<f64>()
}

/// `(Σ r t, Σ r t²)` with `t = x - s`, four independent chains of each.
#[inline(always)]
fn centred_moments<S: Simd>(simd: S, r: &[f64], x: &[f64], s: f64) -> (f64, f64) {
    let (rh, rt) = S::as_simd_f64s(r);
    let (xh, xt) = S::as_simd_f64s(x);
    let zero = simd.splat_f64s(0.0);
    let shift = simd.splat_f64s(s);
    let (mut f, mut q) = ([zero; 4], [zero; 4]);
    let mut cr = rh.chunks_exact(4);
    let mut cx = xh.chunks_exact(4);
    for (rc, xc) in (&mut cr).zip(&mut cx) {
        for l in 0..4 {
            let t = simd.sub_f64s(xc[l], shift);
            let rt = simd.mul_f64s(rc[l], t);
            f[l] = simd.add_f64s(f[l], rt);
            q[l] = simd.mul_add_e_f64s(rt, t, q[l]);
        }
    }
    for (&rv, &xv) in cr.remainder().iter().zip(cx.remainder()) {
        let t = simd.sub_f64s(xv, shift);
        let rt = simd.mul_f64s(rv, t);
        f[0] = simd.add_f64s(f[0], rt);
        q[0] = simd.mul_add_e_f64s(rt, t, q[0]);
    }
    let sum4 = |a: [S::f64s; 4]| {
        simd.reduce_sum_f64s(simd.add_f64s(simd.add_f64s(a[0], a[1]), simd.add_f64s(a[2], a[3])))
    };
    let (mut first, mut second) = (sum4(f), sum4(q));
    for (&rv, &xv) in rt.iter().zip(xt) {
        let t = xv - s;
        first += rv * t;
        second += rv * t * t;
    }
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD kernel against the per-sample reference on every instruction set the machine
    /// has: blocks of one sample, under a register, not a multiple of any SIMD width, and full;
    /// `d = 1` and `k = 1`; both layouts.
    #[test]
    fn block_moments_match_the_reference() {
        for isa in crate::kernel::isa::available() {
            crate::kernel::isa::with_isa(isa, block_moments_case);
        }
    }

    fn block_moments_case() {
        let stride = 240;
        for &(d, k, len) in
            &[(1, 1, 1), (1, 3, 7), (2, 1, 240), (3, 4, 239), (15, 5, 100), (7, 2, 17)]
        {
            for full in [false, true] {
                let value = |i: usize| ((i * 7919 % 1000) as f64 / 100.0 - 5.0) * 0.7;
                let xt: Vec<f64> = (0..d * stride).map(value).collect();
                let rw: Vec<f64> = (0..k * stride).map(|i| (i * 31 % 17) as f64 / 17.0).collect();
                let shift: Vec<f64> = (0..k * d).map(|i| value(i * 3 + 1) * 0.5).collect();
                let second_len = if full { k * d * d } else { k * d };
                let mut fast = (vec![0.0; k], vec![0.0; k * d], vec![0.0; second_len]);
                let mut slow = fast.clone();
                let (mut centred, mut weighted) = (vec![0.0; d * stride], vec![0.0; d * stride]);
                let block = MomentBlock { xt: &xt, rw: &rw, stride, len };
                for _ in 0..2 {
                    let sums = MomentSums {
                        full,
                        shift: &shift,
                        counts: &mut fast.0,
                        first: &mut fast.1,
                        second: &mut fast.2,
                    };
                    accumulate_moments(sums, block, &mut centred, &mut weighted);
                    let sums = MomentSums {
                        full,
                        shift: &shift,
                        counts: &mut slow.0,
                        first: &mut slow.1,
                        second: &mut slow.2,
                    };
                    accumulate_reference(sums, block);
                }
                let tol = 1e-13 * len as f64;
                for (name, a, b) in [
                    ("counts", &fast.0, &slow.0),
                    ("first", &fast.1, &slow.1),
                    ("second", &fast.2, &slow.2),
                ] {
                    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                        assert!(
                            (x - y).abs() <= tol * (1.0 + y.abs()),
                            "full={full} d={d} k={k} len={len} {name}[{i}]: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }
}
