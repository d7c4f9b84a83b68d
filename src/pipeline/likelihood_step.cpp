#include "pipeline/likelihood_step.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analysis/latent_stats.h"
#include "analysis/tables.h"
#include "likelihood/importance.h"
#include "data/tensor_io.h"
#include "pipeline/run_model.h"
#include "solvers/invert.h"
#include "solvers/settings.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::pipeline {
namespace fs = std::filesystem;
namespace {
constexpr int64_t kBins = 50;
constexpr double kEdgeMass = 1e-3;  // posterior mass in the box's outer tenth worth a flag
constexpr double kConverged = 0.01;  // nats: the quadrature's check (mean change on halving h)

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double mean_of(const torch::Tensor& t) { return t.to(torch::kFloat64).mean().item<double>(); }

// The latents of the MAP point, argmax log p(x | y) + log p(y): Gauss-Newton on the Bernoulli
// loss with prior weight 1/2 from the grid's best point; the grid point stays where the
// refinement did not improve on it.
torch::Tensor map_points(const decoders::Decoder& decoder, const torch::Tensor& images,
                         const likelihood::ExactLikelihood& exact) {
  solvers::InvertRequest request;
  request.method = "gauss-newton";
  request.settings = solvers::settings_for("gauss-newton");
  request.loss.kind = solvers::LossKind::kBernoulli;
  request.loss.prior_weight = 0.5;
  request.show_progress = false;
  auto solution = solvers::invert(decoder, images, exact.mode, request);
  auto refined = likelihood::log_joint(decoder, images, solution.latents);
  auto better = refined > exact.mode_log_joint;
  return torch::where(better.unsqueeze(1), solution.latents.to(torch::kFloat32), exact.mode);
}

struct SetInput {
  std::string name;  // "train" (the run's images) or "test"
  std::string source;  // e.g. "mnist/train 0:5000"
  torch::Tensor images;
  std::vector<std::pair<std::string, torch::Tensor>> spaces;  // latents of these images
};

void save_array(const fs::path& dir, const std::string& set, const std::string& what,
                const torch::Tensor& t) {
  data::write_npy_tensor(dir / fmt::format("{}_{}.npy", set, what), t.cpu());
}

// The log joint at each space's point: (mean, sem, log p(x) minus it) per space, arrays saved.
void score_spaces(const decoders::Decoder& decoder, const SetInput& in,
                  const torch::Tensor& log_px, const LikelihoodConfig& cfg, const fs::path& dir,
                  nlohmann::json& j) {
  const auto n = static_cast<double>(in.images.size(0));
  j["spaces"] = nlohmann::json::array();
  for (const auto& [name, latents] : in.spaces) {
    auto lj = likelihood::log_joint(decoder, in.images, latents, cfg.batch);
    save_array(dir, in.name, "log_joint_" + name, lj);
    j["spaces"].push_back(name);
    j["log_joint"][name] = {{"mean", mean_of(lj)},
                            {"sem", lj.std().item<double>() / std::sqrt(n)},
                            {"below_log_px", mean_of(log_px - lj)}};
  }
}

// The encoder's posterior of `images`, where the model has a VAE's encoder (with log-variances).
std::optional<likelihood::GaussianPosterior> encoder_posterior(
    const decoders::GenerativeModel& model, const torch::Tensor& images, int64_t batch) {
  if (!model.has_encoder()) return std::nullopt;
  const int64_t n = images.size(0);
  std::vector<torch::Tensor> means, logvars;
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    auto e = model.encoder->encode(images.slice(0, b0, std::min(n, b0 + batch)));
    if (!e.logvar.defined()) return std::nullopt;
    means.push_back(e.mean.cpu().to(torch::kFloat32));
    logvars.push_back(e.logvar.cpu().to(torch::kFloat32));
  }
  return likelihood::GaussianPosterior{torch::cat(means), torch::cat(logvars)};
}

void add_mt(SetInput& in, const std::optional<likelihood::GaussianPosterior>& q) {
  if (q && std::none_of(in.spaces.begin(), in.spaces.end(),
                        [](const auto& s) { return s.first == "MT"; }))
    in.spaces.insert(in.spaces.begin(), {"MT", q->mean});
}

