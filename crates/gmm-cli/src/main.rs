//! `gmm`: fit, score, predict with and sample from Gaussian mixture models.
//!
//! Every failure ends the program with exit code 1 (2 for a malformed command line) and one
//! line on standard error saying what is wrong and what to do; no panic or stack trace reaches
//! the user.

mod args;
mod commands;
#[cfg(feature = "mpi")]
mod mpi;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    // A last line of defence: a bug must still end in one readable line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("gmm: internal error: {message} (please report it)");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
            if matches!(e.kind(), DisplayHelp | DisplayVersion) {
                print!("{e}");
                return ExitCode::SUCCESS;
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("gmm: error: {first} (see gmm --help)");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Fit(args) => commands::fit::run(args),
        Command::Score(args) => commands::score::run(args),
        Command::Predict(args) => commands::predict::run(args),
        Command::Sample(args) => commands::sample::run(args),
        Command::Select(args) => commands::select::run(args),
        Command::Classify(args) => commands::classify::run(args),
        Command::Plot(args) => commands::plot::run(args),
        Command::Ubm(args) => commands::ubm::run(args),
        Command::Adapt(args) => commands::adapt::run(args),
        Command::Llr(args) => commands::llr::run(args),
        Command::Stats(args) => commands::stats::run(args),
        Command::Acc(args) => commands::acc::run_acc(args),
        Command::SumAccs(args) => commands::acc::run_sum(args),
        Command::Update(args) => commands::acc::run_update(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Under MPI every rank holds the same error (a failed rank's error reaches all of
            // them): rank 0 alone prints it.
            if !commands::scale::is_silent_rank() {
                // One write, so that no other process's output (mpirun's) lands inside it.
                let line = format!("gmm: error: {}\n", e.to_string().replace('\n', " "));
                let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
            }
            ExitCode::from(1)
        }
    }
}
