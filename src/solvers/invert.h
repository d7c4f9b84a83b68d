#pragma once
// Inverting a whole data set: split into chunks (memory bounded by the chunk size, not by the
// data set), solve each chunk with one batched solver call, join the results. On the CPU the
// chunks are solved by several workers at once, each with a single-threaded BLAS: the solvers'
// elementwise and indexing work (about 40% of a single solve's time with a two-threaded BLAS)
// then runs in parallel too, and a chunk's result depends on its images only (not on the
// machine's cores, the workers, the shards or the MPI ranks), where the chunk size is given (what
// they share, the grid's decoding, is made with a single-threaded BLAS too). The workers inherit
// the caller's floating-point modes (the process flushes denormals: pipeline/threads.h).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "solvers/registry.h"
#include "solvers/solver.h"

namespace preimage::solvers {

struct InvertRequest {
  std::string method = "adafactor";  // a registry method (registry.h)
  SolverSettings settings = settings_for("adafactor");  // settings_for(method, ...)
  LossSpec loss;                     // mask may be (N, P), (P) or undefined
  std::vector<int64_t> curve_images; // positions in `targets` whose loss curves are recorded
  // Images solved together (memory ~ 10 * chunk * P floats per worker); 0: automatic, at most
  // kDefaultChunk, the images spread evenly over a multiple of the workers' count of chunks.
  int64_t chunk_size = 0;
  // Chunks solved at once (0: automatic, as many as the BLAS has threads, one off the CPU).
  int64_t workers = 0;
  bool show_progress = true;
  // The model's encoder (fixed-point needs it), or null.
  std::shared_ptr<const decoders::Encoder> encoder;
  // Resuming an interrupted inversion: its split (chunk c is [bounds[c], bounds[c + 1]); empty:
  // plan_chunks's own) and the chunks it solved, by index, which are not solved again.
  std::vector<int64_t> bounds;
  std::map<int64_t, Solution> solved_chunks;
  // Told each chunk as it is solved (from the workers, one call at a time), to record it.
  std::function<void(int64_t chunk, const Solution&)> on_chunk;
  // On rank 0 of an MPI job (cluster/world.h): the header each other rank opens the job from
  // (ChunkWorker below); the chunks are then shared by the ranks (cluster/farm.h), rank 0 solving
  // with one worker of its own. Empty: this process solves every chunk.
  std::string cluster_job;

  // 2000 keeps each solver's per-pixel work in cache (docs/PERFORMANCE.md).
  static constexpr int64_t kDefaultChunk = 2000;
};

// How invert() splits `images` images: chunk c is [bounds[c], bounds[c + 1]).
struct ChunkPlan {
  int64_t workers = 1;
  std::vector<int64_t> bounds;
  int64_t chunks() const { return static_cast<int64_t>(bounds.size()) - 1; }
  int64_t largest_chunk() const;
};
// With an explicit chunk size, chunks of that size (the last one shorter), at most one worker
// per chunk: then a chunk's images, and so its result, do not depend on the workers. With
// request.bounds, that split. Throws on a negative chunk size or worker count, or bounds that do
// not split [0, images).
ChunkPlan plan_chunks(const InvertRequest& request, int64_t images, const torch::Device& device);

// Solves every row of `targets` (N, P) from `start` (N, L).
// Under MPI with `request.cluster_job`, the same solution, chunk for chunk, from every rank.
// Throws UserError for a method that needs an encoder when none is given, or a latent
// dimension the method cannot handle.
Solution invert(const decoders::Decoder& decoder, const torch::Tensor& targets,
                const torch::Tensor& start, const InvertRequest& request);

// A worker rank's side of a distributed invert(): the request's solver (one for every chunk, as
// on rank 0), solving chunk messages (chunk_messages.h) into solution messages.
class ChunkWorker {
 public:
  ChunkWorker(std::shared_ptr<const decoders::Decoder> decoder, InvertRequest request);
  std::string solve(const std::string& chunk_message);

 private:
  std::shared_ptr<const decoders::Decoder> decoder_;
  InvertRequest request_;
  std::unique_ptr<Solver> solver_;
  bool prepared_ = false;
};

}  // namespace preimage::solvers
