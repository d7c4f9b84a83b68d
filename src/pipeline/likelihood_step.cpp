#include "pipeline/likelihood_step.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "analysis/latent_stats.h"
#include "analysis/tables.h"
#include "cluster/farm.h"
#include "cluster/world.h"
#include "data/tensor_io.h"
#include "likelihood/importance.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/run_model.h"
#include "run/partial_inversion.h"
#include "solvers/chunk_messages.h"
#include "solvers/invert.h"
#include "solvers/settings.h"
#include "util/atomic_file.h"
#include "util/blas_threads.h"
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

void save_array(const fs::path& dir, const std::string& set, const std::string& what,
                const torch::Tensor& t) {
  data::write_npy_tensor(dir / fmt::format("{}_{}.npy", set, what), t.cpu());
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

using Spaces = std::vector<std::pair<std::string, torch::Tensor>>;
using Arrays = solvers::NamedTensors;  // per-image arrays by name, and "seconds/<phase>"
constexpr const char* kSeconds = "seconds/";
constexpr const char* kLogJoint = "log_joint_";

void add_mt(Spaces& spaces, const std::optional<likelihood::GaussianPosterior>& q) {
  if (q && std::none_of(spaces.begin(), spaces.end(),
                        [](const auto& s) { return s.first == "MT"; }))
    spaces.insert(spaces.begin(), {"MT", q->mean});
}

torch::Tensor seconds_array(std::chrono::steady_clock::time_point t0) {
  return torch::tensor({seconds_since(t0)}, torch::kFloat64);
}

// A chunk of a set: its images, each space's latents at them, how many of its first images get
// the gaps (the set's first gap_images), and the seed of its importance samples.
struct ChunkInput {
  torch::Tensor images;
  Spaces spaces;
  int64_t gap_images = 0;
  uint64_t seed = 0;
};

// Everything per image of one chunk (L <= 3: exact; beyond, the importance-weighted bound), as
// arrays: what score_set saves and sums up, with each phase's seconds.
Arrays score_chunk(const decoders::GenerativeModel& model, ChunkInput in,
                   const LikelihoodConfig& cfg, const std::string& what) {
  const auto& decoder = *model.decoder;
  Arrays a;
  const auto q = encoder_posterior(model, in.images, cfg.batch);
  auto log_joints = [&] {
    for (const auto& [name, latents] : in.spaces)
      a[kLogJoint + name] = likelihood::log_joint(decoder, in.images, latents, cfg.batch);
  };
  auto t0 = std::chrono::steady_clock::now();
  if (model.latent_dim() > 3) {
    if (!q) return a;
    const auto iw =
        likelihood::importance_weighted(decoder, in.images, *q, cfg.iwae_samples, in.seed);
    a["iwae_bound"] = iw.bound;
    a["elbo_encoder"] = iw.elbo;
    a["seconds/iwae"] = seconds_array(t0);
    add_mt(in.spaces, q);
    log_joints();
    return a;
  }
  const auto exact = likelihood::exact_log_likelihood(decoder, in.images, cfg.quadrature, what);
  a["log_px"] = exact.log_px;
  a["log_px_coarse"] = exact.log_px_coarse;
  a["edge_mass"] = exact.edge_mass;
  a["seconds/quadrature"] = seconds_array(t0);
  if (q) {
    t0 = std::chrono::steady_clock::now();
    auto elbo_encoder = likelihood::gaussian_elbo(decoder, in.images, *q, cfg.elbo_nodes);
    a["elbo_encoder"] = elbo_encoder;
    a["seconds/elbo_encoder"] = seconds_array(t0);

    t0 = std::chrono::steady_clock::now();
    const int64_t g = in.gap_images;
    if (g > 0) {
      auto x = in.images.slice(0, 0, g);
      likelihood::GaussianPosterior enc{q->mean.slice(0, 0, g), q->logvar.slice(0, 0, g)};
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
      a["elbo_optimal"] = e_opt;
      a["amortization_gap"] = e_opt - e_enc;
      a["approximation_gap"] = exact.log_px.slice(0, 0, g) - e_opt;
    }
    a["seconds/gaps"] = seconds_array(t0);
  }
  // The log joint at each space's point, and at the MAP point.
  t0 = std::chrono::steady_clock::now();
  add_mt(in.spaces, q);
  if (cfg.map) in.spaces.emplace_back("MAP", map_points(decoder, in.images, exact));
  log_joints();
  a["seconds/log_joint"] = seconds_array(t0);
  return a;
}

// The arrays of a set's chunks as one: per-image arrays end to end, seconds added.
Arrays join_chunks(const std::vector<Arrays>& chunks) {
  Arrays out;
  std::map<std::string, std::vector<torch::Tensor>> parts;
  for (const auto& c : chunks)
    for (const auto& [key, t] : c) parts[key].push_back(t.cpu());
  for (auto& [key, ts] : parts)
    out[key] = key.rfind(kSeconds, 0) == 0 ? torch::stack(ts).sum(0) : torch::cat(ts);
  return out;
}

double seconds_of(const Arrays& a, const std::string& phase) {
  return a.at(kSeconds + phase).item<double>();
}

// The set's figures from its arrays (`spaces`: the names scored, in order), the arrays saved to
// `dir` as <set>_<name>.npy.
nlohmann::json summarize_set(const std::string& set, const std::string& source, int64_t n,
                             const Arrays& a, std::vector<std::string> spaces, int64_t L,
                             const LikelihoodConfig& cfg, const fs::path& dir) {
  for (const auto& [key, t] : a)
    if (key != "log_px_coarse" && key.rfind(kSeconds, 0) != 0) save_array(dir, set, key, t);
  const bool has_q = a.count("elbo_encoder") > 0;
  if (has_q && std::find(spaces.begin(), spaces.end(), "MT") == spaces.end())
    spaces.insert(spaces.begin(), "MT");
  nlohmann::json j;
  j["images"] = n;
  j["source"] = source;
  auto score_spaces = [&](const torch::Tensor& log_px) {
    j["spaces"] = nlohmann::json::array();
    for (const auto& name : spaces) {
      const auto& lj = a.at(kLogJoint + name);
      j["spaces"].push_back(name);
      j["log_joint"][name] = {{"mean", mean_of(lj)},
                              {"sem", lj.std().item<double>() / std::sqrt(double(n))},
                              {"below_log_px", mean_of(log_px - lj)}};
    }
  };
  if (L > 3) {
    j["estimate"] = "iwae";
    j["iwae_samples"] = cfg.iwae_samples;
    if (!has_q) {
      j["left_out"] = "L > 3 and the model's encoder gives no posterior to sample: no estimate";
      return j;
    }
    j["log_px"] = analysis::distribution(a.at("iwae_bound"), kBins);
    j["elbo_encoder"] = analysis::distribution(a.at("elbo_encoder"), kBins);
    j["seconds"]["iwae"] = seconds_of(a, "iwae");
    score_spaces(a.at("iwae_bound"));
    return j;
  }
  j["estimate"] = "exact";
  const auto& log_px = a.at("log_px");
  j["log_px"] = analysis::distribution(log_px, kBins);
  const auto change = log_px - a.at("log_px_coarse");
  j["check"] = {{"spacing", cfg.quadrature.spacing()},
                {"coarse_spacing", 2 * cfg.quadrature.spacing()},
                {"mean_coarse", mean_of(a.at("log_px_coarse"))},
                {"mean_change", mean_of(change)},
                {"max_abs_change", change.abs().max().item<double>()},
                {"converged", std::abs(mean_of(change)) < kConverged}};
  j["edge_images"] = a.at("edge_mass").gt(kEdgeMass).sum().item<int64_t>();
  j["seconds"]["quadrature"] = seconds_of(a, "quadrature");
  if (!has_q) {
    j["left_out"] = "the model's encoder gives no log-variance (or there is no encoder): no ELBO";
  } else {
    j["elbo_encoder"] = analysis::distribution(a.at("elbo_encoder"), kBins);
    j["seconds"]["elbo_encoder"] = seconds_of(a, "elbo_encoder");
    if (a.count("elbo_optimal")) {
      const auto& e_opt = a.at("elbo_optimal");
      const int64_t g = e_opt.size(0);
      const auto& approximation = a.at("approximation_gap");
      const auto gap_log_px = log_px.slice(0, 0, g);
      const auto e_enc = a.at("elbo_encoder").slice(0, 0, g);
      j["gaps"] = {
          {"images", g},
          {"log_px", mean_of(gap_log_px)},
          {"elbo_encoder", mean_of(e_enc)},
          {"elbo_optimal", mean_of(e_opt)},
          {"amortization_gap", analysis::distribution(a.at("amortization_gap"), kBins)},
          {"approximation_gap", analysis::distribution(approximation, kBins)},
          {"total_gap", mean_of(gap_log_px - e_enc)},
          {"negative_approximation_gaps", approximation.lt(0).sum().item<int64_t>()}};
    }
    j["seconds"]["gaps"] = seconds_of(a, "gaps");
  }
  if (cfg.map) spaces.push_back("MAP");
  score_spaces(log_px);
  j["seconds"]["log_joint"] = seconds_of(a, "log_joint");
  return j;
}

// The settings a worker rank needs (open_likelihood_job), all of them.
nlohmann::json job_settings(const LikelihoodConfig& c) {
  return {{"points", c.quadrature.points},
          {"radius", c.quadrature.radius},
          {"quadrature_batch", c.quadrature.batch},
          {"gaussian", c.quadrature.observation.kind == likelihood::Observation::kGaussian},
          {"sigma", c.quadrature.observation.sigma},
          {"posterior", {c.posterior.steps, c.posterior.learning_rate, c.posterior.nodes,
                         c.posterior.batch}},
          {"elbo_nodes", c.elbo_nodes},
          {"map", c.map},
          {"iwae_samples", c.iwae_samples},
          {"batch", c.batch}};
}

LikelihoodConfig settings_of(const nlohmann::json& j) {
  LikelihoodConfig c;
  c.quadrature.points = j.at("points");
  c.quadrature.radius = j.at("radius");
  c.quadrature.batch = j.at("quadrature_batch");
  if (j.at("gaussian").get<bool>())
    c.quadrature.observation.kind = likelihood::Observation::kGaussian;
  c.quadrature.observation.sigma = j.at("sigma");
  const auto& p = j.at("posterior");
  c.posterior = {p.at(0), p.at(1), p.at(2), p.at(3)};
  c.elbo_nodes = j.at("elbo_nodes");
  c.map = j.at("map");
  c.iwae_samples = j.at("iwae_samples");
  c.batch = j.at("batch");
  return c;
}

struct SetInput {
  std::string name;  // "train" (the run's images) or "test"
  std::string source;  // e.g. "mnist/train 0:5000"
  torch::Tensor images;
  Spaces spaces;  // latents of these images
};

constexpr const char* kSpace = "space/";

// One set: in one piece (no --chunk, one process), or in chunks of images, each with a
// single-threaded BLAS, on this process's BLAS threads or shared by the ranks of an MPI job
// (which open `model_header`): the same bytes either way for the same chunks. Each chunk is
// recorded under RUN/partial/likelihood_<set>/ as it is scored: a killed command resumes.
nlohmann::json score_set(const run::RunFolder& run, const decoders::GenerativeModel& model,
                         const nlohmann::json& model_header, const SetInput& in,
                         const LikelihoodConfig& cfg, const fs::path& dir) {
  const int64_t n = in.images.size(0);
  const auto what = fmt::format("the {} images", in.name);
  const auto& world = cluster::World::get();
  std::vector<std::string> names;
  for (const auto& s : in.spaces) names.push_back(s.first);
  auto chunk_input = [&](int64_t b0, int64_t b1) {
    ChunkInput c;
    c.images = in.images.slice(0, b0, b1);
    for (const auto& [name, latents] : in.spaces)
      c.spaces.emplace_back(name, latents.slice(0, b0, b1));
    c.gap_images = std::clamp<int64_t>(cfg.gap_images - b0, 0, b1 - b0);
    c.seed = cfg.seed + static_cast<uint64_t>(b0);  // the first chunk's is the set's
    return c;
  };
  if (cfg.chunk == 0 && !world.sharing())
    return summarize_set(in.name, in.source, n, score_chunk(model, chunk_input(0, n), cfg, what),
                         names, model.latent_dim(), cfg, dir);

  const int64_t size =
      cfg.chunk > 0 ? cfg.chunk : std::max<int64_t>((n + world.size() - 1) / world.size(), 1);
  std::vector<int64_t> split;
  for (int64_t b = 0; b < n; b += size) split.push_back(b);
  split.push_back(n);
  // What a chunk's arrays depend on; a resume keeps the split it began with.
  nlohmann::json identity = {{"format", 1},
                             {"versions", run::version_info()},
                             {"settings", job_settings(cfg)},
                             {"gap_images", cfg.gap_images},
                             {"seed", cfg.seed},
                             {"model", model_identity(model)},
                             {"images", run::tensor_digest(in.images)}};
  for (const auto& [name, latents] : in.spaces)
    identity["spaces"][name] = run::tensor_digest(latents);
  const run::PartialInversion partial(run.path(), "likelihood_" + in.name, identity, split);
  const auto& bounds = partial.bounds();
  std::vector<Arrays> parts(bounds.size() - 1);
  std::vector<int64_t> chunks;
  auto solved = partial.solved_arrays(model.latent_dim() > 3 ? std::vector<std::string>{}
                                                              : std::vector<std::string>{"log_px"});
  for (int64_t c = 0; c + 1 < static_cast<int64_t>(bounds.size()); ++c) {
    if (auto it = solved.find(c); it != solved.end())
      parts[c] = std::move(it->second);
    else
      chunks.push_back(c);
  }
  if (!solved.empty())
    spdlog::info("resuming: {} of the {} chunks of the {} images were scored before (from {})",
                 solved.size(), parts.size(), in.name, partial.folder().string());
  cluster::FarmWork work;
  if (world.sharing())
    work.job = nlohmann::json{{"command", "likelihood"},
                              {"set", in.name},
                              {"settings", job_settings(cfg)},
                              {"model", model_header}}
                   .dump();
  work.chunks = chunks;
  work.pack = [&](int64_t c) {
    const auto input = chunk_input(bounds[c], bounds[c + 1]);
    solvers::NamedTensors m{{"images", input.images},
                            {"gap_images", torch::tensor({input.gap_images})},
                            {"seed", torch::tensor({static_cast<int64_t>(input.seed)})}};
    for (const auto& [name, latents] : input.spaces) m[kSpace + name] = latents;
    return solvers::pack_tensors(m);
  };
  work.solve_here = [&](int64_t c) {
    parts[c] = score_chunk(model, chunk_input(bounds[c], bounds[c + 1]), cfg, what);
  };
  work.solved_here = [&](int64_t c) { partial.record_arrays(c, parts[c]); };
  work.solved_remotely = [&](int64_t c, const std::string& bytes) {
    parts[c] = solvers::unpack_tensors(bytes, "likelihood arrays");
    for (const auto& [key, t] : parts[c])
      require(key.rfind(kSeconds, 0) == 0 || key == "elbo_optimal" ||
                  key == "amortization_gap" || key == "approximation_gap" ||
                  (t.dim() == 1 && t.size(0) == bounds[c + 1] - bounds[c]),
              fmt::format("a rank returned '{}' of shape {} for {} images", key,
                          fmt::join(t.sizes(), "x"), bounds[c + 1] - bounds[c]));
    partial.record_arrays(c, parts[c]);
  };
  if (!chunks.empty()) {
    const auto farm = cluster::share(work);
    if (world.sharing())
      spdlog::info("likelihood of the {} images: {} chunks on rank 0 and {} on the other {} ranks",
                   in.name, farm.chunks_here, farm.chunks_remote, world.size() - 1);
  }
  return summarize_set(in.name, in.source, n, join_chunks(parts), names, model.latent_dim(), cfg,
                       dir);
}
}  // namespace

