#include "train/vae_trainer.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "train/adam.h"
#include "train/elbo.h"
#include "util/error.h"
#include "util/progress.h"

namespace preimage::train {

void TrainConfig::apply_preset(const std::string& name) {
  preset = name;
  if (name == "thesis") {
    batch_size = 32;
    learning_rate = 1e-4;
    epochs = 10;
  } else {
    require(name == "fast", fmt::format("unknown training preset '{}'", name),
            "use fast (the default) or thesis");
    batch_size = 128;
    learning_rate = 5e-4;
    epochs = 20;
  }
}

TrainConfig train_config(const std::string& preset, const TrainOverrides& given, uint64_t seed) {
  TrainConfig c;
  c.apply_preset(preset);
  c.seed = seed;
  if (given.epochs) {
    require(*given.epochs > 0, fmt::format("--epochs must be positive, got {}", *given.epochs));
    c.epochs = *given.epochs;
  }
  if (given.batch_size) {
    require(*given.batch_size > 0,
            fmt::format("--batch-size must be positive, got {}", *given.batch_size));
    c.batch_size = *given.batch_size;
  }
  if (given.learning_rate) {
    require(std::isfinite(*given.learning_rate) && *given.learning_rate > 0,
            fmt::format("--lr must be a positive number, got {}", *given.learning_rate));
    c.learning_rate = *given.learning_rate;
  }
  return c;
}

nlohmann::json TrainConfig::to_json() const {
  return {{"epochs", epochs}, {"batch_size", batch_size}, {"learning_rate", learning_rate},
          {"seed", seed},     {"preset", preset},         {"optimizer", "adam (keras, epsilon 1e-7)"}};
}

nlohmann::json EpochLog::to_json() const {
  return {{"epoch", epoch},
          {"train_elbo", train_elbo},
          {"test_elbo", std::isnan(test_elbo) ? nlohmann::json() : nlohmann::json(test_elbo)},
          {"seconds", seconds}};
}

double evaluate_elbo(model::Vae& vae, const data::Dataset& ds, uint64_t seed, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = vae->is_training();
  vae->eval();
  // Keep the training stream intact: evaluate with its own seed, then restore the state.
  auto generator = at::detail::getDefaultCPUGenerator();
  auto saved = generator.clone();
  torch::manual_seed(seed);
  double total = 0;
  for (int64_t begin = 0; begin < ds.size(); begin += batch_size) {
    auto x = ds.images.slice(0, begin, std::min(begin + batch_size, ds.size()));
    total -= negative_elbo(vae->forward(x), x).sum().item<double>();
  }
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(saved.get_state());
  }
  if (was_training) vae->train();
  return total / static_cast<double>(ds.size());
}

std::vector<EpochLog> train_vae(model::Vae& vae, const data::Dataset& train,
                                const data::Dataset* eval, const TrainConfig& config,
                                const std::function<void(const EpochLog&)>& on_epoch) {
  require(config.epochs > 0 && config.batch_size > 0 && config.learning_rate > 0,
          "epochs, batch size and learning rate must be positive");
  require(train.size() >= config.batch_size,
          fmt::format("{} training images are fewer than one batch of {}", train.size(),
                      config.batch_size));
  KerasAdam adam(vae->parameters(), AdamSettings{config.learning_rate});
  vae->train();
  std::vector<EpochLog> logs;
  const int64_t steps = train.size() / config.batch_size;  // drop the last partial batch
  for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    auto order = torch::randperm(train.size(), torch::kInt64);
    util::Progress progress(fmt::format("epoch {}", epoch), steps * config.batch_size, "img");
    double sum = 0;
    for (int64_t s = 0; s < steps; ++s) {
      auto idx = order.slice(0, s * config.batch_size, (s + 1) * config.batch_size);
      auto x = train.images.index_select(0, idx);
      auto loss = negative_elbo(vae->forward(x), x).mean();
      adam.zero_grad();
      loss.backward();
      adam.step();
      const double value = loss.item<double>();
      require(std::isfinite(value), fmt::format("training diverged at epoch {} step {} (loss {})",
                                                epoch, s, value),
              "lower the learning rate (--lr)");
      sum -= value;
      progress.advance(config.batch_size);
    }
    progress.finish();
    EpochLog log;
    log.epoch = epoch;
    log.train_elbo = sum / static_cast<double>(steps);
    log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.test_elbo = eval ? evaluate_elbo(vae, *eval, config.seed + 1) : std::nan("");
    spdlog::info("epoch:{} train_elbo:{:.4f} test_elbo:{:.4f} seconds:{:.1f} img_per_s:{:.0f}",
                 epoch, log.train_elbo, log.test_elbo, log.seconds,
                 static_cast<double>(steps * config.batch_size) / log.seconds);
    logs.push_back(log);
    if (on_epoch) on_epoch(log);
  }
  vae->eval();
  return logs;
}

}  // namespace preimage::train
