#pragma once
// Denormal (subnormal) floats: arithmetic on them takes a slow path in many CPUs (VAE training
// epochs slowed as the weights' updates shrank into the denormal range: docs/PERFORMANCE.md). Flush-to-zero (results) and denormals-are-zero (inputs) trade that range,
// below 1.2e-38 in float32, for full speed. The modes live in each thread's control register
// (x86: MXCSR): a thread inherits them from the thread that creates it, so they are set once
// before any thread starts, and OpenBLAS's pool, made when the library loads, is made anew.
namespace preimage::util {

// Sets flush-to-zero and denormals-are-zero on the calling thread (x86 SSE; no-op elsewhere).
void flush_denormals_in_this_thread();

// True when both modes are on in the calling thread (false where they do not exist).
bool denormals_flushed_in_this_thread();

// The calling thread's modes, then the BLAS's threads restarted so that they inherit them.
// Call it at the start of the process, before other threads start.
void flush_denormals_everywhere();

}  // namespace preimage::util
