#pragma once
// The classifier behind the success rates (the thesis's section 3.4): the TensorFlow CNN
// tutorial's network, with its widths as settings:
//   Conv2d(c1, 3x3, ReLU) -> MaxPool(2) -> Conv2d(c2, 3x3, ReLU) -> MaxPool(2)
//   -> Conv2d(c3, 3x3, ReLU) -> Flatten -> Dense(d, ReLU) -> Dense(classes) logits.
// "thesis": (32, 64, 64), 64, the tutorial's; "lean" (the default): (16, 32, 32), 64, about a
// quarter of its multiply-adds for the same test accuracy in fewer epochs (docs/PERFORMANCE.md).
// It judges decoded images, so it is trained on binarized images like everything else here.
#include <array>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace preimage::model {

struct ClassifierConfig {
  int64_t image_height = 28;  // input images are height x width, one channel
  int64_t image_width = 28;
  int64_t classes = 10;       // output logits (the data set's classes 0-9)
  std::array<int64_t, 3> channels = {16, 32, 32};  // the three convolutions' output channels
  int64_t dense = 64;                              // the hidden dense layer's width

  // The named architectures: "lean" (the default widths above) or "thesis" (32, 64, 64).
  // Throws UserError for another name.
  static ClassifierConfig preset(const std::string& name, int64_t height, int64_t width,
                                 int64_t classes = 10);
  std::string preset_name() const;  // "lean", "thesis" or "custom"

  nlohmann::json to_json() const;  // the architecture record of its checkpoints
  static ClassifierConfig from_json(const nlohmann::json& j);  // throws UserError
  bool operator==(const ClassifierConfig& o) const;
};

class ClassifierImpl : public torch::nn::Module {
 public:
  explicit ClassifierImpl(const ClassifierConfig& config = {});

  // (B, H*W) or (B, 1, H, W) images in [0, 1] -> (B, classes) logits.
  torch::Tensor forward(torch::Tensor images);
  // Predicted class of each image, (B) int64, in batches of `batch_size`, without gradients
  // (batches of 1000 ran 5x slower than 128 here: the convolutions' im2col buffers).
  torch::Tensor predict(const torch::Tensor& images, int64_t batch_size = 128);

  const ClassifierConfig& config() const { return config_; }
  int64_t flat_features() const { return flat_; }  // features after Flatten (c3 x 3 x 3 for 28x28)

 private:
  ClassifierConfig config_;
  int64_t flat_ = 0;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::Linear dense1_{nullptr}, dense2_{nullptr};
};
TORCH_MODULE(Classifier);

// Loads a classifier checkpoint written by save_checkpoint with ClassifierConfig::to_json() as
// its architecture; a checkpoint of anything else (a VAE, another image size) is a UserError
// naming the file and both architectures.
Classifier load_classifier(const std::filesystem::path& path);

}  // namespace preimage::model
