#include "stats/validate.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace preimage::stats::detail {

void require_finite(const std::vector<double>& x, const std::string& where, std::size_t min_size,
                    const std::string& what) {
  if (x.size() < min_size) {
    std::ostringstream msg;
    msg << where << ": " << what << " has " << x.size() << " value(s), needs at least " << min_size;
    throw std::invalid_argument(msg.str());
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      std::ostringstream msg;
      msg << where << ": " << what << "[" << i << "] = " << x[i]
          << " is not finite ---> HINT: drop NaN/inf values before calling";
      throw std::invalid_argument(msg.str());
    }
  }
}

void require(bool condition, const std::string& where, const std::string& message) {
  if (!condition) throw std::invalid_argument(where + ": " + message);
}

}  // namespace preimage::stats::detail
