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
            stats.counts[c] += sum(simd, r);
            for j in 0..d {
                let s = stats.shift[c * d + j];
                let x = &xt[j * stride..j * stride + len];
                subtract(simd, x, s, &mut centred[j * stride..j * stride + len]);
            }
            let first = &mut stats.first[c * d..(c + 1) * d];
            match stats.layout {
                MomentLayout::Diagonal => {
                    let second = &mut stats.second[c * d..(c + 1) * d];
                    for j in 0..d {
                        let t = &centred[j * stride..j * stride + len];
                        let (f, s2) = dot_and_weighted(simd, r, t);
                        first[j] += f;
                        second[j] += s2;
                    }
                }
                MomentLayout::Full => {
                    // u = r ∘ t_i, then S_ij += u · t_j for j <= i.
                    let second = &mut stats.second[c * d * d..(c + 1) * d * d];
                    let u = &mut weighted[..len];
                    for i in 0..d {
                        let ti = &centred[i * stride..i * stride + len];
                        multiply(simd, r, ti, u);
                        first[i] += sum(simd, u);
                        for j in 0..=i {
                            second[i * d + j] +=
                                dot(simd, u, &centred[j * stride..j * stride + len]);
                        }
                    }
                }
            }
        }
    }
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

#[inline(always)]
fn dot<S: Simd>(simd: S, a: &[f64], b: &[f64]) -> f64 {
    let (ah, at) = S::as_simd_f64s(a);
    let (bh, bt) = S::as_simd_f64s(b);
    let zero = simd.splat_f64s(0.0);
    let mut acc = [zero; 4];
    let mut ca = ah.chunks_exact(4);
    let mut cb = bh.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            acc[l] = simd.mul_add_e_f64s(x[l], y[l], acc[l]);
        }
    }
    for (&x, &y) in ca.remainder().iter().zip(cb.remainder()) {
        acc[0] = simd.mul_add_e_f64s(x, y, acc[0]);
    }
    let total = simd.add_f64s(simd.add_f64s(acc[0], acc[1]), simd.add_f64s(acc[2], acc[3]));
    simd.reduce_sum_f64s(total) + at.iter().zip(bt).map(|(x, y)| x * y).sum::<f64>()
}

/// `(Σ r t, Σ r t²)`.
#[inline(always)]
fn dot_and_weighted<S: Simd>(simd: S, r: &[f64], t: &[f64]) -> (f64, f64) {
    let (rh, rt) = S::as_simd_f64s(r);
    let (th, tt) = S::as_simd_f64s(t);
    let zero = simd.splat_f64s(0.0);
    let (mut f, mut s) = ([zero; 2], [zero; 2]);
    let mut cr = rh.chunks_exact(2);
    let mut ct = th.chunks_exact(2);
    for (x, y) in (&mut cr).zip(&mut ct) {
        for l in 0..2 {
            let rt = simd.mul_f64s(x[l], y[l]);
            f[l] = simd.add_f64s(f[l], rt);
            s[l] = simd.mul_add_e_f64s(rt, y[l], s[l]);
        }
    }
    for (&x, &y) in cr.remainder().iter().zip(ct.remainder()) {
        let rt = simd.mul_f64s(x, y);
        f[0] = simd.add_f64s(f[0], rt);
        s[0] = simd.mul_add_e_f64s(rt, y, s[0]);
    }
    let mut first = simd.reduce_sum_f64s(simd.add_f64s(f[0], f[1]));
    let mut second = simd.reduce_sum_f64s(simd.add_f64s(s[0], s[1]));
    for (&x, &y) in rt.iter().zip(tt) {
        first += x * y;
        second += x * y * y;
    }
    (first, second)
}
