#include "model/classifier.h"

#include <cmath>

#include <fmt/format.h>

#include "model/checkpoint.h"
#include "model/mlp.h"
#include "util/error.h"

namespace preimage::model {
namespace {

constexpr const char* kKind = "mnist-cnn";  // architecture record's "kind"

// Keras's default initialisation (Glorot-uniform kernels, zero biases) for a convolution:
// fan_in = in_channels * kh * kw, fan_out = out_channels * kh * kw.
void glorot_uniform_conv_(torch::nn::Conv2d& conv) {
  torch::NoGradGuard no_grad;
  const auto& w = conv->weight;  // (out, in, kh, kw)
  const double receptive = static_cast<double>(w.size(2) * w.size(3));
  const double fan_in = static_cast<double>(w.size(1)) * receptive;
  const double fan_out = static_cast<double>(w.size(0)) * receptive;
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  conv->weight.uniform_(-limit, limit);
  conv->bias.zero_();
}

// Output side of a valid 3x3 convolution and of a 2x2 max-pool (floor).
int64_t conv3(int64_t side) { return side - 2; }
int64_t pool2(int64_t side) { return side / 2; }

}  // namespace

ClassifierConfig ClassifierConfig::preset(const std::string& name, int64_t height, int64_t width,
                                          int64_t classes) {
  ClassifierConfig c;
  c.image_height = height;
  c.image_width = width;
  c.classes = classes;
  if (name == "thesis") {
    c.channels = {32, 64, 64};
  } else {
    require(name == "lean", fmt::format("unknown classifier architecture '{}'", name),
            "use lean (the default) or thesis (the TensorFlow tutorial's widths)");
  }
  return c;
}

std::string ClassifierConfig::preset_name() const {
  for (const char* name : {"lean", "thesis"}) {
    const auto p = preset(name, image_height, image_width, classes);
    if (p.channels == channels && p.dense == dense) return name;
  }
  return "custom";
}

nlohmann::json ClassifierConfig::to_json() const {
  return {{"kind", kKind},         {"image_height", image_height}, {"image_width", image_width},
          {"classes", classes},    {"channels", channels},         {"dense", dense}};
}

ClassifierConfig ClassifierConfig::from_json(const nlohmann::json& j) {
  require(j.is_object() && j.value("kind", "") == kKind,
          fmt::format("architecture {} is not the classifier ({})", j.dump(), kKind),
          "pass a checkpoint written by preimage train-classifier");
  auto integer = [&](const char* key, int64_t fallback) {  // fallback 0: the key is required
    require(fallback != 0 || j.contains(key),
            fmt::format("classifier architecture {} has no '{}'", j.dump(), key));
    if (!j.contains(key)) return fallback;
    const auto& v = j.at(key);
    require(v.is_number_integer() && v.get<int64_t>() > 0 && v.get<int64_t>() <= 4096,
            fmt::format("classifier architecture {}: '{}' must be an integer in 1..4096", j.dump(),
                        key));
    return v.get<int64_t>();
  };
  ClassifierConfig c;
  c.image_height = integer("image_height", 0);
  c.image_width = integer("image_width", 0);
  c.classes = integer("classes", 0);
  // Checkpoints written before the widths were settings hold the thesis's network.
  c.channels = {32, 64, 64};
  c.dense = integer("dense", 64);
  if (j.contains("channels")) {
    const auto& ch = j.at("channels");
    require(ch.is_array() && ch.size() == 3,
            fmt::format("classifier architecture {}: 'channels' must list 3 widths", j.dump()));
    for (size_t k = 0; k < 3; ++k) {
      require(ch[k].is_number_integer() && ch[k].get<int64_t>() > 0 && ch[k].get<int64_t>() <= 4096,
              fmt::format("classifier architecture {}: channel widths must be in 1..4096", j.dump()));
      c.channels[k] = ch[k].get<int64_t>();
    }
  }
  return c;
}

bool ClassifierConfig::operator==(const ClassifierConfig& o) const {
  return image_height == o.image_height && image_width == o.image_width && classes == o.classes &&
         channels == o.channels && dense == o.dense;
}

ClassifierImpl::ClassifierImpl(const ClassifierConfig& config) : config_(config) {
  const int64_t h = conv3(pool2(conv3(pool2(conv3(config.image_height)))));
  const int64_t w = conv3(pool2(conv3(pool2(conv3(config.image_width)))));
  TORCH_CHECK(h > 0 && w > 0, "images of ", config.image_height, "x", config.image_width,
              " are too small for the classifier (at least 18x18)");
  const auto& [c1, c2, c3] = config.channels;
  flat_ = c3 * h * w;
  conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, c1, 3)));
  conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(c1, c2, 3)));
  conv3_ = register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(c2, c3, 3)));
  dense1_ = register_module("dense1", torch::nn::Linear(flat_, config.dense));
  dense2_ = register_module("dense2", torch::nn::Linear(config.dense, config.classes));
  for (auto* c : {&conv1_, &conv2_, &conv3_}) glorot_uniform_conv_(*c);
  glorot_uniform_(dense1_);
  glorot_uniform_(dense2_);
}

torch::Tensor ClassifierImpl::forward(torch::Tensor x) {
  x = x.reshape({x.size(0), 1, config_.image_height, config_.image_width});  // (B, 1, H, W)
  x = torch::max_pool2d(torch::relu(conv1_->forward(x)), 2);  // (B, c1, 13, 13)
  x = torch::max_pool2d(torch::relu(conv2_->forward(x)), 2);  // (B, c2, 5, 5)
  x = torch::relu(conv3_->forward(x)).flatten(1);             // (B, c3 * 3 * 3)
  return dense2_->forward(torch::relu(dense1_->forward(x)));  // (B, classes)
}

torch::Tensor ClassifierImpl::predict(const torch::Tensor& images, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  std::vector<torch::Tensor> out;
  for (int64_t b = 0; b < images.size(0); b += batch_size)
    out.push_back(forward(images.slice(0, b, std::min(b + batch_size, images.size(0)))).argmax(1));
  if (was_training) train();
  return out.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(out);
}

Classifier load_classifier(const std::filesystem::path& path) {
  const auto record = read_checkpoint_record(path);
  const auto& arch = record.at("architecture");
  require(arch.is_object() && arch.value("kind", "") == kKind,
          fmt::format("checkpoint '{}' holds architecture {}, not the classifier (kind {})",
                      path.string(), arch.dump(), kKind),
          "pass a checkpoint written by preimage train-classifier (--classifier PATH), or delete "
          "it to train a new one");
  Classifier classifier(ClassifierConfig::from_json(arch));
  load_checkpoint(*classifier, classifier->config().to_json(), path);
  classifier->eval();
  return classifier;
}

}  // namespace preimage::model
