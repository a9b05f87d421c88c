//! The `runed` binary: everything happens in [`rune::runed::run`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(rune::runed::run())
}
