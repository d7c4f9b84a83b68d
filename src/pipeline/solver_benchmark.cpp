#include "pipeline/solver_benchmark.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cluster/world.h"
#include "pipeline/certify_step.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/run_model.h"
#include "pipeline/threads.h"
#include "solvers/invert.h"
#include "solvers/registry.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::pipeline {
namespace {

constexpr double kOracleTolerance = 1e-3;  // "within 0.1% of the best loss any method found"
constexpr double kBasinDistance = 0.5;     // a solution this far from E(z) is another basin
constexpr double kThesisSecondsPerImage = 1.2;  // the thesis: 1.2 s per image on a GPU
constexpr int64_t kCarefulIterations = 1000;    // the careful references' iteration cap
constexpr double kCarefulTighter = 100;         // and their tolerances' divisor

// CPU seconds of this process (user + system): on a shared machine wall time includes waiting.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Peak resident memory since the last reset (Linux: VmHWM, reset through clear_refs).
void reset_peak_memory() { std::ofstream("/proc/self/clear_refs") << "5"; }
double peak_memory_mib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      double kib = 0;
      in >> kib;
      return kib / 1024.0;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// The request of one row: "METHOD[:REFINE]" with its defaults or, `careful`, long and careful.
solvers::InvertRequest benchmark_request(const std::string& spec, bool careful) {
  const auto colon = spec.find(':');
  solvers::InvertRequest request;
  request.method = spec.substr(0, colon);
  solvers::SettingsOverrides given;
  if (colon != std::string::npos) given.refine = spec.substr(colon + 1);
  request.settings = solvers::settings_for(request.method, given);
  if (careful) {
    request.settings.stop.max_iterations = kCarefulIterations;
    request.settings.stop.gradient_tolerance /= kCarefulTighter;
    request.settings.stop.relative_tolerance /= kCarefulTighter;
  }
  return request;
}

}  // namespace

cluster::ChunkSolver open_benchmark_job(const nlohmann::json& job) {
  auto request = benchmark_request(job.at("spec"), job.at("careful"));
  require(job.at("settings") == solvers::settings_json(request.method, request.settings),
          fmt::format("this rank's settings of {} differ from rank 0's", job.at("spec").dump()),
          "run the same preimage on every rank");
  const auto model = open_job_model(job.at("model"));
  request.encoder = model.encoder;
  request.show_progress = false;
  auto worker = std::make_shared<solvers::ChunkWorker>(model.decoder, request);
  return [worker](const std::string& chunk) { return worker->solve(chunk); };
}

std::vector<std::string> default_benchmark_methods() {
  std::vector<std::string> names;
  for (const auto& row : solvers::method_registry())
    names.insert(names.end(), row.benchmark.begin(), row.benchmark.end());
  return names;
}

