#include "util/memo.h"

#include <fmt/format.h>

namespace preimage::util {

std::string file_stamp(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return "";
  const auto size = std::filesystem::file_size(path, error);
  const auto time = std::filesystem::last_write_time(path, error);
  if (error) return "";
  return fmt::format("{}:{}:{}", std::filesystem::absolute(path).string(), size,
                     time.time_since_epoch().count());
}

}  // namespace preimage::util
