#include "pipeline/certify_step.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "certify/loss_bounds.h"
#include "cluster/world.h"
#include "data/tensor_io.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/run_model.h"
#include "run/partial_inversion.h"
#include "solvers/chunk_messages.h"
#include "solvers/loss.h"
#include "util/blas_threads.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"

namespace preimage::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr double kNotableImprovement = 1e-3;  // 0.1%: the images listed against the method
constexpr int64_t kListed = 50;               // of them, the worst first, in the summary

fs::path summary_path(const run::RunFolder& run, const std::string& method) {
  return run.path() / "losses" / (method + "_certificate.json");
}

// A block's certificate, stored for a resume as a Solution (run/partial_inversion.h): latents =
// the optimum's point, initial_loss = the method's loss, final_loss = the optimum, iterations =
// cells, stop_reason = certified, left_box = at the edge; lower_bound and improved as
// diagnostics.
solvers::Solution as_solution(const certify::Certificate& c, const torch::Tensor& method_loss) {
  solvers::Solution s;
  s.latents = c.point;
  s.initial_loss = method_loss;
  s.final_loss = c.incumbent;
  s.iterations = c.cells;
  s.stop_reason = c.certified.to(torch::kInt64);
  s.left_box = c.at_edge;
  s.diagnostics["lower_bound"] = c.lower_bound;
  s.diagnostics["improved"] = c.improved;
  return s;
}

// Cells bounded, over the blocks of one call (rank 0's thread and its main thread add to them).
struct BlockCounts {
  std::atomic<int64_t> distinct{0}, network{0}, local{0};
};
constexpr const char* kDistinct = "_distinct_cells";  // a worker's counts, in its message
constexpr const char* kNetwork = "_network_cells";
constexpr const char* kLocal = "_local_cells";

// One block's certificate as a Solution (as_solution), its counts added to `counts`.
solvers::Solution certify_block(const certify::DenseNetwork& network, solvers::LossKind kind,
                                double prior, const certify::CertifyOptions& options,
                                const torch::Tensor& targets, const torch::Tensor& points,
                                const torch::Tensor& method_loss, BlockCounts& counts) {
  const auto start = std::chrono::steady_clock::now();
  const auto cert = certify::certify(
      network, kind, prior, targets, {}, points, options,
      [&](int64_t level, int64_t cells, int64_t open) {
        spdlog::debug("level {}: {} cells so far, {} images open, {:.1f} s", level, cells, open,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                          .count());
      });
  counts.distinct += cert.distinct_cells;
  counts.network += cert.network_cells;
  counts.local += cert.local_cells;
  return as_solution(cert, method_loss);
}

// A worker's block: its counts moved from the message's diagnostics into `counts`.
solvers::Solution take_counts(solvers::Solution s, BlockCounts& counts) {
  for (auto [key, into] :
       {std::pair{kDistinct, &counts.distinct}, std::pair{kNetwork, &counts.network},
        std::pair{kLocal, &counts.local}}) {
    const auto it = s.diagnostics.find(key);
    require(it != s.diagnostics.end(), "a rank's certificate lacks its counts of cells");
    *into += it->second.item<int64_t>();
    s.diagnostics.erase(it);
  }
  return s;
}

nlohmann::json options_json(const certify::CertifyOptions& o) {
  return {{"radius", o.radius},         {"tolerance", o.tolerance},
          {"initial_cells", o.initial_cells}, {"symbols", o.symbols},
          {"local_neurons", o.local_neurons},
          {"max_depth", o.max_depth},   {"max_cells", o.max_cells},
          {"cell_chunk", o.cell_chunk}};
}

certify::CertifyOptions options_of(const nlohmann::json& j) {
  certify::CertifyOptions o;
  o.radius = j.at("radius");
  o.tolerance = j.at("tolerance");
  o.initial_cells = j.at("initial_cells");
  o.symbols = j.at("symbols");
  o.local_neurons = j.at("local_neurons");
  o.max_depth = j.at("max_depth");
  o.max_cells = j.at("max_cells");
  o.cell_chunk = j.at("cell_chunk");
  return o;
}

double quantile_of(const torch::Tensor& t, double q) {
  return torch::quantile(t.to(torch::kFloat64), q).item<double>();
}

}  // namespace

