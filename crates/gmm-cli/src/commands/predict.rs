//! `gmm predict`: labels (or posteriors) of every sample, in input order.

use std::io::Write;

use gmm_core::{Error, ErrorKind, Matrix, Real, Result};

use gmm_io::DataMatrix;

use super::{load_data, to_f64};
use crate::args::PredictArgs;
use crate::output::{labels_text, matrix_text, write_labels, write_matrix};

/// Runs `gmm predict`.
pub fn run(args: PredictArgs) -> Result<()> {
    match load_data(&args.data, args.dtype)? {
        DataMatrix::F32(x) => predict_typed(&args, x),
        DataMatrix::F64(x) => predict_typed(&args, x),
    }
}

fn predict_typed<T: Real>(args: &PredictArgs, x: Matrix<T>) -> Result<()> {
    let model = gmm_io::read_model::<T>(&args.model)?;
    let context = |e: Error| e.context(args.data.display());
    if args.proba {
        let proba = to_f64(model.predict_proba(x.samples()).map_err(context)?)?;
        match &args.output {
            Some(path) => write_matrix(path, &proba),
            None => print_stdout(&matrix_text(&proba)),
        }
    } else {
        let labels = model.predict(x.samples()).map_err(context)?;
        match &args.output {
            Some(path) => write_labels(path, &labels),
            None => print_stdout(&labels_text(&labels)),
        }
    }
}

fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| {
        Error::new(ErrorKind::Io, format!("cannot write to standard output: {e}")).with_source(e)
    })
}