void LikelihoodConfig::check() const {
  quadrature.check();
  posterior.check();
  require(elbo_nodes >= 1 && elbo_nodes <= 64,
          fmt::format("--elbo-nodes must be 1..64, got {}", elbo_nodes));
  require(gap_images >= 0, fmt::format("--gap-images must be >= 0, got {}", gap_images));
  require(batch > 0, fmt::format("--batch-size must be positive, got {}", batch));
  require(chunk >= 0, fmt::format("--chunk must be >= 0, got {}", chunk));
  require(iwae_samples >= 1 && iwae_samples <= 100000,
          fmt::format("--iwae-samples must be 1..100000, got {}", iwae_samples));
  if (test_images != "none" && test_images != "auto") data::parse_range(test_images);  // throws on a bad range
}

nlohmann::json LikelihoodConfig::to_json() const {
  return {{"points", quadrature.points},       {"radius", quadrature.radius},
          {"spacing", quadrature.spacing()},   {"elbo_nodes", elbo_nodes},
          {"gap_images", gap_images},          {"posterior_steps", posterior.steps},
          {"posterior_lr", posterior.learning_rate}, {"posterior_nodes", posterior.nodes},
          {"test_images", test_images},        {"map", map},
          {"iwae_samples", iwae_samples},      {"seed", seed},
          {"chunk", chunk}};
}

