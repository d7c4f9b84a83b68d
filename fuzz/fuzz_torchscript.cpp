// A TorchScript decoder as `--decoder FILE.pt` opens it: the archive checked (its members' CRCs,
// every tensor inside its storage), loaded by LibTorch, then probed (a forward pass, the output's
// shape and values). By the input's first byte:
//   0    the rest is the whole file;
//   k>0  the rest replaces one member (data.pkl, constants.pkl, version or a tensor's bytes; the
//        (k-1)-th of them, cyclically) of a tiny dense decoder made here, written as a valid
//        archive (fresh CRCs), so that the pickles and tensor records behind the CRC check are
//        reached too.
// Seeds: fuzz/corpus/fuzz_torchscript (fuzz/make_corpus.py; the member seeds from this target:
//   PREIMAGE_FUZZ_SEEDS=fuzz/corpus/fuzz_torchscript build-harden/fuzz/fuzz_torchscript EMPTY_FILE).
#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "decoders/model_source.h"
#include "fuzz_support.h"

using namespace preimage;

namespace {

// A 2 -> 3 -> 4 ReLU decoder as TorchScript, and its archive's members by name.
struct Base {
  std::vector<std::pair<std::string, std::string>> members;  // every record, in the archive's order
  std::vector<size_t> replaceable;                            // indices of the non-code records
};

const Base& base() {
  static const Base b = [] {
    torch::manual_seed(0);
    torch::jit::Module m("__torch__.TinyDecoder");
    m.register_parameter("w1", torch::randn({3, 2}), false);
    m.register_parameter("b1", torch::randn({3}), false);
    m.register_parameter("w2", torch::randn({4, 3}), false);
    m.register_parameter("b2", torch::randn({4}), false);
    m.define(R"JIT(
def forward(self, y):
    return torch.addmm(self.b2, torch.relu(torch.addmm(self.b1, y, self.w1.t())), self.w2.t())
)JIT");
    std::ostringstream out;
    m.save(out);
    std::istringstream in(out.str());
    caffe2::serialize::PyTorchStreamReader reader(&in);
    auto names = reader.getAllRecords();
    std::sort(names.begin(), names.end());
    Base b;
    for (const auto& name : names) {
      auto [data, size] = reader.getRecord(name);
      b.members.emplace_back(name, std::string(static_cast<const char*>(data.get()), size));
      const bool code = name.size() >= 3 && (name.compare(name.size() - 3, 3, ".py") == 0 ||
                                             name.find(".debug_pkl") != std::string::npos);
      if (!code) b.replaceable.push_back(b.members.size() - 1);
    }
    return b;
  }();
  return b;
}

std::string archive_with(size_t replaced, const std::string& content) {
  std::string bytes;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  const auto& members = base().members;
  for (size_t i = 0; i < members.size(); ++i) {
    const auto& data = i == replaced ? content : members[i].second;
    writer.writeRecord(members[i].first, data.data(), data.size());
  }
  writer.writeEndOfFile();
  return bytes;
}

// PREIMAGE_FUZZ_SEEDS=DIR: writes one seed per replaceable member (its mode byte and its bytes).
void write_seeds(const char* dir) {
  const auto& b = base();
  for (size_t k = 0; k < b.replaceable.size(); ++k) {
    const auto& [name, content] = b.members[b.replaceable[k]];
    std::string file = name;
    std::replace(file.begin(), file.end(), '/', '_');
    std::ofstream(std::filesystem::path(dir) / ("member_" + file), std::ios::binary)
        << static_cast<char>(k + 1) << content;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] {
    torch::set_num_threads(1);
    if (const char* dir = std::getenv("PREIMAGE_FUZZ_SEEDS")) write_seeds(dir);
    return true;
  }();
  (void)once;
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto& b = base();
  const std::string file =
      data[0] == 0 ? rest : archive_with(b.replaceable[(data[0] - 1u) % b.replaceable.size()], rest);
  decoders::ModelSource source;
  source.decoder = fuzz::write_scratch("decoder.pt", file);
  source.latent_dim = 2;  // no search over latent dimensions: one probe per input
  fuzz::accepted([&] {
    const auto model = decoders::open_model(source);
    (void)model.decode_images(torch::zeros({3, model.latent_dim()}));
  });
  return 0;
}
