#pragma once
// The resolved configuration of a command, printed when it starts as a | Parameter | Value |
// table (llm.c style), one row per leaf of the JSON.
#include <string>

#include <nlohmann/json.hpp>

namespace preimage::util {

void print_config(const std::string& command, const nlohmann::json& config);

}  // namespace preimage::util
