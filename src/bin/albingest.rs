//! The `albingest` command; everything it does lives in the library (`albingest::cli`).

fn main() -> std::process::ExitCode {
    albingest::cli::main()
}
