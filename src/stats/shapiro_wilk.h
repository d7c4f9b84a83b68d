#pragma once
// Shapiro-Wilk test of normality, Royston's algorithm AS R94 (Appl. Statist. 1995, 44(4)) exactly
// as scipy 1.10.1's scipy.stats.shapiro runs it: the sample is centred on its median in double
// precision, sorted, then handed to the Fortran routine swilk in SINGLE precision (f2py signature
// `x : rank-1 array('f')`, REAL arithmetic throughout, only the final normal tail ALNORM in
// double). We reproduce that float32 arithmetic operation by operation, because for large n the
// p-value depends on 1 - W ~ 1e-4, where float32 rounding of W is visible: a double-precision
// version would not match scipy. W and p are returned as the float32 values scipy returns. Golden
// tests: tests/stats/test_shapiro_wilk.cpp.
#include <vector>

#include "stats/result.h"

namespace preimage::stats {

// The p-value approximation was fitted for 3 <= n <= 5000; scipy warns above (AS R94 ifault=2).
constexpr std::size_t kShapiroMaxValidN = 5000;

struct ShapiroResult : TestResult {
  // n > 5000: scipy warns "p-value may not be accurate for N > 5000"; we set this flag instead.
  bool pvalue_may_be_inaccurate = false;
  // All values equal after centring (AS R94 ifault=6): scipy warns "Input data for shapiro has
  // range zero" and returns W = 1, p = 1.
  bool zero_range = false;
};

// Throws std::invalid_argument when n < 3 or a value is NaN/inf.
ShapiroResult shapiro_wilk(const std::vector<double>& x);

}  // namespace preimage::stats
