//! `gmm stats`: zeroth- and centred first-order Baum-Welch statistics per input file.

use gmm_core::{Matrix, Real, Result};
use gmm_speech::baum_welch_stats;

use super::frames::{expand, load, precision};
use crate::args::{Dtype, StatsArgs};

/// Runs `gmm stats`.
pub fn run(args: StatsArgs) -> Result<()> {
    let files = expand(&args.frames)?;
    match precision(&files[0], None)? {
        Dtype::F32 => typed::<f32>(&args, &files),
        Dtype::F64 => typed::<f64>(&args, &files),
    }
}

fn typed<T: Real>(args: &StatsArgs, files: &[std::path::PathBuf]) -> Result<()> {
    let ubm = gmm_io::read_model::<T>(&args.ubm)?;
    let (k, d) = (ubm.n_components(), ubm.n_features());
    let (mut zeroth, mut first) = (Vec::new(), Vec::new());
    for path in files {
        let x = load::<T>(path)?;
        let bw = baum_welch_stats(&ubm, x.samples()).map_err(|e| e.context(path.display()))?;
        zeroth.extend(bw.zeroth);
        first.extend(bw.first);
    }
    let zeroth = Matrix::from_vec(zeroth, k)?;
    let first = Matrix::from_vec(first, k * d)?;
    gmm_io::write_npy_f64(std::path::Path::new(&format!("{}.zeroth.npy", args.output)), &zeroth)?;
    gmm_io::write_npy_f64(std::path::Path::new(&format!("{}.first.npy", args.output)), &first)?;
    eprintln!(
        "stats: {} files, k = {k}, d = {d}: {}.zeroth.npy ({} x {k}), {}.first.npy ({} x {})",
        files.len(),
        args.output,
        files.len(),
        args.output,
        files.len(),
        k * d
    );
    Ok(())
}
