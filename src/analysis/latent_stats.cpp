#include "analysis/latent_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "stats/correlation.h"
#include "stats/descriptive.h"
#include "stats/distances.h"
#include "stats/histogram.h"

namespace preimage::analysis {

stats::Matrix to_matrix(const torch::Tensor& points) {
  auto p = points.to(torch::kFloat64).contiguous();
  TORCH_CHECK(p.dim() == 2, "latent points must be (N, L), got ", p.sizes());
  std::vector<double> data(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  return stats::Matrix(static_cast<size_t>(p.size(0)), static_cast<size_t>(p.size(1)),
                       std::move(data));
}

std::vector<double> to_vector(const torch::Tensor& values) {
  auto v = values.to(torch::kFloat64).contiguous().view({-1});
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

nlohmann::json latent_moments(const torch::Tensor& latents) {
  const auto m = to_matrix(latents);
  nlohmann::json cov = nlohmann::json::array();
  if (m.rows >= 2) {
    const auto c = stats::covariance(m, 1);
    for (size_t i = 0; i < c.rows; ++i) {
      nlohmann::json row = nlohmann::json::array();
      for (size_t j = 0; j < c.cols; ++j) row.push_back(c(i, j));
      cov.push_back(row);
    }
  }
  return {{"mean", stats::column_means(m)}, {"covariance", cov}};
}

nlohmann::json paired_distances(const std::string& name_a, const torch::Tensor& a,
                                const std::string& name_b, const torch::Tensor& b) {
  const auto d = stats::paired_distances(to_matrix(a), to_matrix(b));
  return {{"a", name_a}, {"b", name_b}, {"mean", d.mean}, {"variance", d.variance}, {"sem", d.sem}};
}

nlohmann::json distribution(const torch::Tensor& values, int64_t bins) {
  const auto v = to_vector(values);
  const auto h = stats::histogram(v, static_cast<size_t>(bins));
  const bool many = v.size() >= 2;
  return {{"mean", stats::mean(v)},
          {"variance", many ? stats::variance(v, 1) : 0.0},
          {"sem", many ? stats::standard_error(v, 1) : 0.0},
          {"min", *std::min_element(v.begin(), v.end())},
          {"max", *std::max_element(v.begin(), v.end())},
          {"histogram", {{"counts", h.counts}, {"edges", h.edges}}}};
}

nlohmann::json delta_loss_correlation(const torch::Tensor& delta, const torch::Tensor& loss) {
  const auto d = to_vector(delta), l = to_vector(loss);
  nlohmann::json out = {{"pearson", nullptr}, {"spearman", nullptr}};
  try {
    const auto p = stats::pearson(d, l);
    out["pearson"] = {{"r", p.statistic}, {"pvalue", p.pvalue}};
  } catch (const std::invalid_argument&) {}  // constant input or too few images: undefined
  try {
    const auto s = stats::spearman(d, l);
    out["spearman"] = {{"rho", s.statistic}, {"pvalue", s.pvalue}};
  } catch (const std::invalid_argument&) {}
  return out;
}

nlohmann::json ranked_images(const torch::Tensor& key, bool ascending, int64_t k,
                             const torch::Tensor& delta, const torch::Tensor& loss,
                             const torch::Tensor& labels, const torch::Tensor& indices) {
  const auto keys = to_vector(key);
  std::vector<int64_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return ascending ? keys[a] < keys[b] : keys[a] > keys[b];
  });
  const auto d = to_vector(delta), l = to_vector(loss);
  auto lab = labels.to(torch::kInt64).contiguous(), idx = indices.to(torch::kInt64).contiguous();
  nlohmann::json out = nlohmann::json::array();
  for (int64_t r = 0; r < std::min<int64_t>(k, static_cast<int64_t>(order.size())); ++r) {
    const int64_t i = order[r];
    out.push_back({{"position", i},
                   {"index", idx.data_ptr<int64_t>()[i]},
                   {"label", lab.data_ptr<int64_t>()[i]},
                   {"delta", d[i]},
                   {"loss", l[i]}});
  }
  return out;
}

nlohmann::json lowest_loss_digits(const torch::Tensor& loss, const torch::Tensor& labels,
                                  int64_t n) {
  n = std::min<int64_t>(n, loss.numel());
  auto order = loss.to(torch::kFloat64).argsort(/*dim=*/0, /*descending=*/false);
  auto lab = labels.to(torch::kInt64).index_select(0, order.slice(0, 0, n)).contiguous();
  std::vector<int64_t> counts(kDigits, 0);
  int64_t unlabelled = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = lab.data_ptr<int64_t>()[i];
    if (c >= 0 && c < kDigits) ++counts[c]; else ++unlabelled;
  }
  return {{"n", n}, {"counts", counts}, {"unlabelled", unlabelled}};
}

nlohmann::json per_digit(const torch::Tensor& values, const torch::Tensor& labels) {
  const auto v = to_vector(values);
  auto lab = labels.to(torch::kInt64).contiguous();
  std::vector<std::vector<double>> groups(kDigits);
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t c = lab.data_ptr<int64_t>()[i];
    if (c >= 0 && c < kDigits) groups[c].push_back(v[i]);
  }
  nlohmann::json count = nlohmann::json::array(), mean = nlohmann::json::array(),
                 sem = nlohmann::json::array();
  for (const auto& g : groups) {
    count.push_back(g.size());
    mean.push_back(g.empty() ? nlohmann::json() : nlohmann::json(stats::mean(g)));
    sem.push_back(g.size() < 2 ? nlohmann::json() : nlohmann::json(stats::standard_error(g, 1)));
  }
  return {{"count", count}, {"mean", mean}, {"sem", sem}};
}

}  // namespace preimage::analysis
