// The process's thread policy: denormal floats are flushed to zero on every thread that computes
// (the caller, threads it starts, the BLAS's pool, the inversion's workers). Each is checked by
// what it computes: with denormals-are-zero, 1e-39 (a float32 denormal) reads as 0.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tiny_decoder.h"
#include "pipeline/threads.h"
#include "solvers/invert.h"
#include "util/blas_threads.h"
#include "util/float_mode.h"

using namespace preimage;

namespace {
constexpr float kDenormal = 1e-39f;  // below float32's smallest normal number, 1.18e-38

// Nonzero elements of a product large enough for OpenBLAS to split over its threads: with
// denormals-are-zero in every thread, none. Through the BLAS's own cblas_sgemm (looked up at
// run time, as util/blas_threads does), so that each thread computes a block from its inputs.
int64_t denormal_product_nonzeros() {
  using Sgemm = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float* a, int lda, const float* b, int ldb, float beta, float* c,
                         int ldc);
  auto sgemm = reinterpret_cast<Sgemm>(::dlsym(RTLD_DEFAULT, "cblas_sgemm"));
  if (sgemm == nullptr) return -1;
  constexpr int n = 1024, kRowMajor = 101, kNoTrans = 111;
  std::vector<float> a(n * n, kDenormal), b(n * n, 1.0f), c(n * n, -1.0f);
  sgemm(kRowMajor, kNoTrans, kNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  return std::count_if(c.begin(), c.end(), [](float v) { return v != 0.0f; });
}

// The process as preimage runs it: the BLAS's pool exists before the policy is applied (OpenBLAS
// may make it when it loads), then the policy.
class Threads : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    util::set_blas_threads(2);
    pool_before = denormal_product_nonzeros();  // computed by threads without the modes
    pipeline::configure_threads(2);
  }
  static inline int64_t pool_before = -1;
};
}  // namespace

TEST_F(Threads, FlushDenormalsOnTheCallerAndTheThreadsItStarts) {
  EXPECT_TRUE(util::denormals_flushed_in_this_thread());
  bool in_thread = false;
  std::thread([&] { in_thread = util::denormals_flushed_in_this_thread(); }).join();
  EXPECT_TRUE(in_thread);
  // Denormals-are-zero: a denormal times one is zero, not the denormal.
  volatile float x = kDenormal;
  EXPECT_EQ(x * 1.0f, 0.0f);
}

TEST_F(Threads, TheBlasPoolFlushesDenormals) {
  ASSERT_EQ(util::blas_threads(), 2) << "OpenBLAS is the BLAS (scripts/setup.sh sets it)";
  EXPECT_GT(pool_before, 0) << "before the policy, the product keeps its denormals";
  EXPECT_EQ(denormal_product_nonzeros(), 0) << "a BLAS thread computed with denormals";
}

TEST_F(Threads, TheInversionsWorkersFlushDenormals) {
  auto engine = test_support::tiny_dense(2, 16);
  torch::manual_seed(1);
  auto targets = torch::rand({8, 16});
  // The fixed-point method calls the encoder inside each worker: record the thread and its mode.
  // The first call waits (up to 10 s) for a second thread, so that both workers take a chunk.
  std::mutex mutex;
  std::condition_variable second_thread;
  std::set<std::thread::id> threads;
  bool all_flushed = true;
  solvers::InvertRequest request;
  request.method = "fixed-point";
  request.settings = solvers::settings_for("fixed-point");
  request.settings.stop.max_iterations = 3;
  request.chunk_size = 2;
  request.workers = 2;
  request.show_progress = false;
  request.encoder = std::make_shared<decoders::FunctionEncoder>(2, [&](const torch::Tensor& images) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      threads.insert(std::this_thread::get_id());
      all_flushed = all_flushed && util::denormals_flushed_in_this_thread();
      second_thread.notify_all();
      second_thread.wait_for(lock, std::chrono::seconds(10), [&] { return threads.size() >= 2; });
    }
    return torch::zeros({images.size(0), 2});
  });
  solvers::invert(engine, targets, torch::zeros({8, 2}), request);
  EXPECT_EQ(threads.size(), 2u) << "two workers solved the four chunks";
  EXPECT_TRUE(all_flushed);
}
