#pragma once
// Any JSON value as report tables: an object of scalars as a two-column table, an array of flat
// objects as one row each, an object of flat objects as one row per key, deeper values as one
// table per member captioned by its path. For the parts of a result that have no dedicated
// layout, or whose layout is not the one expected.
#include <string>

#include <nlohmann/json.hpp>

#include "report/document.h"

namespace preimage::report {

void render_json_tables(Document& doc, const nlohmann::json& value, const std::string& caption);

// A JSON value as one table cell: numbers with 4 decimals (scientific when very small or
// large), booleans as yes/no, short arrays inline, null as "".
std::string json_cell(const nlohmann::json& value);

}  // namespace preimage::report
