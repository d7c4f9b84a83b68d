#include "util/config_table.h"

#include <cstdio>

namespace preimage::util {

void print_config(const std::string& command, const nlohmann::json& config) {
  std::printf("| Parameter (%s) | Value |\n|---|---|\n", command.c_str());
  const auto flat = config.flatten();  // items() refers to it: it must outlive the loop
  for (const auto& [key, value] : flat.items())
    std::printf("| %s | %s |\n", key.c_str() + 1, value.dump().c_str());
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace preimage::util
