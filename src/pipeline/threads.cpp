#include "pipeline/threads.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include <ATen/Parallel.h>

#include "util/blas_threads.h"
#include "util/error.h"
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

void check_parallelism(int64_t chunk_size, int64_t workers) {
  require(chunk_size >= 0,
          fmt::format("--chunk must be 0 (automatic) or a positive number, got {}", chunk_size));
  const int64_t threads = std::max<int64_t>(std::thread::hardware_concurrency(), 1);
  require(workers >= 0 && workers <= threads,
          fmt::format("--workers must be from 0 (automatic) to {} (this machine's hardware "
                      "threads), got {}",
                      threads, workers),
          "each worker solves with a single-threaded BLAS: more workers than threads gain nothing");
}

}  // namespace preimage::pipeline
