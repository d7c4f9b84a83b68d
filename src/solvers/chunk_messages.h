#pragma once
// A chunk of an inversion and its solution as bytes, for the ranks of an MPI job
// (cluster/farm.h): tensors by name, in LibTorch's own pickle format (torch::pickle_save), on
// the CPU. What a worker solves from a chunk's message is what invert() solves from the same rows.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "solvers/solver.h"

namespace preimage::solvers {

struct ChunkMessage {
  torch::Tensor targets;              // (B, P)
  torch::Tensor start;                // (B, L)
  torch::Tensor mask;                 // (B, P), (P) or undefined
  std::vector<int64_t> curve_images;  // positions in the chunk whose curves are kept
};

std::string pack_chunk(const ChunkMessage& chunk);
// Throws UserError when the bytes are not a chunk's message.
ChunkMessage unpack_chunk(const std::string& bytes);

// Any tensors by name (what the other commands' chunks and results hold), compacted.
using NamedTensors = std::map<std::string, torch::Tensor>;
std::string pack_tensors(const NamedTensors& tensors);
// Throws UserError when the bytes are not such a message, naming `what` it should hold.
NamedTensors unpack_tensors(const std::string& bytes, const char* what);
// The tensor `key` of `tensors`; UserError naming `what` when it is missing.
const torch::Tensor& tensor_at(const NamedTensors& tensors, const std::string& key,
                               const char* what);

std::string pack_solution(const Solution& solution);
// The solution on `device`. Throws UserError when the bytes are not a solution's message.
Solution unpack_solution(const std::string& bytes, const torch::Device& device);

}  // namespace preimage::solvers
