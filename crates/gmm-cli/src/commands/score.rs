//! `gmm score`: mean log-likelihood, and optionally every sample's.

use std::path::Path;

use gmm_core::{Matrix, Real, Result};

use gmm_io::DataMatrix;

use super::precision::{self, Loaded};
use crate::args::ScoreArgs;
use crate::output::{self, Paths, write_values};

/// Runs `gmm score`.
pub fn run(args: ScoreArgs) -> Result<()> {
    if let Some(path) = &args.per_sample {
        output::format("--per-sample", path)?;
    }
    Paths::new()
        .input("MODEL", &args.model)
        .input("DATA", &args.data)
        .output("--per-sample", args.per_sample.as_deref())
        .output("the mean log-likelihood", Some(Path::new("-")))
        .check()?;
    let Loaded { data, shift } = precision::load(&args.data, args.dtype)?;
    match data {
        DataMatrix::F32(x) => score_typed(&args, x, shift.as_deref()),
        DataMatrix::F64(x) => score_typed(&args, x, shift.as_deref()),
    }
}

fn score_typed<T: Real>(args: &ScoreArgs, x: Matrix<T>, shift: Option<&[f64]>) -> Result<()> {
    let model = precision::read_model::<T>(&args.model, shift)?;
    let mean = model.score(x.samples()).map_err(|e| e.context(args.data.display()))?;
    if let Some(path) = &args.per_sample {
        let values: Vec<f64> =
            model.score_samples(x.samples())?.iter().map(|v| v.to_f64()).collect();
        write_values("--per-sample", path, &values)?;
    }
    output::print(&format!("{}\n", output::number(mean.to_f64())))
}
