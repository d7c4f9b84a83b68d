#include "data/dataset.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <cmath>

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

torch::Tensor binarize(const torch::Tensor& images, double threshold) {
  auto x = images.scalar_type() == torch::kUInt8 ? images.to(torch::kFloat32) / 255.0
                                                 : images.to(torch::kFloat32);
  return (x > threshold).to(torch::kFloat32);
}

std::optional<double> parse_binarize(const std::string& text) {
  if (text == "none") return std::nullopt;
  double t = -1;
  try {
    size_t used = 0;
    t = std::stod(text, &used);
    if (used != text.size()) t = -1;
  } catch (const std::exception&) {
  }
  require(t >= 0 && t < 1, fmt::format("--binarize '{}' is neither none nor a threshold in [0, 1)",
                                       text),
          "use 0.5 (the thesis) or none (keep the grey levels)");
  return t;
}

std::string binarize_name(const std::optional<double>& threshold) {
  return threshold ? fmt::format("{:g}", *threshold) : "none";
}

std::vector<int64_t> parse_image_shape(const std::string& text) {
  std::vector<int64_t> shape;
  std::string current;
  const auto fail = [&] {
    throw UserError(fmt::format("cannot read image shape '{}'", text),
                    "use H,W or C,H,W, e.g. 28,28 or 3,32,32");
  };
  for (char c : text + ",") {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      current += c;
    } else if (c == ',' || c == 'x') {
      if (current.empty()) fail();
      // At most 9 digits (no image is a billion pixels wide): never std::stoll's out_of_range.
      require(current.size() <= 9,
              fmt::format("image shape '{}' has dimension {}, more than any image holds", text,
                          current),
              "use H,W or C,H,W, e.g. 28,28 or 3,32,32");
      shape.push_back(std::stoll(current));
      if (shape.back() <= 0) fail();
      current.clear();
    } else {
      fail();
    }
  }
  if (shape.size() != 2 && shape.size() != 3) fail();
  return shape;
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

// The labels of `available` images: one whole number 0..9 per image, checked at load so that a
// wrong file fails here, naming itself, rather than in the report's per-digit parts.
torch::Tensor read_labels(const fs::path& path, const fs::path& images, int64_t available) {
  const std::string name = path.string();
  const std::string hint = "give the labels file of the same split as the images";
  auto raw = path.extension() == ".npy" ? read_npy_tensor(path) : read_idx(path, 1);
  require(raw.dim() == 1,
          fmt::format("'{}' holds labels of shape ({}), expected a 1-D array: one label per image",
                      name, fmt::join(raw.sizes(), ", ")),
          "save the labels as a flat array, e.g. numpy.save(path, labels.reshape(-1))");
  require(raw.size(0) == available,
          fmt::format("'{}' holds {} labels, but '{}' holds {} images", name, raw.size(0),
                      images.string(), available),
          hint);
  if (raw.is_floating_point()) {
    const auto whole = torch::isfinite(raw).logical_and(raw == torch::round(raw));
    if (!whole.all().item<bool>()) {
      const int64_t at = whole.logical_not().nonzero()[0][0].item<int64_t>();
      throw UserError(fmt::format("'{}' holds label {} at position {}, expected a whole number "
                                  "0..9", name, raw[at].item<double>(), at),
                      hint);
    }
  }
  const auto as_double = raw.to(torch::kFloat64);
  const auto outside = as_double.lt(0).logical_or(as_double.gt(9));
  if (outside.any().item<bool>()) {
    const int64_t at = outside.nonzero()[0][0].item<int64_t>();
    throw UserError(fmt::format("'{}' holds label {} at position {}, expected a class 0..9", name,
                                as_double[at].item<double>(), at),
                    "the analysis and the report count ten classes (digits); leave out --labels "
                    "for images without them");
  }
  return raw.to(torch::kInt64);
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
      std::vector<int64_t> shape = spec.image_shape;
      if (shape.empty()) {
        const auto side = static_cast<int64_t>(std::lround(std::sqrt(raw.size(1))));
        require(side * side == raw.size(1),
                fmt::format("'{}' has flat images of {} pixels, not a square (e.g. 784 = 28x28)",
                            files.images.string(), raw.size(1)),
                "give their shape: --image-shape H,W or C,H,W");
        shape = {side, side};
      }
      int64_t p = 1;
      bool overflow = false;
      for (int64_t d : shape) overflow = overflow || __builtin_mul_overflow(p, d, &p);
      require(!overflow && p == raw.size(1),
              fmt::format("'{}' has flat images of {} pixels; --image-shape {} makes {}",
                          files.images.string(), raw.size(1), fmt::join(shape, ","),
                          overflow ? std::string("more than 2^63") : std::to_string(p)));
      shape.insert(shape.begin(), raw.size(0));
      raw = raw.view(shape);
    }
    require(raw.dim() == 3 || raw.dim() == 4,
            fmt::format("'{}' has {} dimensions, expected (N, H, W), (N, C, H, W) or (N, P)",
                        files.images.string(), raw.dim()));
    if (raw.scalar_type() != torch::kUInt8) {
      raw = raw.to(torch::kFloat32);
      check_pixels(raw, fmt::format("'{}'", files.images.string()));
    }
  } else {
    raw = read_idx(files.images, 3);
  }
  const int64_t available = raw.size(0);
  // An empty file first: its other sizes, unbounded by any bytes, could overflow a product.
  range = resolve_range(range, available, fmt::format("'{}'", files.images.string()));
  if (raw.dim() == 4) ds.channels = raw.size(1);
  ds.height = raw.size(raw.dim() - 2);
  ds.width = raw.size(raw.dim() - 1);
  // Before anything per image is allocated: images of no pixels make a file of any count tiny.
  require(ds.pixels() > 0,
          fmt::format("'{}' holds images of {} pixels ({}), expected at least one",
                      files.images.string(), ds.pixels(), fmt::join(raw.sizes().slice(1), " x ")));
  labels = files.labels.empty() ? torch::full({available}, -1, torch::kInt64)
                                : read_labels(files.labels, files.images, available);

  auto slice = raw.slice(0, range.begin, range.end);
  auto images = slice.reshape({range.size(), ds.pixels()});
  ds.images = spec.binarize ? binarize(images, *spec.binarize)
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
