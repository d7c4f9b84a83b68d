#pragma once
// Input checks shared by every function of preimage::stats: they throw std::invalid_argument
// naming the function, the argument and the offending value, never assert().
#include <cstddef>
#include <string>
#include <vector>

namespace preimage::stats::detail {

// Throws std::invalid_argument("<where>: <what> ...") unless x has at least `min_size` values
// and every value is finite (reports the index and value of the first NaN/inf).
void require_finite(const std::vector<double>& x, const std::string& where,
                    std::size_t min_size = 1, const std::string& what = "input");

// Throws std::invalid_argument naming `where` when `condition` is false.
void require(bool condition, const std::string& where, const std::string& message);

}  // namespace preimage::stats::detail
