//! `gmm ubm`: a diagonal universal background model by component splitting.

use gmm_core::{Real, Result};
use gmm_speech::ubm::{UbmConfig, train_ubm};

use super::frames::{Utterance, load_stacked, precision, utterances};
use crate::args::{Dtype, UbmArgs};
use crate::output::{self, Paths};

/// Runs `gmm ubm`.
pub fn run(args: UbmArgs) -> Result<()> {
    let utts = utterances(&args.frames, &args.segments)?;
    Paths::new()
        .inputs("FRAMES", utts.iter().map(|u| u.file.as_path()))
        .maybe_input("--segments", args.segments.segments.as_deref())
        .output("-o", Some(&args.output))
        .check()?;
    match precision(&utts[0].file, args.dtype)? {
        Dtype::F32 => typed::<f32>(&args, &utts),
        Dtype::F64 => typed::<f64>(&args, &utts),
    }
}

fn typed<T: Real>(args: &UbmArgs, utts: &[Utterance]) -> Result<()> {
    let x = load_stacked::<T>(utts)?;
    let config = UbmConfig::new(args.k)
        .iters_per_split(args.iters_per_split)
        .final_iters(args.final_iters)
        .max_frames(args.max_frames)
        .min_occupancy(args.min_occupancy)
        .remove_low_count(!args.keep_low_count)
        .reg_covar(args.reg_covar)
        .threads(args.threads);
    let fit = train_ubm(&config, x.samples())?;
    gmm_io::write_model(&args.output, &fit.model)?;
    if !args.quiet {
        let r = &fit.report;
        let (iters, secs) = r.final_iterations;
        let last = r.log_likelihood.last().map(|&(_, ll)| ll).unwrap_or(f64::NAN);
        output::note(&format!(
            "ubm: {} components ({} removed) from {} frames x {} in {:.2} s; sizes {:?}; \
             {iters} final iterations at {:.3} s each; mean log-likelihood {}\n",
            fit.model.n_components(),
            r.removed,
            r.frames_used,
            x.n_cols(),
            r.seconds,
            r.sizes,
            if iters > 0 { secs / iters as f64 } else { 0.0 },
            output::fixed(last, 4),
        ));
    }
    Ok(())
}
