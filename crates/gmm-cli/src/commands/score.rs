//! `gmm score`: mean log-likelihood, and optionally every sample's.

use std::path::Path;

use gmm_core::{Matrix, Real, Result};

use gmm_io::DataMatrix;

use super::precision::{self, Loaded};
use super::scale::{Ranks, chunk_memory, file_precision, needs_one_process, should_stream};
use crate::args::{Dtype, ScoreArgs};
use crate::output::{self, Paths, write_values};
use gmm_io::StackedSource;

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
    let ranks = Ranks::start(args.scale.mpi)?;
    let dtype = file_precision(&args.data, args.dtype)?;
    if should_stream(std::slice::from_ref(&args.data), dtype, &args.scale)? {
        if args.per_sample.is_some() {
            return Err(needs_one_process("--per-sample with streamed data (one value per row)"));
        }
        return match dtype {
            Dtype::F32 => score_streamed::<f32>(&args, &ranks),
            Dtype::F64 => score_streamed::<f64>(&args, &ranks),
        };
    }
    let Loaded { data, shift } = precision::load(&args.data, args.dtype)?;
    match data {
        DataMatrix::F32(x) => score_typed(&args, x, shift.as_deref()),
        DataMatrix::F64(x) => score_typed(&args, x, shift.as_deref()),
    }
}

/// The mean log-likelihood of data read in chunks (or by MPI ranks): the E-step's
/// log-likelihood, summed by the one tree.
fn score_streamed<T: Real>(args: &ScoreArgs, ranks: &Ranks) -> Result<()> {
    let setup = || -> Result<_> {
        let model = gmm_io::read_model::<T>(&args.model)?;
        let source = StackedSource::<T>::open(std::slice::from_ref(&args.data))?;
        Ok((model, source))
    };
    let setup = setup();
    ranks.agree(setup.as_ref().map(|_| ()).map_err(Clone::clone))?;
    let (model, source) = setup?;
    let stream = ranks.stream(&source)?.memory_budget(chunk_memory(args.scale.memory_budget));
    let stats = stream.e_step(&model).map_err(|e| e.context(args.data.display()))?;
    if ranks.is_root() {
        let mean = stats.log_likelihood() / stream.n_samples() as f64;
        output::print(&format!("{}\n", output::number(mean)))?;
    }
    Ok(())
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
