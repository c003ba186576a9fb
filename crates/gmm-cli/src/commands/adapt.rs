//! `gmm adapt`: MAP adaptation of a UBM to one speaker's frames.

use gmm_core::{Real, Result};
use gmm_speech::adapt::{AdaptConfig, adapt};

use super::frames::{Utterance, load_stacked, utterances};
use super::scale::file_precision;
use crate::args::{AdaptArgs, Dtype};
use crate::output::Paths;

/// Runs `gmm adapt`.
pub fn run(args: AdaptArgs) -> Result<()> {
    let utts = utterances(&args.frames, &args.segments)?;
    Paths::new()
        .input("UBM", &args.ubm)
        .inputs("FRAMES", utts.iter().map(|u| u.file.as_path()))
        .maybe_input("--segments", args.segments.segments.as_deref())
        .output("-o", Some(&args.output))
        .check()?;
    match file_precision(&utts[0].file, None)? {
        Dtype::F32 => typed::<f32>(&args, &utts),
        Dtype::F64 => typed::<f64>(&args, &utts),
    }
}

fn typed<T: Real>(args: &AdaptArgs, utts: &[Utterance]) -> Result<()> {
    let ubm = gmm_io::read_model::<T>(&args.ubm)?;
    let x = load_stacked::<T>(utts)?;
    let config = AdaptConfig::default()
        .relevance(args.relevance)
        .adapt_means(!args.no_means)
        .adapt_weights(args.weights)
        .adapt_variances(args.variances);
    let model = adapt(&ubm, x.samples(), &config)?;
    gmm_io::write_model(&args.output, &model)
}
