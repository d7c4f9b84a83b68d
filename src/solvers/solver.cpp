#include "solvers/solver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "solvers/adafactor.h"
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
  }
  return "unknown";
}

nlohmann::json SolverSettings::to_json() const {
  return {{"max_iterations", max_iterations},
          {"learning_rate", learning_rate},
          {"gradient_tolerance", gradient_tolerance},
          {"relative_tolerance", relative_tolerance},
          {"box_radius", box_radius}};
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
  return s;
}

std::vector<std::string> solver_names() { return {"adafactor"}; }

std::unique_ptr<Solver> make_solver(const std::string& name, const SolverSettings& settings) {
  if (name == "adafactor") return std::make_unique<Adafactor>(settings);
  throw UserError(fmt::format("unknown inversion method '{}'", name),
                  fmt::format("use one of: {}", fmt::join(solver_names(), ", ")));
}

namespace detail {

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
  auto l = loss.to(torch::kFloat32).contiguous();
  const float* p = l.data_ptr<float>();
  for (size_t k = 0; k < images.size(); ++k) acc[static_cast<int64_t>(k)][it] = p[images[k]];
}

}  // namespace detail
}  // namespace preimage::solvers
