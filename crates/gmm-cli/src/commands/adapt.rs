//! `gmm adapt`: MAP adaptation of a UBM to one speaker's frames.

use gmm_core::{Real, Result};
use gmm_speech::adapt::{AdaptConfig, adapt};

use super::frames::{expand, load_stacked, precision};
use crate::args::{AdaptArgs, Dtype};

/// Runs `gmm adapt`.
pub fn run(args: AdaptArgs) -> Result<()> {
    let files = expand(&args.frames)?;
    match precision(&files[0], None)? {
        Dtype::F32 => typed::<f32>(&args, &files),
        Dtype::F64 => typed::<f64>(&args, &files),
    }
}

fn typed<T: Real>(args: &AdaptArgs, files: &[std::path::PathBuf]) -> Result<()> {
    let ubm = gmm_io::read_model::<T>(&args.ubm)?;
    let x = load_stacked::<T>(files)?;
    let config = AdaptConfig::default()
        .relevance(args.relevance)
        .adapt_means(!args.no_means)
        .adapt_weights(args.weights)
        .adapt_variances(args.variances);
    let model = adapt(&ubm, x.samples(), &config)?;
    gmm_io::write_model(&args.output, &model)
}
