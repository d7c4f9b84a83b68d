#include "report/json_tables.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace preimage::report {

using nlohmann::json;

std::string json_cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d != 0 && (std::abs(d) < 1e-3 || std::abs(d) >= 1e6)) return fmt::format("{:.4e}", d);
    return fmt::format("{:.4f}", d);
  }
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_null()) return "";
  if (v.is_array() && v.size() <= 4) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + json_cell(x);
    return "[" + s + "]";
  }
  return v.dump();
}

namespace {
bool is_flat(const json& v) {
  if (!v.is_object()) return false;
  for (const auto& [k, x] : v.items())
    if (x.is_object() || (x.is_array() && x.size() > 4)) return false;
  return true;
}

}  // namespace

void render_json_tables(Document& doc, const json& value, const std::string& caption) {
  if (value.is_null()) return;
  if (is_flat(value)) {
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& [k, v] : value.items()) entries.emplace_back(k, json_cell(v));
    doc.settings(entries, caption);
    return;
  }
  // Rows of flat objects (an array, or an object keyed by row name): one column per key.
  std::vector<std::pair<std::string, const json*>> rows;
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) rows.emplace_back(std::to_string(i), &value[i]);
  } else if (value.is_object()) {
    for (const auto& [k, v] : value.items()) rows.emplace_back(k, &v);
  }
  bool all_flat = !rows.empty();
  for (const auto& [k, v] : rows) all_flat &= is_flat(*v);
  if (all_flat) {
    std::vector<std::string> header = {""};
    for (const auto& [k, v] : rows)
      for (const auto& [key, x] : v->items())
        if (std::find(header.begin(), header.end(), key) == header.end()) header.push_back(key);
    std::vector<std::vector<std::string>> cells;
    for (const auto& [k, v] : rows) {
      std::vector<std::string> row = {value.is_array() ? "" : k};
      for (size_t c = 1; c < header.size(); ++c)
        row.push_back(v->contains(header[c]) ? json_cell((*v)[header[c]]) : "");
      cells.push_back(row);
    }
    if (value.is_array()) header[0] = "#";
    doc.table(header, cells, caption);
    return;
  }
  // Deeper: one table per member, captioned by its path.
  if (value.is_object()) {
    std::vector<std::pair<std::string, std::string>> scalars;
    for (const auto& [k, v] : value.items()) {
      if (v.is_object() || (v.is_array() && v.size() > 4))
        render_json_tables(doc, v, caption.empty() ? k : caption + ": " + k);
      else
        scalars.emplace_back(k, json_cell(v));
    }
    if (!scalars.empty()) doc.settings(scalars, caption);
  }
}

}  // namespace preimage::report
