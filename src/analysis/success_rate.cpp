#include "analysis/success_rate.h"

#include <fmt/format.h>

namespace preimage::analysis {

namespace {
double rate(int64_t right, int64_t total) {
  return total > 0 ? static_cast<double>(right) / static_cast<double>(total) : 0.0;
}
nlohmann::json rates(const std::vector<int64_t>& right, const std::vector<int64_t>& total) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t d = 0; d < right.size(); ++d)
    out.push_back(total[d] > 0 ? nlohmann::json(rate(right[d], total[d])) : nlohmann::json());
  return out;
}
}  // namespace

nlohmann::json SuccessCounts::to_json() const {
  return {{"vs_original_prediction",
           {{"right", right_vs_original}, {"total", total}, {"rate", rate(right_vs_original, total)}}},
          {"vs_label",
           {{"right", right_vs_label}, {"total", labelled}, {"rate", rate(right_vs_label, labelled)}}},
          {"per_digit",
           {{"total", digit_total},
            {"right_vs_original", digit_right_vs_original},
            {"rate_vs_original", rates(digit_right_vs_original, digit_total)},
            {"right_vs_label", digit_right_vs_label},
            {"rate_vs_label", rates(digit_right_vs_label, digit_total)}}},
          {"confusion", confusion}};
}

SuccessCounts count_success(const torch::Tensor& decoded_class, const torch::Tensor& original_class,
                            const torch::Tensor& labels, int64_t classes) {
  TORCH_CHECK(decoded_class.numel() == original_class.numel() &&
                  decoded_class.numel() == labels.numel(),
              "class vectors of different lengths: decoded ", decoded_class.numel(), ", original ",
              original_class.numel(), ", labels ", labels.numel());
  auto dec = decoded_class.to(torch::kInt64).contiguous();
  auto org = original_class.to(torch::kInt64).contiguous();
  auto lab = labels.to(torch::kInt64).contiguous();
  const int64_t *d = dec.data_ptr<int64_t>(), *o = org.data_ptr<int64_t>(),
                *l = lab.data_ptr<int64_t>();
  SuccessCounts c;
  c.digit_total.assign(classes, 0);
  c.digit_right_vs_original.assign(classes, 0);
  c.digit_right_vs_label.assign(classes, 0);
  c.confusion.assign(classes, std::vector<int64_t>(classes, 0));
  c.total = dec.numel();
  for (int64_t i = 0; i < c.total; ++i) {
    const bool agree = d[i] == o[i];
    c.right_vs_original += agree;
    if (o[i] >= 0 && o[i] < classes && d[i] >= 0 && d[i] < classes) ++c.confusion[o[i]][d[i]];
    if (l[i] < 0 || l[i] >= classes) continue;  // unknown label
    ++c.labelled;
    c.right_vs_label += d[i] == l[i];
    ++c.digit_total[l[i]];
    c.digit_right_vs_original[l[i]] += agree;
    c.digit_right_vs_label[l[i]] += d[i] == l[i];
  }
  return c;
}

torch::Tensor classify_decoded(const DecodeFn& decode, const ClassifyFn& classify,
                               const torch::Tensor& latents, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (int64_t b = 0; b < latents.size(0); b += batch_size) {
    auto logits = decode(latents.slice(0, b, std::min(b + batch_size, latents.size(0))));
    auto binary = (torch::sigmoid(logits) > 0.5).to(torch::kFloat32);  // (B, P), the thesis's 0.5
    out.push_back(classify(binary).to(torch::kInt64));
  }
  return out.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(out);
}

std::string right_out_of(int64_t right, int64_t total) {
  return fmt::format("right {} out of {} ({:.2f}%)", right, total, 100.0 * rate(right, total));
}

std::string share_of(int64_t count, int64_t total) {
  return fmt::format("{} out of {} ({:.2f}%)", count, total, 100.0 * rate(count, total));
}

}  // namespace preimage::analysis
