#include "util/cache_dir.h"

#include <cstdlib>
#include <string>

#include "util/error.h"

namespace preimage::util {

std::filesystem::path user_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && std::filesystem::path(xdg).is_absolute())
    return std::filesystem::path(xdg) / "preimage";
  const char* home = std::getenv("HOME");
  require(home != nullptr && std::filesystem::path(home).is_absolute(),
          "neither XDG_CACHE_HOME nor HOME names a folder for preimage's cache",
          "set XDG_CACHE_HOME to a writable folder, or give --classifier FILE");
  return std::filesystem::path(home) / ".cache" / "preimage";
}

}  // namespace preimage::util
