#include "solvers/invert.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cluster/farm.h"
#include "cluster/world.h"
#include "solvers/chunk_messages.h"
#include "util/blas_threads.h"
#include "util/error.h"
#include "util/progress.h"

namespace preimage::solvers {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The objective of the images [begin, end).
Objective chunk_objective(const decoders::Decoder& decoder, const torch::Tensor& targets,
                          const InvertRequest& request, int64_t begin, int64_t end) {
  LossSpec loss = request.loss;
  if (loss.mask.defined() && loss.mask.dim() == 2) loss.mask = loss.mask.slice(0, begin, end);
  Objective objective(decoder, loss, targets.slice(0, begin, end).contiguous());
  objective.set_encoder(request.encoder);
  return objective;
}

// Solves the images [begin, end) and reports their progress in image-iterations (an image that
// stops early skips its remaining iterations).
Solution solve_chunk(const Solver& solver, const decoders::Decoder& decoder,
                     const torch::Tensor& targets, const torch::Tensor& start,
                     const InvertRequest& request, int64_t begin, int64_t end,
                     util::Progress* progress) {
  const int64_t cap = std::max<int64_t>(request.settings.stop.max_iterations, 1);
  SolveHooks hooks;
  int64_t running = end - begin, iteration = 0, reported = 0;
  if (progress) {
    hooks.on_iteration = [&](int64_t now_running) {
      ++iteration;
      const int64_t stopped = running - now_running;
      const int64_t units = running + stopped * std::max<int64_t>(cap - iteration, 0);
      progress->advance(units);
      reported += units;
      running = now_running;
    };
  }
  for (int64_t i : request.curve_images)
    if (i >= begin && i < end) hooks.curve_images.push_back(i - begin);
  const Objective objective = chunk_objective(decoder, targets, request, begin, end);
  auto solution = solver.solve(objective, start.slice(0, begin, end).contiguous(), hooks);
  if (progress) progress->advance((end - begin) * cap - reported);
  return solution;
}

// The chunks `todo` solved by this process's workers, or shared by the ranks of an MPI job.
void solve_here(const Solver& solver, const decoders::Decoder& decoder,
                const torch::Tensor& targets, const torch::Tensor& start,
                const InvertRequest& request, const ChunkPlan& plan,
                const std::vector<int64_t>& todo, std::vector<Solution>& parts,
                util::Progress* progress);
void solve_across_ranks(const Solver& solver, const decoders::Decoder& decoder,
                        const torch::Tensor& targets, const torch::Tensor& start,
                        const InvertRequest& request, const ChunkPlan& plan,
                        const std::vector<int64_t>& todo, std::vector<Solution>& parts,
                        util::Progress* progress);

}  // namespace

int64_t ChunkPlan::largest_chunk() const {
  int64_t largest = 0;
  for (size_t c = 0; c + 1 < bounds.size(); ++c) largest = std::max(largest, bounds[c + 1] - bounds[c]);
  return largest;
}

ChunkPlan plan_chunks(const InvertRequest& request, int64_t images, const torch::Device& device) {
  require(request.chunk_size >= 0,
          fmt::format("chunk size must be 0 (automatic) or positive, got {}", request.chunk_size));
  require(request.workers >= 0,
          fmt::format("workers must be 0 (automatic) or positive, got {}", request.workers));
  ChunkPlan plan;
  plan.workers = request.workers;
  if (plan.workers == 0) {
    if (!device.is_cpu()) {
      plan.workers = 1;  // one stream of kernels; the device is the parallel part
    } else {
      const int blas = util::blas_threads();
      plan.workers = blas > 0 ? blas : std::max<int64_t>(std::thread::hardware_concurrency(), 1);
    }
  }
  const int64_t n = std::max<int64_t>(images, 1);
  int64_t chunks = 0;
  if (!request.bounds.empty()) {
    const auto& b = request.bounds;
    bool splits = b.size() >= 2 && b.front() == 0 && b.back() == images;
    for (size_t c = 0; splits && c + 1 < b.size(); ++c) splits = b[c] < b[c + 1];
    require(splits, fmt::format("the recorded chunks [{}] do not split the {} images",
                                fmt::join(b, ", "), images),
            "remove the run's partial/ folder to start the inversion over");
    plan.bounds = b;
    plan.workers = std::min<int64_t>(plan.workers, plan.chunks());
    return plan;
  }
  if (request.chunk_size > 0) {
    chunks = ceil_div(n, request.chunk_size);
    plan.workers = std::min(plan.workers, chunks);
    for (int64_t b = 0; b < images; b += request.chunk_size) plan.bounds.push_back(b);
  } else {
    plan.workers = std::min(plan.workers, n);
    chunks = ceil_div(ceil_div(n, InvertRequest::kDefaultChunk), plan.workers) * plan.workers;
    for (int64_t c = 0; c < chunks; ++c) plan.bounds.push_back(c * images / chunks);
  }
  plan.bounds.push_back(images);
  return plan;
}

