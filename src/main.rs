//! The `gokeep` binary: everything it does is in `cli`, on top of the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
