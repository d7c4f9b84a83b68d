#pragma once
// Thread policy: LibTorch's intra-op pool stays at 1 thread and the BLAS threads the matrix
// products. (Two OpenMP threads beside OpenBLAS's own halved a 784-wide MLP's throughput here:
// OpenMP spin-waiting against OpenBLAS's threads.) The inversion runs its chunks on workers of
// its own, each with a single-threaded BLAS (solvers/invert.h). Denormal floats are flushed to
// zero on every thread (util/float_mode.h).
#include <cstdint>

namespace preimage::pipeline {

// Applies the policy (the thread pools and modes once per process, the BLAS threads each time);
// `blas_threads` <= 0 keeps the BLAS's current count (at first, all cores).
void configure_threads(int blas_threads = 0);

// Throws UserError unless --chunk is >= 0 and --workers is from 0 (automatic) to the machine's
// hardware threads: each worker solves with a single-threaded BLAS, so more gain nothing and
// exhaust OpenBLAS's fixed table of buffers.
void check_parallelism(int64_t chunk_size, int64_t workers);

}  // namespace preimage::pipeline
