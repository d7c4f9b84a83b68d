#include "train/adam.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace preimage::train {

namespace {
// Below this many elements in one update, the calling thread does it all: waking the helper
// costs tens of microseconds, more than updating a bias or a small model.
constexpr int64_t kParallelThreshold = 1 << 16;
// Elements per chunk of the shared update: 64 Ki floats, 1.8 MB of traffic (tens of
// microseconds), so that a thread that took the last chunk late keeps the other waiting little.
constexpr int64_t kChunk = 1 << 16;

// The fused update of n elements. SSE2 (every x86-64) four at a time, the same operations in
// the same order as the scalar tail, so the result does not depend on where a range starts.
// Written with intrinsics because GCC vectorizes std::sqrt only without errno semantics, and a
// per-function optimize("no-math-errno") made GCC compile the loop scalar, calling sqrt out of
// line for every element (docs/PERFORMANCE.md, "Training").
void adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamScalars& s) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128 b1 = _mm_set1_ps(s.b1), c1 = _mm_set1_ps(s.c1), b2 = _mm_set1_ps(s.b2),
               c2 = _mm_set1_ps(s.c2), alpha = _mm_set1_ps(s.alpha), eps = _mm_set1_ps(s.eps);
  for (; i + 4 <= n; i += 4) {
    const __m128 gi = _mm_loadu_ps(g + i);
    const __m128 mi = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + i)), _mm_mul_ps(c1, gi));
    const __m128 vi =
        _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(c2, gi), gi));
    _mm_storeu_ps(m + i, mi);
    _mm_storeu_ps(v + i, vi);
    const __m128 step = _mm_div_ps(_mm_mul_ps(alpha, mi), _mm_add_ps(_mm_sqrt_ps(vi), eps));
    _mm_storeu_ps(p + i, _mm_sub_ps(_mm_loadu_ps(p + i), step));
  }
#endif
  for (; i < n; ++i) {
    const float gi = g[i];
    const float mi = s.b1 * m[i] + s.c1 * gi;
    const float vi = s.b2 * v[i] + s.c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= s.alpha * mi / (std::sqrt(vi) + s.eps);
  }
}

// A run of elements of one parameter.
struct Segment {
  float* p;
  const float* g;
  float* m;
  float* v;
  int64_t n;
};

}  // namespace

// One step's update cut into chunks that the calling thread and the helper take in turn from a
// shared counter: when the helper is late (the machine is busy, or it is still waking up), the
// caller takes more, and waits at most for the chunk the helper is working on.
struct KerasAdam::Job {
  std::vector<Segment> chunks;
  int64_t elements = 0;
  AdamScalars scalars;
  std::atomic<size_t> next{0}, done{0};

  void work() {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < chunks.size();) {
      const auto& c = chunks[i];
      adam_update(c.p, c.g, c.m, c.v, c.n, scalars);
      done.fetch_add(1, std::memory_order_release);
    }
  }
};

// One thread kept for the optimizer's life (it used to be a std::thread per parameter and step:
// 9 thread creations per step of the thesis's VAE). The update is memory-bound, and two cores
// move nearly twice the bytes of one when the machine is otherwise idle (docs/PERFORMANCE.md,
// "Training").
struct KerasAdam::Helper {
  std::mutex mutex;
  std::condition_variable posted;
  std::shared_ptr<Job> job;  // the latest step's, until the helper takes it
  bool stop = false;
  std::thread thread;

  Helper() : thread([this] { loop(); }) {}
  ~Helper() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    posted.notify_one();
    thread.join();
  }
  void loop() {
    for (;;) {
      std::shared_ptr<Job> mine;
      {
        std::unique_lock<std::mutex> lock(mutex);
        posted.wait(lock, [&] { return stop || job; });
        if (stop) return;
        mine = std::move(job);
      }
      mine->work();
    }
  }
  void post(std::shared_ptr<Job> j) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      job = std::move(j);
    }
    posted.notify_one();
  }
};

