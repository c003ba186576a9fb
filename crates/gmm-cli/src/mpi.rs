//! MPI through rsmpi (the `mpi` feature): this process's place in the job, and how every
//! rank's statistics become the whole pass's on every rank.
//!
//! Each rank sends its part's byte form (`PartialStats::to_bytes`, or the error that stopped
//! it) to every other rank in one `MPI_Allgatherv`; every rank then merges the parts and
//! rebuilds the root by the one tree, so all hold the same bits as a single process and apply
//! the same update. A failed rank's error reaches every rank, named ("rank 2: ..."), so none
//! waits for it. MPI is initialised with `MPI_THREAD_SERIALIZED`: only one thread at a time
//! calls it (the pass's worker threads never do).

use gmm_core::{Error, ErrorKind, Result};
use gmm_em::SuffStats;
use gmm_em::stream::{Combine, PartialStats};
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::{Count, Threading};
use std::sync::Mutex;

/// MPI's environment from [`MpiJob::start`] until [`finish`], which finalises it: the last
/// thing a rank does, after rank 0 printed any error. (Finalised when the job was dropped, at
/// the end of the command, a failing job's other ranks could exit with status 1 before rank 0
/// had written its error line, and mpirun then stopped rank 0 before it did.)
static UNIVERSE: Mutex<Option<Universe>> = Mutex::new(None);

/// Finalises MPI if this process started it (a no-op otherwise, and the second time).
pub fn finish() {
    // A poisoned lock still holds the universe.
    let universe = UNIVERSE.lock().unwrap_or_else(|e| e.into_inner()).take();
    drop(universe);
}

/// This process's place in the MPI job (MPI stays initialised until [`finish`]).
pub struct MpiJob {
    rank: usize,
    size: usize,
}

impl MpiJob {
    /// Initialises MPI.
    pub fn start() -> Result<Self> {
        let (universe, _) =
            mpi::initialize_with_threading(Threading::Serialized).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    "--mpi: MPI is already initialised in this process",
                )
            })?;
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        *UNIVERSE.lock().unwrap_or_else(|e| e.into_inner()) = Some(universe);
        Ok(Self { rank, size })
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Ranks in the job.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Every rank's message (`Ok` bytes or an error), gathered on every rank in rank order.
    fn exchange(
        &self,
        mine: std::result::Result<Vec<u8>, String>,
    ) -> Vec<std::result::Result<Vec<u8>, String>> {
        let world = SimpleCommunicator::world();
        let mut message = Vec::new();
        match &mine {
            Ok(bytes) => {
                message.push(0u8);
                message.extend_from_slice(bytes);
            }
            Err(text) => {
                message.push(1u8);
                message.extend_from_slice(text.as_bytes());
            }
        }
        let count = message.len() as Count;
        let mut counts = vec![0 as Count; self.size];
        world.all_gather_into(&count, &mut counts[..]);
        let displs: Vec<Count> = counts
            .iter()
            .scan(0 as Count, |acc, &c| {
                let at = *acc;
                *acc += c;
                Some(at)
            })
            .collect();
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        let mut buffer = vec![0u8; total];
        {
            let mut partition = PartitionMut::new(&mut buffer[..], &counts[..], &displs[..]);
            world.all_gather_varcount_into(&message[..], &mut partition);
        }
        counts
            .iter()
            .zip(&displs)
            .map(|(&c, &d)| {
                let m = &buffer[d as usize..(d + c) as usize];
                match m.split_first() {
                    Some((0, bytes)) => Ok(bytes.to_vec()),
                    Some((_, text)) => Err(String::from_utf8_lossy(text).into_owned()),
                    None => Err("sent nothing".into()),
                }
            })
            .collect()
    }

    /// The first failing rank's error, on every rank; `Ok` when every rank's `status` is.
    pub fn agree(&self, status: Result<()>) -> Result<()> {
        let all = self.exchange(status.map(|()| Vec::new()).map_err(|e| e.to_string()));
        first_failure(&all)
    }
}

fn first_failure<T>(all: &[std::result::Result<T, String>]) -> Result<()> {
    match all.iter().enumerate().find_map(|(r, m)| m.as_ref().err().map(|e| (r, e))) {
        Some((rank, text)) => Err(Error::new(ErrorKind::Io, format!("rank {rank}: {text}"))),
        None => Ok(()),
    }
}

impl Combine for MpiJob {
    fn combine(&self, part: Result<PartialStats>) -> Result<SuffStats> {
        let all = self.exchange(part.map(|p| p.to_bytes()).map_err(|e| e.to_string()));
        first_failure(&all)?;
        let parts = all
            .into_iter()
            .enumerate()
            .map(|(rank, bytes)| {
                let bytes = bytes.unwrap_or_default();
                PartialStats::from_bytes(&bytes)
                    .map(|p| (format!("rank {rank}"), p))
                    .map_err(|e| e.context(format!("rank {rank}")))
            })
            .collect::<Result<Vec<_>>>()?;
        PartialStats::merge(parts)?.assemble()
    }
}