Solution invert(const decoders::Decoder& decoder, const torch::Tensor& targets,
                const torch::Tensor& start, const InvertRequest& request) {
  const int64_t n = targets.size(0);
  const auto& spec = method_spec(request.method);
  require(!spec.needs_encoder || request.encoder != nullptr,
          fmt::format("{} needs the model's encoder, and the model has no encoder", request.method),
          "choose another method (preimage invert --help lists them)");
  require(spec.max_latent_dim == 0 || decoder.latent_dim() <= spec.max_latent_dim,
          fmt::format("{} needs a latent dimension of at most {}, this decoder has {}",
                      request.method, spec.max_latent_dim, decoder.latent_dim()),
          "use a local method (gauss-newton, lbfgs) for larger latent spaces");
  require(start.dim() == 2 && start.size(0) == n && start.size(1) == decoder.latent_dim(),
          fmt::format("start points have shape {}, expected ({}, {})",
                      fmt::streamed(start.sizes()), n, decoder.latent_dim()));
  require(torch::isfinite(start).all().item<bool>(), "start points contain NaN or infinity");
  require(n > 0, "no images to invert");
  for (int64_t i : request.curve_images)
    require(i >= 0 && i < n, fmt::format("curve image {} is outside the {} images", i, n));
  const ChunkPlan plan = plan_chunks(request, n, targets.device());
  const int64_t chunks = plan.chunks();

  // The chunks left to solve (all but those a resumed inversion solved before).
  std::vector<Solution> parts(static_cast<size_t>(chunks));
  std::vector<int64_t> todo;
  for (int64_t c = 0; c < chunks; ++c) {
    const auto done = request.solved_chunks.find(c);
    if (done == request.solved_chunks.end()) {
      todo.push_back(c);
      continue;
    }
    require(done->second.latents.defined() &&
                done->second.latents.size(0) == plan.bounds[c + 1] - plan.bounds[c],
            fmt::format("the recorded chunk {} does not hold images {}..{}", c, plan.bounds[c],
                        plan.bounds[c + 1]));
    parts[static_cast<size_t>(c)] = done->second;
  }

  // One solver for every chunk; what the chunks share (the grid's decoding) is made once here,
  // with a single-threaded BLAS as the chunks are: OpenBLAS's sums depend on its threads, and
  // every process that solves chunks (MPI ranks, ChunkWorker) must make the same grid.
  const auto solver = make_solver(request.method, request.settings);
  if (!todo.empty()) {
    util::ScopedBlasThreads single_threaded_blas(1);
    solver->prepare(chunk_objective(decoder, targets, request, plan.bounds[todo.front()],
                                    plan.bounds[todo.front() + 1]));
  }

  std::unique_ptr<util::Progress> progress;
  if (request.show_progress && !todo.empty()) {
    const int64_t cap = std::max<int64_t>(request.settings.stop.max_iterations, 1);
    int64_t left = 0;  // images still to solve
    for (int64_t c : todo) left += plan.bounds[c + 1] - plan.bounds[c];
    progress = std::make_unique<util::Progress>(request.method, n * cap, "img-it");
    progress->advance((n - left) * cap);
  }
  if (!request.cluster_job.empty() && cluster::World::get().sharing()) {
    solve_across_ranks(*solver, decoder, targets, start, request, plan, todo, parts,
                       progress.get());
  } else {
    solve_here(*solver, decoder, targets, start, request, plan, todo, parts, progress.get());
  }
  if (progress) progress->finish();
  auto solution = Solution::concat(parts);
  solver->review(solution);
  return solution;
}