KerasAdam::KerasAdam(std::vector<torch::Tensor> parameters, AdamSettings settings)
    : params_(std::move(parameters)), settings_(settings) {
  for (const auto& p : params_) {
    TORCH_CHECK(p.scalar_type() == torch::kFloat32 && p.is_contiguous(),
                "KerasAdam needs contiguous float32 parameters");
    m_.push_back(torch::zeros_like(p));
    v_.push_back(torch::zeros_like(p));
  }
}

KerasAdam::~KerasAdam() = default;

void KerasAdam::zero_grad() {
  // Dropped rather than zeroed: the next backward pass then hands its gradient over as it is,
  // where a zeroed one costs a pass writing zeros and a pass adding the new gradient to them.
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
}

AdamScalars KerasAdam::next_scalars() {
  ++t_;
  const double t = static_cast<double>(t_);
  const auto& s = settings_;
  AdamScalars a;
  a.alpha = static_cast<float>(s.learning_rate * std::sqrt(1 - std::pow(s.beta_2, t)) /
                               (1 - std::pow(s.beta_1, t)));
  a.b1 = static_cast<float>(s.beta_1);
  a.b2 = static_cast<float>(s.beta_2);
  a.c1 = static_cast<float>(1 - s.beta_1);
  a.c2 = static_cast<float>(1 - s.beta_2);
  a.eps = static_cast<float>(s.epsilon);
  return a;
}

void KerasAdam::update(size_t k, const torch::Tensor& grad, const AdamScalars& s) {
  TORCH_CHECK(k < params_.size(), "KerasAdam::update: parameter ", k, " of ", params_.size());
  TORCH_CHECK(grad.scalar_type() == torch::kFloat32 && grad.is_contiguous() &&
                  grad.numel() == params_[k].numel(),
              "KerasAdam::update: the gradient of parameter ", k, " must be contiguous float32 of ",
              params_[k].numel(), " elements, got ", grad.sizes());
  auto job = std::make_shared<Job>();
  job->scalars = s;
  add_chunks(*job, k, grad.data_ptr<float>());
  run(job);
}

void KerasAdam::add_chunks(Job& job, size_t k, const float* grad) {
  float *p = params_[k].data_ptr<float>(), *m = m_[k].data_ptr<float>(),
        *v = v_[k].data_ptr<float>();
  const int64_t n = params_[k].numel();
  for (int64_t begin = 0; begin < n; begin += kChunk)
    job.chunks.push_back(
        {p + begin, grad + begin, m + begin, v + begin, std::min(kChunk, n - begin)});
  job.elements += n;
}

void KerasAdam::run(const std::shared_ptr<Job>& job) {
  if (job->elements >= kParallelThreshold && !helper_) {
    try {
      helper_ = std::make_unique<Helper>();
    } catch (const std::system_error&) {  // no thread to be had: this one does it all
    }
  }
  if (job->elements >= kParallelThreshold && helper_) helper_->post(job);
  job->work();
  // Elementwise, so the result does not depend on who updated which chunk.
  while (job->done.load(std::memory_order_acquire) < job->chunks.size()) std::this_thread::yield();
}

size_t KerasAdam::index_of(const torch::Tensor& parameter) const {
  for (size_t k = 0; k < params_.size(); ++k)
    if (params_[k].is_same(parameter)) return k;
  TORCH_CHECK(false, "KerasAdam::index_of: a parameter of shape ", parameter.sizes(),
              " that this optimizer was not given");
}

void KerasAdam::step() {
  torch::NoGradGuard no_grad;
  auto job = std::make_shared<Job>();
  job->scalars = next_scalars();
  std::vector<torch::Tensor> grads(params_.size());  // held until every chunk is done
  for (size_t k = 0; k < params_.size(); ++k) {
    if (!params_[k].grad().defined()) continue;
    grads[k] = params_[k].grad().contiguous();
    add_chunks(*job, k, grads[k].data_ptr<float>());
  }
  run(job);
}

}  // namespace preimage::train
