//! `gmm acc`, `gmm sum-accs`, `gmm update`: EM on a grid without MPI, through statistics files
//! (Kaldi's accumulate / sum / estimate). Ten rounds of `acc` over any shards, `sum-accs` and
//! `update` give the model `gmm fit --max-iter 10 --tol 0` gives, byte for byte.

use std::path::{Path, PathBuf};

use gmm_core::{Error, ErrorKind, GaussianMixture, Real, Result};
use gmm_em::fit::with_threads;
use gmm_em::stream::{PartialStats, Stream};
use gmm_em::update::Parameters;
use gmm_em::{EmConfig, SuffStats};
use gmm_io::{AccHeader, AccKind, StackedSource};

use super::fit::batch_method;
use super::scale::{chunk_memory, file_precision};
use crate::args::{AccArgs, Dtype, SumAccsArgs, UpdateArgs};

/// Runs `gmm acc`.
pub fn run_acc(args: AccArgs) -> Result<()> {
    let (model, data) = match (args.moments, &args.model, &args.data) {
        (true, Some(data), None) => (None, data.clone()),
        (false, Some(model), Some(data)) => (Some(model.clone()), data.clone()),
        (true, _, _) => {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "gmm acc --moments takes the data only: gmm acc --moments DATA -o M.acc",
            ));
        }
        (false, _, _) => {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "gmm acc needs a model and data: gmm acc MODEL DATA -o PART.acc (or --moments DATA)",
            ));
        }
    };
    match file_precision(&data, args.dtype)? {
        Dtype::F32 => acc_typed::<f32>(&args, model.as_deref(), &data),
        Dtype::F64 => acc_typed::<f64>(&args, model.as_deref(), &data),
    }
}

fn acc_typed<T: Real>(args: &AccArgs, model_path: Option<&Path>, data: &Path) -> Result<()> {
    let source = StackedSource::<T>::open(&[data.to_path_buf()])?;
    let weights = args.weights.as_deref().map(gmm_io::read_vector).transpose()?;
    let stream = Stream::new(&source)
        .memory_budget(chunk_memory(args.memory_budget))
        .weights(weights.as_deref())
        .map_err(|e| e.context(data.display()))?;
    let stream = match (args.shard, args.rows) {
        (Some((i, n)), _) => stream.shard(i, n)?,
        (None, Some((a, b))) => stream.rows(a..b)?,
        (None, None) => stream,
    };
    let model = model_path.map(gmm_io::read_model::<T>).transpose()?;
    let part = with_threads(args.threads, || match &model {
        Some(model) => stream.e_step_part(model),
        None => stream.moments_part(),
    })
    .map_err(|e| e.context(data.display()))?;
    let header = AccHeader {
        kind: if model.is_some() { AccKind::EStep } else { AccKind::Moments },
        model_fingerprint: model.as_ref().map_or(0, gmm_io::model_fingerprint),
        n_components: model.as_ref().map_or(1, GaussianMixture::n_components),
        n_features: source_features(&stream),
        covariance_type: model.as_ref().map(GaussianMixture::covariance_type),
        f32: std::mem::size_of::<T>() == 4,
        weighted: weights.is_some(),
        n_rows: part.n_rows(),
        rows: part.rows().to_vec(),
        data: data.display().to_string(),
    };
    gmm_io::write_acc(&args.output, &header, &part.to_bytes())
}

fn source_features<T: Real>(stream: &Stream<'_, T>) -> usize {
    stream.n_features()
}

/// Reads an `.acc` file and decodes its statistics.
fn read_part(path: &Path) -> Result<(AccHeader, PartialStats)> {
    let (header, bytes) = gmm_io::read_acc(path)?;
    let part = PartialStats::from_bytes(&bytes).map_err(|e| e.context(path.display()))?;
    if part.n_rows() != header.n_rows || part.rows() != header.rows.as_slice() {
        return Err(Error::new(
            ErrorKind::Parse,
            format!(
                "{}: the header's rows disagree with the statistics': corrupted",
                path.display()
            ),
        ));
    }
    Ok((header, part))
}

/// Runs `gmm sum-accs`.
pub fn run_sum(args: SumAccsArgs) -> Result<()> {
    let mut parts: Vec<(PathBuf, AccHeader, PartialStats)> = Vec::new();
    for path in &args.parts {
        let (header, part) = read_part(path)?;
        if let Some((first_path, first, _)) = parts.first() {
            first.check_mergeable(first_path, &header, path)?;
        }
        parts.push((path.clone(), header, part));
    }
    // The header of the part with the first rows, so the output does not depend on the
    // order of the arguments.
    parts.sort_by_key(|(_, h, _)| h.rows.first().map_or(usize::MAX, |r| r.start));
    let mut header = parts[0].1.clone();
    let merged = PartialStats::merge(
        parts.into_iter().map(|(path, _, part)| (path.display().to_string(), part)),
    )?;
    header.rows = merged.rows().to_vec();
    gmm_io::write_acc(&args.output, &header, &merged.to_bytes())
}

