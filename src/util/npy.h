#pragma once
// NumPy .npy files (format version 1.0), readable by numpy.load: the per-image arrays of a run folder.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace preimage::util {

// Element types we write and read, by their NumPy descriptors.
enum class NpyType { kFloat32, kFloat64, kInt64, kInt32, kUInt8, kBool };

std::string npy_descr(NpyType type);  // "<f4", "<f8", "<i8", "<i4", "|u1", "|b1"
size_t npy_item_size(NpyType type);

// An array read from a .npy file: C-ordered raw bytes plus shape.
struct NpyArray {
  NpyType type = NpyType::kFloat32;
  std::vector<int64_t> shape;
  std::vector<char> bytes;  // numel * item size
  // The bytes are in Fortran order (the last dimension varies slowest), as NumPy saves a
  // transposed view: the C-ordered array is the transpose of the reversed shape's.
  bool fortran_order = false;

  int64_t numel() const;
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(bytes.data());
  }
};

// Serializes a C-ordered array to .npy bytes.
std::string npy_encode(NpyType type, const std::vector<int64_t>& shape, const void* data);

// Writes atomically. Throws UserError if the file cannot be written.
void write_npy(const std::filesystem::path& path, NpyType type, const std::vector<int64_t>& shape,
               const void* data);

// Reads a .npy file; throws UserError naming the file for a bad magic, an unsupported dtype, a
// negative or overflowing shape, or a payload of another size than the shape's.
NpyArray read_npy(const std::filesystem::path& path);
// The same from the file's bytes in memory (an .npz member); `name` names it in errors.
NpyArray parse_npy(const std::string& bytes, const std::string& name);

}  // namespace preimage::util