nlohmann::json benchmark_solvers(run::RunFolder& run, const SolverBenchmarkConfig& config) {
  check_parallelism(config.chunk_size, config.workers);
  const auto model = adopt_model(run, config.model);
  auto ds = run.load_images();
  require_model_fits(model, ds, "the run's images");
  auto range = data::resolve_range(data::parse_range(config.images), ds.size(), run.path().string());
  const auto& decoder = *model.decoder;
  const auto options = torch::TensorOptions().device(decoder.device()).dtype(decoder.dtype());
  auto targets = ds.images.slice(0, range.begin, range.end).contiguous().to(options);
  auto start = model.has_encoder()
                   ? run.read_latents("MT").slice(0, range.begin, range.end).contiguous().to(options)
                   : torch::zeros({targets.size(0), model.latent_dim()}, options);
  if (!model.has_encoder()) spdlog::info("the model has no encoder: every method starts at 0");
  const int64_t n = targets.size(0);
  // Under MPI each row's chunks are shared by the ranks, which open these (cluster_jobs.h).
  const bool distributed = cluster::World::get().sharing();
  nlohmann::json run_job, compare_job;
  if (distributed) {
    auto source = config.model.empty() ? run_model_source(run, config.model.device) : config.model;
    if (source.device.empty()) source.device = "cpu";
    run_job = model_job(source, model);
  }
  std::optional<decoders::GenerativeModel> other;
  if (!config.compare.empty()) {
    other = decoders::open_model(config.compare);
    require(other->latent_dim() == model.latent_dim() && other->pixels() == model.pixels(),
            fmt::format("the model to compare decodes {} latents to {} pixels, the run's {} to {}",
                        other->latent_dim(), other->pixels(), model.latent_dim(), model.pixels()),
            "give the same model in another form (e.g. a TorchScript export of the run's decoder)");
    if (distributed) compare_job = model_job(config.compare, *other);
  }
  struct Comparison {
    double seconds = 0, same = 0;
  };
  std::map<std::string, Comparison> compared;

  struct Row {
    std::string method;
    solvers::Solution s;
    double seconds, memory, cpu;
  };
  std::vector<Row> rows;
  // A row: `spec` (METHOD[:REFINE]) with its defaults or, `careful`, long and careful.
  auto job = [&](const std::string& spec, bool careful, const solvers::InvertRequest& request,
                 const nlohmann::json& model_header) {
    if (!distributed) return std::string();
    return nlohmann::json{{"command", "bench-solvers"},
                          {"spec", spec},
                          {"careful", careful},
                          {"settings", solvers::settings_json(request.method, request.settings)},
                          {"model", model_header}}
        .dump();
  };
  auto run_one = [&](const std::string& label, const std::string& spec, bool careful) {
    const bool with_comparison = !careful;
    auto request = benchmark_request(spec, careful);
    request.cluster_job = job(spec, careful, request, run_job);
    request.chunk_size = config.chunk_size;
    request.workers = config.workers;
    request.show_progress = false;
    request.encoder = model.encoder;
    reset_peak_memory();
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpu_seconds();
    auto s = solvers::invert(decoder, targets, start, request);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rows.push_back({label, s, seconds, peak_memory_mib(), cpu_seconds() - cpu0});
    spdlog::info("{}: {} images in {:.2f} s", label, n, seconds);
    if (!other || !with_comparison) return;
    request.encoder = other->encoder ? other->encoder : model.encoder;
    request.cluster_job = job(spec, careful, request, compare_job);
    const auto t1 = std::chrono::steady_clock::now();
    auto o = solvers::invert(*other->decoder, targets.to(other->decoder->device()),
                             start.to(other->decoder->device()), request);
    Comparison c;
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    auto a = s.final_loss.to(torch::kCPU, torch::kFloat64), b = o.final_loss.to(torch::kCPU, torch::kFloat64);
    c.same = ((a - b).abs() <= 1e-4 * a.abs().clamp_min(1e-12)).to(torch::kFloat64).mean().item<double>();
    compared[label] = c;
    spdlog::info("{} through {}: {:.2f} s, the same final loss on {:.1f}% of images", label,
                 other->decoder->describe(), c.seconds, 100 * c.same);
  };
  for (const auto& spec : config.methods) run_one(spec, spec, /*careful=*/false);
  // The stopping test's references: each stopping method run again from the same start, long
  // and carefully (tolerances a hundred times smaller, 1000 iterations).
  std::map<std::string, solvers::Solution> careful;
  if (config.careful) {
    for (const auto& row : solvers::method_registry()) {
      const std::string& method = row.name;
      if (!row.careful_reference ||
          std::find(config.methods.begin(), config.methods.end(), method) == config.methods.end())
        continue;
      run_one(fmt::format("careful {} ({} it, tolerances / {:.0f})", method, kCarefulIterations,
                          kCarefulTighter),
              method, /*careful=*/true);
      careful[method] = rows.back().s;
    }
  }

  auto oracle = rows.front().s.final_loss.clone();
  auto oracle_point = rows.front().s.latents.clone();
  for (const auto& r : rows) {
    auto better = r.s.final_loss < oracle;
    oracle = torch::where(better, r.s.final_loss, oracle);
    oracle_point = torch::where(better.unsqueeze(1), r.s.latents, oracle_point);
  }
  // Where the run holds a certificate (preimage certify), its optimum is the reference: proven
  // the global one within its tolerance, or at least the lowest point known.
  const auto certified = certified_reference(run, range.begin, range.end);
  torch::Tensor certified_lower;
  if (certified.optimum.defined()) {
    auto c = certified.optimum.to(oracle.options());
    certified_lower = c < oracle;
    oracle = torch::minimum(oracle, c);
  }
  const torch::Tensor* thesis = nullptr;
  for (const auto& r : rows)
    if (r.method == "adafactor") thesis = &r.s.final_loss;
  auto initial = rows.front().s.initial_loss;

  nlohmann::json out;
  out["images"] = n;
  out["range"] = range.str();
  solvers::InvertRequest sizing;
  sizing.chunk_size = config.chunk_size;
  sizing.workers = config.workers;
  out["workers"] = solvers::plan_chunks(sizing, n, targets.device()).workers;
  for (const auto& r : rows) {
    const auto& s = r.s;
    auto within = (s.final_loss <= oracle * (1 + kOracleTolerance)).to(torch::kFloat64).mean();
    auto converged = (s.stop_reason != static_cast<int64_t>(solvers::StopReason::kMaxIterations))
                         .logical_and(s.stop_reason !=
                                      static_cast<int64_t>(solvers::StopReason::kDiverged));
    auto delta = (s.final_loss - s.initial_loss) / s.initial_loss * 100;
    nlohmann::json row = {
        {"method", r.method},
        {"seconds", r.seconds},
        {"cpu_seconds", r.cpu},
        {"images_per_second", static_cast<double>(n) / r.seconds},
        {"mean_initial_loss", s.initial_loss.mean().item<double>()},
        {"mean_final_loss", s.final_loss.mean().item<double>()},
        {"mean_delta_pct", delta.mean().item<double>()},
        {"within_oracle", within.item<double>()},
        {"converged", converged.to(torch::kFloat64).mean().item<double>()},
        {"mean_iterations", s.iterations.to(torch::kFloat64).mean().item<double>()},
        {"left_box", s.left_box.to(torch::kFloat64).mean().item<double>()},
        {"peak_memory_mib", r.memory},
        {"thesis_speedup",
         kThesisSecondsPerImage / (r.seconds / static_cast<double>(n))}};
    if (thesis != nullptr) {
      row["beats_thesis"] = (s.final_loss < *thesis * (1 - 1e-6)).to(torch::kFloat64).mean().item<double>();
      row["ties_thesis"] = ((s.final_loss - *thesis).abs() <= *thesis * 1e-6).to(torch::kFloat64).mean().item<double>();
      // Worse than the thesis by more than the oracle's tolerance (another of the small local
      // minima the 0.1% allows for, or a worse basin).
      row["worse_than_thesis_beyond_tolerance"] =
          (s.final_loss > *thesis * (1 + kOracleTolerance)).to(torch::kFloat64).mean().item<double>();
    }
    if (auto c = compared.find(r.method); c != compared.end())
      row["compare"] = {{"decoder", other->decoder->describe()},
                        {"seconds", c->second.seconds},
                        {"time_ratio", c->second.seconds / r.seconds},
                        {"same_result", c->second.same}};
    if (auto c = careful.find(r.method); c != careful.end()) {
      // Against the same method's careful run, and against the best of all careful runs (which
      // may have found another local minimum from the same start).
      auto best_careful = c->second.final_loss;
      for (const auto& [name, other] : careful)
        best_careful = torch::minimum(best_careful, other.final_loss);
      row["within_careful"] = (s.final_loss <= c->second.final_loss * (1 + kOracleTolerance))
                                  .to(torch::kFloat64).mean().item<double>();
      row["within_any_careful"] = (s.final_loss <= best_careful * (1 + kOracleTolerance))
                                      .to(torch::kFloat64).mean().item<double>();
    }
    if (s.diagnostics.count("contraction")) {
      auto c = s.diagnostics.at("contraction");
      auto finite = c.masked_select(torch::isfinite(c));
      row["contraction_median"] = finite.numel() ? finite.median().item<double>() : NAN;
      row["contraction_below_1"] = (c < 1).to(torch::kFloat64).mean().item<double>();
      const auto& fp = s.diagnostics.at("fixed_point_loss");
      row["fixed_point_loss_mean"] = fp.mean().item<double>();
      row["fixed_point_within_oracle"] =
          (fp <= oracle * (1 + kOracleTolerance)).to(torch::kFloat64).mean().item<double>();
      row["fixed_point_excess_pct"] = ((fp - oracle) / oracle * 100).mean().item<double>();
    }
    out["methods"].push_back(row);
  }
  // Basins: how far the best point lies from E(z), and how much of the gap between the
  // encoder's loss and the best loss each local method closes.
  auto far = (oracle_point - start).norm(2, 1) > kBasinDistance;
  out["oracle"] = {{"mean_loss", oracle.mean().item<double>()},
                   {"far_from_encoder", far.to(torch::kFloat64).mean().item<double>()}};
  if (certified.optimum.defined()) {
    out["oracle"]["certificates"] = certified.from;
    out["oracle"]["share_certified"] =
        certified.certified.to(torch::kFloat64).mean().item<double>();
    out["oracle"]["certified_below_methods"] = certified_lower.sum().item<int64_t>();
  }
  auto gap = initial - oracle;
  auto has_gap = gap > 1e-6 * initial;
  for (auto& row : out["methods"]) {
    for (const auto& r : rows) {
      if (r.method != row["method"]) continue;
      auto closed = ((initial - r.s.final_loss) / gap.clamp_min(1e-12)).masked_select(has_gap);
      row["gap_closed"] = closed.numel() ? closed.mean().item<double>() : 1.0;
      auto closed_far = ((initial - r.s.final_loss) / gap.clamp_min(1e-12))
                            .masked_select(has_gap.logical_and(far));
      row["gap_closed_far"] = closed_far.numel() ? closed_far.mean().item<double>() : 1.0;
    }
  }
  util::write_file_atomic(run.path() / "solver_benchmark.json", out.dump(2) + "\n");
  return out;
}

