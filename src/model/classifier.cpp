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

nlohmann::json ClassifierConfig::to_json() const {
  return {{"kind", kKind}, {"image_height", image_height}, {"image_width", image_width},
          {"classes", classes}};
}

ClassifierConfig ClassifierConfig::from_json(const nlohmann::json& j) {
  require(j.is_object() && j.value("kind", "") == kKind,
          fmt::format("architecture {} is not the classifier ({})", j.dump(), kKind),
          "pass a checkpoint written by preimage train-classifier");
  ClassifierConfig c;
  c.image_height = j.at("image_height");
  c.image_width = j.at("image_width");
  c.classes = j.at("classes");
  return c;
}

bool ClassifierConfig::operator==(const ClassifierConfig& o) const {
  return image_height == o.image_height && image_width == o.image_width && classes == o.classes;
}

ClassifierImpl::ClassifierImpl(const ClassifierConfig& config) : config_(config) {
  const int64_t h = conv3(pool2(conv3(pool2(conv3(config.image_height)))));
  const int64_t w = conv3(pool2(conv3(pool2(conv3(config.image_width)))));
  TORCH_CHECK(h > 0 && w > 0, "images of ", config.image_height, "x", config.image_width,
              " are too small for the classifier (at least 18x18)");
  flat_ = 64 * h * w;
  conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3)));
  conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3)));
  conv3_ = register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 64, 3)));
  dense1_ = register_module("dense1", torch::nn::Linear(flat_, 64));
  dense2_ = register_module("dense2", torch::nn::Linear(64, config.classes));
  for (auto* c : {&conv1_, &conv2_, &conv3_}) glorot_uniform_conv_(*c);
  glorot_uniform_(dense1_);
  glorot_uniform_(dense2_);
}

torch::Tensor ClassifierImpl::forward(torch::Tensor x) {
  x = x.reshape({x.size(0), 1, config_.image_height, config_.image_width});  // (B, 1, H, W)
  x = torch::max_pool2d(torch::relu(conv1_->forward(x)), 2);  // (B, 32, 13, 13)
  x = torch::max_pool2d(torch::relu(conv2_->forward(x)), 2);  // (B, 64, 5, 5)
  x = torch::relu(conv3_->forward(x)).flatten(1);             // (B, 576)
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
