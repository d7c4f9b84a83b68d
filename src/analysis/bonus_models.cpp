#include "analysis/bonus_models.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "model/bonus.h"
#include "model/checkpoint.h"

namespace preimage::analysis {

nlohmann::json BonusConfig::to_json() const {
  return {{"enabled", enabled}, {"amortized", amortized}, {"seed", seed},
          {"MB", latent.to_json()}, {"MA", image.to_json()}};
}

namespace {

struct Fitted {
  torch::Tensor outputs;  // (N, L) the model applied to every row
  nlohmann::json report;
};

Fitted fit_one(const std::string& name, const model::MlpShape& shape, const torch::Tensor& inputs,
               const torch::Tensor& targets, train::RegressionConfig config, uint64_t seed,
               const std::filesystem::path& save_dir) {
  const auto start = std::chrono::steady_clock::now();
  torch::manual_seed(seed);
  config.seed = seed;
  model::Mlp net(shape);
  nlohmann::json log = nlohmann::json::array();
  const auto logs = train::train_regression(net, inputs, targets, config,
                                            [&](const auto& l) { log.push_back(l.to_json()); });
  torch::Tensor outputs;
  {
    torch::NoGradGuard no_grad;
    outputs = net->forward(inputs.to(torch::kFloat32));
  }
  const auto architecture = model::mlp_architecture(name, shape);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json report = {{"architecture", architecture},
                           {"train", config.to_json()},
                           {"final_train_mse", logs.back().train_mse},
                           {"final_validation_mse", logs.back().to_json()["validation_mse"]},
                           {"log", log},
                           {"seconds", seconds}};
  if (!save_dir.empty()) {
    const auto path = save_dir / (name + ".pt");
    model::save_checkpoint(*net, architecture, {{"train", config.to_json()}}, path);
    report["checkpoint"] = path.string();
  }
  spdlog::info("bonus_model:{} train_mse:{:.6f} validation_mse:{:.6f} seconds:{:.1f}", name,
               logs.back().train_mse, logs.back().validation_mse, seconds);
  return {outputs, report};
}

}  // namespace

BonusModels fit_bonus_models(const torch::Tensor& mt, const torch::Tensor& mn,
                             const torch::Tensor& images, const BonusConfig& config,
                             const std::filesystem::path& save_dir) {
  BonusModels out;
  out.train_rows = train::training_rows(mt.size(0), config.latent.validation_split);
  auto mb = fit_one("MB", model::bonus_shape(mt.size(1)), mt, mn, config.latent, config.seed,
                    save_dir);
  out.mb = mb.outputs;
  out.report["MB"] = mb.report;
  if (config.amortized) {
    auto image = config.image;
    image.validation_split = config.latent.validation_split;  // one held-out set for both
    auto ma = fit_one("MA", model::amortized_shape(images.size(1), mt.size(1)), images, mn, image,
                      config.seed + 1, save_dir);
    out.ma = ma.outputs;
    out.report["MA"] = ma.report;
  }
  return out;
}

}  // namespace preimage::analysis