/// Reads summed statistics of every row: the header and the whole pass's statistics.
fn read_whole(path: &Path, kind: AccKind) -> Result<(AccHeader, SuffStats)> {
    let (header, part) = read_part(path)?;
    if header.kind != kind {
        return Err(Error::new(
            ErrorKind::MismatchedStatistics,
            format!(
                "{}: holds {} statistics where {} are needed",
                path.display(),
                if header.kind == AccKind::Moments { "the data's moment" } else { "E-step" },
                if kind == AccKind::Moments {
                    "the data's moments (gmm acc --moments)"
                } else {
                    "E-step statistics (gmm acc MODEL DATA)"
                }
            ),
        ));
    }
    let stats = part.assemble().map_err(|e| e.context(path.display()))?;
    Ok((header, stats))
}

/// Runs `gmm update`.
pub fn run_update(args: UpdateArgs) -> Result<()> {
    let (header, _) = gmm_io::read_acc(&args.stats)?;
    if header.f32 { update_typed::<f32>(&args) } else { update_typed::<f64>(&args) }
}

fn update_typed<T: Real>(args: &UpdateArgs) -> Result<()> {
    let model = gmm_io::read_model::<T>(&args.model)?;
    let (header, _) = gmm_io::read_acc(&args.stats)?;
    if header.kind == AccKind::EStep
        && header.model_fingerprint != gmm_io::model_fingerprint(&model)
    {
        return Err(Error::new(
            ErrorKind::MismatchedStatistics,
            format!(
                "{} was accumulated under another model than {}: run gmm acc with {}",
                args.stats.display(),
                args.model.display(),
                args.model.display()
            ),
        ));
    }
    let (header, stats) = read_whole(&args.stats, AccKind::EStep)?;
    let config = EmConfig::new(model.n_components(), model.covariance_type())
        .reg_covar(args.reg_covar)
        .variance_floor(args.variance_floor);
    let method = method_of(args)?;
    let moments = match (&args.moments, method.needs_moments()) {
        (Some(path), true) => {
            let (m, moments) = read_whole(path, AccKind::Moments)?;
            if m.n_rows != header.n_rows || m.f32 != header.f32 || m.weighted != header.weighted {
                return Err(Error::new(
                    ErrorKind::MismatchedStatistics,
                    format!(
                        "{} describes other data than {} ({} rows {} {} against {} rows {} {}): \
                         accumulate both from the same data with the same --dtype and weights",
                        path.display(),
                        args.stats.display(),
                        m.n_rows,
                        m.dtype(),
                        if m.weighted { "weighted" } else { "unweighted" },
                        header.n_rows,
                        header.dtype(),
                        if header.weighted { "weighted" } else { "unweighted" }
                    ),
                ));
            }
            Some(moments)
        }
        (Some(_), false) => {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "--moments is for --method map and vb: drop it for em",
            ));
        }
        (None, _) => None,
    };
    let rule = method.rule_from_moments(&config, moments.as_ref())?;
    let (next, guards) = gmm_em::m_step(rule.as_ref(), &stats, &model)
        .map_err(|e| e.context(args.stats.display()))?;
    let next = match args.finish {
        true => match rule.finish(&stats, &Parameters::from_model(&next)) {
            Some(parameters) => parameters?.into_model(rule.reg_covar())?,
            None => next,
        },
        false => next,
    };
    gmm_io::write_model(&args.output, &next)?;
    if !args.quiet {
        eprintln!(
            "gmm update: {} rows, {}: mean log-likelihood of {} {:.10}{}",
            header.n_rows,
            method.name(),
            args.model.display(),
            stats.mean_log_likelihood(),
            match guards.empty_components + guards.floored_variances {
                0 => String::new(),
                _ => format!(
                    "; guards: {} empty components, {} floored variances",
                    guards.empty_components, guards.floored_variances
                ),
            }
        );
    }
    Ok(())
}

fn method_of(args: &UpdateArgs) -> Result<gmm_em::Method> {
    batch_method(args.method, &args.priors).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidConfig,
            "--method online has no statistics-file form: use em, map or vb",
        )
    })
}
