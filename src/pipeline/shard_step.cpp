#include "pipeline/shard_step.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "data/range.h"
#include "data/tensor_io.h"
#include "util/error.h"

namespace preimage::pipeline {
namespace fs = std::filesystem;
namespace {

// Per-image arrays every method writes (losses/<method>_<what>.npy), besides its diagnostics.
const std::vector<std::string> kMethodArrays = {"initial", "final", "iterations", "stop_reason",
                                                "left_box"};

// What must agree between the parts of one run.
nlohmann::json identity(const run::RunFolder& part) {
  nlohmann::json images = run::to_json(part.images());
  images.erase("range");
  images.erase("count");
  nlohmann::json methods = nlohmann::json::object();
  for (const auto& name : part.methods()) {
    const auto record = part.method(name);
    methods[name] = record.settings;
    methods[name]["diagnostics"] = record.diagnostics;
  }
  const auto shard = *part.shard();
  return {{"model", part.model_path().lexically_normal().string()},
          {"images", images},
          {"parent_range", {shard.parent_range.begin, shard.parent_range.end}},
          {"count", shard.count},
          {"method_order", part.methods()},
          {"methods", methods}};
}

}  // namespace

run::RunFolder make_shard(const run::RunFolder& parent, const std::string& shard,
                          const fs::path& out) {
  const auto spec = data::parse_shard(shard);
  const auto parent_images = parent.images();  // throws when the run records none
  require(!parent.shard(),
          fmt::format("run '{}' is itself a shard; shard the whole run", parent.path().string()));
  const data::ImageRange whole = parent_images.range;
  const auto part = data::shard_range(whole, spec);
  require(fs::absolute(out).lexically_normal() != fs::absolute(parent.path()).lexically_normal(),
          "the shard's --out is the run folder itself",
          "give each shard a folder of its own, e.g. --out RUN.part0");
  auto mt = parent.read_latents("MT");  // (N, L)
  const int64_t lo = part.begin - whole.begin, hi = part.end - whole.begin;

  auto run = run::RunFolder::create(out);
  auto model = parent.model();
  model.path = fs::absolute(parent.model_path()).lexically_normal();
  run.set_model(model);
  auto images = parent_images;
  images.range = part;
  images.count = part.size();
  run.set_images(images);
  if (const auto encode = parent.encode()) run.set_encode(*encode);
  run.set_shard({spec.index, spec.count, fs::absolute(parent.path()).lexically_normal(), whole});
  const auto staging = run.stage();  // the part's files land with its manifest
  data::write_npy_tensor(run.path() / "indices.npy", parent.indices().slice(0, lo, hi).clone());
  data::write_npy_tensor(run.path() / "labels.npy", parent.labels().slice(0, lo, hi).clone());
  run.write_latents("MT", mt.slice(0, lo, hi));
  run.save_manifest();
  spdlog::info("shard {}/{}: images {} of run {}", spec.index, spec.count, part.str(),
               parent.path().string());
  return run;
}

int64_t shard_offset(const run::RunFolder& run) {
  const auto shard = run.shard();
  if (!shard) return 0;
  return run.images().range.begin - shard->parent_range.begin;
}

InvertStep shard_step(const run::RunFolder& part, InvertStep step) {
  const int64_t offset = shard_offset(part);
  for (auto& i : step.curve_images) i -= offset;
  return step;
}

std::vector<run::RunFolder> check_shards(const std::vector<fs::path>& parts) {
  require(!parts.empty(), "nothing to merge", "give the shard run folders");
  std::vector<run::RunFolder> runs;
  for (const auto& p : parts) {
    auto r = run::RunFolder::open(p, run::Access::kRead);
    require(r.shard().has_value(),
            fmt::format("'{}' is not a shard (its manifest has no shard record)", p.string()),
            "make shards with preimage invert RUN --shard k/n --out PART");
    runs.push_back(std::move(r));
  }
  const auto first = identity(runs.front());
  const int64_t n = first["count"].get<int64_t>();
  std::vector<int> seen(static_cast<size_t>(n), -1);
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto id = identity(runs[i]);
    for (const auto& key : {"model", "images", "parent_range", "count", "method_order", "methods"})
      require(id[key] == first[key],
              fmt::format("'{}' and '{}' are shards of different runs: their {} differ ({} vs {})",
                          parts[i].string(), parts.front().string(), key, id[key].dump(),
                          first[key].dump()),
              "merge only the parts of one preimage invert --shard k/n series");
    const int64_t k = runs[i].shard()->index;  // within 0..n-1 (checked when read)
    require(seen[static_cast<size_t>(k)] < 0,
            fmt::format("shard {}/{} is given twice ('{}' and '{}')", k, n,
                        parts[static_cast<size_t>(std::max(seen[static_cast<size_t>(k)], 0))].string(),
                        parts[i].string()));
    seen[static_cast<size_t>(k)] = static_cast<int>(i);
  }
  std::vector<int64_t> missing;
  for (int64_t k = 0; k < n; ++k)
    if (seen[static_cast<size_t>(k)] < 0) missing.push_back(k);
  require(missing.empty(),
          fmt::format("{} of the {} shards are missing (the first: {}/{})", missing.size(), n,
                      missing.empty() ? 0 : missing.front(), n),
          "give every part k/n, k = 0 .. n-1");
  std::vector<run::RunFolder> ordered;
  for (int64_t k = 0; k < n; ++k) ordered.push_back(runs[static_cast<size_t>(seen[static_cast<size_t>(k)])]);
  // Contiguous ranges: each part starts where the previous one ended.
  for (size_t k = 1; k < ordered.size(); ++k)
    require(ordered[k].images().range.begin == ordered[k - 1].images().range.end,
            fmt::format("shards {} and {} do not join: ranges {} and {}", k - 1, k,
                        ordered[k - 1].images().range.str(), ordered[k].images().range.str()));
  return ordered;
}

