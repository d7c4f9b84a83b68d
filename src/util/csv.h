#pragma once
// Small CSV tables: the per-image results of a run (results.csv), read back by `merge` and `analyze`.
#include <filesystem>
#include <string>
#include <vector>

namespace preimage::util {

struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  // Index of `name` in columns; throws UserError naming `source` if absent.
  size_t column(const std::string& name, const std::string& source = "table") const;
};

// Formats a double so that it reads back exactly (shortest round-trip form).
std::string csv_number(double value);

void write_csv(const std::filesystem::path& path, const CsvTable& table);  // atomic
// Reads a CSV without quoted fields (what write_csv produces); throws UserError naming the file
// on a row whose length differs from the header's.
CsvTable read_csv(const std::filesystem::path& path);

}  // namespace preimage::util
