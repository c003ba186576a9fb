//! `gmm sample`: draw from a model file.

use gmm_core::Result;

use crate::args::SampleArgs;
use crate::output::{self, Paths, write_labels, write_matrix};

/// Runs `gmm sample`.
pub fn run(args: SampleArgs) -> Result<()> {
    output::format("-o", &args.output)?;
    if let Some(path) = &args.labels {
        output::format("--labels", path)?;
    }
    Paths::new()
        .input("MODEL", &args.model)
        .output("-o", Some(&args.output))
        .output("--labels", args.labels.as_deref())
        .check()?;
    let model = gmm_io::read_model::<f64>(&args.model)?;
    let (x, labels) = model.sample(args.n, args.seed)?;
    write_matrix("-o", &args.output, &x)?;
    if let Some(path) = &args.labels {
        write_labels("--labels", path, &labels)?;
    }
    Ok(())
}
