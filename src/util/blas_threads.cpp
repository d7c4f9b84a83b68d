#include "util/blas_threads.h"

#include <dlfcn.h>

namespace preimage::util {
namespace {
using SetThreads = void (*)(int);
using GetThreads = int (*)();
template <typename F>
F blas_symbol(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_DEFAULT, name));
}
}  // namespace

int blas_threads() {
  if (auto get = blas_symbol<GetThreads>("openblas_get_num_threads")) return get();
  return -1;
}

void set_blas_threads(int threads) {
  if (threads <= 0) return;
  if (auto set = blas_symbol<SetThreads>("openblas_set_num_threads")) set(threads);
}

void restart_blas_threads() {
  // OpenBLAS's own fork handler calls it; its next parallel call runs blas_thread_init again.
  if (auto shutdown = blas_symbol<GetThreads>("blas_thread_shutdown_")) shutdown();
}

// Nothing is set where the count is already the one asked: a scope nested in a worker thread
// (the outer scope set one thread) then leaves the BLAS alone while other workers are inside it.
ScopedBlasThreads::ScopedBlasThreads(int threads) : previous_(blas_threads()) {
  if (threads != previous_) set_blas_threads(threads);
}

ScopedBlasThreads::~ScopedBlasThreads() {
  if (blas_threads() != previous_) set_blas_threads(previous_);
}

}  // namespace preimage::util
