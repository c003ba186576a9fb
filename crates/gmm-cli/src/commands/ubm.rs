//! `gmm ubm`: a diagonal universal background model by component splitting.

use gmm_core::{Error, ErrorKind, Real, Result};
use gmm_io::StackedSource;
use gmm_speech::ubm::{UbmConfig, train_ubm, train_ubm_stream};

use super::frames::{Utterance, load_stacked, utterances};
use super::scale::{PassDisplay, Ranks, chunk_memory, file_precision, should_stream};
use crate::args::{Dtype, UbmArgs};
use crate::output::{self, Paths};

/// Runs `gmm ubm`.
pub fn run(args: UbmArgs) -> Result<()> {
    let utts = utterances(&args.frames, &args.segments)?;
    Paths::new()
        .inputs("FRAMES", utts.iter().map(|u| u.file.as_path()))
        .maybe_input("--segments", args.segments.segments.as_deref())
        .output("-o", Some(&args.output))
        .check()?;
    let ranks = Ranks::start(args.scale.mpi)?;
    let dtype = file_precision(&utts[0].file, args.dtype)?;
    let files: Vec<std::path::PathBuf> = utts.iter().map(|u| u.file.clone()).collect();
    let streamed = should_stream(&files, dtype, &args.scale)?;
    if streamed && utts.iter().any(|u| u.rows.is_some()) {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "--segments picks rows inside the frame files, but streamed training (--mpi, or \
             frames larger than --memory-budget) reads whole files: raise --memory-budget, or \
             write the selected frames to their own files",
        ));
    }
    match (dtype, streamed) {
        (Dtype::F32, false) => typed::<f32>(&args, &utts),
        (Dtype::F64, false) => typed::<f64>(&args, &utts),
        (Dtype::F32, true) => streamed_typed::<f32>(&args, &files, &ranks),
        (Dtype::F64, true) => streamed_typed::<f64>(&args, &files, &ranks),
    }
}

fn config(args: &UbmArgs) -> UbmConfig {
    UbmConfig::new(args.k)
        .iters_per_split(args.iters_per_split)
        .final_iters(args.final_iters)
        .max_frames(args.max_frames)
        .min_occupancy(args.min_occupancy)
        .remove_low_count(!args.keep_low_count)
        .reg_covar(args.reg_covar)
        .threads(super::threads(args.threads))
}

/// Frames read in chunks, file by file (larger than the memory budget, or one rank's share
/// under MPI): the same UBM as in memory.
fn streamed_typed<T: Real>(
    args: &UbmArgs,
    files: &[std::path::PathBuf],
    ranks: &Ranks,
) -> Result<()> {
    let display = PassDisplay::new(!args.quiet && ranks.is_root());
    let update = |p: &gmm_em::stream::PassProgress| display.update(p);
    let source = StackedSource::<T>::open(files);
    let status = source.as_ref().map(|_| ()).map_err(Clone::clone);
    ranks.agree(status)?;
    let source = source?;
    let stream = ranks
        .stream(&source)?
        .memory_budget(chunk_memory(args.scale.memory_budget))
        .on_progress(&update);
    let fit = train_ubm_stream(&config(args), &stream);
    display.finish();
    let fit = fit?;
    if !ranks.is_root() {
        return Ok(());
    }
    gmm_io::write_model(&args.output, &fit.model)?;
    if !args.quiet {
        let passes = stream.passes();
        let seconds: Vec<f64> = passes.iter().map(|p| p.seconds).collect();
        let bytes: u64 = passes.iter().map(|p| p.bytes).sum();
        output::note(&format!(
            "ubm: {} components ({} removed) from {} frames x {} (streamed, {} rank{}, {} rows a \
             chunk) in {:.2} s; sizes {:?}; {} passes reading {:.1} MB; last pass {:.3} s\n",
            fit.model.n_components(),
            fit.report.removed,
            fit.report.frames_used,
            stream.n_features(),
            ranks.size,
            if ranks.size == 1 { "" } else { "s" },
            stream.get_chunk_rows(),
            fit.report.seconds,
            fit.report.sizes,
            passes.len(),
            bytes as f64 / 1e6,
            seconds.last().copied().unwrap_or(0.0),
        ));
    }
    Ok(())
}

fn typed<T: Real>(args: &UbmArgs, utts: &[Utterance]) -> Result<()> {
    let x = load_stacked::<T>(utts)?;
    let fit = train_ubm(&config(args), x.samples())?;
    gmm_io::write_model(&args.output, &fit.model)?;
    if !args.quiet {
        let r = &fit.report;
        let (iters, secs) = r.final_iterations;
        let last = r.log_likelihood.last().map(|&(_, ll)| ll).unwrap_or(f64::NAN);
        output::note(&format!(
            "ubm: {} components ({} removed) from {} frames x {} in {:.2} s; sizes {:?}; \
             {iters} final iterations at {:.3} s each; mean log-likelihood {}\n",
            fit.model.n_components(),
            r.removed,
            r.frames_used,
            x.n_cols(),
            r.seconds,
            r.sizes,
            if iters > 0 { secs / iters as f64 } else { 0.0 },
            output::fixed(last, 4),
        ));
    }
    Ok(())
}
