#include "util/zip_check.h"

#include <memory>
#include <vector>

#include <fmt/format.h>
#include <zip.h>

#include "util/error.h"

namespace preimage::util {

void verify_zip(const std::filesystem::path& path, const std::string& what) {
  const std::string hint = "the file is corrupt or truncated: make it again, or restore a copy";
  int error = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> archive(
      zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error), &zip_discard);
  if (!archive) {
    zip_error_t e;
    zip_error_init_with_code(&e, error);
    const std::string reason = zip_error_strerror(&e);
    zip_error_fini(&e);
    throw UserError(fmt::format("{} '{}' is not a readable zip archive ({})", what, path.string(),
                                reason),
                    hint);
  }
  std::vector<char> buffer(1 << 16);
  const zip_int64_t members = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < members; ++i) {
    const char* name = zip_get_name(archive.get(), static_cast<zip_uint64_t>(i), 0);
    const std::string member = name != nullptr ? name : fmt::format("#{}", i);
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0), &zip_fclose);
    require(file != nullptr,
            fmt::format("{} '{}': member '{}' cannot be opened ({})", what, path.string(), member,
                        zip_strerror(archive.get())),
            hint);
    zip_int64_t got = 0;
    while ((got = zip_fread(file.get(), buffer.data(), buffer.size())) > 0) {
    }
    require(got == 0,
            fmt::format("{} '{}': member '{}' is corrupt ({})", what, path.string(), member,
                        zip_file_strerror(file.get())),
            hint);
  }
}

}  // namespace preimage::util
