#pragma once
// Thread policy: LibTorch's intra-op pool stays at 1 thread and the BLAS threads the matrix
// products. (Two OpenMP threads beside OpenBLAS's own halved a 784-wide MLP's throughput here:
// OpenMP spin-waiting against OpenBLAS's threads.)
namespace preimage::pipeline {

// Applies the policy; `blas_threads` <= 0 keeps the BLAS's default (all cores).
void configure_threads(int blas_threads = 0);

// Threads the BLAS uses now (-1 if the BLAS does not say).
int blas_thread_count();

}  // namespace preimage::pipeline
