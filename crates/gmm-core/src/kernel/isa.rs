//! For tests: running a kernel on each instruction set the machine has, not only on the one
//! `pulp::Arch` would pick (AVX2+FMA on an AVX-512 machine, and the portable scalar fallback),
//! so SIMD-against-reference tests cover every width the library may run at.

use pulp::{Simd, WithSimd};

/// An instruction set a kernel can be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    /// `pulp::Scalar`: one lane, no fused multiply-add.
    Scalar,
    /// AVX2 + FMA: 4 `f64` / 8 `f32` lanes.
    #[cfg(target_arch = "x86_64")]
    V3,
    /// AVX-512: 8 `f64` / 16 `f32` lanes.
    #[cfg(target_arch = "x86_64")]
    V4,
}

impl Isa {
    /// Every instruction set this machine can run, narrowest first.
    pub(crate) fn available() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut isas = vec![Isa::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if pulp::x86::V3::try_new().is_some() {
                isas.push(Isa::V3);
            }
            if pulp::x86::V4::try_new().is_some() {
                isas.push(Isa::V4);
            }
        }
        isas
    }

    /// Runs `op` compiled for this instruction set.
    ///
    /// # Panics
    ///
    /// If the machine lacks it (take it from [`available`](Self::available)).
    pub(crate) fn run<Op: WithSimd>(self, op: Op) -> Op::Output {
        match self {
            Isa::Scalar => Simd::vectorize(pulp::Scalar::new(), op),
            #[cfg(target_arch = "x86_64")]
            Isa::V3 => Simd::vectorize(pulp::x86::V3::try_new().expect("AVX2 available"), op),
            #[cfg(target_arch = "x86_64")]
            Isa::V4 => Simd::vectorize(pulp::x86::V4::try_new().expect("AVX-512 available"), op),
        }
    }
}

impl super::Dispatch for Isa {
    fn dispatch<Op: WithSimd>(&self, op: Op) -> Op::Output {
        self.run(op)
    }
}
