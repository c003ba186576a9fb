//! What the data commands share to go beyond one machine's memory and one machine: when to
//! stream (`--memory-budget`), the row source, MPI ranks (`--mpi`), progress per pass and the
//! report's I/O figures.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use gmm_core::{Error, ErrorKind, Real, Result, RowSource};
use gmm_em::stream::{Combine, Local, PassProgress, PassRecord, Stream};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::args::{Dtype, ScaleArgs};

/// Memory the data chunks of a streamed pass take at most (three chunks: being read, waiting,
/// being computed). Larger chunks buy nothing once a chunk is many blocks of rows.
pub const CHUNK_MEMORY: u64 = 192 << 20;

/// The default `--memory-budget`: a quarter of the machine's memory, and at most half the
/// process's address-space limit (`ulimit -v`), so that a limited process streams by itself.
pub fn default_budget() -> u64 {
    let total = meminfo_total().unwrap_or(8 << 30);
    let mut budget = total / 4;
    if let Some(limit) = address_space_limit() {
        budget = budget.min(limit / 2);
    }
    budget.max(64 << 20)
}

fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn address_space_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The precision to compute in: `dtype`, or `path`'s (a regular `.npy` file's from its header
/// alone; float64 for text, standard input and FIFOs, which can be read only once).
pub fn file_precision(path: &Path, dtype: Option<Dtype>) -> Result<Dtype> {
    if let Some(d) = dtype {
        return Ok(d);
    }
    if is_npy_file(path) {
        let info = gmm_io::npy_info(path)?;
        return Ok(if info.is_f32 { Dtype::F32 } else { Dtype::F64 });
    }
    Ok(Dtype::F64)
}

/// Whether `path` is a `.npy` file.
pub fn is_npy(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("npy"))
}

