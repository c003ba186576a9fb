//! `gmm sample`: draw from a model file.

use gmm_core::Result;

use crate::args::SampleArgs;
use crate::output::{write_labels, write_matrix};

/// Runs `gmm sample`.
pub fn run(args: SampleArgs) -> Result<()> {
    let model = gmm_io::read_model::<f64>(&args.model)?;
    let (x, labels) = model.sample(args.n, args.seed)?;
    write_matrix(&args.output, &x)?;
    if let Some(path) = &args.labels {
        write_labels(path, &labels)?;
    }
    Ok(())
}
