#include "train/schedule.h"

#include <cmath>
#include <limits>

namespace preimage::train {

PlateauSchedule::PlateauSchedule(const ScheduleSettings& settings, double learning_rate)
    : settings_(settings),
      learning_rate_(learning_rate),
      best_(std::numeric_limits<double>::quiet_NaN()) {}

ScheduleDecision PlateauSchedule::observe(double value) {
  ScheduleDecision d;
  ++epochs_;
  // Strictly better (Keras's min_delta = 0): a tie keeps the earlier, shorter-trained weights.
  d.improved = std::isfinite(value) && (std::isnan(best_) || value > best_);
  if (d.improved) {
    best_ = value;
    best_epoch_ = epochs_;
    since_best_ = 0;
    since_change_ = 0;
    return d;
  }
  ++since_best_;
  ++since_change_;
  // Keras's ReduceLROnPlateau: after a reduction its count starts again (no cooldown).
  if (settings_.lr_patience > 0 && since_change_ >= settings_.lr_patience) {
    learning_rate_ *= settings_.lr_factor;
    since_change_ = 0;
    d.reduce_lr = true;
  }
  d.stop = settings_.stop_patience > 0 && since_best_ >= settings_.stop_patience;
  return d;
}

nlohmann::json PlateauSchedule::to_json() const {
  // The learning rate and the best figure as their bits' decimal image would round-trip too, but
  // JSON numbers cannot hold NaN: the best is null before any finite figure.
  return {{"learning_rate", learning_rate_},
          {"epochs", epochs_},
          {"best_epoch", best_epoch_},
          {"best", std::isnan(best_) ? nlohmann::json() : nlohmann::json(best_)},
          {"since_best", since_best_},
          {"since_change", since_change_}};
}

PlateauSchedule PlateauSchedule::from_json(const ScheduleSettings& settings,
                                           const nlohmann::json& j) {
  PlateauSchedule s(settings, j.at("learning_rate").get<double>());
  s.epochs_ = j.at("epochs").get<int64_t>();
  s.best_epoch_ = j.at("best_epoch").get<int64_t>();
  if (!j.at("best").is_null()) s.best_ = j.at("best").get<double>();
  s.since_best_ = j.at("since_best").get<int64_t>();
  s.since_change_ = j.at("since_change").get<int64_t>();
  return s;
}

}  // namespace preimage::train
