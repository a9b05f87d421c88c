//! The `rune` binary: everything happens in [`rune::cli::run`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(rune::cli::run() as u8)
}
