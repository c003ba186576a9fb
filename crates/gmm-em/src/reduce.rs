//! The statistics kernel: one block's contribution to [`SuffStats`], SIMD over samples.
//!
//! Dispatched once per block by `pulp` (AVX-512, AVX2+FMA or scalar). Every sum over samples
//! uses four independent accumulators and a scalar tail, so its order depends only on the
//! block length, never on the thread count. The textbook per-sample version it is tested
//! against is in `stats.rs`'s tests.

use pulp::{Simd, WithSimd};

use crate::stats::{MomentLayout, SuffStats};

/// One block into `stats` (see [`SuffStats::accumulate_block`]).
pub(crate) struct BlockAccumulator<'a> {
    pub stats: &'a mut SuffStats,
    pub xt: &'a [f64],
    pub rw: &'a [f64],
    pub stride: usize,
    pub len: usize,
    pub centred: &'a mut [f64],
    pub weighted: &'a mut [f64],
}

impl WithSimd for BlockAccumulator<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let Self { stats, xt, rw, stride, len, centred, weighted } = self;
        let (k, d) = (stats.n_components, stats.n_features);
        for c in 0..k {
            let r = &rw[c * stride..c * stride + len];
            let weight = sum(simd, r);
            if weight == 0.0 {
                // Every r_nk of the block is exactly 0 (they are never negative): the block adds
                // exactly nothing to this component, so skipping it changes no bit.
                continue;
            }
            stats.counts[c] += weight;
            let first = &mut stats.first[c * d..(c + 1) * d];
            match stats.layout {
                MomentLayout::Diagonal => {
                    let second = &mut stats.second[c * d..(c + 1) * d];
                    for j in 0..d {
                        let x = &xt[j * stride..j * stride + len];
                        let (f, s2) = centred_moments(simd, r, x, stats.shift[c * d + j]);
                        first[j] += f;
                        second[j] += s2;
                    }
                }
                MomentLayout::Full => {
                    for j in 0..d {
                        let shift = stats.shift[c * d + j];
                        let x = &xt[j * stride..j * stride + len];
                        subtract(simd, x, shift, &mut centred[j * stride..j * stride + len]);
                    }
                    // u_i = r ∘ t_i, then S_ij += u_i · t_j for j <= i, in 2 x 4 register tiles
                    // (6 loads feed 8 independent FMA chains).
                    let second = &mut stats.second[c * d * d..(c + 1) * d * d];
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
