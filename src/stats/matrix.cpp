#include "stats/matrix.h"

#include <sstream>
#include <stdexcept>

namespace preimage::stats {

Matrix::Matrix(std::size_t rows_, std::size_t cols_, std::vector<double> values)
    : rows(rows_), cols(cols_), data(std::move(values)) {
  if (data.size() != rows * cols) {
    std::ostringstream msg;
    msg << "Matrix: got " << data.size() << " values for a (" << rows << ", " << cols
        << ") matrix, expected " << rows * cols;
    throw std::invalid_argument(msg.str());
  }
}

std::vector<double> Matrix::column(std::size_t c) const {
  if (c >= cols) {
    std::ostringstream msg;
    msg << "Matrix::column: column " << c << " out of range, the matrix has " << cols;
    throw std::invalid_argument(msg.str());
  }
  std::vector<double> out(rows);
  for (std::size_t r = 0; r < rows; ++r) out[r] = (*this)(r, c);
  return out;
}

}  // namespace preimage::stats
