#include "run/results_table.h"

#include "solvers/solver.h"
#include "util/csv.h"

namespace preimage::run {

void write_results_table(const std::filesystem::path& path, const torch::Tensor& indices,
                         const torch::Tensor& labels, const std::vector<MethodColumns>& methods) {
  util::CsvTable table;
  table.columns = {"index", "label"};
  for (const auto& m : methods)
    for (const char* c : {"initial_loss", "final_loss", "delta_pct", "iterations", "stop_reason"})
      table.columns.push_back(m.method + "_" + c);
  const int64_t n = indices.size(0);
  auto idx = indices.accessor<int64_t, 1>();
  auto lab = labels.accessor<int64_t, 1>();
  std::vector<std::vector<torch::Tensor>> cols;
  for (const auto& m : methods)
    cols.push_back({m.initial.to(torch::kFloat64), m.final_loss.to(torch::kFloat64),
                    m.delta.to(torch::kFloat64), m.iterations.to(torch::kInt64),
                    m.stop_reason.to(torch::kInt64)});
  table.rows.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::string> row = {std::to_string(idx[i]), std::to_string(lab[i])};
    for (const auto& c : cols) {
      for (int k = 0; k < 3; ++k) row.push_back(util::csv_number(c[k].data_ptr<double>()[i]));
      row.push_back(std::to_string(c[3].data_ptr<int64_t>()[i]));
      row.push_back(solvers::stop_reason_name(
          static_cast<solvers::StopReason>(c[4].data_ptr<int64_t>()[i])));
    }
    table.rows.push_back(std::move(row));
  }
  util::write_csv(path, table);
}

}  // namespace preimage::run
