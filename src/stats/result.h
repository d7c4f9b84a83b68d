#pragma once
// Result types shared by the hypothesis tests of preimage::stats.
#include <string>

namespace preimage::stats {

// A test statistic with its p-value. `method` names the algorithm that produced the p-value
// (e.g. "exact (Pomeranz)", "Dallal-Wilkinson") so reports can say how it was computed.
struct TestResult {
  double statistic = 0.0;
  double pvalue = 1.0;
  std::string method;
};

}  // namespace preimage::stats
