//! The statistics seam of gmm-em as the bindings use it: `e_step -> SuffStats -> merge ->
//! m_step`, plus the E-step over rows in either layout.
//!
//! Fortran-ordered rows are read chunk by chunk ([`Rows::for_each_chunk`]); each chunk's
//! statistics come from `gmm_em::e_step` and merge in row order, so the result equals the
//! E-step of the same rows in C order up to the order of the additions.

use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result};
use gmm_em::SuffStats;

use crate::rows::Rows;

pub use gmm_em::{e_step, m_step};

/// [`e_step`] over every chunk of `rows`, merged in row order.
pub fn e_step_rows<T: Real>(
    model: &GaussianMixture<T>,
    rows: Rows<'_, T>,
    weights: Option<&[f64]>,
) -> Result<SuffStats> {
    let mut total: Option<SuffStats> = None;
    rows.for_each_chunk(|chunk, start| {
        let w = weights.map(|w| &w[start..start + chunk.n_samples()]);
        let stats = e_step(model, chunk, w)?;
        match total.as_mut() {
            None => total = Some(stats),
            Some(t) => t.merge(&stats)?,
        }
        Ok(())
    })?;
    total.ok_or_else(|| Error::new(ErrorKind::EmptyData, "no samples: give at least one"))
}

#[cfg(test)]
mod tests {
    use gmm_core::CovarianceType;

    use super::*;
    use crate::rows::Layout;

    #[test]
    fn chunked_e_step_equals_whole() {
        for t in CovarianceType::ALL {
            let model = GaussianMixture::<f64>::random(t, 3, 4, 2.0, 1).unwrap();
            let (x, _) = model.sample(40_000, 2).unwrap();
            let whole = e_step(&model, x.samples(), None).unwrap();
            let (n, d) = (x.n_rows(), x.n_cols());
            let mut f = vec![0.0; n * d];
            for i in 0..n {
                for j in 0..d {
                    f[j * n + i] = x.row(i)[j];
                }
            }
            let chunked =
                e_step_rows(&model, Rows::new(&f, n, d, Layout::ColumnMajor), None).unwrap();
            let rel = |a: f64, b: f64| (a - b).abs() / (1.0 + b.abs());
            assert!(rel(chunked.log_likelihood(), whole.log_likelihood()) < 1e-12, "{t}");
            assert_eq!(chunked.total_weight(), whole.total_weight());
            for (a, b) in chunked.second().iter().zip(whole.second()) {
                assert!(rel(*a, *b) < 1e-10, "{t}");
            }
        }
    }
}
