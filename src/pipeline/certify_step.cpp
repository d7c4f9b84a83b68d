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

// A part's certificate as named arrays: for the records of a resume and the messages of the
// ranks. Its counts ride along as one tensor (levels, distinct, network, local cells).
solvers::NamedTensors arrays_of(const certify::Certificate& c) {
  return {{"incumbent", c.incumbent},
          {"point", c.point},
          {"lower_bound", c.lower_bound},
          {"cells", c.cells},
          {"improved", c.improved},
          {"counts", torch::tensor({c.levels, c.distinct_cells, c.network_cells, c.local_cells},
                                   torch::kInt64)}};
}

// The certificate of named arrays (arrays_of) for `images` images of latent dimension `L`;
// UserError naming `what` when they are not one.
certify::Certificate certificate_of(const solvers::NamedTensors& a, int64_t images, int64_t L,
                                    const std::string& what) {
  certify::Certificate c;
  const auto at = [&](const char* key, torch::ScalarType type, std::vector<int64_t> shape) {
    const auto& t = solvers::tensor_at(a, key, what.c_str());
    require(t.scalar_type() == type && t.sizes().vec() == shape,
            fmt::format("{}: {} is not {} of {}", what, key, fmt::join(shape, "x"),
                        c10::toString(type)));
    return t;
  };
  c.incumbent = at("incumbent", torch::kFloat64, {images});
  c.point = at("point", torch::kFloat64, {images, L});
  c.lower_bound = at("lower_bound", torch::kFloat64, {images});
  c.cells = at("cells", torch::kInt64, {images});
  c.improved = at("improved", torch::kBool, {images});
  const auto counts = at("counts", torch::kInt64, {4});
  c.levels = counts[0].item<int64_t>();
  c.distinct_cells = counts[1].item<int64_t>();
  c.network_cells = counts[2].item<int64_t>();
  c.local_cells = counts[3].item<int64_t>();
  return c;
}

