//! Which instruction set the kernels run on.
//!
//! Every SIMD kernel dispatches through [`arch`]: the best instruction set the machine has
//! (AVX-512, else AVX2 + FMA, else scalar), unless one was forced. Two ways to force one, both
//! for tests and benchmarks, so that every path is exercised on a machine that has the widest:
//!
//! * [`force_global`] — for the whole process (a benchmark's `--isa avx2`, set before any work);
//! * [`with_isa`] — on the calling thread only, for the duration of a closure (kernel tests that
//!   call a kernel directly; work sent to other threads does not see it).
//!
//! The thread-local choice wins over the global one. Results may differ in the last bits
//! between instruction sets (register widths change the order of some reductions), never
//! between thread counts.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set the kernels can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// No SIMD extension (pulp's scalar backend: one lane).
    Scalar,
    /// AVX2 with FMA (x86-64-v3): 4 `f64` lanes.
    Avx2,
    /// AVX-512 (x86-64-v4): 8 `f64` lanes.
    Avx512,
}

impl Isa {
    /// The name used on command lines (`scalar`, `avx2`, `avx512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// The instruction set named `name` (see [`Isa::as_str`]).
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Scalar, Self::Avx2, Self::Avx512].into_iter().find(|isa| isa.as_str() == name)
    }

    /// Every instruction set this machine can run, narrowest first ([`available`]).
    pub fn available() -> Vec<Isa> {
        available()
    }

    /// Runs `op` compiled for this instruction set, whatever is forced (tests comparing
    /// instruction sets).
    ///
    /// # Panics
    ///
    /// If the machine lacks it: take it from [`Isa::available`].
    #[cfg(test)]
    pub(crate) fn run<Op: pulp::WithSimd>(self, op: Op) -> Op::Output {
        self.arch().expect("an instruction set from Isa::available()").dispatch(op)
    }

    /// pulp's handle for this instruction set, if the machine has it.
    fn arch(self) -> Option<pulp::Arch> {
        match self {
            Self::Scalar => Some(pulp::Arch::Scalar),
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => pulp::x86::V3::try_new().map(pulp::Arch::V3),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => pulp::x86::V4::try_new().map(pulp::Arch::V4),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        }
    }
}

impl super::Dispatch for Isa {
    /// Runs `op` on this instruction set; one the machine lacks falls back to [`arch`].
    fn dispatch<Op: pulp::WithSimd>(&self, op: Op) -> Op::Output {
        self.arch().unwrap_or_else(arch).dispatch(op)
    }
}

const NONE: u8 = u8::MAX;

static GLOBAL: AtomicU8 = AtomicU8::new(NONE);

thread_local! {
    static LOCAL: Cell<Option<Isa>> = const { Cell::new(None) };
}

fn decode(v: u8) -> Option<Isa> {
    match v {
        0 => Some(Isa::Scalar),
        1 => Some(Isa::Avx2),
        2 => Some(Isa::Avx512),
        _ => None,
    }
}

fn encode(isa: Isa) -> u8 {
    match isa {
        Isa::Scalar => 0,
        Isa::Avx2 => 1,
        Isa::Avx512 => 2,
    }
}

/// The instruction sets this machine can run, narrowest first (always includes
/// [`Isa::Scalar`]).
pub fn available() -> Vec<Isa> {
    [Isa::Scalar, Isa::Avx2, Isa::Avx512].into_iter().filter(|isa| isa.arch().is_some()).collect()
}

/// The instruction set kernels dispatch to now, on this thread.
pub fn current() -> Isa {
    let forced = LOCAL.with(Cell::get).or_else(|| decode(GLOBAL.load(Ordering::Relaxed)));
    match forced {
        Some(isa) => isa,
        None => match pulp::Arch::new() {
            #[cfg(target_arch = "x86_64")]
            pulp::Arch::V4(_) => Isa::Avx512,
            #[cfg(target_arch = "x86_64")]
            pulp::Arch::V3(_) => Isa::Avx2,
            _ => Isa::Scalar,
        },
    }
}

/// pulp's dispatcher for [`current`]: what every kernel calls.
#[inline]
pub fn arch() -> pulp::Arch {
    let forced = LOCAL.with(Cell::get).or_else(|| decode(GLOBAL.load(Ordering::Relaxed)));
    forced.and_then(Isa::arch).unwrap_or_default()
}

/// Runs every kernel of the process on `isa` from now on; `None` returns to the best the
/// machine has. Returns `false` (and changes nothing) when the machine lacks `isa`.
pub fn force_global(isa: Option<Isa>) -> bool {
    match isa {
        None => {
            GLOBAL.store(NONE, Ordering::Relaxed);
            true
        }
        Some(isa) if isa.arch().is_some() => {
            GLOBAL.store(encode(isa), Ordering::Relaxed);
            true
        }
        Some(_) => false,
    }
}

/// Runs `f` with the kernels *of this thread* on `isa` (restored afterwards, also on panic).
/// Returns `None` without running `f` when the machine lacks `isa`.
pub fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> Option<R> {
    isa.arch()?;
    struct Restore(Option<Isa>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LOCAL.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LOCAL.with(|l| l.replace(Some(isa))));
    Some(f())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forcing_an_isa_on_a_thread_is_scoped() {
        let before = current();
        for isa in available() {
            assert_eq!(with_isa(isa, current), Some(isa));
            assert_eq!(current(), before);
        }
        assert!(available().contains(&Isa::Scalar));
        for isa in [Isa::Scalar, Isa::Avx2, Isa::Avx512] {
            assert_eq!(Isa::parse(isa.as_str()), Some(isa));
        }
        assert_eq!(Isa::parse("sse"), None);
    }
}
