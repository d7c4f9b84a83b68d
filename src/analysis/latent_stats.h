#pragma once
// Statistics of latent spaces and of their losses (thesis sections 3.3, annexes E and F): mean
// vectors and covariance matrices, distances between paired points of two spaces, delta
// statistics and histogram, the correlation of delta and final loss, the best and worst images,
// the digits of the lowest losses, per-digit means. Each function returns the JSON section of
// analysis.json it fills (schema: docs/ANALYSIS.md); the numbers come from preimage::stats.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "stats/matrix.h"

namespace preimage::analysis {

constexpr int64_t kDigits = 10;  // classes of MNIST (per-digit arrays have this length)

// Tensor -> the stats module's plain types (float64 copies).
stats::Matrix to_matrix(const torch::Tensor& points);  // (N, L)
std::vector<double> to_vector(const torch::Tensor& values);  // (N)

// {"mean": [L], "covariance": [[L x L]]} with numpy.cov's ddof=1 (the thesis's np.cov).
nlohmann::json latent_moments(const torch::Tensor& latents);

// {"a", "b", "mean", "variance" (ddof=1), "sem"} of ||a_i - b_i||.
nlohmann::json paired_distances(const std::string& name_a, const torch::Tensor& a,
                                const std::string& name_b, const torch::Tensor& b);

// {"mean", "variance" (ddof=1), "sem", "min", "max", "histogram": {"counts", "edges"}} of a
// per-image quantity (the thesis's delta %, or a loss); numpy.histogram's bins over [min, max].
nlohmann::json distribution(const torch::Tensor& values, int64_t bins);

// {"pearson": {"r", "pvalue"}, "spearman": {"rho", "pvalue"}} of delta and final loss; null
// entries when undefined (constant input, fewer than 3 images).
nlohmann::json delta_loss_correlation(const torch::Tensor& delta, const torch::Tensor& loss);

// The k images with the lowest (ascending) or highest `key` values, best first:
// [{"position", "index", "label", "delta", "loss"}]; position is the row in the run, index the
// image's position in its data set. Ties keep run order.
nlohmann::json ranked_images(const torch::Tensor& key, bool ascending, int64_t k,
                             const torch::Tensor& delta, const torch::Tensor& loss,
                             const torch::Tensor& labels, const torch::Tensor& indices);

// Digit counts among the n images of lowest loss: {"n", "counts": [10]} (the thesis: the 500
// lowest final losses are all 1s).
nlohmann::json lowest_loss_digits(const torch::Tensor& loss, const torch::Tensor& labels, int64_t n);

// Per-digit {"count": [10], "mean": [10], "sem": [10]} of `values` by label (-1 labels skipped;
// null mean where a digit has no image, null sem where it has one).
nlohmann::json per_digit(const torch::Tensor& values, const torch::Tensor& labels);

}  // namespace preimage::analysis
