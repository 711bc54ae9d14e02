//! The `albingest` command; everything it does lives in the library (`albingest::cli`).

fn main() -> std::process::ExitCode {
    albingest::memory::limit_allocator_arenas();
    albingest::cli::main()
}
