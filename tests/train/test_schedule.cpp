// The reduce-on-plateau schedule and early stopping on scripted held-out figures.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "train/schedule.h"

using namespace preimage::train;

namespace {
struct Step {
  double value;
  bool improved, reduce, stop;
  double lr_after;
};

void play(PlateauSchedule& s, const std::vector<Step>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE("epoch " + std::to_string(s.epochs() + 1));
    const auto d = s.observe(steps[i].value);
    EXPECT_EQ(d.improved, steps[i].improved);
    EXPECT_EQ(d.reduce_lr, steps[i].reduce);
    EXPECT_EQ(d.stop, steps[i].stop);
    EXPECT_EQ(s.learning_rate(), steps[i].lr_after);
  }
}
}  // namespace

// Patience 2 for the step size, 5 for stopping: the step size halves after every second epoch
// without a new best (its count starts again after a reduction), and training stops on the
// fifth such epoch in a row, whatever the reductions.
TEST(Schedule, HalvesOnPlateausAndStops) {
  PlateauSchedule s(ScheduleSettings{2, 0.5, 5}, 1.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  play(s, {{-100, true, false, false, 1.0},
           {-90, true, false, false, 1.0},
           {-95, false, false, false, 1.0},
           {-90, false, true, false, 0.5},  // a tie is no improvement
           {-89, true, false, false, 0.5},
           {-89.5, false, false, false, 0.5},
           {nan, false, true, false, 0.25},  // NaN: never the best
           {-91, false, false, false, 0.25},
           {-92, false, true, false, 0.125},
           {-93, false, false, true, 0.125}});
  EXPECT_EQ(s.best_epoch(), 5);
  EXPECT_EQ(s.best(), -89);
}

TEST(Schedule, ZeroPatienceTurnsEitherOff) {
  PlateauSchedule fixed(ScheduleSettings{0, 0.5, 3}, 1e-4);
  play(fixed, {{1, true, false, false, 1e-4},
               {0, false, false, false, 1e-4},
               {0, false, false, false, 1e-4},
               {0, false, false, true, 1e-4}});
  PlateauSchedule endless(ScheduleSettings{1, 0.5, 0}, 1.0);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(endless.observe(-1.0 - i).stop);
  EXPECT_EQ(endless.best_epoch(), 1);
  EXPECT_EQ(endless.learning_rate(), std::pow(0.5, 49));
}

// A schedule read back from its JSON takes the same decisions as the one that wrote it.
TEST(Schedule, JsonRoundTripContinuesIdentically) {
  const ScheduleSettings settings{2, 0.5, 4};
  const std::vector<double> values = {-3, -2, -2.5, -2.2, -1.9, -2, -2.1, -2.05, -2.3, -2.4};
  for (size_t cut = 0; cut <= values.size(); ++cut) {
    PlateauSchedule a(settings, 5e-4), b(settings, 5e-4);
    for (size_t i = 0; i < cut; ++i) b.observe(values[i]);
    auto c = PlateauSchedule::from_json(settings, nlohmann::json::parse(b.to_json().dump()));
    for (size_t i = 0; i < values.size(); ++i) {
      const auto da = a.observe(values[i]);
      if (i < cut) continue;
      const auto dc = c.observe(values[i]);
      EXPECT_EQ(da.improved, dc.improved) << "cut " << cut << " epoch " << i + 1;
      EXPECT_EQ(da.reduce_lr, dc.reduce_lr) << "cut " << cut << " epoch " << i + 1;
      EXPECT_EQ(da.stop, dc.stop) << "cut " << cut << " epoch " << i + 1;
      EXPECT_EQ(a.learning_rate(), c.learning_rate());
      EXPECT_EQ(a.best_epoch(), c.best_epoch());
    }
  }
}
