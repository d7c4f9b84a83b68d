#include "analysis/normality.h"

#include <stdexcept>

#include "analysis/latent_stats.h"
#include "stats/ks_test.h"
#include "stats/lilliefors.h"
#include "stats/multivariate_normality.h"
#include "stats/shapiro_wilk.h"

namespace preimage::analysis {
namespace {

// Runs one test, turning the stats module's input errors into {"error": ...}.
template <typename F>
nlohmann::json guarded(F&& test) {
  try {
    return test();
  } catch (const std::invalid_argument& e) {
    return {{"error", e.what()}};
  }
}

}  // namespace

torch::Tensor radii(const torch::Tensor& latents) {
  return latents.to(torch::kFloat64).pow(2).sum(1).sqrt();
}

nlohmann::json normality_tests(const torch::Tensor& latents, int64_t henze_zirkler_max_points) {
  const auto r = to_vector(radii(latents));
  const auto flat = to_vector(latents.contiguous().view({-1}));
  nlohmann::json out;
  out["radius_ks"] = guarded([&]() -> nlohmann::json {
    const auto ks = stats::ks_test_normal_fitted(r, /*ddof=*/0);
    return {{"statistic", ks.statistic}, {"pvalue", ks.pvalue}, {"method", ks.method},
            {"location", ks.location},   {"sign", ks.sign},     {"n", r.size()}};
  });
  out["radius_lilliefors"] = guarded([&]() -> nlohmann::json {
    const auto lf = stats::lilliefors_normal(r);
    return {{"statistic", lf.statistic},
            {"pvalue", lf.pvalue},
            {"method", lf.method},
            {"pvalue_in_valid_range", lf.pvalue_in_valid_range}};
  });
  out["shapiro_wilk"] = guarded([&]() -> nlohmann::json {
    const auto sw = stats::shapiro_wilk(flat);
    return {{"statistic", sw.statistic},
            {"pvalue", sw.pvalue},
            {"n", flat.size()},
            {"pvalue_may_be_inaccurate", sw.pvalue_may_be_inaccurate}};
  });
  const auto points = to_matrix(latents);
  out["mardia"] = guarded([&]() -> nlohmann::json {
    const auto m = stats::mardia(points);
    return {{"b1", m.b1},
            {"b2", m.b2},
            {"skewness", {{"statistic", m.skewness.statistic}, {"pvalue", m.skewness.pvalue},
                          {"dof", m.skewness_dof}}},
            {"kurtosis", {{"statistic", m.kurtosis.statistic}, {"pvalue", m.kurtosis.pvalue}}}};
  });
  out["henze_zirkler"] = guarded([&]() -> nlohmann::json {
    const int64_t n = std::min<int64_t>(latents.size(0), henze_zirkler_max_points);
    const auto hz = stats::henze_zirkler(to_matrix(latents.slice(0, 0, n)));
    return {{"statistic", hz.statistic}, {"pvalue", hz.pvalue}, {"beta", hz.beta},
            {"points", n}};
  });
  return out;
}

}  // namespace preimage::analysis
