#include "train/vae_trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "train/adam.h"
#include "train/elbo.h"
#include "train/schedule.h"
#include "train/train_state.h"
#include "train/train_step.h"
#include "util/error.h"
#include "util/progress.h"

namespace preimage::train {

namespace {
constexpr int64_t kMaxPatience = 100000;  // epochs; beyond it a patience is a typo

nlohmann::json number_or_null(double x) {
  return std::isnan(x) ? nlohmann::json() : nlohmann::json(x);
}

// LibTorch's default CPU generator: its state, and setting it (under its lock).
torch::Tensor generator_state() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}
void set_generator_state(const torch::Tensor& state) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

std::vector<torch::Tensor> clone_all(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) out.push_back(t.detach().clone());
  return out;
}

void copy_into(const std::vector<torch::Tensor>& from, std::vector<torch::Tensor> to) {
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < to.size(); ++k) to[k].copy_(from[k]);
}

// True when every tensor of `got` has the shape and type of `want`'s.
bool same_shapes(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want) {
  if (got.size() != want.size()) return false;
  for (size_t k = 0; k < got.size(); ++k)
    if (got[k].sizes() != want[k].sizes() || got[k].scalar_type() != want[k].scalar_type())
      return false;
  return true;
}

// Why `s` cannot continue a training of `vae` with `config` ("" when it can).
std::string misfit(const TrainState& s, model::Vae& vae, const TrainConfig& config) {
  const auto params = vae->parameters();
  if (!same_shapes(s.parameters, params)) return "its parameters do not fit the model";
  if (!s.best.empty() && !same_shapes(s.best, params)) return "its best weights do not fit";
  if (!same_shapes(s.adam_m, params) || !same_shapes(s.adam_v, params))
    return "its Adam moments do not fit the model";
  if (s.adam_step < 0) return "its Adam step count is negative";
  const auto generator = generator_state();
  if (s.generator.sizes() != generator.sizes() || s.generator.scalar_type() != generator.scalar_type())
    return "its generator state is not LibTorch's CPU generator's";
  if (s.logs.empty() || static_cast<int64_t>(s.logs.size()) > config.epochs)
    return fmt::format("it records {} epochs, expected 1 to {}", s.logs.size(), config.epochs);
  for (size_t k = 0; k < s.logs.size(); ++k)
    if (s.logs[k].epoch != static_cast<int64_t>(k + 1)) return "its epochs are not 1, 2, ...";
  return "";
}
}  // namespace

