// Success-rate counting with a stub decoder and classifier whose answers are known, and the vector
// analysis on a hand example.
#include <gtest/gtest.h>

#include "analysis/success_rate.h"
#include "analysis/vector_field.h"

using namespace preimage::analysis;

namespace {
torch::Tensor int64s(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }
}  // namespace

TEST(SuccessRate, CountsAgreementWithOriginalAndLabel) {
  // Image 0: all agree. 1: decoded differs from both. 2: decoded matches the original's class
  // but the classifier got the original wrong. 3: unlabelled, decoded agrees.
  auto decoded = int64s({3, 5, 2, 8}), original = int64s({3, 1, 2, 8}), labels = int64s({3, 1, 7, -1});
  auto c = count_success(decoded, original, labels);
  EXPECT_EQ(c.total, 4);
  EXPECT_EQ(c.right_vs_original, 3);
  EXPECT_EQ(c.labelled, 3);
  EXPECT_EQ(c.right_vs_label, 1);
  EXPECT_EQ(c.digit_total[3], 1);
  EXPECT_EQ(c.digit_total[7], 1);
  EXPECT_EQ(c.digit_right_vs_original[7], 1);
  EXPECT_EQ(c.digit_right_vs_label[7], 0);
  EXPECT_EQ(c.confusion[1][5], 1);
  EXPECT_EQ(c.confusion[8][8], 1);
  auto j = c.to_json();
  EXPECT_DOUBLE_EQ(j["vs_original_prediction"]["rate"].get<double>(), 0.75);
  EXPECT_TRUE(j["per_digit"]["rate_vs_original"][0].is_null());  // no image of digit 0
  EXPECT_EQ(right_out_of(3, 4), "right 3 out of 4 (75.00%)");
}

TEST(SuccessRate, DecodesBinarizesAndClassifies) {
  // Stub decoder: every one of 4 pixels gets logit y. Binarized at sigmoid > 0.5, i.e. y > 0
  // (y = 0 gives exactly 0.5: black). Stub classifier: the number of white pixels.
  const DecodeFn decode = [](const torch::Tensor& y) { return y.expand({y.size(0), 4}); };
  const ClassifyFn classify = [](const torch::Tensor& x) {
    EXPECT_TRUE(((x == 0) | (x == 1)).all().item<bool>()) << "the classifier sees 0/1 images";
    return x.sum(1).to(torch::kInt64);
  };
  auto latents = torch::tensor({1.0f, -1.0f, 0.0f, 3.0f}).view({4, 1});
  auto classes = classify_decoded(decode, classify, latents, /*batch_size=*/3);
  EXPECT_TRUE(classes.equal(int64s({4, 0, 0, 4})));
}

TEST(VectorAnalysis, HandExample) {
  // MT: (0, 0), (2, 0): mean (1, 0), so u = (1, 0), (-1, 0). MN moves them by v = (0.5, 0) (towards
  // the centre: u.v = 0.5) and (1, 0) (away: u.v = -1).
  auto mt = torch::tensor({0.0f, 0.0f, 2.0f, 0.0f}).view({2, 2});
  auto mn = torch::tensor({0.5f, 0.0f, 3.0f, 0.0f}).view({2, 2});
  auto a = vector_analysis(mt, mn);
  EXPECT_EQ(a.positive, 1);
  EXPECT_DOUBLE_EQ(a.share_positive, 0.5);
  EXPECT_DOUBLE_EQ(a.mean_dot, -0.25);
  EXPECT_DOUBLE_EQ(a.mean_cosine, 0.0);  // cosines +1 and -1
  EXPECT_DOUBLE_EQ(a.mean_norm_v, 0.75);
  auto field = a.field(mt);
  ASSERT_EQ(field.sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_FLOAT_EQ(field[1][2].item<float>(), 1.0f);   // v_x of image 1
  EXPECT_FLOAT_EQ(field[1][4].item<float>(), -1.0f);  // u.v of image 1

  // An image at the centre or one that did not move has no cosine; it is left out of the mean.
  auto b = vector_analysis(mt, mt);
  EXPECT_EQ(b.cosine_defined, 0);
  EXPECT_EQ(b.positive, 0);
  EXPECT_TRUE(b.to_json()["mean_cosine"].is_null());
}
