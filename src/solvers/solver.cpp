#include "solvers/solver.h"

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::solvers {

std::string stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kMaxIterations: return "max-iterations";
    case StopReason::kGradientNorm: return "gradient-norm";
    case StopReason::kRelativeChange: return "relative-change";
    case StopReason::kNoDescent: return "no-descent";
    case StopReason::kDiverged: return "diverged";
    case StopReason::kGlobalSearch: return "global-search";
    case StopReason::kStepNorm: return "step-norm";
  }
  return "unknown";
}

bool is_converged(StopReason reason) {
  return reason != StopReason::kMaxIterations && reason != StopReason::kDiverged;
}

torch::Tensor Solution::converged() const {
  return stop_reason.ne(static_cast<int64_t>(StopReason::kMaxIterations))
      .logical_and(stop_reason.ne(static_cast<int64_t>(StopReason::kDiverged)));
}

Solution Solution::concat(const std::vector<Solution>& parts) {
  require(!parts.empty(), "no solution to concatenate");
  auto cat = [&](auto member) {
    std::vector<torch::Tensor> ts;
    for (const auto& p : parts) ts.push_back(p.*member);
    return torch::cat(ts, 0);
  };
  Solution s;
  s.latents = cat(&Solution::latents);
  s.initial_loss = cat(&Solution::initial_loss);
  s.final_loss = cat(&Solution::final_loss);
  s.iterations = cat(&Solution::iterations);
  s.stop_reason = cat(&Solution::stop_reason);
  s.left_box = cat(&Solution::left_box);
  std::vector<torch::Tensor> curves;
  for (const auto& p : parts)
    if (p.curves.defined() && p.curves.size(0) > 0) curves.push_back(p.curves);
  if (!curves.empty()) s.curves = torch::cat(curves, 0);
  for (const auto& [key, first] : parts.front().diagnostics) {
    std::vector<torch::Tensor> ts;
    for (const auto& p : parts) {
      auto it = p.diagnostics.find(key);
      require(it != p.diagnostics.end(), fmt::format("a chunk lacks the diagnostic '{}'", key));
      ts.push_back(it->second);
    }
    s.diagnostics[key] = torch::cat(ts, 0);
  }
  return s;
}

namespace detail {

void report_iteration(const SolveHooks& hooks, int64_t running) {
  if (hooks.on_iteration) hooks.on_iteration(running);
}

torch::Tensor outside_box(const torch::Tensor& y, double radius) {
  return std::get<0>(y.abs().max(1)) > radius;
}

torch::Tensor make_curves(const std::vector<int64_t>& images, int64_t iterations) {
  return torch::full({static_cast<int64_t>(images.size()), iterations + 1},
                     std::numeric_limits<float>::quiet_NaN(), torch::kFloat32);
}

void record_curve(torch::Tensor& curves, const std::vector<int64_t>& images,
                  const torch::Tensor& loss, int64_t it) {
  if (images.empty()) return;
  auto acc = curves.accessor<float, 2>();
  auto l = loss.to(torch::kCPU, torch::kFloat32).contiguous();  // curves live on the CPU
  const float* p = l.data_ptr<float>();
  for (size_t k = 0; k < images.size(); ++k) acc[static_cast<int64_t>(k)][it] = p[images[k]];
}

}  // namespace detail
}  // namespace preimage::solvers