void merge_shards(const std::vector<fs::path>& parts, const fs::path& out) {
  const auto runs = check_shards(parts);  // every check before anything is written
  for (const auto& r : runs)
    require(fs::absolute(out).lexically_normal() != fs::absolute(r.path()).lexically_normal(),
            fmt::format("the merge's output '{}' is one of its shards", out.string()));
  const auto& head = runs.front();
  auto cat = [&](auto read) {
    std::vector<torch::Tensor> ts;
    for (const auto& r : runs) ts.push_back(read(r));
    return torch::cat(ts, 0);
  };
  auto merged = run::RunFolder::create(out);
  merged.set_model(head.model());
  auto images = head.images();
  images.range = head.shard()->parent_range;
  images.count = cat([](const run::RunFolder& r) { return r.indices(); }).size(0);
  merged.set_images(images);
  if (const auto encode = head.encode()) merged.set_encode(*encode);
  std::vector<fs::path> sources;
  for (const auto& r : runs) sources.push_back(r.path());
  merged.set_merged_from(sources);
  const auto staging = merged.stage();  // every file of the merge lands with its manifest
  data::write_npy_tensor(merged.path() / "indices.npy",
                         cat([](const run::RunFolder& r) { return r.indices(); }));
  data::write_npy_tensor(merged.path() / "labels.npy",
                         cat([](const run::RunFolder& r) { return r.labels(); }));
  merged.write_latents("MT", cat([](const run::RunFolder& r) { return r.read_latents("MT"); }));

  for (const auto& method : runs.front().methods()) {
    const auto entry = head.method(method);
    solvers::Solution s;
    s.latents = cat([&](const run::RunFolder& r) { return r.read_latents(method); });
    s.initial_loss = cat([&](const run::RunFolder& r) { return r.read_method_array(method, "initial"); });
    s.final_loss = cat([&](const run::RunFolder& r) { return r.read_method_array(method, "final"); });
    s.iterations = cat([&](const run::RunFolder& r) { return r.read_method_array(method, "iterations"); });
    s.stop_reason = cat([&](const run::RunFolder& r) { return r.read_method_array(method, "stop_reason"); });
    s.left_box = cat([&](const run::RunFolder& r) { return r.read_method_array(method, "left_box"); });
    for (const auto& name : entry.diagnostics)
      s.diagnostics[name] = cat([&](const run::RunFolder& r) {
        return r.read_method_array(method, name);
      });
    run::MethodRecord record;
    record.method = method;
    record.settings = entry.settings;
    std::vector<torch::Tensor> curves;
    for (const auto& r : runs) {
      const auto e = r.method(method);
      record.seconds += e.seconds;
      const int64_t offset = shard_offset(r);
      for (const int64_t i : e.curve_images) record.curve_images.push_back(i + offset);
      const auto p = r.path() / "curves" / (method + ".npy");
      if (fs::exists(p)) curves.push_back(data::read_npy_tensor(p));
    }
    if (!curves.empty()) s.curves = torch::cat(curves, 0);
    merged.write_solution(record, s);
  }
  merged.write_results_csv();
  merged.save_manifest();
  spdlog::info("merged {} shards into {} ({} images)", runs.size(), out.string(), images.count);
}

}  // namespace preimage::pipeline
