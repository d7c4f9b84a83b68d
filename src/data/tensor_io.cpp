#include "data/tensor_io.h"

#include <cstring>

#include <fmt/format.h>

#include "util/error.h"
#include "util/npy.h"

namespace preimage::data {
namespace {

util::NpyType npy_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return util::NpyType::kFloat32;
    case torch::kFloat64: return util::NpyType::kFloat64;
    case torch::kInt64: return util::NpyType::kInt64;
    case torch::kInt32: return util::NpyType::kInt32;
    case torch::kUInt8: return util::NpyType::kUInt8;
    case torch::kBool: return util::NpyType::kBool;
    default: throw std::invalid_argument(fmt::format("no .npy type for {}", c10::toString(type)));
  }
}

torch::ScalarType torch_type(util::NpyType type) {
  switch (type) {
    case util::NpyType::kFloat32: return torch::kFloat32;
    case util::NpyType::kFloat64: return torch::kFloat64;
    case util::NpyType::kInt64: return torch::kInt64;
    case util::NpyType::kInt32: return torch::kInt32;
    case util::NpyType::kUInt8: return torch::kUInt8;
    case util::NpyType::kBool: return torch::kBool;
  }
  return torch::kFloat32;
}

}  // namespace

void write_npy_tensor(const std::filesystem::path& path, const torch::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
  util::write_npy(path, npy_type(t.scalar_type()), shape, t.data_ptr());
}

torch::Tensor tensor_of(const util::NpyArray& array) {
  if (!array.fortran_order) {
    auto t = torch::empty(array.shape, torch_type(array.type));
    // An empty array's data pointers may be null, which memcpy must not be given even for 0 bytes.
    if (!array.bytes.empty()) std::memcpy(t.data_ptr(), array.bytes.data(), array.bytes.size());
    return t;
  }
  // Fortran order: the C-ordered array of the reversed shape, transposed back.
  std::vector<int64_t> reversed(array.shape.rbegin(), array.shape.rend());
  auto t = torch::empty(reversed, torch_type(array.type));
  if (!array.bytes.empty()) std::memcpy(t.data_ptr(), array.bytes.data(), array.bytes.size());
  std::vector<int64_t> order;
  for (int64_t d = static_cast<int64_t>(reversed.size()) - 1; d >= 0; --d) order.push_back(d);
  return t.permute(order).contiguous();
}

torch::Tensor read_npy_tensor(const std::filesystem::path& path) {
  return tensor_of(util::read_npy(path));
}

}  // namespace preimage::data
