#pragma once
// results.csv: one row per image, the per-method columns side by side.
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace preimage::run {

struct MethodColumns {
  std::string method;
  torch::Tensor initial, final_loss, delta, iterations, stop_reason;  // (N) each
};

void write_results_table(const std::filesystem::path& path, const torch::Tensor& indices,
                         const torch::Tensor& labels, const std::vector<MethodColumns>& methods);

}  // namespace preimage::run