/// Whether `path` is a regular `.npy` file (through links), whose header can be read without
/// consuming it: not standard input, a FIFO or a device, which are read once, in memory.
pub fn is_npy_file(path: &Path) -> bool {
    is_npy(path) && !gmm_io::is_stdio(path) && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Whether a command should stream `paths` in `dtype` under `scale`'s settings: always with
/// `--mpi`; otherwise when every file is `.npy` and their data in the computation's precision
/// exceeds the budget.
pub fn should_stream(paths: &[PathBuf], dtype: Dtype, scale: &ScaleArgs) -> Result<bool> {
    if scale.mpi {
        return Ok(true);
    }
    if !paths.iter().all(|p| is_npy_file(p)) {
        return Ok(false);
    }
    let item = match dtype {
        Dtype::F32 => 4,
        Dtype::F64 => 8,
    };
    let mut bytes = 0u64;
    for path in paths {
        let info = gmm_io::npy_info(path)?;
        bytes = bytes.saturating_add(info.n_rows as u64 * info.n_cols as u64 * item);
    }
    Ok(bytes > scale.memory_budget.unwrap_or_else(default_budget))
}

/// Chunk memory for a budget (`None`: the default budget): the budget, at most
/// [`CHUNK_MEMORY`].
pub fn chunk_memory(budget: Option<u64>) -> u64 {
    budget.unwrap_or_else(default_budget).min(CHUNK_MEMORY)
}

/// Set on MPI ranks other than 0: they end with the same status as rank 0 but print nothing,
/// so an error is one line.
static SILENT_RANK: AtomicBool = AtomicBool::new(false);

/// Whether this process is an MPI rank other than 0 (which prints no error).
pub fn is_silent_rank() -> bool {
    SILENT_RANK.load(Ordering::Relaxed)
}

/// Finalises MPI if this process is in a job: the end of `main`, after any error was printed.
pub fn finish() {
    #[cfg(feature = "mpi")]
    crate::mpi::finish();
}

/// The MPI job this process belongs to, or one process alone.
pub struct Ranks {
    /// This process's rank.
    pub rank: usize,
    /// Processes in the job.
    pub size: usize,
    #[cfg(feature = "mpi")]
    mpi: Option<crate::mpi::MpiJob>,
}

impl Ranks {
    /// One process (`mpi = false`) or this process's place in the MPI job.
    pub fn start(mpi: bool) -> Result<Self> {
        if !mpi {
            return Ok(Self::alone());
        }
        #[cfg(feature = "mpi")]
        {
            let job = crate::mpi::MpiJob::start()?;
            SILENT_RANK.store(job.rank() != 0, Ordering::Relaxed);
            Ok(Self { rank: job.rank(), size: job.size(), mpi: Some(job) })
        }
        #[cfg(not(feature = "mpi"))]
        Err(Error::new(
            ErrorKind::InvalidConfig,
            "--mpi: this gmm was built without MPI: build it with cargo build --release \
             --features mpi (needs libopenmpi-dev, openmpi-bin and libclang-dev) and run it \
             under mpirun",
        ))
    }

    /// One process.
    pub fn alone() -> Self {
        Self {
            rank: 0,
            size: 1,
            #[cfg(feature = "mpi")]
            mpi: None,
        }
    }

    /// Whether this process writes the outputs and prints.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// How statistics combine.
    pub fn combine(&self) -> &dyn Combine {
        #[cfg(feature = "mpi")]
        if let Some(job) = &self.mpi {
            return job;
        }
        &Local
    }

    /// Every rank's `status` agreed: the first failing rank's error on every rank (so no rank
    /// waits for one that stopped). One process: `status` itself.
    pub fn agree(&self, status: Result<()>) -> Result<()> {
        #[cfg(feature = "mpi")]
        if let Some(job) = &self.mpi {
            return job.agree(status);
        }
        status
    }

    /// The stream of this rank's share of `source`'s rows.
    pub fn stream<'a, T: Real>(&'a self, source: &'a dyn RowSource<T>) -> Result<Stream<'a, T>> {
        let stream = Stream::new(source).combine(self.combine());
        if self.size > 1 { stream.shard(self.rank, self.size) } else { Ok(stream) }
    }
}

/// A progress display for streamed passes (on a terminal, unless quiet), and the passes'
/// figures for the report.
pub struct PassDisplay {
    bar: Option<ProgressBar>,
    last: Mutex<usize>,
}

impl PassDisplay {
    /// A display when standard error is a terminal and `show`.
    pub fn new(show: bool) -> Self {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} pass {msg} [{bar:30}] {pos}/{len} rows ({per_sec})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self { bar, last: Mutex::new(0) }
    }

    /// The callback a stream calls after each chunk.
    pub fn update(&self, p: &PassProgress) {
        if let Some(bar) = &self.bar {
            if let Ok(mut last) = self.last.lock()
                && *last != p.pass
            {
                *last = p.pass;
                bar.reset();
                bar.set_length(p.rows_total as u64);
                bar.set_message(p.pass.to_string());
            }
            bar.set_position(p.rows_done as u64);
        }
    }

    /// Clears the display.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The report's I/O figures.
#[derive(Debug, Serialize)]
pub struct IoReport {
    /// Whether the data was read in chunks (or by ranks) instead of whole.
    pub streamed: bool,
    /// MPI ranks (1: one process).
    pub ranks: usize,
    /// Rows per chunk when streamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<usize>,
    /// Passes over the data.
    pub passes: usize,
    /// Rows read, over all passes (this rank's).
    pub rows_read: u64,
    /// Bytes of data read, over all passes (this rank's).
    pub bytes_read: u64,
    /// Seconds of each pass.
    pub seconds_per_pass: Vec<f64>,
}

impl IoReport {
    /// The figures of a stream's passes.
    pub fn streamed(passes: &[PassRecord], ranks: usize, chunk_rows: usize) -> Self {
        Self {
            streamed: true,
            ranks,
            chunk_rows: Some(chunk_rows),
            passes: passes.len(),
            rows_read: passes.iter().map(|p| p.rows as u64).sum(),
            bytes_read: passes.iter().map(|p| p.bytes).sum(),
            seconds_per_pass: passes.iter().map(|p| p.seconds).collect(),
        }
    }

    /// Data read whole, once.
    pub fn in_memory(rows: usize, bytes: u64) -> Self {
        Self {
            streamed: false,
            ranks: 1,
            chunk_rows: None,
            passes: 1,
            rows_read: rows as u64,
            bytes_read: bytes,
            seconds_per_pass: Vec::new(),
        }
    }
}

/// An error for an output that only rank 0 writes but a rank other than 0 was asked for.
pub fn needs_one_process(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidConfig,
        format!("{what} is not available with --mpi: run it without mpirun"),
    )
}
