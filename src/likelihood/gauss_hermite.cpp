#include "likelihood/gauss_hermite.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::likelihood {

NormalRule normal_rule(int64_t n, int64_t latent_dim) {
  require(n >= 1 && latent_dim >= 1 &&
              std::pow(static_cast<double>(n), static_cast<double>(latent_dim)) <= 1e6,
          fmt::format("a Gauss-Hermite rule of {} nodes per axis in {} dimensions is too large",
                      n, latent_dim));
  // Probabilists' Hermite polynomials: Jacobi matrix with sqrt(k) off the diagonal; the nodes
  // are its eigenvalues, the weights the squared first components of its eigenvectors.
  auto jacobi = torch::zeros({n, n}, torch::kFloat64);
  for (int64_t k = 1; k < n; ++k) {
    jacobi[k][k - 1] = std::sqrt(static_cast<double>(k));
    jacobi[k - 1][k] = std::sqrt(static_cast<double>(k));
  }
  auto [values, vectors] = torch::linalg_eigh(jacobi);
  auto w = vectors[0].square();  // (n), sums to 1
  std::vector<torch::Tensor> axes(static_cast<size_t>(latent_dim), values);
  std::vector<torch::Tensor> weight_axes(static_cast<size_t>(latent_dim), w);
  auto mesh = torch::meshgrid(axes, "ij");
  auto weight_mesh = torch::meshgrid(weight_axes, "ij");
  std::vector<torch::Tensor> cols;
  for (auto& m : mesh) cols.push_back(m.reshape({-1}));
  auto weights = torch::ones({mesh[0].numel()}, torch::kFloat64);
  for (auto& m : weight_mesh) weights.mul_(m.reshape({-1}));
  return {torch::stack(cols, 1).to(torch::kFloat32).contiguous(), weights};
}

}  // namespace preimage::likelihood
