//! Allocator settings for long streams through a few threads.
//!
//! glibc's malloc gives threads their own arenas and keeps what is freed in the arena it came
//! from. Ingest builds `_bulk` bodies on the parsing thread and frees them on the async threads
//! once sent, so freed multi-megabyte bodies pile up in several arenas and the peak RSS creeps up
//! with the object's size (78 MB for a 1 GB object against 47 MB for 100 MB; with two arenas
//! 56 MB, set by the number of requests in flight only: BENCHMARKS.md). Two arenas are plenty for
//! a parsing thread and a couple of async workers that allocate little.

/// Caps glibc's malloc arenas at two (nothing to do with other allocators). Call first thing in
/// `main`, before threads allocate.
pub fn limit_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // mallopt(3): M_ARENA_MAX is -8 in glibc's <malloc.h>.
        const M_ARENA_MAX: std::ffi::c_int = -8;
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt only changes allocator tuning; glibc documents it as callable at any
        // time, and an unaccepted value leaves the setting as it was (it returns 0).
        unsafe {
            mallopt(M_ARENA_MAX, 2);
        }
    }
}
