//! `gmm select`: fit a grid of component counts x covariance types, print the table, keep the
//! best by BIC, AIC or ICL.

use std::fmt::Write as _;

use gmm_core::{Error, ErrorKind, Matrix, Real, Result};
use gmm_em::{Candidate, Criterion, EmConfig, SelectConfig, Selection, select};
use serde::Serialize;

use gmm_io::DataMatrix;

use super::precision::{self, Loaded};
use crate::args::{CriterionArg, EmArgs, SelectArgs};
use crate::output::{self, Paths, fixed};

/// The library's criterion for the command line's.
pub fn criterion(c: CriterionArg) -> Criterion {
    match c {
        CriterionArg::Bic => Criterion::Bic,
        CriterionArg::Aic => Criterion::Aic,
        CriterionArg::Icl => Criterion::Icl,
    }
}

/// The EM settings of the command line on top of the command's defaults `base` (component
/// count and type are set per fit).
pub fn em_config(base: EmConfig, em: &EmArgs) -> EmConfig {
    let n_init = em.n_init.unwrap_or(base.get_n_init());
    let init = em.init.unwrap_or(base.get_init());
    base.n_init(n_init)
        .init(init)
        .seed(em.seed)
        .max_iter(em.max_iter)
        .tol(em.tol)
        .reg_covar(em.reg_covar)
        .threads(super::threads(em.threads))
}

/// Runs `gmm select`.
pub fn run(args: SelectArgs) -> Result<()> {
    Paths::new()
        .input("DATA", &args.data)
        .output("-o", args.output.as_deref())
        .output("--report", args.report.as_deref())
        .output("the table", Some(std::path::Path::new("-")))
        .check()?;
    let Loaded { data, shift } = precision::load(&args.data, args.dtype)?;
    match data {
        DataMatrix::F32(x) => select_typed(&args, x, shift.as_deref()),
        DataMatrix::F64(x) => select_typed(&args, x, shift.as_deref()),
    }
}

fn select_typed<T: Real>(args: &SelectArgs, x: Matrix<T>, shift: Option<&[f64]>) -> Result<()> {
    let config = SelectConfig::new(args.k.0.clone(), args.covariance.clone())
        .criterion(criterion(args.criterion))
        .em(em_config(SelectConfig::default_em(), &args.em));
    let selection = select(&config, x.samples()).map_err(|e| e.context(args.data.display()))?;
    if let Some(path) = &args.output {
        match shift {
            Some(_) => gmm_io::write_model(
                path,
                &precision::shifted::<T, f64>(&selection.model, shift, 1.0)?,
            )?,
            None => gmm_io::write_model(path, &selection.model)?,
        }
    }
    if let Some(path) = &args.report {
        let report = report(args, &config, &selection, x.n_rows(), x.n_cols(), T::NAME);
        let text = serde_json::to_string_pretty(&report).map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot encode the report: {e}")).with_source(e)
        })?;
        gmm_io::write_text(path, &(text + "\n"))?;
    }
    output::print(&table(&selection))
}

/// The table: aligned columns, the best row marked with `*`, failed rows with their error.
pub fn table<T: Real>(selection: &Selection<T>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:>4}  {:<9}  {:>8}  {:>18}  {:>16}  {:>16}  {:>16}  {:>5}  {:<12}  converged",
        "k", "cov", "n_params", "log_likelihood", "bic", "aic", "icl", "iter", "start"
    );
    for (i, c) in selection.candidates.iter().enumerate() {
        let mark = if i == selection.best { '*' } else { ' ' };
        let _ = match &c.outcome {
            Ok(s) => writeln!(
                out,
                "{mark} {:>4}  {:<9}  {:>8}  {:>18}  {:>16}  {:>16}  {:>16}  {:>5}  {:<12}  {}{}",
                c.n_components,
                c.covariance_type.as_str(),
                s.n_parameters,
                fixed(s.log_likelihood, 6),
                fixed(s.bic, 6),
                fixed(s.aic, 6),
                fixed(s.icl, 6),
                s.n_iter,
                s.start,
                if s.converged { "yes" } else { "no" },
                match s.collapsed_components {
                    0 => String::new(),
                    n => format!(
                        "  ({n} collapsed component{}: not chosen)",
                        if n == 1 { "" } else { "s" }
                    ),
                }
            ),
            Err(e) => writeln!(
                out,
                "{mark} {:>4}  {:<9}  failed: {}",
                c.n_components,
                c.covariance_type.as_str(),
                e.message().replace('\n', " ")
            ),
        };
    }
    let best = selection.best_candidate();
    let _ = writeln!(
        out,
        "best by {}: k = {} {} ({} = {})",
        selection.criterion,
        best.n_components,
        best.covariance_type,
        selection.criterion,
        fixed(selection.score.value(selection.criterion), 6)
    );
    out
}

/// The report file (`--report`).
#[derive(Debug, Serialize)]
struct Report {
    data: String,
    n_samples: usize,
    n_features: usize,
    dtype: &'static str,
    criterion: &'static str,
    seed: u64,
    init: &'static str,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    reg_covar: f64,
    best: usize,
    best_n_components: usize,
    best_covariance_type: &'static str,
    candidates: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct Row {
    n_components: usize,
    covariance_type: &'static str,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bic: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aic: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icl: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_likelihood: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean_log_likelihood: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n_parameters: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    converged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n_iter: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collapsed_components: Option<usize>,
}

fn row(c: &Candidate) -> Row {
    let s = c.outcome.as_ref().ok();
    Row {
        n_components: c.n_components,
        covariance_type: c.covariance_type.as_str(),
        seed: c.seed,
        error: c.outcome.as_ref().err().map(|e| e.message().to_string()),
        bic: s.map(|s| s.bic),
        aic: s.map(|s| s.aic),
        icl: s.map(|s| s.icl),
        log_likelihood: s.map(|s| s.log_likelihood),
        mean_log_likelihood: s.map(|s| s.mean_log_likelihood),
        n_parameters: s.map(|s| s.n_parameters),
        converged: s.map(|s| s.converged),
        n_iter: s.map(|s| s.n_iter),
        start: s.map(|s| s.start),
        collapsed_components: s.map(|s| s.collapsed_components),
    }
}

fn report<T: Real>(
    args: &SelectArgs,
    config: &SelectConfig,
    selection: &Selection<T>,
    n_samples: usize,
    n_features: usize,
    dtype: &'static str,
) -> Report {
    let em = config.get_em();
    let best = selection.best_candidate();
    Report {
        data: args.data.display().to_string(),
        n_samples,
        n_features,
        dtype,
        criterion: selection.criterion.as_str(),
        seed: em.get_seed(),
        init: em.get_init().as_str(),
        n_init: em.get_n_init(),
        max_iter: em.get_max_iter(),
        tol: em.get_tol(),
        reg_covar: em.get_reg_covar(),
        best: selection.best,
        best_n_components: best.n_components,
        best_covariance_type: best.covariance_type.as_str(),
        candidates: selection.candidates.iter().map(row).collect(),
    }
}
