#include "train/train_state.h"

#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/input_file.h"
#include "util/sha256.h"

namespace preimage::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kMagic = "preimage-train-state 1";

const char* dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kUInt8: return "uint8";
    case torch::kInt64: return "int64";
    default: return nullptr;
  }
}

torch::ScalarType dtype_of(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float64") return torch::kFloat64;
  if (name == "uint8") return torch::kUInt8;
  if (name == "int64") return torch::kInt64;
  throw UserError(fmt::format("unknown tensor type '{}'", name));
}

// The named groups of tensors, in the order they are written.
std::vector<std::pair<std::string, std::vector<torch::Tensor>*>> groups(TrainState& s) {
  return {{"parameters", &s.parameters}, {"best", &s.best}, {"adam_m", &s.adam_m},
          {"adam_v", &s.adam_v}};
}

EpochLog log_from_json(const json& j) {
  auto number = [&](const char* key) {
    return j.contains(key) && !j.at(key).is_null() ? j.at(key).get<double>() : std::nan("");
  };
  EpochLog l;
  l.epoch = j.at("epoch").get<int64_t>();
  l.train_elbo = j.at("train_elbo").get<double>();
  l.test_elbo = number("test_elbo");
  l.held_out = number("held_out");
  l.learning_rate = j.at("learning_rate").get<double>();
  l.seconds = j.at("seconds").get<double>();
  l.eval_seconds = number("eval_seconds");
  return l;
}
// "train.seed 7, now 0; key.eval_images ..." : the settings two records differ in (two levels).
std::string differences(const json& was, const json& now, const std::string& prefix = "",
                        int depth = 0) {
  if (depth < 2 && was.is_object() && now.is_object()) {
    std::string out;
    auto add = [&](const std::string& key) {
      const json a = was.contains(key) ? was.at(key) : json(), b = now.contains(key) ? now.at(key) : json();
      if (a == b) return;
      const auto d = differences(a, b, prefix + key + ".", depth + 1);
      out += (out.empty() ? "" : "; ") + d;
    };
    for (const auto& item : was.items()) add(item.key());
    for (const auto& item : now.items())
      if (!was.contains(item.key())) add(item.key());
    return out;
  }
  const std::string name = prefix.empty() ? "record" : prefix.substr(0, prefix.size() - 1);
  return fmt::format("{} {}, now {}", name, was.dump(), now.dump());
}
}  // namespace

void save_train_state(const TrainState& state, const fs::path& path) {
  TrainState s = state;  // the vectors are copied, the tensors shared
  json tensors = json::array();
  std::string payload;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    const auto c = t.detach().to(torch::kCPU).contiguous();
    const char* dtype = dtype_name(c.scalar_type());
    TORCH_CHECK(dtype != nullptr, "save_train_state: tensor ", name, " has an unsupported type");
    const size_t bytes = static_cast<size_t>(c.numel()) * c.element_size();
    tensors.push_back({{"name", name},
                       {"dtype", dtype},
                       {"shape", c.sizes().vec()},
                       {"offset", payload.size()},
                       {"bytes", bytes}});
    payload.append(static_cast<const char*>(c.data_ptr()), bytes);
  };
  for (auto& [group, list] : groups(s))
    for (size_t k = 0; k < list->size(); ++k) add(fmt::format("{}/{}", group, k), (*list)[k]);
  add("generator", s.generator);
  json logs = json::array();
  for (const auto& l : s.logs) logs.push_back(l.to_json());
  util::Sha256 digest;
  digest.add(payload.data(), payload.size());
  const json header = {{"made_for", s.made_for},   {"epochs", logs},
                       {"schedule", s.schedule},   {"stopped", s.stopped},
                       {"held_out", s.held_out},
                       {"adam_step", s.adam_step}, {"tensors", tensors},
                       {"payload_sha256", digest.finish()}};
  std::string bytes = std::string(kMagic) + "\n" + header.dump() + "\n";
  bytes += payload;
  const util::ImmediateWrites now;  // the state lands now, whatever step is staging its files
  util::write_file_atomic(path, bytes);
}