// L > 3: the importance-weighted bound from the encoder's posterior, said to be a bound.
nlohmann::json score_set_iwae(const decoders::GenerativeModel& model, SetInput in,
                              const std::optional<likelihood::GaussianPosterior>& q,
                              const LikelihoodConfig& cfg, const fs::path& dir) {
  nlohmann::json j;
  j["images"] = in.images.size(0);
  j["source"] = in.source;
  j["estimate"] = "iwae";
  j["iwae_samples"] = cfg.iwae_samples;
  if (!q) {
    j["left_out"] = "L > 3 and the model's encoder gives no posterior to sample: no estimate";
    return j;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto iw = likelihood::importance_weighted(*model.decoder, in.images, *q, cfg.iwae_samples,
                                                  cfg.seed);
  save_array(dir, in.name, "iwae_bound", iw.bound);
  save_array(dir, in.name, "elbo_encoder", iw.elbo);
  j["log_px"] = analysis::distribution(iw.bound, kBins);
  j["elbo_encoder"] = analysis::distribution(iw.elbo, kBins);
  j["seconds"]["iwae"] = seconds_since(t0);
  add_mt(in, q);
  score_spaces(*model.decoder, in, iw.bound, cfg, dir, j);
  return j;
}

// Everything of one set (L <= 3: exact); the arrays go to `dir` as <set>_<name>.npy.
nlohmann::json score_set(const decoders::GenerativeModel& model, SetInput in,
                         const LikelihoodConfig& cfg, const fs::path& dir) {
  const auto& decoder = *model.decoder;
  const int64_t n = in.images.size(0);
  const auto encoder_q = encoder_posterior(model, in.images, cfg.batch);
  if (model.latent_dim() > 3) return score_set_iwae(model, std::move(in), encoder_q, cfg, dir);
  auto save = [&](const std::string& what, const torch::Tensor& t) {
    save_array(dir, in.name, what, t);
  };
  nlohmann::json j;
  j["images"] = n;
  j["source"] = in.source;
  j["estimate"] = "exact";
  auto t0 = std::chrono::steady_clock::now();
  const auto exact = likelihood::exact_log_likelihood(decoder, in.images, cfg.quadrature,
                                                      fmt::format("the {} images", in.name));
  save("log_px", exact.log_px);
  save("edge_mass", exact.edge_mass);
  j["log_px"] = analysis::distribution(exact.log_px, kBins);
  const auto change = exact.log_px - exact.log_px_coarse;
  j["check"] = {{"spacing", cfg.quadrature.spacing()},
                {"coarse_spacing", 2 * cfg.quadrature.spacing()},
                {"mean_coarse", mean_of(exact.log_px_coarse)},
                {"mean_change", mean_of(change)},
                {"max_abs_change", change.abs().max().item<double>()},
                {"converged", std::abs(mean_of(change)) < kConverged}};
  j["edge_images"] = exact.edge_mass.gt(kEdgeMass).sum().item<int64_t>();
  j["seconds"]["quadrature"] = seconds_since(t0);

  if (!encoder_q) {
    j["left_out"] = "the model's encoder gives no log-variance (or there is no encoder): no ELBO";
  } else {
    t0 = std::chrono::steady_clock::now();
    auto elbo_encoder = likelihood::gaussian_elbo(decoder, in.images, *encoder_q, cfg.elbo_nodes);
    save("elbo_encoder", elbo_encoder);
    j["elbo_encoder"] = analysis::distribution(elbo_encoder, kBins);
    j["seconds"]["elbo_encoder"] = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    const int64_t g = std::min(n, cfg.gap_images);
    if (g > 0) {
      auto x = in.images.slice(0, 0, g);
      likelihood::GaussianPosterior enc{encoder_q->mean.slice(0, 0, g),
                                        encoder_q->logvar.slice(0, 0, g)};
      // Two starts, the better per image: the encoder's, and the exact posterior's moments.
      likelihood::GaussianPosterior moments{
          exact.posterior_mean.slice(0, 0, g).to(torch::kFloat32),
          exact.posterior_var.slice(0, 0, g).clamp_min(1e-12).log().to(torch::kFloat32)};
      auto e_enc = elbo_encoder.slice(0, 0, g);
      auto e_mom = likelihood::gaussian_elbo(decoder, x, moments, cfg.elbo_nodes);
      auto take_mom = (e_mom > e_enc).unsqueeze(1);
      likelihood::GaussianPosterior start{torch::where(take_mom, moments.mean, enc.mean),
                                          torch::where(take_mom, moments.logvar, enc.logvar)};
      auto best = likelihood::optimal_gaussian_posterior(decoder, x, start, cfg.posterior);
      auto e_best = likelihood::gaussian_elbo(decoder, x, best, cfg.elbo_nodes);
      // The best Gaussian found: the optimum, or a start where the optimizer's rule misled it.
      auto e_opt = torch::maximum(e_best, torch::maximum(e_enc, e_mom));
      auto log_px = exact.log_px.slice(0, 0, g);
      auto amortization = e_opt - e_enc, approximation = log_px - e_opt;
      save("elbo_optimal", e_opt);
      save("amortization_gap", amortization);
      save("approximation_gap", approximation);
      j["gaps"] = {{"images", g},
                   {"log_px", mean_of(log_px)},
                   {"elbo_encoder", mean_of(e_enc)},
                   {"elbo_optimal", mean_of(e_opt)},
                   {"amortization_gap", analysis::distribution(amortization, kBins)},
                   {"approximation_gap", analysis::distribution(approximation, kBins)},
                   {"total_gap", mean_of(log_px - e_enc)},
                   {"negative_approximation_gaps", approximation.lt(0).sum().item<int64_t>()}};
    }
    j["seconds"]["gaps"] = seconds_since(t0);
  }

  // The log joint at each space's point, and at the MAP point.
  t0 = std::chrono::steady_clock::now();
  add_mt(in, encoder_q);
  if (cfg.map) in.spaces.emplace_back("MAP", map_points(decoder, in.images, exact));
  score_spaces(decoder, in, exact.log_px, cfg, dir, j);
  j["seconds"]["log_joint"] = seconds_since(t0);
  return j;
}
}  // namespace

