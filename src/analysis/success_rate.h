#pragma once
// Success rate of a latent space (thesis section 3.4): decode each latent, binarize the image at
// 0.5, classify it, and count agreement with the classifier's prediction on the original image
// (the thesis's definition) and with the true label. Beyond the thesis: per-digit rates and the
// confusion between the original's predicted digit and the decoded image's.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace preimage::analysis {

// latents (B, L) -> decoder logits (B, P).
using DecodeFn = std::function<torch::Tensor(const torch::Tensor&)>;
// images (B, P) of 0/1 -> predicted classes (B) int64.
using ClassifyFn = std::function<torch::Tensor(const torch::Tensor&)>;

struct SuccessCounts {
  int64_t total = 0;               // images
  int64_t right_vs_original = 0;   // decoded class == classifier's class of the original
  int64_t labelled = 0;            // images with a known label
  int64_t right_vs_label = 0;      // decoded class == true label
  // By true label (digit d = index; images without a label are left out):
  std::vector<int64_t> digit_total, digit_right_vs_original, digit_right_vs_label;
  // confusion[a][b]: images the classifier calls a in the original and b once decoded.
  std::vector<std::vector<int64_t>> confusion;

  nlohmann::json to_json() const;
};

// Counts from the three class vectors (each (N) int64; labels -1 where unknown).
SuccessCounts count_success(const torch::Tensor& decoded_class, const torch::Tensor& original_class,
                            const torch::Tensor& labels, int64_t classes = 10);

// Classes of the decoded, binarized (sigmoid(logit) > 0.5) images of `latents` (N, L), in
// batches of `batch_size`.
torch::Tensor classify_decoded(const DecodeFn& decode, const ClassifyFn& classify,
                               const torch::Tensor& latents, int64_t batch_size = 1000);

// "right 4521 out of 5000 (90.42%)", the thesis's wording.
std::string right_out_of(int64_t right, int64_t total);
// "N out of M (P%)": a share that is no success count (e.g. positive dot products).
std::string share_of(int64_t count, int64_t total);

}  // namespace preimage::analysis
