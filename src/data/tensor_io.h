#pragma once
// Tensors to and from .npy files (util/npy.h does the format; this adds the LibTorch types).
#include <filesystem>

#include <torch/torch.h>

#include "util/npy.h"

namespace preimage::data {

// Writes a CPU tensor of float32/float64/int64/int32/uint8/bool as .npy, atomically.
void write_npy_tensor(const std::filesystem::path& path, const torch::Tensor& tensor);

// Reads a .npy file into a tensor of the matching dtype. Throws UserError naming the file.
torch::Tensor read_npy_tensor(const std::filesystem::path& path);
// A parsed .npy array as a tensor of the matching dtype.
torch::Tensor tensor_of(const util::NpyArray& array);

}  // namespace preimage::data