void TrainConfig::apply_preset(const std::string& name) {
  preset = name;
  if (name == "thesis") {  // the tutorial: fixed step size, every epoch, the last one kept
    batch_size = 32;
    learning_rate = 1e-4;
    epochs = 10;
    lr_patience = 0;
    stop_patience = 0;
    keep_best = false;
  } else {
    require(name == "fast" || name == "converged",
            fmt::format("unknown training preset '{}'", name),
            "use fast (the default), thesis or converged");
    batch_size = 128;
    learning_rate = 5e-4;
    epochs = name == "fast" ? 20 : 200;
    lr_patience = 2;
    stop_patience = 5;
    keep_best = true;
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
  if (given.lr_patience) {
    require(*given.lr_patience >= 0 && *given.lr_patience <= kMaxPatience,
            fmt::format("--lr-patience must be 0 (a fixed learning rate) or a number of epochs "
                        "up to {}, got {}", kMaxPatience, *given.lr_patience));
    c.lr_patience = *given.lr_patience;
  }
  if (given.stop_patience) {
    require(*given.stop_patience >= 0 && *given.stop_patience <= kMaxPatience,
            fmt::format("--stop-patience must be 0 (run every epoch) or a number of epochs up "
                        "to {}, got {}", kMaxPatience, *given.stop_patience));
    c.stop_patience = *given.stop_patience;
  }
  return c;
}

nlohmann::json TrainConfig::to_json() const {
  return {{"epochs", epochs},
          {"batch_size", batch_size},
          {"learning_rate", learning_rate},
          {"lr_patience", lr_patience},
          {"lr_factor", kLrFactor},
          {"stop_patience", stop_patience},
          {"keep", keep_best ? "best" : "last"},
          {"seed", seed},
          {"preset", preset},
          {"optimizer", "adam (keras, epsilon 1e-7)"}};
}

nlohmann::json EpochLog::to_json() const {
  return {{"epoch", epoch},
          {"train_elbo", train_elbo},
          {"test_elbo", number_or_null(test_elbo)},
          {"held_out", number_or_null(held_out)},
          {"learning_rate", learning_rate},
          {"seconds", seconds},
          {"eval_seconds", number_or_null(eval_seconds)}};
}

nlohmann::json TrainResult::to_json() const {
  return {{"kept_epoch", kept_epoch},
          {"best_epoch", best_epoch == 0 ? nlohmann::json() : nlohmann::json(best_epoch)},
          {"best_held_out", number_or_null(best_held_out)},
          {"held_out", held_out_name.empty() ? nlohmann::json() : nlohmann::json(held_out_name)},
          {"stopped_early", stopped_early}};
}

double evaluate_elbo(model::Vae& vae, const data::Dataset& ds, uint64_t seed, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = vae->is_training();
  vae->eval();
  // Keep the training stream intact: evaluate with its own seed, then restore the state.
  const auto saved = generator_state();
  torch::manual_seed(seed);
  double total = 0;
  for (int64_t begin = 0; begin < ds.size(); begin += batch_size) {
    auto x = ds.images.slice(0, begin, std::min(begin + batch_size, ds.size()));
    total -= negative_elbo(vae->forward(x), x).sum().item<double>();
  }
  set_generator_state(saved);
  if (was_training) vae->train();
  return total / static_cast<double>(ds.size());
}

TrainResult train_vae(model::Vae& vae, const data::Dataset& train, const data::Dataset* eval,
                      const TrainConfig& config, const TrainHooks& hooks) {
  require(config.epochs > 0 && config.batch_size > 0 && config.learning_rate > 0,
          "epochs, batch size and learning rate must be positive");
  require(config.lr_patience >= 0 && config.stop_patience >= 0,
          "the schedule's patiences must be 0 (off) or positive");
  require(train.size() >= config.batch_size,
          fmt::format("{} training images are fewer than one batch of {}", train.size(),
                      config.batch_size));
  const bool follows = static_cast<bool>(hooks.held_out);
  if (!follows && (config.keep_best || config.lr_patience > 0 || config.stop_patience > 0))
    spdlog::info("no held-out figure (no evaluation images): a fixed learning rate, every epoch "
                 "run, the last one kept");
  KerasAdam adam(vae->parameters(), AdamSettings{config.learning_rate});
  const ScheduleSettings schedule_settings{follows ? config.lr_patience : 0, kLrFactor,
                                           follows ? config.stop_patience : 0};
  PlateauSchedule schedule(schedule_settings, config.learning_rate);
  TrainResult result;
  std::vector<torch::Tensor> best;  // the best epoch's weights, when kept
  bool stop = false;
  const nlohmann::json made_for = {{"train", config.to_json()},
                                   {"architecture", vae->config().to_json()},
                                   {"train_images", train.size()},
                                   {"key", hooks.state_key}};

  if (!hooks.state_file.empty()) {
    if (auto s = find_train_state(hooks.state_file, made_for)) {
      const auto why = misfit(*s, vae, config);
      std::optional<PlateauSchedule> restored;
      try {
        restored = PlateauSchedule::from_json(schedule_settings, s->schedule);
      } catch (const std::exception&) {
      }
      if (!why.empty() || !restored) {
        spdlog::warn("ignoring the training state '{}': {}; training from the start",
                     hooks.state_file.string(), why.empty() ? "its schedule is malformed" : why);
      } else {
        copy_into(s->parameters, vae->parameters());
        adam.load_state(s->adam_m, s->adam_v, s->adam_step);
        set_generator_state(s->generator);
        schedule = *restored;
        best = s->best;
        stop = s->stopped;
        result.logs = s->logs;
        result.resumed_after = static_cast<int64_t>(s->logs.size());
        result.held_out_name = s->held_out;
        spdlog::info("resuming training after epoch {} from '{}'", result.resumed_after,
                     hooks.state_file.string());
      }
    }
  }

  vae->train();
  bool save_state = !hooks.state_file.empty();
  const int64_t steps = train.size() / config.batch_size;  // drop the last partial batch
  for (int64_t epoch = result.resumed_after + 1; epoch <= config.epochs && !stop; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    adam.set_learning_rate(schedule.learning_rate());
    auto order = torch::randperm(train.size(), torch::kInt64);
    util::Progress progress(fmt::format("epoch {}", epoch), steps * config.batch_size, "img");
    double sum = 0;
    for (int64_t s = 0; s < steps; ++s) {
      auto idx = order.slice(0, s * config.batch_size, (s + 1) * config.batch_size);
      const double value = train_step(vae, adam, train.images.index_select(0, idx));
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
    log.learning_rate = adam.learning_rate();
    log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.test_elbo = eval ? evaluate_elbo(vae, *eval, config.seed + 1) : std::nan("");
    log.held_out = log.eval_seconds = std::nan("");
    ScheduleDecision decision;
    if (follows) {
      const auto eval_start = std::chrono::steady_clock::now();
      const auto saved = generator_state();
      const HeldOut h = hooks.held_out(vae);
      set_generator_state(saved);
      vae->train();
      log.held_out = h.value;
      result.held_out_name = h.name;
      log.eval_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
      decision = schedule.observe(h.value);
      if (decision.improved && config.keep_best) best = clone_all(vae->parameters());
      stop = decision.stop;
    }
    spdlog::info("epoch:{} train_elbo:{:.4f} test_elbo:{:.4f} held_out:{:.4f} lr:{:.3g} "
                 "seconds:{:.1f} eval_seconds:{:.1f} img_per_s:{:.0f}{}{}{}",
                 epoch, log.train_elbo, log.test_elbo, log.held_out, log.learning_rate,
                 log.seconds, log.eval_seconds,
                 static_cast<double>(steps * config.batch_size) / log.seconds,
                 decision.improved ? " best" : "",
                 decision.reduce_lr ? fmt::format(" lr->{:.3g}", schedule.learning_rate()) : "",
                 decision.stop ? " stop" : "");
    result.logs.push_back(log);
    if (save_state) {
      TrainState s;
      s.made_for = made_for;
      s.logs = result.logs;
      s.schedule = schedule.to_json();
      s.stopped = stop;
      s.held_out = result.held_out_name;
      s.parameters = vae->parameters();
      s.best = best;
      s.adam_m = adam.first_moments();
      s.adam_v = adam.second_moments();
      s.adam_step = adam.iterations();
      s.generator = generator_state();
      try {
        save_train_state(s, hooks.state_file);
      } catch (const std::exception& e) {  // a full disk: the model may still fit at the end
        spdlog::warn("cannot write the training state ({}); training goes on, but a kill from now "
                     "on starts it again", e.what());
        save_state = false;
      }
    }
    if (hooks.on_epoch) hooks.on_epoch(log, vae);
  }
  vae->eval();

  const int64_t last = static_cast<int64_t>(result.logs.size());
  result.stopped_early = last < config.epochs;
  result.best_epoch = schedule.best_epoch();
  result.best_held_out = schedule.best();
  if (config.keep_best && !best.empty()) {
    copy_into(best, vae->parameters());
    result.kept_epoch = result.best_epoch;
  } else {
    result.kept_epoch = last;
  }
  if (follows)
    spdlog::info("kept epoch {} of {} (best {} {:.4f} at epoch {}{})", result.kept_epoch, last,
                 result.held_out_name, result.best_held_out, result.best_epoch,
                 result.stopped_early ? ", stopped early" : "");
  return result;
}

}  // namespace preimage::train
