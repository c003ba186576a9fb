//! `gmm llr`: one average per-frame log-likelihood ratio per input file, in input order.

use gmm_core::{Error, ErrorKind, Real, Result};
use gmm_speech::{TopC, llr};

use super::frames::{expand, load, precision};
use crate::args::{Dtype, LlrArgs};

/// Runs `gmm llr`.
pub fn run(args: LlrArgs) -> Result<()> {
    let files = expand(&args.frames)?;
    match precision(&files[0], None)? {
        Dtype::F32 => typed::<f32>(&args, &files),
        Dtype::F64 => typed::<f64>(&args, &files),
    }
}

fn typed<T: Real>(args: &LlrArgs, files: &[std::path::PathBuf]) -> Result<()> {
    let speaker = gmm_io::read_model::<T>(&args.speaker)?;
    let ubm = gmm_io::read_model::<T>(&args.ubm)?;
    if speaker.n_features() != ubm.n_features() {
        return Err(Error::new(
            ErrorKind::DimensionMismatch {
                expected: ubm.n_features(),
                found: speaker.n_features(),
            },
            format!(
                "the speaker model has {} features and the UBM {}: score with models of one \
                 feature space",
                speaker.n_features(),
                ubm.n_features()
            ),
        ));
    }
    let rule = args.top_c.map(|c| match args.beam {
        Some(beam) => TopC::new(c).beam(beam),
        None => TopC::new(c),
    });
    // Score everything first, so a bad file prints nothing but its error.
    let mut lines = Vec::with_capacity(files.len());
    for path in files {
        let x = load::<T>(path)?;
        let score =
            llr(&speaker, &ubm, x.samples(), rule).map_err(|e| e.context(path.display()))?;
        lines.push(format!("{}\t{score}", path.display()));
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
