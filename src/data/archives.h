#pragma once
// Named arrays from the files a model's weights come in: NumPy's .npz (a zip of .npy files,
// stored or deflated: libzip), a folder of .npy files, and HDF5 files (Keras's .h5 and
// .weights.h5: the HDF5 C library). Each reader checks sizes against the file before it
// allocates, and throws UserError naming the file and what was expected.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace preimage::data {

// A named array: its path inside the file ("decoder.0.weight", "sequential_1/dense_6/kernel:0").
using NamedArray = std::pair<std::string, torch::Tensor>;

// Every member of an .npz archive, by name without the ".npy" suffix, in the archive's order.
std::vector<NamedArray> read_npz(const std::filesystem::path& path);
// Every *.npy file of a folder, by file name without the suffix, sorted by name.
std::vector<NamedArray> read_npy_folder(const std::filesystem::path& folder);
// Every numeric dataset of an HDF5 file (as float32, by its full path without the leading '/'),
// in the file's order. The HDF5 library reads the file in a child process with a time limit
// (60 s, or a second per 8 MB for larger files), so that a mangled file that makes it crash,
// recurse without end or loop for ever is a UserError here; datasets stored in other files
// (external, virtual) or declaring more bytes than the file stores are refused.
std::vector<NamedArray> read_hdf5_datasets(const std::filesystem::path& path);

// The child's time limit in seconds instead of the size-based one (0: back to it); the fuzzer
// sets a short one, below its own time-out.
void set_hdf5_time_limit(unsigned seconds);

}  // namespace preimage::data
