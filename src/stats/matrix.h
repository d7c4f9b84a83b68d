#pragma once
// A tiny row-major matrix of doubles: one row per observation, one column per variable
// (e.g. (N, 2) latent points). Plain data so the stats module needs no LibTorch.
#include <cstddef>
#include <vector>

namespace preimage::stats {

struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;  // (rows, cols), row-major: element (r, c) is data[r * cols + c]

  Matrix() = default;
  Matrix(std::size_t rows_, std::size_t cols_, double fill = 0.0)
      : rows(rows_), cols(cols_), data(rows_ * cols_, fill) {}
  // Wraps `values` (size rows * cols, row-major); throws std::invalid_argument on a size mismatch.
  Matrix(std::size_t rows_, std::size_t cols_, std::vector<double> values);

  double& operator()(std::size_t r, std::size_t c) { return data[r * cols + c]; }
  double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
  // Column c as a vector, e.g. the x coordinates of (N, 2) points.
  std::vector<double> column(std::size_t c) const;
};

}  // namespace preimage::stats
