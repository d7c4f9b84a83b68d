#include "data/dataset.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/idx.h"
#include "data/tensor_io.h"
#include "util/build_config.h"
#include "util/error.h"

namespace preimage::data {
namespace fs = std::filesystem;

fs::path default_data_dir() {
  if (const char* env = std::getenv("PREIMAGE_DATA_DIR")) return env;
  return PREIMAGE_DEFAULT_DATA_DIR;
}

std::vector<std::string> known_datasets() { return {"mnist", "fashion-mnist"}; }

torch::Tensor binarize(const torch::Tensor& images) {
  auto x = images.scalar_type() == torch::kUInt8 ? images.to(torch::kFloat32) / 255.0
                                                 : images.to(torch::kFloat32);
  return (x > 0.5).to(torch::kFloat32);
}

void check_pixels(const torch::Tensor& images, const std::string& what) {
  require(torch::isfinite(images).all().item<bool>(),
          fmt::format("{} contains NaN or infinite values", what),
          "pixels must be finite numbers in [0, 1]");
  if (images.numel() == 0) return;
  const double lo = images.min().item<double>(), hi = images.max().item<double>();
  require(lo >= 0.0 && hi <= 1.0,
          fmt::format("{} has pixel values in [{}, {}], expected [0, 1]", what, lo, hi),
          "scale 8-bit images by 1/255 first");
}

namespace {

struct Files {
  fs::path images, labels;  // labels may be empty
};

Files named_files(const DataSpec& spec) {
  require(spec.split == "train" || spec.split == "test",
          fmt::format("unknown split '{}'", spec.split), "use train or test");
  const fs::path dir = (spec.data_dir.empty() ? default_data_dir() : spec.data_dir) / spec.source;
  require(fs::is_directory(dir),
          fmt::format("data folder '{}' does not exist", dir.string()),
          "run scripts/setup.sh, which fetches MNIST and unpacks Fashion-MNIST into data/");
  const std::string prefix = spec.split == "train" ? "train" : "t10k";
  return {dir / (prefix + "-images-idx3-ubyte"), dir / (prefix + "-labels-idx1-ubyte")};
}

bool is_named(const std::string& source) {
  for (const auto& name : known_datasets())
    if (source == name) return true;
  return false;
}

}  // namespace

int64_t dataset_size(const DataSpec& spec) {
  return load_dataset(spec, {0, 1}).source_size;
}

Dataset load_dataset(const DataSpec& spec, ImageRange range) {
  Dataset ds;
  torch::Tensor raw;  // (N, H, W) uint8 or float
  torch::Tensor labels;
  Files files;
  if (is_named(spec.source)) {
    files = named_files(spec);
    ds.name = spec.source + "/" + spec.split;
  } else {
    require(fs::exists(spec.source),
            fmt::format("data source '{}' is neither a known data set nor an existing file",
                        spec.source),
            fmt::format("use one of: {}, or the path of an IDX or .npy images file",
                        fmt::join(known_datasets(), ", ")));
    files = {spec.source, spec.labels_path};
    ds.name = fs::path(spec.source).filename().string();
  }

  if (files.images.extension() == ".npy") {
    raw = read_npy_tensor(files.images);
    if (raw.dim() == 2) {
      const auto side = static_cast<int64_t>(std::lround(std::sqrt(raw.size(1))));
      require(side * side == raw.size(1),
              fmt::format("'{}' has images of {} pixels, expected a square (e.g. 784 = 28x28) "
                          "or a 3-D array (N, H, W)", files.images.string(), raw.size(1)));
      raw = raw.view({raw.size(0), side, side});
    }
    require(raw.dim() == 3, fmt::format("'{}' has {} dimensions, expected (N, H, W) or (N, H*W)",
                                        files.images.string(), raw.dim()));
    if (raw.scalar_type() != torch::kUInt8) {
      raw = raw.to(torch::kFloat32);
      check_pixels(raw, fmt::format("'{}'", files.images.string()));
    }
  } else {
    raw = read_idx(files.images, 3);
  }
  const int64_t available = raw.size(0);
  if (!files.labels.empty()) {
    labels = files.labels.extension() == ".npy" ? read_npy_tensor(files.labels).to(torch::kInt64)
                                                : read_idx(files.labels, 1).to(torch::kInt64);
    require(labels.dim() == 1 && labels.size(0) == available,
            fmt::format("'{}' holds {} labels but '{}' holds {} images", files.labels.string(),
                        labels.size(0), files.images.string(), available),
            "the images and labels files must come from the same split");
  } else {
    labels = torch::full({available}, -1, torch::kInt64);
  }

  range = resolve_range(range, available, fmt::format("'{}'", files.images.string()));
  auto slice = raw.slice(0, range.begin, range.end);
  ds.height = raw.size(1);
  ds.width = raw.size(2);
  auto images = slice.reshape({range.size(), ds.height * ds.width});
  ds.images = spec.binarize ? binarize(images)
                            : (images.scalar_type() == torch::kUInt8
                                   ? images.to(torch::kFloat32) / 255.0
                                   : images.to(torch::kFloat32))
                                  .contiguous();
  ds.labels = labels.slice(0, range.begin, range.end).contiguous();
  ds.indices = torch::arange(range.begin, range.end, torch::kInt64);
  ds.source_size = available;
  return ds;
}

}  // namespace preimage::data