nlohmann::json likelihood_section(const run::RunFolder& run, const LikelihoodConfig& cfg,
                                  std::vector<std::string> spaces) {
  cfg.check();
  const auto model = open_run_model(run);
  // What the other ranks of an MPI job open (cluster_jobs.h).
  const auto model_header = cluster::World::get().sharing()
                                ? model_job(run_model_source(run), model)
                                : nlohmann::json();
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

  // "auto": as many held-out images as the run has, at most 1000 (test 1000:2000 for a run of
  // 1000 or more; training kept its best epoch on test 0:1000), so the section costs in
  // proportion to the run.
  const std::string test_images =
      cfg.test_images == "auto"
          ? fmt::format("1000:{}", 1000 + std::min<int64_t>(dataset.size(), 1000))
          : cfg.test_images;
  nlohmann::json out;
  out["config"] = cfg.to_json();
  out["config"]["test_images"] = test_images;
  out["latent_dim"] = L;
  out["left_out"] = nlohmann::json::object();
  if (test_images == "none") {
    out["left_out"]["test"] = "--test-images none";
  } else if (images_record.spec.split != "train") {
    out["left_out"]["test"] = fmt::format("the run's images are the '{}' split, not training "
                                          "images", images_record.spec.split);
  } else {
    data::DataSpec spec = images_record.spec;
    spec.split = "test";
    try {
      const auto range = data::parse_range(test_images);
      auto test = data::load_dataset(spec, range);
      sets.push_back({"test", fmt::format("{} {}", test.name, test_images), test.images, {}});
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
    out["sets"][name] = score_set(run, model, model_header, set, cfg, dir);
  }
  return out;
}

cluster::ChunkSolver open_likelihood_job(const nlohmann::json& job) {
  const auto model = std::make_shared<decoders::GenerativeModel>(open_job_model(job.at("model")));
  const auto cfg = settings_of(job.at("settings"));
  const auto what = fmt::format("the {} images", job.at("set").get<std::string>());
  return [model, cfg, what](const std::string& bytes) {
    const auto m = solvers::unpack_tensors(bytes, "a likelihood chunk");
    ChunkInput in;
    in.images = solvers::tensor_at(m, "images", "a likelihood chunk");
    require(in.images.dim() == 2 && in.images.size(1) == model->pixels(),
            "a likelihood chunk's images do not fit this rank's model");
    in.gap_images = solvers::tensor_at(m, "gap_images", "a likelihood chunk").item<int64_t>();
    in.seed = static_cast<uint64_t>(
        solvers::tensor_at(m, "seed", "a likelihood chunk").item<int64_t>());
    for (const auto& [key, t] : m)
      if (key.rfind(kSpace, 0) == 0) in.spaces.emplace_back(key.substr(std::strlen(kSpace)), t);
    util::ScopedBlasThreads single_threaded_blas(1);
    return solvers::pack_tensors(score_chunk(*model, std::move(in), cfg, what));
  };
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
  remove_likelihood_records(run);
  analysis::print_likelihood(out);
  return out;
}

void remove_likelihood_records(const run::RunFolder& run) {
  for (const char* set : {"train", "test"})
    run::PartialInversion::remove_folder(run.path(), std::string("likelihood_") + set);
}

}  // namespace preimage::pipeline
