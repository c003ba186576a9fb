//! `gmm`: fit, score, predict with and sample from Gaussian mixture models.
//!
//! Every failure ends the program with exit code 1 (2 for a malformed command line) and one
//! line on standard error saying what is wrong and what to do; no panic or stack trace reaches
//! the user. A closed standard output (`gmm ... | head`) ends it quietly, as `SIGPIPE` ends a C
//! program; `SIGINT`, `SIGTERM` and `SIGHUP` remove the temporary files of the writes in
//! progress before the program dies of them.

mod args;
mod commands;
#[cfg(feature = "mpi")]
mod mpi;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    #[cfg(unix)]
    handle_signals();
    // A last line of defence: a bug must still end in one readable line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        output::note(&format!("gmm: internal error: {message} (please report it)\n"));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
            if matches!(e.kind(), DisplayHelp | DisplayVersion) {
                return match output::print(&e.to_string()) {
                    Err(e) if output::is_broken_pipe(&e) => broken_pipe(),
                    Err(e) => fail(&e),
                    Ok(()) => ExitCode::SUCCESS,
                };
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            output::note(&format!("gmm: error: {first} (see gmm --help)\n"));
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
        Ok(()) => {
            commands::scale::finish();
            ExitCode::SUCCESS
        }
        Err(e) if output::is_broken_pipe(&e) => {
            commands::scale::finish();
            broken_pipe()
        }
        Err(e) => {
            let code = fail(&e);
            // Under MPI, only once rank 0 has printed: a rank that finalised and exited first
            // could have mpirun stop the job before the error line was out.
            commands::scale::finish();
            code
        }
    }
}

/// One line on standard error, exit status 1.
fn fail(e: &gmm_core::Error) -> ExitCode {
    // Under MPI every rank holds the same error (a failed rank's error reaches all of them):
    // rank 0 alone prints it.
    if !commands::scale::is_silent_rank() {
        let message = e.to_string().replace('\n', " ");
        output::note(&format!("gmm: error: {message}\n"));
    }
    ExitCode::from(1)
}

/// Standard output was closed early (`gmm ... | head`): leave quietly, as a C program killed
/// by `SIGPIPE` does (Rust ignores `SIGPIPE`, so the write failed with `EPIPE` instead). The
/// output files written so far are complete.
fn broken_pipe() -> ExitCode {
    #[cfg(unix)]
    {
        gmm_io::remove_temporary_files();
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGPIPE);
    }
    ExitCode::from(141)
}

/// On `SIGINT`, `SIGTERM` or `SIGHUP`: remove the hidden temporary files of the writes in
/// progress (no destructor runs when a signal ends the process), then die of the signal as if
/// it had not been handled, so the shell sees the usual status.
#[cfg(unix)]
fn handle_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            gmm_io::remove_temporary_files();
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    });
}
