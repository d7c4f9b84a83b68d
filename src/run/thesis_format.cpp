#include "run/thesis_format.h"

#include <sstream>

#include <fmt/format.h>

#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::run {
namespace {

std::string join_values(const torch::Tensor& values) {
  auto v = values.to(torch::kFloat64).contiguous();
  const double* p = v.data_ptr<double>();
  std::string out;
  for (int64_t i = 0; i < v.numel(); ++i) {
    if (i) out += ", ";
    out += fmt::format("{}", p[i]);
  }
  out += '\n';
  return out;
}

std::vector<double> parse_numbers(const std::string& text, const std::filesystem::path& path) {
  std::vector<double> values;
  std::string cleaned = text;
  for (char& c : cleaned)
    if (c == '[' || c == ']' || c == ',') c = ' ';
  std::istringstream in(cleaned);
  std::string token;
  while (in >> token) {
    try {
      values.push_back(std::stod(token));
    } catch (const std::exception&) {
      throw UserError(fmt::format("'{}' holds '{}', expected a number", path.string(), token));
    }
  }
  return values;
}

}  // namespace

void write_thesis_files(const std::filesystem::path& dir, const torch::Tensor& latents,
                        const torch::Tensor& final_loss, const torch::Tensor& delta) {
  auto y = latents.to(torch::kFloat64).contiguous();
  std::string solutions;
  for (int64_t i = 0; i < y.size(0); ++i) {
    solutions += '[';
    for (int64_t j = 0; j < y.size(1); ++j)
      solutions += fmt::format("{}{}", j ? ", " : "", y[i][j].item<double>());
    solutions += "]\n";
  }
  util::write_file_atomic(dir / "solutions.txt", solutions);
  util::write_file_atomic(dir / "final_errors.txt", join_values(final_loss));
  util::write_file_atomic(dir / "deltas.txt", join_values(delta));
}

torch::Tensor read_thesis_values(const std::filesystem::path& path) {
  auto v = parse_numbers(util::read_file(path), path);
  return torch::tensor(v, torch::kFloat64);
}

torch::Tensor read_thesis_solutions(const std::filesystem::path& path) {
  const std::string text = util::read_file(path);
  std::istringstream in(text);
  std::string line;
  std::vector<double> values;
  int64_t rows = 0, cols = -1;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto row = parse_numbers(line, path);
    require(cols < 0 || static_cast<int64_t>(row.size()) == cols,
            fmt::format("'{}' line {} has {} values, the first line has {}", path.string(),
                        rows + 1, row.size(), cols));
    cols = static_cast<int64_t>(row.size());
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  return torch::tensor(values, torch::kFloat64).view({rows, std::max<int64_t>(cols, 0)});
}

}  // namespace preimage::run