int64_t CertifyConfig::automatic_block(int64_t images, int64_t workers) {
  const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  workers = std::max<int64_t>(workers, 1);
  const int64_t blocks = ceil_div(ceil_div(images, kDefaultBlock), workers) * workers;
  return std::max<int64_t>(ceil_div(images, std::max<int64_t>(blocks, 1)), 1);
}

void CertifyConfig::check() const {
  const auto& o = options;
  require(o.radius > 0, fmt::format("--radius must be positive, got {}", o.radius));
  require(o.tolerance > 0 && o.tolerance < 1,
          fmt::format("--certify-tol must be in (0, 1), got {}", o.tolerance));
  require(o.initial_cells >= 1 && o.initial_cells <= 1024,
          fmt::format("--initial-cells must be 1..1024, got {}", o.initial_cells));
  require(o.symbols >= 0 && o.symbols <= 1024,
          fmt::format("--symbols must be 0..1024, got {}", o.symbols));
  require(o.local_neurons >= 0 && o.local_neurons <= 256,
          fmt::format("--local-neurons must be 0..256, got {}", o.local_neurons));
  require(o.max_cells >= 1, fmt::format("--max-cells must be positive, got {}", o.max_cells));
  require(o.max_depth >= 0 && o.max_depth <= 40,
          fmt::format("--max-depth must be 0..40, got {}", o.max_depth));
  require(block >= 0, fmt::format("--block must be 0 (automatic) or positive, got {}", block));
}

nlohmann::json CertifyConfig::to_json() const {
  nlohmann::json j;
  j["radius"] = options.radius;
  j["tolerance"] = options.tolerance;
  j["initial_cells"] = options.initial_cells;
  j["symbols"] = options.symbols;
  j["local_neurons"] = options.local_neurons;
  j["max_cells"] = options.max_cells;
  j["max_depth"] = options.max_depth;
  j["block"] = block;
  return j;
}

