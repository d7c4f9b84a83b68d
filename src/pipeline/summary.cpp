#include "pipeline/summary.h"

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace preimage::pipeline {
namespace {

// mean and its standard error over images.
nlohmann::json mean_with_error(const torch::Tensor& values) {
  auto v = values.to(torch::kFloat64);
  const double n = static_cast<double>(v.numel());
  const double mean = v.mean().item<double>();
  const double se = n > 1 ? v.std().item<double>() / std::sqrt(n) : 0.0;
  return {{"mean", mean}, {"stderr", se}};
}

nlohmann::json space_moments(const torch::Tensor& latents) {
  auto y = latents.to(torch::kFloat64);
  auto mean = y.mean(0);
  auto centered = y - mean;
  auto cov = centered.t().mm(centered) / static_cast<double>(std::max<int64_t>(y.size(0) - 1, 1));
  nlohmann::json m = nlohmann::json::array(), c = nlohmann::json::array();
  for (int64_t i = 0; i < mean.size(0); ++i) {
    m.push_back(mean[i].item<double>());
    nlohmann::json row = nlohmann::json::array();
    for (int64_t j = 0; j < cov.size(1); ++j) row.push_back(cov[i][j].item<double>());
    c.push_back(row);
  }
  return {{"mean", m}, {"covariance", c}};
}

std::string vector_str(const nlohmann::json& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{:.5f}", i ? ", " : "", v[i].get<double>());
  return out + "]";
}

}  // namespace

nlohmann::json summarize(const run::RunFolder& run, const std::string& method) {
  nlohmann::json out;
  out["images"] = run.has_images() ? run.images().count : 0;
  if (run.has_latents("MT")) out["spaces"]["MT"] = space_moments(run.read_latents("MT"));
  std::vector<std::string> methods = method.empty() ? run.methods()
                                                    : std::vector<std::string>{method};
  for (const auto& m : methods) {
    nlohmann::json s;
    s["initial_loss"] = mean_with_error(run.read_method_array(m, "initial"));
    s["final_loss"] = mean_with_error(run.read_method_array(m, "final"));
    s["delta_pct"] = mean_with_error(run.read_method_array(m, "delta"));
    s["iterations"] = mean_with_error(run.read_method_array(m, "iterations"));
    s["seconds"] = run.method(m).seconds;
    out["methods"][m] = s;
    out["spaces"][m] = space_moments(run.read_latents(m));
  }
  return out;
}

void print_summary(const nlohmann::json& summary) {
  std::printf("\n| Quantity (%lld images) | Value |\n|---|---|\n",
              static_cast<long long>(summary.value("images", 0)));
  if (summary.contains("methods")) {
    for (const auto& item : summary["methods"].items()) {
      const std::string& m = item.key();
      const auto& s = item.value();
      auto row = [&](const char* what, const nlohmann::json& v, const char* fmt_unit) {
        std::printf("| %s: %s | %s |\n", m.c_str(), what,
                    fmt::format("{:.5f} +- {:.5f}{}", v["mean"].get<double>(),
                                v["stderr"].get<double>(), fmt_unit).c_str());
      };
      row("mean initial loss", s["initial_loss"], "");
      row("mean final loss", s["final_loss"], "");
      row("mean delta", s["delta_pct"], " %");
      std::printf("| %s: time | %.2f s |\n", m.c_str(), s["seconds"].get<double>());
    }
  }
  std::printf("\n| Latent space | Mean vector | Covariance matrix |\n|---|---|---|\n");
  for (const auto& [space, v] : summary["spaces"].items()) {
    std::string cov;
    for (const auto& row : v["covariance"]) cov += vector_str(row) + " ";
    std::printf("| %s | %s | %s|\n", space.c_str(), vector_str(v["mean"]).c_str(), cov.c_str());
  }
  std::fflush(stdout);
}

}  // namespace preimage::pipeline
