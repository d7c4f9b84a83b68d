#pragma once
// Helpers for the scipy golden tests: load a fixture from tests/fixtures/stats, rebuild its
// samples, compare with explicit tolerances and print the largest difference (llm.c style).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sample_generator.h"

namespace preimage::stats::testing {

using nlohmann::json;

// Tolerances of the golden tests (relative to scipy's value).
constexpr double kStatisticRtol = 1e-6;  // test statistics and descriptive values
constexpr double kPvalueRtol = 1e-4;     // p-values above kPvalueFloor
constexpr double kPvalueFloor =
    1e-300;                          // below this scipy's value is only "tiny": we require < 1e-290
constexpr double kAbsFloor = 1e-14;  // absolute slack for values that are ~0 (e.g. a mean of 0)

inline json load_fixture(const std::string& name) {
  const std::string path = std::string(PREIMAGE_TEST_FIXTURES) + "/stats/" + name;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "Error: cannot open fixture '" << path
                  << "' ---> HINT: run /usr/bin/python3 scripts/golden_stats.py";
    return json::object();
  }
  return json::parse(in);
}

// The values of a fixture sample: stored ones, or regenerated from the recipe and checked
// against the stored checksum and first values.
inline std::vector<double> load_sample(const json& entry) {
  if (entry.contains("values")) return entry["values"].get<std::vector<double>>();
  std::vector<double> v = generate(entry["kind"].get<std::string>(), entry["n"].get<std::size_t>(),
                                   entry["stream"].get<std::uint64_t>());
  EXPECT_EQ(v.size(), entry["count"].get<std::size_t>());
  const auto first = entry["first"].get<std::vector<double>>();
  for (std::size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(v[i], first[i]) << "regenerated sample differs from Python's at index " << i;
  long double sum = 0;  // Python's math.fsum is exact; long double is close enough for 1e-12
  for (double e : v) sum += e;
  const double checksum = entry["checksum"].get<double>();
  EXPECT_NEAR(static_cast<double>(sum), checksum, 1e-12 * std::max(1.0, std::abs(checksum)))
      << "regenerated " << entry["kind"] << " sample does not match the Python generator";
  return v;
}

// Compares values against scipy's and remembers the largest relative differences, which it
// prints when it goes out of scope.
class GoldenCheck {
 public:
  explicit GoldenCheck(std::string topic) : topic_(std::move(topic)) {}
  ~GoldenCheck() {
    std::printf("[golden] %-28s checked=%d  max_rel_diff statistic=%.3e (%s)  pvalue=%.3e (%s)\n",
                topic_.c_str(), checked_, max_stat_, where_stat_.c_str(), max_p_, where_p_.c_str());
  }

  void statistic(double actual, double expected, const std::string& what) {
    ++checked_;
    const double diff = rel_diff(actual, expected);
    if (diff > max_stat_) {
      max_stat_ = diff;
      where_stat_ = what;
    }
    // Values that are ~0 (a centred mean) pass on the absolute floor instead.
    EXPECT_TRUE(diff <= kStatisticRtol || std::abs(actual - expected) <= kAbsFloor)
        << topic_ << " / " << what << ": got " << fmt(actual) << ", scipy " << fmt(expected)
        << ", rel diff " << diff;
  }

  void pvalue(double actual, double expected, const std::string& what) {
    ++checked_;
    if (expected < kPvalueFloor) {
      EXPECT_LT(actual, 1e-290) << topic_ << " / " << what << ": scipy's p-value is " << expected;
      return;
    }
    const double diff = rel_diff(actual, expected);
    if (diff > max_p_) {
      max_p_ = diff;
      where_p_ = what;
    }
    EXPECT_TRUE(diff <= kPvalueRtol) << topic_ << " / " << what << ": got " << fmt(actual)
                                     << ", scipy " << fmt(expected) << ", rel diff " << diff;
  }

 private:
  static double rel_diff(double actual, double expected) {
    if (actual == expected) return 0.0;
    return std::abs(actual - expected) / std::abs(expected);
  }
  static std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }

  std::string topic_;
  int checked_ = 0;
  double max_stat_ = 0.0, max_p_ = 0.0;
  std::string where_stat_ = "-", where_p_ = "-";
};

// "normal n=500" for messages.
inline std::string sample_name(const json& entry) {
  return entry["kind"].get<std::string>() + " n=" + std::to_string(entry["n"].get<int>());
}

}  // namespace preimage::stats::testing
