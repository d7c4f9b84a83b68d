#include "pipeline/threads.h"

#include <ATen/Parallel.h>

#include "util/blas_threads.h"

namespace preimage::pipeline {

void configure_threads(int blas_threads) {
  at::set_num_threads(1);
  at::set_num_interop_threads(1);
  util::set_blas_threads(blas_threads);
}

}  // namespace preimage::pipeline
