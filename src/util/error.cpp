#include "util/error.h"

namespace preimage {

UserError::UserError(const std::string& what, const std::string& hint)
    : std::runtime_error(what), hint_(hint) {}

void require(bool condition, const std::string& what, const std::string& hint) {
  if (!condition) throw UserError(what, hint);
}

}  // namespace preimage
