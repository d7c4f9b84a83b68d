#include "solvers/adam.h"

#include <cmath>

#include "solvers/first_order_loop.h"

namespace preimage::solvers {
namespace {
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-7;  // Keras's Adam constants
}  // namespace

Solution Adam::solve(const Objective& objective, const torch::Tensor& start,
                     const SolveHooks& hooks) const {
  auto m = torch::zeros_like(start), v = torch::zeros_like(start);  // (B, L) moments
  const double lr = settings_.options.step_size.learning_rate;
  return detail::first_order_loop(
      objective, start, settings_, hooks,
      [&](const torch::Tensor& rows, const torch::Tensor& y, const torch::Tensor& g, int64_t t) {
        auto mr = m.index_select(0, rows) * kBeta1 + g * (1 - kBeta1);
        auto vr = v.index_select(0, rows) * kBeta2 + g.square() * (1 - kBeta2);
        m.index_copy_(0, rows, mr);
        v.index_copy_(0, rows, vr);
        const double ti = static_cast<double>(t);
        const double alpha = lr * std::sqrt(1 - std::pow(kBeta2, ti)) / (1 - std::pow(kBeta1, ti));
        return y - alpha * mr / (vr.sqrt() + kEpsilon);
      });
}

}  // namespace preimage::solvers
