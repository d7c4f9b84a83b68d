#pragma once
// The chunks of an inversion solved so far, so that a killed `invert` (or `run`) resumes where it
// stopped, with the same final bytes as an uninterrupted run (a chunk's result depends on its
// images, start points and settings only: solvers/invert.h):
//   partial/<method>/record.json        what the chunks depend on (the identity: settings,
//                                       images, start points, model, version) and the split
//   partial/<method>/chunk_<k>/*.npy    chunk k's solution (latents, losses, iterations, stop
//                                       reasons, left_box, curves, diagnostics)
//   partial/<method>/chunk_<k>.json     written last: chunk k is whole
// Removed when the step commits. An inversion of another identity starts over (removes them).
// The likelihood's chunks use the same records (partial/likelihood_<set>/, their arrays by name).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "solvers/solver.h"

namespace preimage::run {

namespace fs = std::filesystem;

class PartialInversion {
 public:
  // The records of `method`'s inversion in the run folder `run` for an inversion identified by
  // `identity` and split as `bounds`: kept, with their split, when they were made for the same
  // identity; removed otherwise.
  PartialInversion(const fs::path& run, const std::string& method, nlohmann::json identity,
                   std::vector<int64_t> bounds);

  // The split to solve: the recorded one when resuming (the automatic chunk size depends on the
  // machine's threads, and a resume must not mix two splits).
  const std::vector<int64_t>& bounds() const { return bounds_; }
  // The chunks recorded before, by index, on `device`; an unreadable one is left out (solved
  // again).
  std::map<int64_t, solvers::Solution> solved(const torch::Device& device) const;
  // Records chunk k (its files first, its marker last). Safe from one thread at a time.
  void record(int64_t chunk, const solvers::Solution& solution) const;

  // The same for any chunked step whose result is named arrays (the likelihood's): `whole`
  // says which arrays must have a row per image of the chunk (the others may be shorter).
  std::map<int64_t, std::map<std::string, torch::Tensor>> solved_arrays(
      const std::vector<std::string>& whole = {}) const;
  void record_arrays(int64_t chunk, const std::map<std::string, torch::Tensor>& arrays) const;
  // Removes the records (after the step committed), and partial/ when nothing else is left.
  void remove() const;
  // The same for the records of `method` in the run folder `run`, without opening them.
  static void remove_folder(const fs::path& run, const std::string& method);

  const fs::path& folder() const { return folder_; }

 private:
  fs::path chunk_dir(int64_t chunk) const;
  fs::path chunk_marker(int64_t chunk) const;
  fs::path folder_;
  std::string digest_;  // SHA-256 of the identity, in each chunk's marker
  std::vector<int64_t> bounds_;
};

// SHA-256 of a tensor's dtype, shape and bytes (on the CPU), for identities.
std::string tensor_digest(const torch::Tensor& tensor);

}  // namespace preimage::run