// One part of the box certified for every image.
certify::Certificate certify_one_part(const certify::DenseNetwork& network,
                                      solvers::LossKind kind, double prior,
                                      const certify::CertifyOptions& options,
                                      const torch::Tensor& targets, const torch::Tensor& points,
                                      std::pair<int64_t, int64_t> part) {
  const auto start = std::chrono::steady_clock::now();
  return certify::certify_part(
      network, kind, prior, targets, {}, points, options, part,
      [&](int64_t level, int64_t cells, int64_t open) {
        spdlog::debug("cells [{}, {}) level {}: {} cells so far, {} images open, {:.1f} s",
                      part.first, part.second, level, cells, open,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                          .count());
      });
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

int64_t CertifyConfig::automatic_parts(int64_t first_cells, int64_t workers) {
  return std::clamp<int64_t>(kPartsPerWorker * std::max<int64_t>(workers, 1), 1,
                             std::max<int64_t>(first_cells, 1));
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
  require(parts >= 0, fmt::format("--parts must be 0 (automatic) or positive, got {}", parts));
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
  j["parts"] = parts;
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

  // The box's first level of cells in parts (ranges of its Z-order), each certified for every
  // image by one worker: this process's threads, or the ranks of an MPI job.
  const auto& world = cluster::World::get();
  const int64_t workers =
      world.sharing() ? world.size() : std::max<int64_t>(util::blas_threads(), 1);
  const int64_t first_cells = certify::first_level_cells(L, config.options);
  const int64_t part_count = std::min(
      config.parts > 0 ? config.parts : CertifyConfig::automatic_parts(first_cells, workers),
      first_cells);
  std::vector<int64_t> bounds;
  for (int64_t k = 0; k <= part_count; ++k) bounds.push_back(k * first_cells / part_count);
  nlohmann::json identity;
  identity["format"] = 2;  // 1: blocks of images; 2: parts of the box
  identity["versions"] = run::version_info();
  identity["method"] = method;
  identity["loss"] = record.loss();
  identity["prior_weight"] = prior;
  identity["config"] = config.to_json();
  identity["model"] = model_identity(model);
  identity["targets"] = run::tensor_digest(targets);
  identity["points"] = run::tensor_digest(points);
  // The records' "images" are the parts' ranges of the first level's cells.
  const run::PartialInversion partial(run.path(), "certify_" + method, identity, bounds);
  const auto& split = partial.bounds();
  const int64_t parts_total = static_cast<int64_t>(split.size()) - 1;
  std::vector<certify::Certificate> parts(static_cast<size_t>(parts_total));
  std::vector<int64_t> todo;
  const auto recorded = partial.solved_arrays();
  for (int64_t k = 0; k < parts_total; ++k) {
    const auto it = recorded.find(k);
    bool have = false;
    if (it != recorded.end()) {
      try {
        parts[static_cast<size_t>(k)] =
            certificate_of(it->second, n, L, partial.folder().string());
        have = true;
      } catch (const UserError& e) {  // a record of another shape: certified again
        spdlog::debug("{}", e.what());
      }
    }
    if (!have) todo.push_back(k);
  }
  const int64_t resumed = parts_total - static_cast<int64_t>(todo.size());
  if (resumed > 0)
    spdlog::info("resuming: {} of the {} parts of the box were certified before (from {})",
                 resumed, parts_total, partial.folder().string());
  spdlog::info("certifying {}'s {} images ({} loss{}) over [-{}, {}]^{} to {:g} relative, the "
               "box's {} first cells in {} parts",
               method, n, record.loss(), prior > 0 ? fmt::format(", prior {}", prior) : "",
               config.options.radius, config.options.radius, L, config.options.tolerance,
               first_cells, parts_total);

  const auto t0 = std::chrono::steady_clock::now();
  util::Progress progress("certify", parts_total, "part");
  progress.advance(resumed);
  const auto range = [&](int64_t k) {
    return std::pair{split[static_cast<size_t>(k)], split[static_cast<size_t>(k) + 1]};
  };
  const auto keep = [&](int64_t k) {
    partial.record_arrays(k, arrays_of(parts[static_cast<size_t>(k)]));
    progress.advance();
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
    const auto [c0, c1] = range(k);
    return solvers::pack_tensors({{"targets", ds.images},
                                  {"points", points},
                                  {"part", torch::tensor({c0, c1}, torch::kInt64)}});
  };
  work.solve_here = [&](int64_t k) {
    parts[static_cast<size_t>(k)] =
        certify_one_part(network, kind, prior, config.options, targets, points, range(k));
  };
  work.solved_here = keep;
  work.solved_remotely = [&](int64_t k, const std::string& bytes) {
    parts[static_cast<size_t>(k)] = certificate_of(
        solvers::unpack_tensors(bytes, "a part's certificate"), n, L, "a rank's certificate");
    keep(k);
  };
  if (!todo.empty()) {
    const auto farm = cluster::share(work, workers);
    if (world.sharing())
      spdlog::info("{} parts certified on rank 0 and {} on the other {} ranks", farm.chunks_here,
                   farm.chunks_remote, world.size() - 1);
  }
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto all = certify::join_parts(parts, config.options);
  const auto lower = all.lower_bound, optimum = all.incumbent;
  const auto certified = all.certified;
  const auto gap = all.gap();
  const auto below = (method_loss - optimum) / method_loss.abs().clamp_min(1);

  nlohmann::json j;
  j["method"] = method;
  j["loss"] = record.loss();
  j["prior_weight"] = prior;
  j["config"] = config.to_json();
  j["config"]["parts"] = parts_total;  // as solved
  j["images"] = n;
  j["certified"] = certified.sum().item<int64_t>();
  j["share_certified"] = certified.to(torch::kFloat64).mean().item<double>();
  j["gap_quantiles"]["50%"] = quantile_of(gap, 0.5);
  j["gap_quantiles"]["90%"] = quantile_of(gap, 0.9);
  j["gap_quantiles"]["99%"] = quantile_of(gap, 0.99);
  j["gap_quantiles"]["max"] = gap.max().item<double>();
  j["cells_per_image"]["mean"] = all.cells.to(torch::kFloat64).mean().item<double>();
  j["cells_per_image"]["max"] = all.cells.max().item<int64_t>();
  j["distinct_cells"] = all.distinct_cells;
  j["network_cells"] = all.network_cells;
  j["local_cells"] = all.local_cells;
  j["levels"] = all.levels;
  j["improved"] = all.improved.sum().item<int64_t>();
  j["at_edge"] = all.at_edge.sum().item<int64_t>();
  j["seconds"] = seconds;
  j["resumed_parts"] = resumed;
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
    save("optimum_latents", all.point);
    save("gap", gap);
    save("certified", certified);
    save("improved", all.improved);
    save("at_edge", all.at_edge);
    save("cells", all.cells);
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
      "restricted ones; %lld levels\n"
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
      static_cast<long long>(j.value("distinct_cells", int64_t{0})),
      static_cast<long long>(j.value("network_cells", int64_t{0})),
      static_cast<long long>(j.value("local_cells", int64_t{0})),
      static_cast<long long>(j.value("levels", int64_t{0})),
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
    const auto message = solvers::unpack_tensors(bytes, "a part of the box to certify");
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    const auto targets = solvers::tensor_at(message, "targets", "a part to certify").to(f64);
    const auto points = solvers::tensor_at(message, "points", "a part to certify").to(f64);
    const auto part = solvers::tensor_at(message, "part", "a part to certify");
    require(targets.dim() == 2 && targets.size(1) == network->pixels() && points.dim() == 2 &&
                points.size(0) == targets.size(0) && points.size(1) == network->latent_dim() &&
                part.numel() == 2,
            "a part's images or points do not fit this rank's model");
    util::ScopedBlasThreads single_threaded_blas(1);
    const auto p = part.to(torch::kInt64);
    return solvers::pack_tensors(arrays_of(certify_one_part(
        *network, kind, prior, options, targets, points,
        {p[0].item<int64_t>(), p[1].item<int64_t>()})));
  };
}

}  // namespace preimage::pipeline
