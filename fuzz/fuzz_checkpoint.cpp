// The checkpoint's record, by the input's first byte (mod 4):
//   0, 1  the record's JSON text, parsed and read as a VAE architecture (fast: the JSON level);
//   2     that text as the record of a well-formed archive with a tiny VAE's parameters;
//   3     the whole checkpoint file.
// 2 and 3 go through LibTorch's archive reader (about 10 ms an input) and, when the architecture
// is tiny, load the VAE (shapes and checksum against the record).
#include <torch/torch.h>

#include "fuzz_support.h"
#include "model/checkpoint.h"
#include "model/vae.h"

using namespace preimage;

namespace {

// A checkpoint whose record is `record` verbatim, beside the parameters of a tiny VAE (the
// archive keys of src/model/checkpoint.cpp).
std::string archive_with_record(const std::string& record) {
  static const auto params = [] {
    model::VaeConfig tiny;
    tiny.image_height = tiny.image_width = 2;
    tiny.latent_dim = 1;
    tiny.hidden_width = 2;
    tiny.encoder_depth = tiny.decoder_depth = 1;
    model::Vae vae(tiny);
    auto archive = std::make_shared<torch::serialize::OutputArchive>();
    vae->save(*archive);
    return archive;
  }();
  torch::serialize::OutputArchive archive;
  archive.write("preimage_record", c10::IValue(record));
  archive.write("module", *params);
  std::string bytes;
  archive.save_to([&](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] { torch::set_num_threads(1); return true; }();
  (void)once;
  if (size == 0) return 0;
  const int mode = data[0] & 3;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  model::VaeConfig config;
  if (mode < 2) {
    fuzz::accepted([&] {
      const auto record = nlohmann::json::parse(rest, nullptr, /*allow_exceptions=*/false);
      if (record.is_discarded() || !record.is_object() || !record.contains("architecture")) return;
      config = model::VaeConfig::from_json(record["architecture"]);
      config.check_sizes("fuzz");
      (void)config.describe();
    });
    return 0;
  }
  const auto path = fuzz::write_scratch("model.pt", mode == 3 ? rest : archive_with_record(rest));
  const bool parsed = fuzz::accepted([&] {
    const auto record = model::read_checkpoint_record(path);
    config = model::VaeConfig::from_json(record.at("architecture"));
    config.check_sizes("fuzz");
    (void)config.describe();
  });
  // Loading builds the VAE: only when it is tiny, to keep each input quick.
  if (parsed && config.pixels() <= 64 && config.hidden_width <= 16 && config.latent_dim <= 8 &&
      config.encoder_depth <= 3 && config.decoder_depth <= 3)
    fuzz::accepted([&] { model::load_vae(path); });
  return 0;
}