namespace {

void solve_here(const Solver& solver, const decoders::Decoder& decoder,
                const torch::Tensor& targets, const torch::Tensor& start,
                const InvertRequest& request, const ChunkPlan& plan,
                const std::vector<int64_t>& todo, std::vector<Solution>& parts,
                util::Progress* progress) {
  // Every chunk with a single-threaded BLAS, whatever the number of workers (fewer where the
  // system refuses a thread).
  util::ScopedBlasThreads single_threaded_blas(1);
  cluster::solve_locally(
      todo, plan.workers,
      [&](int64_t c) {
        parts[static_cast<size_t>(c)] = solve_chunk(solver, decoder, targets, start, request,
                                                    plan.bounds[c], plan.bounds[c + 1], progress);
      },
      [&](int64_t c) {
        if (request.on_chunk) request.on_chunk(c, parts[static_cast<size_t>(c)]);
      });
}

// Rank 0 of an MPI job: the chunks shared by the ranks, rank 0 solving too, on one thread.
void solve_across_ranks(const Solver& solver, const decoders::Decoder& decoder,
                        const torch::Tensor& targets, const torch::Tensor& start,
                        const InvertRequest& request, const ChunkPlan& plan,
                        const std::vector<int64_t>& todo, std::vector<Solution>& parts,
                        util::Progress* progress) {
  const int64_t cap = std::max<int64_t>(request.settings.stop.max_iterations, 1);
  cluster::FarmWork work;
  work.job = request.cluster_job;
  work.chunks = todo;
  work.pack = [&](int64_t c) {
    const int64_t begin = plan.bounds[c], end = plan.bounds[c + 1];
    ChunkMessage m;
    m.targets = targets.slice(0, begin, end);
    m.start = start.slice(0, begin, end);
    const auto& mask = request.loss.mask;
    if (mask.defined()) m.mask = mask.dim() == 2 ? mask.slice(0, begin, end) : mask;
    for (int64_t i : request.curve_images)
      if (i >= begin && i < end) m.curve_images.push_back(i - begin);
    return pack_chunk(m);
  };
  work.solve_here = [&](int64_t c) {
    parts[static_cast<size_t>(c)] = solve_chunk(solver, decoder, targets, start, request,
                                                plan.bounds[c], plan.bounds[c + 1], progress);
  };
  work.solved_here = [&](int64_t c) {
    if (request.on_chunk) request.on_chunk(c, parts[static_cast<size_t>(c)]);
  };
  work.solved_remotely = [&](int64_t c, const std::string& bytes) {
    auto& part = parts[static_cast<size_t>(c)];
    part = unpack_solution(bytes, targets.device());
    require(part.latents.size(0) == plan.bounds[c + 1] - plan.bounds[c],
            fmt::format("a rank returned {} solutions for chunk {} of {} images",
                        part.latents.size(0), c, plan.bounds[c + 1] - plan.bounds[c]));
    if (progress) progress->advance((plan.bounds[c + 1] - plan.bounds[c]) * cap);
    if (request.on_chunk) request.on_chunk(c, part);
  };
  util::ScopedBlasThreads single_threaded_blas(1);
  const auto report = cluster::coordinate(work);
  spdlog::info("{} chunks solved on rank 0 and {} on the other {} ranks; {:.3f} MB sent, "
               "{:.3f} MB gathered",
               report.chunks_here, report.chunks_remote, cluster::World::get().size() - 1,
               static_cast<double>(report.bytes_sent) / 1e6,
               static_cast<double>(report.bytes_received) / 1e6);
}

}  // namespace

ChunkWorker::ChunkWorker(std::shared_ptr<const decoders::Decoder> decoder, InvertRequest request)
    : decoder_(std::move(decoder)),
      request_(std::move(request)),
      solver_(make_solver(request_.method, request_.settings)) {}

std::string ChunkWorker::solve(const std::string& chunk_message) {
  auto chunk = unpack_chunk(chunk_message);
  const auto options = torch::TensorOptions().device(decoder_->device()).dtype(decoder_->dtype());
  const auto targets = chunk.targets.to(options), start = chunk.start.to(options);
  const int64_t n = targets.size(0);
  require(targets.dim() == 2 && targets.size(1) == decoder_->pixels() && start.dim() == 2 &&
              start.size(0) == n && start.size(1) == decoder_->latent_dim(),
          "a chunk's images or start points do not fit this rank's model");
  InvertRequest request = request_;
  request.loss.mask = chunk.mask.defined() ? chunk.mask.to(options) : torch::Tensor();
  request.curve_images = chunk.curve_images;
  util::ScopedBlasThreads single_threaded_blas(1);
  if (!prepared_) {
    solver_->prepare(chunk_objective(*decoder_, targets, request, 0, n));
    prepared_ = true;
  }
  return pack_solution(
      solve_chunk(*solver_, *decoder_, targets, start, request, 0, n, /*progress=*/nullptr));
}

}  // namespace preimage::solvers
