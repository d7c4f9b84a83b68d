#include "solvers/chunk_messages.h"

#include <torch/serialize.h>

#include "util/error.h"

namespace preimage::solvers {

namespace {
using Named = c10::Dict<std::string, at::Tensor>;
constexpr const char* kDiagnostic = "diagnostic/";

// A tensor with storage of its own: pickling a view would write its whole storage (a chunk's rows
// would carry every image of the run).
at::Tensor compact(const at::Tensor& t) { return t.cpu().clone(at::MemoryFormat::Contiguous); }

std::string to_bytes(const Named& named) {
  const auto data = torch::pickle_save(c10::IValue(named));
  return std::string(data.begin(), data.end());
}

Named from_bytes(const std::string& bytes, const char* what) {
  try {
    const auto value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    Named named;
    for (const auto& entry : value.toGenericDict())
      named.insert(entry.key().toStringRef(), entry.value().toTensor());
    return named;
  } catch (const c10::Error& e) {
    throw UserError(std::string("a message that should hold ") + what +
                    " is unreadable: " + e.what_without_backtrace());
  }
}

torch::Tensor at(const Named& named, const std::string& key, const char* what) {
  require(named.contains(key), std::string("a message of ") + what + " lacks '" + key + "'");
  return named.at(key);
}
}  // namespace

std::string pack_tensors(const NamedTensors& tensors) {
  Named named;
  for (const auto& [key, t] : tensors) named.insert(key, compact(t));
  return to_bytes(named);
}

NamedTensors unpack_tensors(const std::string& bytes, const char* what) {
  NamedTensors out;
  for (const auto& entry : from_bytes(bytes, what)) out[entry.key()] = entry.value();
  return out;
}

const torch::Tensor& tensor_at(const NamedTensors& tensors, const std::string& key,
                               const char* what) {
  const auto it = tensors.find(key);
  require(it != tensors.end(), std::string("a message of ") + what + " lacks '" + key + "'");
  return it->second;
}

std::string pack_chunk(const ChunkMessage& chunk) {
  Named named;
  named.insert("targets", compact(chunk.targets));
  named.insert("start", compact(chunk.start));
  if (chunk.mask.defined()) named.insert("mask", compact(chunk.mask));
  named.insert("curve_images", torch::tensor(chunk.curve_images, torch::kInt64));
  return to_bytes(named);
}

ChunkMessage unpack_chunk(const std::string& bytes) {
  const auto named = from_bytes(bytes, "a chunk");
  ChunkMessage c;
  c.targets = at(named, "targets", "a chunk");
  c.start = at(named, "start", "a chunk");
  if (named.contains("mask")) c.mask = named.at("mask");
  const auto curves = at(named, "curve_images", "a chunk").contiguous();
  c.curve_images.assign(curves.data_ptr<int64_t>(), curves.data_ptr<int64_t>() + curves.numel());
  return c;
}

std::string pack_solution(const Solution& s) {
  Named named;
  named.insert("latents", compact(s.latents));
  named.insert("initial_loss", compact(s.initial_loss));
  named.insert("final_loss", compact(s.final_loss));
  named.insert("iterations", compact(s.iterations));
  named.insert("stop_reason", compact(s.stop_reason));
  named.insert("left_box", compact(s.left_box));
  if (s.curves.defined()) named.insert("curves", compact(s.curves));
  for (const auto& [name, value] : s.diagnostics) named.insert(kDiagnostic + name, compact(value));
  return to_bytes(named);
}

Solution unpack_solution(const std::string& bytes, const torch::Device& device) {
  const auto named = from_bytes(bytes, "a solution");
  auto get = [&](const char* key) { return at(named, key, "a solution").to(device); };
  Solution s;
  s.latents = get("latents");
  s.initial_loss = get("initial_loss");
  s.final_loss = get("final_loss");
  s.iterations = get("iterations");
  s.stop_reason = get("stop_reason");
  s.left_box = get("left_box");
  if (named.contains("curves")) s.curves = get("curves");
  const std::string prefix = kDiagnostic;
  for (const auto& entry : named)
    if (entry.key().rfind(prefix, 0) == 0)
      s.diagnostics[entry.key().substr(prefix.size())] = entry.value().to(device);
  return s;
}

}  // namespace preimage::solvers