nlohmann::json certify_run(run::RunFolder& run, const std::string& method,
                           const CertifyConfig& config) {
  config.check();
  run.require_write();
  const auto record = run.method(method);  // UserError when the method has not run
  const auto model = open_run_model(run);
  const auto network = certify::dense_network(*model.decoder);
  const auto ds = run.load_images();
  require_model_fits(model, ds, "the run's images");
  const int64_t n = ds.size(), L = network.latent_dim();
  const std::string record_loss = record.loss();
  const auto kind = solvers::parse_loss_kind(record_loss);
  const double prior = record.settings.value("prior_weight", 0.0);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto targets = ds.images.to(f64);
  const auto points = run.read_latents(method).to(f64);
  require(points.dim() == 2 && points.size(0) == n && points.size(1) == L,
          fmt::format("{}: latents/{}.npy is {} for {} images of latent dimension {}",
                      run.path().string(), method, fmt::join(points.sizes(), "x"), n, L));
  const auto method_loss =
      certify::loss_at(kind, prior, network.forward(points), targets, {}, points);

  std::vector<int64_t> bounds;
  // The workers solving blocks at once: this process's, or the ranks of an MPI job.
  const auto& world = cluster::World::get();
  const int64_t workers =
      world.sharing() ? world.size() : std::max<int64_t>(util::blas_threads(), 1);
  const int64_t block =
      config.block > 0 ? config.block : CertifyConfig::automatic_block(n, workers);
  for (int64_t b = 0; b < n; b += block) bounds.push_back(b);
  bounds.push_back(n);
  nlohmann::json identity;
  identity["format"] = 1;
  identity["versions"] = run::version_info();
  identity["method"] = method;
  identity["loss"] = record.loss();
  identity["prior_weight"] = prior;
  identity["config"] = config.to_json();
  identity["model"] = model_identity(model);
  identity["targets"] = run::tensor_digest(targets);
  identity["points"] = run::tensor_digest(points);
  const run::PartialInversion partial(run.path(), "certify_" + method, identity, bounds);
  auto solved = partial.solved(torch::kCPU);
  if (!solved.empty())
    spdlog::info("resuming: {} of the {} blocks were certified before (from {})", solved.size(),
                 partial.bounds().size() - 1, partial.folder().string());
  spdlog::info("certifying {}'s {} images ({} loss{}) over [-{}, {}]^{} to {:g} relative, in "
               "blocks of {}",
               method, n, record.loss(), prior > 0 ? fmt::format(", prior {}", prior) : "",
               config.options.radius, config.options.radius, L, config.options.tolerance,
               block);

  const auto t0 = std::chrono::steady_clock::now();
  util::Progress progress("certify", n, "img");
  const auto& split = partial.bounds();
  std::vector<solvers::Solution> parts(split.size() - 1);
  std::vector<int64_t> todo;
  for (size_t k = 0; k + 1 < split.size(); ++k) {
    if (auto it = solved.find(static_cast<int64_t>(k)); it != solved.end()) {
      parts[k] = std::move(it->second);
      progress.advance(split[k + 1] - split[k]);
    } else {
      todo.push_back(static_cast<int64_t>(k));
    }
  }
  BlockCounts counts;
  const auto solve = [&](int64_t k) {
    const int64_t b0 = split[k], b1 = split[k + 1];
    parts[k] = certify_block(network, kind, prior, config.options, targets.slice(0, b0, b1),
                             points.slice(0, b0, b1), method_loss.slice(0, b0, b1), counts);
  };
  const auto keep = [&](int64_t k) {
    partial.record(k, parts[k]);
    progress.advance(split[k + 1] - split[k]);
  };
  cluster::FarmWork work;
  if (world.sharing())
    work.job = nlohmann::json{{"command", "certify"},
                              {"model", model_job(run_model_source(run), model)},
                              {"loss", record_loss},
                              {"prior_weight", prior},
                              {"options", options_json(config.options)}}
                   .dump();
  work.chunks = todo;
  work.pack = [&](int64_t k) {
    solvers::ChunkMessage m;
    m.targets = targets.slice(0, split[k], split[k + 1]);
    m.start = points.slice(0, split[k], split[k + 1]);
    return solvers::pack_chunk(m);
  };
  work.solve_here = solve;
  work.solved_here = keep;
  work.solved_remotely = [&](int64_t k, const std::string& bytes) {
    parts[k] = take_counts(solvers::unpack_solution(bytes, torch::kCPU), counts);
    parts[k].initial_loss = method_loss.slice(0, split[k], split[k + 1]);
    keep(k);
  };
  if (!todo.empty()) {
    const auto farm = cluster::share(work, workers);
    if (world.sharing())
      spdlog::info("{} blocks certified on rank 0 and {} on the other {} ranks", farm.chunks_here,
                   farm.chunks_remote, world.size() - 1);
  }
  const int64_t distinct = counts.distinct, network_cells = counts.network,
                local_cells = counts.local;
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto all = solvers::Solution::concat(parts);
  const auto lower = all.diagnostics.at("lower_bound"), optimum = all.final_loss;
  const auto certified = all.stop_reason.to(torch::kBool);
  const auto gap = (optimum - lower).clamp_min(0) / optimum.abs().clamp_min(1);
  const auto below = (method_loss - optimum) / method_loss.abs().clamp_min(1);

  nlohmann::json j;
  j["method"] = method;
  j["loss"] = record.loss();
  j["prior_weight"] = prior;
  j["config"] = config.to_json();
  j["config"]["block"] = partial.bounds().size() > 2 ? partial.bounds()[1] : n;  // as solved
  j["images"] = n;
  j["certified"] = certified.sum().item<int64_t>();
  j["share_certified"] = certified.to(torch::kFloat64).mean().item<double>();
  j["gap_quantiles"]["50%"] = quantile_of(gap, 0.5);
  j["gap_quantiles"]["90%"] = quantile_of(gap, 0.9);
  j["gap_quantiles"]["99%"] = quantile_of(gap, 0.99);
  j["gap_quantiles"]["max"] = gap.max().item<double>();
  j["cells_per_image"]["mean"] = all.iterations.to(torch::kFloat64).mean().item<double>();
  j["cells_per_image"]["max"] = all.iterations.max().item<int64_t>();
  j["distinct_cells_this_call"] = distinct;
  j["network_cells_this_call"] = network_cells;
  j["local_cells_this_call"] = local_cells;
  j["improved"] = all.diagnostics.at("improved").sum().item<int64_t>();
  j["at_edge"] = all.left_box.sum().item<int64_t>();
  j["seconds"] = seconds;
  j["resumed_blocks"] = solved.size();
  auto notable = (below > kNotableImprovement).nonzero().view({-1});
  const auto sorted = below.index_select(0, notable).sort(0, /*descending=*/true);
  const auto order = std::get<1>(sorted);
  j["below_method"]["threshold"] = kNotableImprovement;
  j["below_method"]["count"] = notable.size(0);
  j["below_method"]["images"] = nlohmann::json::array();
  for (int64_t i = 0; i < std::min<int64_t>(kListed, order.size(0)); ++i) {
    const int64_t at = notable[order[i].item<int64_t>()].item<int64_t>();
    nlohmann::json im;
    im["position"] = at;
    im["method_loss"] = method_loss[at].item<double>();
    im["optimum"] = optimum[at].item<double>();
    im["relative"] = below[at].item<double>();
    j["below_method"]["images"].push_back(im);
  }

  {
    const auto staging = run.stage();
    const fs::path dir = run.path() / "losses";
    std::vector<std::string> files;
    const auto save = [&](const std::string& what, const torch::Tensor& t) {
      const auto name = fmt::format("{}_{}.npy", method, what);
      data::write_npy_tensor(dir / name, t.contiguous());
      files.push_back("losses/" + name);
    };
    save("lower_bound", lower);
    save("optimum", optimum);
    save("optimum_latents", all.latents);
    save("gap", gap);
    save("certified", certified);
    save("improved", all.diagnostics.at("improved"));
    save("at_edge", all.left_box);
    save("cells", all.iterations);
    util::write_file_atomic(summary_path(run, method), j.dump(2) + "\n");
    files.push_back("losses/" + summary_path(run, method).filename().string());
    run.set_certificate(method, files, j);
  }
  run.save_manifest();
  partial.remove();
  return j;
}

