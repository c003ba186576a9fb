//! `gmm stats`: zeroth- and centred first-order Baum-Welch statistics per input file.

use gmm_core::{Matrix, Real, Result};
use gmm_speech::baum_welch_stats;

use std::path::PathBuf;

use super::frames::{Loader, Utterance, utterances};
use super::scale::file_precision;
use crate::args::{Dtype, StatsArgs};
use crate::output::{self, Paths};

/// Runs `gmm stats`.
pub fn run(args: StatsArgs) -> Result<()> {
    let utts = utterances(&args.frames, &args.segments)?;
    let (zeroth, first) = paths(&args.output);
    Paths::new()
        .input("UBM", &args.ubm)
        .inputs("FRAMES", utts.iter().map(|u| u.file.as_path()))
        .maybe_input("--segments", args.segments.segments.as_deref())
        .output("-o (zeroth)", Some(&zeroth))
        .output("-o (first)", Some(&first))
        .check()?;
    match file_precision(&utts[0].file, None)? {
        Dtype::F32 => typed::<f32>(&args, &utts),
        Dtype::F64 => typed::<f64>(&args, &utts),
    }
}

/// The two output files of prefix `prefix`.
fn paths(prefix: &str) -> (PathBuf, PathBuf) {
    (PathBuf::from(format!("{prefix}.zeroth.npy")), PathBuf::from(format!("{prefix}.first.npy")))
}

fn typed<T: Real>(args: &StatsArgs, utts: &[Utterance]) -> Result<()> {
    let ubm = gmm_io::read_model::<T>(&args.ubm)?;
    let (k, d) = (ubm.n_components(), ubm.n_features());
    let (mut zeroth, mut first) = (Vec::new(), Vec::new());
    let mut loader = Loader::<T>::new();
    for utt in utts {
        let x = loader.frames(utt)?;
        let bw = baum_welch_stats(&ubm, x.samples()).map_err(|e| e.context(&utt.name))?;
        zeroth.extend(bw.zeroth);
        first.extend(bw.first);
    }
    let zeroth = Matrix::from_vec(zeroth, k)?;
    let first = Matrix::from_vec(first, k * d)?;
    let (zeroth_path, first_path) = paths(&args.output);
    gmm_io::write_npy_f64(&zeroth_path, &zeroth)?;
    gmm_io::write_npy_f64(&first_path, &first)?;
    let n = utts.len();
    output::note(&format!(
        "stats: {n} utterances, k = {k}, d = {d}: {} ({n} x {k}), {} ({n} x {})\n",
        zeroth_path.display(),
        first_path.display(),
        k * d
    ));
    Ok(())
}