void LikelihoodConfig::check() const {
  quadrature.check();
  posterior.check();
  require(elbo_nodes >= 1 && elbo_nodes <= 64,
          fmt::format("--elbo-nodes must be 1..64, got {}", elbo_nodes));
  require(gap_images >= 0, fmt::format("--gap-images must be >= 0, got {}", gap_images));
  require(batch > 0, fmt::format("--batch-size must be positive, got {}", batch));
  require(iwae_samples >= 1 && iwae_samples <= 100000,
          fmt::format("--iwae-samples must be 1..100000, got {}", iwae_samples));
  if (test_images != "none") data::parse_range(test_images);  // throws on a bad range
}

nlohmann::json LikelihoodConfig::to_json() const {
  return {{"points", quadrature.points},       {"radius", quadrature.radius},
          {"spacing", quadrature.spacing()},   {"elbo_nodes", elbo_nodes},
          {"gap_images", gap_images},          {"posterior_steps", posterior.steps},
          {"posterior_lr", posterior.learning_rate}, {"posterior_nodes", posterior.nodes},
          {"test_images", test_images},        {"map", map},
          {"iwae_samples", iwae_samples},      {"seed", seed}};
}

nlohmann::json likelihood_section(const run::RunFolder& run, const LikelihoodConfig& cfg,
                                  std::vector<std::string> spaces) {
  cfg.check();
  const auto model = open_run_model(run);
  const int64_t L = model.latent_dim();
  if (L > 3)
    spdlog::info("likelihood: L = {} is too wide for the exact quadrature; importance-weighted "
                 "bounds with {} samples instead",
                 L, cfg.iwae_samples);
  const auto dataset = run.load_images();
  require_model_fits(model, dataset, "the run's images");
  if (spaces.empty()) {
    if (run.has_latents("MT")) spaces.push_back("MT");
    for (const auto& m : run.methods()) spaces.push_back(m);
    for (const char* s : {"MB", "MA"})
      if (run.has_latents(s)) spaces.push_back(s);
  }
  const auto images_record = run.images();
  std::vector<SetInput> sets;
  SetInput train{"train", fmt::format("{} {}", images_record.name, images_record.range.str()),
                 dataset.images, {}};
  for (const auto& s : spaces) train.spaces.emplace_back(s, run.read_latents(s));
  sets.push_back(std::move(train));

  nlohmann::json out;
  out["config"] = cfg.to_json();
  out["latent_dim"] = L;
  out["left_out"] = nlohmann::json::object();
  if (cfg.test_images == "none") {
    out["left_out"]["test"] = "--test-images none";
  } else if (images_record.spec.split != "train") {
    out["left_out"]["test"] = fmt::format("the run's images are the '{}' split, not training "
                                          "images", images_record.spec.split);
  } else {
    data::DataSpec spec = images_record.spec;
    spec.split = "test";
    try {
      const auto range = data::parse_range(cfg.test_images);
      auto test = data::load_dataset(spec, range);
      sets.push_back({"test", fmt::format("{} {}", test.name, cfg.test_images), test.images, {}});
    } catch (const UserError& e) {
      out["left_out"]["test"] = fmt::format("no test images: {}", e.what());
      spdlog::warn("likelihood: test set left out: {}", e.what());
    }
  }
  const fs::path dir = run.path() / "likelihood";
  fs::create_directories(dir);
  out["sets"] = nlohmann::json::object();
  for (auto& set : sets) {
    if (L <= 3)
      spdlog::info("likelihood of the {} images ({}): grid of {}^{} points, h = {:.4g}", set.name,
                   set.images.size(0), cfg.quadrature.points, L, cfg.quadrature.spacing());
    const std::string name = set.name;
    out["sets"][name] = score_set(model, std::move(set), cfg, dir);
  }
  return out;
}

nlohmann::json likelihood_run(run::RunFolder& run, const LikelihoodConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json out;
  {
    const auto staging = run.stage();
    out = likelihood_section(run, config);
    out["seconds"] = seconds_since(start);
    util::write_file_atomic(run.path() / "likelihood.json", out.dump(2) + "\n");
  }
  run.save_manifest();
  analysis::print_likelihood(out);
  return out;
}

}  // namespace preimage::pipeline
