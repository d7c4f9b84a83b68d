#pragma once
// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a big-endian
// magic 0x0000 0x08 <ndim>, ndim big-endian uint32 sizes, then unsigned bytes. The files may be
// gzipped as they are distributed (Debian's dataset-fashion-mnist ships *.gz).
#include <filesystem>
#include <string>

#include <torch/torch.h>

namespace preimage::data {

// Reads an unsigned-byte IDX file (plain or gzipped) of `expected_ndim` dimensions (3: images,
// 1: labels) into a uint8 tensor of the stored shape. Throws UserError naming the file when it
// is not a regular file, or the magic, the dimension count or the size is not what the header
// promises (a truncated download, say); sizes are checked against the file before allocating.
torch::Tensor read_idx(const std::filesystem::path& path, int expected_ndim);
// The same from the file's bytes in memory; `name` names it in errors.
torch::Tensor parse_idx(const std::string& bytes, const std::string& name, int expected_ndim);

// Writes a uint8 tensor as IDX (used by tests to make small and corrupt fixtures), atomically.
void write_idx(const std::filesystem::path& path, const torch::Tensor& values);

}  // namespace preimage::data
