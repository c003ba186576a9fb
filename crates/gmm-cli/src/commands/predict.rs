//! `gmm predict`: labels (or posteriors) of every sample, in input order.

use std::path::Path;

use gmm_core::{Error, Matrix, Real, Result};

use gmm_io::DataMatrix;

use super::precision::{self, Loaded};
use super::to_f64;
use crate::args::PredictArgs;
use crate::output::{self, Paths, write_labels, write_matrix};

/// Runs `gmm predict`.
pub fn run(args: PredictArgs) -> Result<()> {
    let out = args.output.as_deref().unwrap_or(Path::new("-"));
    output::format("-o", out)?;
    Paths::new()
        .input("MODEL", &args.model)
        .input("DATA", &args.data)
        .output("-o", Some(out))
        .check()?;
    let Loaded { data, shift } = precision::load(&args.data, args.dtype)?;
    match data {
        DataMatrix::F32(x) => predict_typed(&args, x, shift.as_deref()),
        DataMatrix::F64(x) => predict_typed(&args, x, shift.as_deref()),
    }
}

fn predict_typed<T: Real>(args: &PredictArgs, x: Matrix<T>, shift: Option<&[f64]>) -> Result<()> {
    let model = precision::read_model::<T>(&args.model, shift)?;
    let context = |e: Error| e.context(args.data.display());
    let out = args.output.as_deref().unwrap_or(Path::new("-"));
    if args.proba {
        let proba = to_f64(model.predict_proba(x.samples()).map_err(context)?)?;
        write_matrix("-o", out, &proba)
    } else {
        let labels = model.predict(x.samples()).map_err(context)?;
        write_labels("-o", out, &labels)
    }
}
