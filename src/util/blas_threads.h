#pragma once
// The BLAS's thread count (OpenBLAS's controls, looked up at run time so that another BLAS still
// links and runs; with another BLAS these do nothing and report -1).
namespace preimage::util {

// Threads the BLAS uses now (-1 if the BLAS does not say).
int blas_threads();

// Sets the BLAS's threads for every later call (process-wide; not while another thread is
// inside the BLAS). No-op if the BLAS offers no control or `threads` <= 0.
void set_blas_threads(int threads);

// Stops the BLAS's thread pool; the next threaded call starts it again, its threads then
// inheriting the calling thread's state (such as its floating-point modes). OpenBLAS only;
// no-op elsewhere. Not while another thread is inside the BLAS.
void restart_blas_threads();

// Sets the BLAS's threads for a scope and restores the previous count at its end.
class ScopedBlasThreads {
 public:
  explicit ScopedBlasThreads(int threads);
  ~ScopedBlasThreads();
  ScopedBlasThreads(const ScopedBlasThreads&) = delete;
  ScopedBlasThreads& operator=(const ScopedBlasThreads&) = delete;

 private:
  int previous_;
};

}  // namespace preimage::util