void print_solver_benchmark(const nlohmann::json& r) {
  std::printf(
      "\n%lld images (range %s, %lld workers); oracle = best loss any method found (mean %.4f); "
      "best point > %.1f from E(z) for %.1f%% of images\n\n",
      static_cast<long long>(r["images"].get<int64_t>()), r["range"].get<std::string>().c_str(),
      static_cast<long long>(r.value("workers", int64_t{1})),
      r["oracle"]["mean_loss"].get<double>(), kBasinDistance,
      100 * r["oracle"]["far_from_encoder"].get<double>());
  if (r["oracle"].contains("share_certified"))
    std::printf("the oracle includes the certificates of %s: the global optimum is proven for "
                "%.2f%% of images; on %lld images the certified optimum is below every method "
                "run here\n\n",
                fmt::format("{}", fmt::join(r["oracle"]["certificates"].get<std::vector<std::string>>(), ", ")).c_str(),
                100 * r["oracle"]["share_certified"].get<double>(),
                static_cast<long long>(r["oracle"]["certified_below_methods"].get<int64_t>()));
  std::printf(
      "| method | wall s | CPU s | img/s | x thesis | mean initial | mean final | mean delta %% | within "
      "0.1%% of oracle | beats thesis | converged | mean iters | gap closed (far) | peak MiB |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& m : r["methods"]) {
    std::printf(
        "| %s | %.2f | %.2f | %.0f | %.0f | %.4f | %.4f | %.3f | %.2f%% | %s | %.2f%% | %.1f | %.2f "
        "(%.2f) | %.0f |\n",
        m["method"].get<std::string>().c_str(), m["seconds"].get<double>(),
        m["cpu_seconds"].get<double>(), m["images_per_second"].get<double>(), m["thesis_speedup"].get<double>(),
        m["mean_initial_loss"].get<double>(), m["mean_final_loss"].get<double>(),
        m["mean_delta_pct"].get<double>(), 100 * m["within_oracle"].get<double>(),
        m.contains("beats_thesis")
            ? fmt::format("{:.2f}% (+{:.2f}% ties)", 100 * m["beats_thesis"].get<double>(),
                          100 * m["ties_thesis"].get<double>())
                  .c_str()
            : "-",
        100 * m["converged"].get<double>(), m["mean_iterations"].get<double>(),
        m["gap_closed"].get<double>(), m["gap_closed_far"].get<double>(),
        m["peak_memory_mib"].get<double>());
  }
  std::printf("\n");
  bool any_compare = false;
  for (const auto& m : r["methods"]) any_compare |= m.contains("compare");
  if (any_compare) {
    std::printf("| method | wall s | through %s: wall s | ratio | same final loss (1e-4) |\n"
                "|---|---|---|---|---|\n",
                r["methods"][0]["compare"]["decoder"].get<std::string>().c_str());
    for (const auto& m : r["methods"]) {
      if (!m.contains("compare")) continue;
      const auto& c = m["compare"];
      std::printf("| %s | %.2f | %.2f | %.2fx | %.2f%% |\n", m["method"].get<std::string>().c_str(),
                  m["seconds"].get<double>(), c["seconds"].get<double>(),
                  c["time_ratio"].get<double>(), 100 * c["same_result"].get<double>());
    }
    std::printf("\n");
  }
  for (const auto& m : r["methods"]) {
    if (m.contains("within_careful"))
      std::printf("- %s: stopped by its own criterion on %.2f%% of images; within 0.1%% of its "
                  "own careful run from the same start on %.2f%% (of the best careful run of "
                  "any method: %.2f%%)\n",
                  m["method"].get<std::string>().c_str(), 100 * m["converged"].get<double>(),
                  100 * m["within_careful"].get<double>(),
                  100 * m["within_any_careful"].get<double>());
    if (m.contains("worse_than_thesis_beyond_tolerance") && m["method"] != "adafactor" &&
        m["method"].get<std::string>().rfind("careful", 0) != 0)
      std::printf("- %s: worse than the thesis's Adafactor by more than 0.1%% on %.2f%% of "
                  "images\n",
                  m["method"].get<std::string>().c_str(),
                  100 * m["worse_than_thesis_beyond_tolerance"].get<double>());
    if (m.contains("contraction_median"))
      std::printf("- fixed-point: converged on %.2f%% of images; contraction factor of Id - E o D "
                  "along the iterates: median %.3f, < 1 on %.2f%%; loss at the last iterate: "
                  "mean %.4f, %.2f%% above the oracle on average, within 0.1%% of it on %.2f%%\n",
                  100 * m["converged"].get<double>(), m["contraction_median"].get<double>(),
                  100 * m["contraction_below_1"].get<double>(),
                  m["fixed_point_loss_mean"].get<double>(),
                  m["fixed_point_excess_pct"].get<double>(),
                  100 * m["fixed_point_within_oracle"].get<double>());
  }
  std::fflush(stdout);
}

}  // namespace preimage::pipeline