TrainState read_train_state(const fs::path& path) {
  const std::string bytes = util::read_input_file(path, "training state");
  const std::string where = fmt::format("training state '{}'", path.string());
  const std::string hint = "delete it to train from the start";
  const size_t line1 = bytes.find('\n');
  require(line1 != std::string::npos && bytes.compare(0, line1, kMagic) == 0,
          fmt::format("{} does not start with '{}'", where, kMagic), hint);
  const size_t line2 = bytes.find('\n', line1 + 1);
  require(line2 != std::string::npos, fmt::format("{} is truncated in its header", where), hint);
  const size_t payload_begin = line2 + 1;
  const size_t payload_size = bytes.size() - payload_begin;
  TrainState s;
  try {
    const json header = json::parse(bytes.substr(line1 + 1, line2 - line1 - 1));
    util::Sha256 digest;
    digest.add(bytes.data() + payload_begin, payload_size);
    require(header.at("payload_sha256").get<std::string>() == digest.finish(),
            fmt::format("{} is corrupt: its tensors' bytes do not match the SHA-256 recorded "
                        "when it was written", where),
            hint);
    s.made_for = header.at("made_for");
    for (const auto& l : header.at("epochs")) s.logs.push_back(log_from_json(l));
    s.schedule = header.at("schedule");
    s.stopped = header.at("stopped").get<bool>();
    s.held_out = header.at("held_out").get<std::string>();
    s.adam_step = header.at("adam_step").get<int64_t>();
    for (const auto& t : header.at("tensors")) {
      const auto name = t.at("name").get<std::string>();
      const auto dtype = dtype_of(t.at("dtype").get<std::string>());
      const auto shape = t.at("shape").get<std::vector<int64_t>>();
      const auto offset = t.at("offset").get<uint64_t>();
      const auto size = t.at("bytes").get<uint64_t>();
      uint64_t numel = 1;
      for (const int64_t d : shape) {
        require(d >= 0 && (d == 0 || numel <= payload_size / static_cast<uint64_t>(d)),
                fmt::format("{}: tensor '{}' has a bad shape", where, name), hint);
        numel *= static_cast<uint64_t>(d);
      }
      require(numel * c10::elementSize(dtype) == size && offset <= payload_size &&
                  size <= payload_size - offset,
              fmt::format("{}: tensor '{}' does not fit its {} bytes", where, name, size), hint);
      auto tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      if (size > 0) std::memcpy(tensor.data_ptr(), bytes.data() + payload_begin + offset, size);
      const size_t slash = name.find('/');
      if (name == "generator") {
        s.generator = tensor;
        continue;
      }
      bool placed = false;
      for (auto& [group, list] : groups(s)) {
        if (slash == std::string::npos || name.compare(0, slash, group) != 0 ||
            name.substr(slash + 1) != std::to_string(list->size()))
          continue;
        list->push_back(tensor);
        placed = true;
      }
      require(placed, fmt::format("{}: unexpected tensor '{}'", where, name), hint);
    }
  } catch (const json::exception& e) {
    throw UserError(fmt::format("{} has a malformed header: {}", where, e.what()), hint);
  }
  require(s.generator.defined(), fmt::format("{} holds no generator state", where), hint);
  return s;
}

std::optional<TrainState> find_train_state(const fs::path& path, const json& made_for) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  TrainState s;
  try {
    s = read_train_state(path);
  } catch (const std::exception& e) {
    spdlog::warn("ignoring the training state '{}': {}; training from the start", path.string(),
                 e.what());
    return std::nullopt;
  }
  if (s.made_for != made_for) {
    spdlog::warn("ignoring the training state '{}': it was made for other settings or data ({}); "
                 "training from the start",
                 path.string(), differences(s.made_for, made_for));
    return std::nullopt;
  }
  return s;
}

}  // namespace preimage::train