bool has_certificate(const run::RunFolder& run, const std::string& method) {
  return fs::exists(summary_path(run, method));
}

nlohmann::json read_certificate(const run::RunFolder& run, const std::string& method) {
  const auto path = summary_path(run, method);
  auto j = nlohmann::json::parse(util::read_file(path), nullptr, false);
  require(j.is_object() && j.contains("share_certified"),
          fmt::format("{} is not a certificate summary (JSON with share_certified)",
                      path.string()),
          fmt::format("certify again: preimage certify RUN --method {}", method));
  return j;
}

void print_certificate(const nlohmann::json& j) {
  const auto& g = j["gap_quantiles"];
  std::printf(
      "\nCertificate of %s (%s loss): %lld of %lld images certified within %g (%.2f%%)\n"
      "  gap (relative) median %.3g, 90%% %.3g, 99%% %.3g, max %.3g\n"
      "  cells per image: mean %.0f, max %lld; %lld images improved on the method, %lld "
      "below it by more than 0.1%%; %lld optima on the box's border\n"
      "  cells bounded: %lld, of them %lld through the whole network and %lld through "
      "restricted ones\n"
      "  %.1f s\n",
      j["method"].get<std::string>().c_str(), j["loss"].get<std::string>().c_str(),
      static_cast<long long>(j["certified"].get<int64_t>()),
      static_cast<long long>(j["images"].get<int64_t>()),
      j["config"]["tolerance"].get<double>(), 100 * j["share_certified"].get<double>(),
      g["50%"].get<double>(), g["90%"].get<double>(), g["99%"].get<double>(),
      g["max"].get<double>(), j["cells_per_image"]["mean"].get<double>(),
      static_cast<long long>(j["cells_per_image"]["max"].get<int64_t>()),
      static_cast<long long>(j["improved"].get<int64_t>()),
      static_cast<long long>(j["below_method"]["count"].get<int64_t>()),
      static_cast<long long>(j["at_edge"].get<int64_t>()),
      static_cast<long long>(j.value("distinct_cells_this_call", int64_t{0})),
      static_cast<long long>(j.value("network_cells_this_call", int64_t{0})),
      static_cast<long long>(j.value("local_cells_this_call", int64_t{0})),
      j["seconds"].get<double>());
  for (const auto& im : j["below_method"]["images"])
    std::printf("  image %lld: method %.6g, certified optimum %.6g (%.3g%% lower)\n",
                static_cast<long long>(im["position"].get<int64_t>()),
                im["method_loss"].get<double>(), im["optimum"].get<double>(),
                100 * im["relative"].get<double>());
  std::fflush(stdout);
}

