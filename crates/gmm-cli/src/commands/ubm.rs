//! `gmm ubm`: a diagonal universal background model by component splitting.

use gmm_core::{Real, Result};
use gmm_speech::ubm::{UbmConfig, train_ubm};

use super::frames::{expand, load_stacked, precision};
use crate::args::{Dtype, UbmArgs};

/// Runs `gmm ubm`.
pub fn run(args: UbmArgs) -> Result<()> {
    let files = expand(&args.frames)?;
    match precision(&files[0], args.dtype)? {
        Dtype::F32 => typed::<f32>(&args, &files),
        Dtype::F64 => typed::<f64>(&args, &files),
    }
}

fn typed<T: Real>(args: &UbmArgs, files: &[std::path::PathBuf]) -> Result<()> {
    let x = load_stacked::<T>(files)?;
    let config = UbmConfig::new(args.k)
        .iters_per_split(args.iters_per_split)
        .final_iters(args.final_iters)
        .max_frames(args.max_frames)
        .min_occupancy(args.min_occupancy)
        .remove_low_count(!args.keep_low_count)
        .reg_covar(args.reg_covar)
        .threads(super::threads(args.threads));
    let fit = train_ubm(&config, x.samples())?;
    gmm_io::write_model(&args.output, &fit.model)?;
    if !args.quiet {
        let r = &fit.report;
        let (iters, secs) = r.final_iterations;
        let last = r.log_likelihood.last().map(|&(_, ll)| ll).unwrap_or(f64::NAN);
        eprintln!(
            "ubm: {} components ({} removed) from {} frames x {} in {:.2} s; sizes {:?}; \
             {iters} final iterations at {:.3} s each; mean log-likelihood {last:.4}",
            fit.model.n_components(),
            r.removed,
            r.frames_used,
            x.n_cols(),
            r.seconds,
            r.sizes,
            if iters > 0 { secs / iters as f64 } else { 0.0 },
        );
    }
    Ok(())
}
