#pragma once
// The learning-rate schedule and early stopping of VAE training, driven by a held-out figure
// (higher is better) once per epoch, as Keras's ReduceLROnPlateau and EarlyStopping callbacks:
// the step size is multiplied by `lr_factor` after `lr_patience` epochs without a new best, and
// training stops after `stop_patience` epochs without one. The state is a few numbers, saved with
// the training state (train_state.h) so that a resumed run takes the same decisions.
#include <cstdint>

#include <nlohmann/json.hpp>

namespace preimage::train {

struct ScheduleSettings {
  int64_t lr_patience = 2;    // epochs without a new best before the step size drops (0: never)
  double lr_factor = 0.5;     // what the step size is multiplied by then
  int64_t stop_patience = 5;  // epochs without a new best before training stops (0: never)
};

// What to do after an epoch.
struct ScheduleDecision {
  bool improved = false;    // this epoch's figure is the best so far (its weights are the best)
  bool reduce_lr = false;   // the step size was multiplied by lr_factor for the next epoch
  bool stop = false;        // no further epoch
};

class PlateauSchedule {
 public:
  PlateauSchedule(const ScheduleSettings& settings, double learning_rate);

  // The held-out figure of the epoch just finished (NaN counts as no improvement: a diverging
  // model is never the best, and the schedule reacts as to a plateau).
  ScheduleDecision observe(double value);

  double learning_rate() const { return learning_rate_; }  // for the next epoch
  int64_t epochs() const { return epochs_; }               // figures observed
  int64_t best_epoch() const { return best_epoch_; }       // 1-based; 0 before any figure
  double best() const { return best_; }                    // NaN before any finite figure

  nlohmann::json to_json() const;
  // The state `to_json` wrote, for the same settings; throws std::exception when malformed.
  static PlateauSchedule from_json(const ScheduleSettings& settings, const nlohmann::json& j);

 private:
  ScheduleSettings settings_;
  double learning_rate_;
  int64_t epochs_ = 0;
  int64_t best_epoch_ = 0;
  double best_;
  int64_t since_best_ = 0;    // epochs since the best (early stopping's count)
  int64_t since_change_ = 0;  // epochs since the best or the last reduction (the lr's count)
};

}  // namespace preimage::train
