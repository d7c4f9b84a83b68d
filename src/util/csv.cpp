#include "util/csv.h"

#include <sstream>

#include <fmt/format.h>

#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::util {

size_t CsvTable::column(const std::string& name, const std::string& source) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  throw UserError(fmt::format("{} has no column '{}'", source, name));
}

std::string csv_number(double value) { return fmt::format("{}", value); }

namespace {
std::string join_row(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) line.push_back(',');
    line += fields[i];
  }
  line.push_back('\n');
  return line;
}
std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}
}  // namespace

void write_csv(const std::filesystem::path& path, const CsvTable& table) {
  AtomicFile file(path);
  file.stream() << join_row(table.columns);
  for (const auto& row : table.rows) file.stream() << join_row(row);
  file.commit();
}

CsvTable read_csv(const std::filesystem::path& path) {
  std::istringstream in(read_file(path));
  CsvTable table;
  std::string line;
  require(static_cast<bool>(std::getline(in, line)),
          fmt::format("'{}' is empty, expected a CSV header", path.string()));
  table.columns = split_row(line);
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto row = split_row(line);
    require(row.size() == table.columns.size(),
            fmt::format("'{}' line {} has {} fields, the header has {}", path.string(), line_no,
                        row.size(), table.columns.size()),
            "the file is truncated or corrupt; regenerate it");
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace preimage::util