nlohmann::json certificates_section(const run::RunFolder& run) {
  auto out = nlohmann::json::object();
  for (const auto& method : run.methods()) {
    if (!has_certificate(run, method)) continue;
    const auto j = read_certificate(run, method);
    nlohmann::json row;
    for (const char* key : {"loss", "images", "certified", "share_certified", "gap_quantiles",
                            "cells_per_image", "improved", "at_edge", "seconds"})
      row[key] = j.at(key);
    row["tolerance"] = j.at("config").at("tolerance");
    row["radius"] = j.at("config").at("radius");
    row["below_method"] = j.at("below_method").at("count");
    out[method] = row;
  }
  return out;
}

void print_certificates_section(const nlohmann::json& section) {
  if (section.empty()) return;
  std::printf("\nCertificates (global optimum proven over the box; preimage certify)\n"
              "| method | loss | images | certified | median gap | optimum below the method "
              "by > 0.1%% | optimum on the border |\n|---|---|---|---|---|---|---|\n");
  for (const auto& [method, row] : section.items())
    std::printf("| %s | %s | %lld | %.2f%% | %.2g | %lld | %lld |\n", method.c_str(),
                row["loss"].get<std::string>().c_str(),
                static_cast<long long>(row["images"].get<int64_t>()),
                100 * row["share_certified"].get<double>(),
                row["gap_quantiles"]["50%"].get<double>(),
                static_cast<long long>(row["below_method"].get<int64_t>()),
                static_cast<long long>(row["at_edge"].get<int64_t>()));
  std::fflush(stdout);
}

CertifiedReference certified_reference(const run::RunFolder& run, int64_t begin, int64_t end) {
  CertifiedReference ref;
  const fs::path dir = run.path() / "losses";
  for (const auto& method : run.methods()) {
    if (!has_certificate(run, method)) continue;
    const auto j = read_certificate(run, method);
    if (j.value("loss", "") != "squared-error" || j.value("prior_weight", 0.0) != 0.0) continue;
    const auto optimum = data::read_npy_tensor(dir / (method + "_optimum.npy"));
    const auto certified = data::read_npy_tensor(dir / (method + "_certified.npy"));
    require(optimum.dim() == 1 && optimum.size(0) >= end && certified.sizes() == optimum.sizes(),
            fmt::format("{}: {}_optimum.npy and {}_certified.npy do not hold one value per image "
                        "of the run",
                        dir.string(), method, method),
            fmt::format("certify again: preimage certify {} --method {}", run.path().string(),
                        method));
    auto o = optimum.slice(0, begin, end).to(torch::kFloat64);
    auto c = certified.slice(0, begin, end).to(torch::kBool);
    if (!ref.optimum.defined()) {
      ref.optimum = o.clone();
      ref.certified = c.clone();
    } else {
      // A proof for either optimum holds for the lower (it is above the same lower bound).
      ref.certified = ref.certified.logical_or(c);
      ref.optimum = torch::minimum(ref.optimum, o);
    }
    ref.from.push_back(method);
  }
  return ref;
}

cluster::ChunkSolver open_certificate_job(const nlohmann::json& job) {
  const auto model = open_job_model(job.at("model"));
  auto network = std::make_shared<certify::DenseNetwork>(certify::dense_network(*model.decoder));
  const auto kind = solvers::parse_loss_kind(job.at("loss"));
  const double prior = job.at("prior_weight");
  const auto options = options_of(job.at("options"));
  return [network, kind, prior, options](const std::string& bytes) {
    const auto chunk = solvers::unpack_chunk(bytes);
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    const auto targets = chunk.targets.to(f64), points = chunk.start.to(f64);
    require(targets.dim() == 2 && targets.size(1) == network->pixels() && points.dim() == 2 &&
                points.size(0) == targets.size(0) && points.size(1) == network->latent_dim(),
            "a block's images or points do not fit this rank's model");
    BlockCounts counts;
    util::ScopedBlasThreads single_threaded_blas(1);
    // The method's loss is rank 0's to fill in.
    auto s = certify_block(*network, kind, prior, options, targets, points,
                           torch::zeros({targets.size(0)}, f64), counts);
    s.diagnostics[kDistinct] = torch::tensor({counts.distinct.load()});
    s.diagnostics[kNetwork] = torch::tensor({counts.network.load()});
    s.diagnostics[kLocal] = torch::tensor({counts.local.load()});
    return solvers::pack_solution(s);
  };
}

}  // namespace preimage::pipeline
