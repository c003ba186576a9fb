//! `gmm score`: mean log-likelihood, and optionally every sample's.

use gmm_core::{Matrix, Real, Result};

use gmm_io::DataMatrix;

use super::load_data;
use crate::args::ScoreArgs;
use crate::output::write_values;

/// Runs `gmm score`.
pub fn run(args: ScoreArgs) -> Result<()> {
    match load_data(&args.data, args.dtype)? {
        DataMatrix::F32(x) => score_typed(&args, x),
        DataMatrix::F64(x) => score_typed(&args, x),
    }
}

fn score_typed<T: Real>(args: &ScoreArgs, x: Matrix<T>) -> Result<()> {
    let model = gmm_io::read_model::<T>(&args.model)?;
    let mean = model.score(x.samples()).map_err(|e| e.context(args.data.display()))?;
    if let Some(path) = &args.per_sample {
        let values: Vec<f64> =
            model.score_samples(x.samples())?.iter().map(|v| v.to_f64()).collect();
        write_values(path, &values)?;
    }
    println!("{mean}");
    Ok(())
}
