#pragma once
// The thesis's text files, so its own loaders read our results:
//   solutions.txt     one latent per line, "[a, b]"
//   final_errors.txt  final losses, comma-separated on one line
//   deltas.txt        delta percentages, comma-separated on one line
#include <filesystem>

#include <torch/torch.h>

namespace preimage::run {

void write_thesis_files(const std::filesystem::path& dir, const torch::Tensor& latents,
                        const torch::Tensor& final_loss, const torch::Tensor& delta);

// Reads a comma-separated line of numbers (final_errors.txt, deltas.txt).
torch::Tensor read_thesis_values(const std::filesystem::path& path);
// Reads solutions.txt into (N, L).
torch::Tensor read_thesis_solutions(const std::filesystem::path& path);

}  // namespace preimage::run
