#include "pipeline/threads.h"

#include <dlfcn.h>

#include <ATen/Parallel.h>

namespace preimage::pipeline {
namespace {
// OpenBLAS's controls, looked up at run time so another BLAS still links and runs.
using SetThreads = void (*)(int);
using GetThreads = int (*)();
template <typename F>
F blas_symbol(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_DEFAULT, name));
}
}  // namespace

void configure_threads(int blas_threads) {
  at::set_num_threads(1);
  at::set_num_interop_threads(1);
  if (blas_threads > 0) {
    if (auto set = blas_symbol<SetThreads>("openblas_set_num_threads")) set(blas_threads);
  }
}

int blas_thread_count() {
  if (auto get = blas_symbol<GetThreads>("openblas_get_num_threads")) return get();
  return -1;
}

}  // namespace preimage::pipeline
