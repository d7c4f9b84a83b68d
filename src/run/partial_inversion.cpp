#include "run/partial_inversion.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "data/tensor_io.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/sha256.h"

namespace preimage::run {
namespace {

constexpr const char* kRecord = "record.json";

std::string digest_of(const std::string& text) {
  util::Sha256 h;
  h.add(text.data(), text.size());
  return h.finish();
}

// The arrays of a chunk's solution, by file name (diagnostics prefixed: no name can clash).
std::map<std::string, torch::Tensor> arrays_of(const solvers::Solution& s) {
  std::map<std::string, torch::Tensor> a = {{"latents", s.latents},
                                            {"initial_loss", s.initial_loss},
                                            {"final_loss", s.final_loss},
                                            {"iterations", s.iterations},
                                            {"stop_reason", s.stop_reason},
                                            {"left_box", s.left_box}};
  if (s.curves.defined()) a["curves"] = s.curves;
  for (const auto& [name, values] : s.diagnostics) a["diagnostic_" + name] = values;
  return a;
}

}  // namespace

std::string tensor_digest(const torch::Tensor& tensor) {
  const auto t = tensor.detach().to(torch::kCPU).contiguous();
  util::Sha256 h;
  const std::string head =
      fmt::format("{} [{}]\n", c10::toString(t.scalar_type()), fmt::join(t.sizes(), ","));
  h.add(head.data(), head.size());
  h.add(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
  return h.finish();
}

PartialInversion::PartialInversion(const fs::path& run, const std::string& method,
                                   nlohmann::json identity, std::vector<int64_t> bounds)
    : folder_(run / "partial" / method), digest_(digest_of(identity.dump())),
      bounds_(std::move(bounds)) {
  const fs::path record = folder_ / kRecord;
  if (fs::exists(record)) {
    const auto j = nlohmann::json::parse(util::read_file(record), nullptr, false);
    if (j.is_object() && j.value("identity", nlohmann::json()) == identity &&
        j.contains("bounds") && j["bounds"].is_array()) {
      try {
        bounds_ = j["bounds"].get<std::vector<int64_t>>();
        return;  // the same inversion: resume it
      } catch (const nlohmann::json::exception&) {
      }
    }
    spdlog::info("{}: recorded for other settings, images or model: the inversion starts over",
                 folder_.string());
  }
  std::error_code ec;
  fs::remove_all(folder_, ec);
  const util::ImmediateWrites now;  // not staged with the step: the record is for a resume
  util::write_file_atomic(record,
                          nlohmann::json{{"identity", identity}, {"bounds", bounds_}}.dump(2) + "\n");
}

fs::path PartialInversion::chunk_dir(int64_t chunk) const {
  return folder_ / fmt::format("chunk_{}", chunk);
}

fs::path PartialInversion::chunk_marker(int64_t chunk) const {
  return folder_ / fmt::format("chunk_{}.json", chunk);
}

void PartialInversion::record(int64_t chunk, const solvers::Solution& solution) const {
  record_arrays(chunk, arrays_of(solution));
}

void PartialInversion::record_arrays(int64_t chunk,
                                     const std::map<std::string, torch::Tensor>& arrays) const {
  const util::ImmediateWrites now;  // not staged with the step: the chunk is for a resume
  std::vector<std::string> names;
  for (const auto& [name, values] : arrays) {
    data::write_npy_tensor(chunk_dir(chunk) / (name + ".npy"), values.cpu());
    names.push_back(name);
  }
  const nlohmann::json marker = {{"identity_sha256", digest_},
                                 {"images", {bounds_[static_cast<size_t>(chunk)],
                                             bounds_[static_cast<size_t>(chunk) + 1]}},
                                 {"arrays", names}};
  util::write_file_atomic(chunk_marker(chunk), marker.dump() + "\n");
}

std::map<int64_t, std::map<std::string, torch::Tensor>> PartialInversion::solved_arrays(
    const std::vector<std::string>& whole) const {
  std::map<int64_t, std::map<std::string, torch::Tensor>> out;
  const int64_t chunks = static_cast<int64_t>(bounds_.size()) - 1;
  for (int64_t c = 0; c < chunks; ++c) {
    if (!fs::exists(chunk_marker(c))) continue;
    try {
      const auto marker = nlohmann::json::parse(util::read_file(chunk_marker(c)));
      const std::vector<int64_t> images = {bounds_[static_cast<size_t>(c)],
                                           bounds_[static_cast<size_t>(c) + 1]};
      if (marker.at("identity_sha256") != digest_ ||
          marker.at("images").get<std::vector<int64_t>>() != images)
        continue;
      std::map<std::string, torch::Tensor> arrays;
      for (const auto& name : marker.at("arrays").get<std::vector<std::string>>())
        arrays[name] = data::read_npy_tensor(chunk_dir(c) / (name + ".npy"));
      bool complete = true;
      for (const auto& name : whole) {
        const auto it = arrays.find(name);
        complete = complete && it != arrays.end() && it->second.dim() >= 1 &&
                   it->second.size(0) == images[1] - images[0];
      }
      if (complete) out.emplace(c, std::move(arrays));
    } catch (const std::exception& e) {  // unreadable: solved again
      spdlog::debug("{}: chunk {} is unreadable ({}): solved again", folder_.string(), c,
                    e.what());
    }
  }
  return out;
}

std::map<int64_t, solvers::Solution> PartialInversion::solved(const torch::Device& device) const {
  std::map<int64_t, solvers::Solution> out;
  const std::vector<std::string> whole = {"latents",    "initial_loss", "final_loss",
                                          "iterations", "stop_reason",  "left_box"};
  for (auto& [c, arrays] : solved_arrays(whole)) {
    solvers::Solution s;
    for (auto& [name, array] : arrays) {
      auto t = array.to(device);
      if (name == "latents") s.latents = t;
      else if (name == "initial_loss") s.initial_loss = t;
      else if (name == "final_loss") s.final_loss = t;
      else if (name == "iterations") s.iterations = t;
      else if (name == "stop_reason") s.stop_reason = t;
      else if (name == "left_box") s.left_box = t;
      else if (name == "curves") s.curves = t;
      else if (name.rfind("diagnostic_", 0) == 0) s.diagnostics[name.substr(11)] = t;
    }
    out.emplace(c, std::move(s));
  }
  return out;
}

void PartialInversion::remove() const {
  remove_folder(folder_.parent_path().parent_path(), folder_.filename().string());
}

void PartialInversion::remove_folder(const fs::path& run, const std::string& method) {
  std::error_code ec;
  const fs::path partial = run / "partial";
  fs::remove_all(partial / method, ec);
  if (fs::is_directory(partial, ec) && fs::is_empty(partial, ec)) fs::remove(partial, ec);
}

}  // namespace preimage::run
