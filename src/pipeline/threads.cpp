#include "pipeline/threads.h"

#include <mutex>

#include <ATen/Parallel.h>

#include "util/blas_threads.h"
#include "util/float_mode.h"

namespace preimage::pipeline {

void configure_threads(int blas_threads) {
  static std::once_flag once;
  std::call_once(once, [] {
    // First, before any thread starts: every thread made after inherits the modes.
    util::flush_denormals_everywhere();
    at::set_num_threads(1);
    at::set_num_interop_threads(1);  // LibTorch allows this once per process
  });
  util::set_blas_threads(blas_threads);
}

}  // namespace preimage::pipeline
