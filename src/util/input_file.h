#pragma once
// Reading the files a user gives (images, labels, arrays, masks): the file's length bounds what
// is allocated, so a folder, a device or a pipe (`--data /dev/zero`) is refused up front rather
// than read until memory runs out.
#include <cstdint>
#include <filesystem>
#include <string>

namespace preimage::util {

// The whole of `path`, a regular file no larger than the machine's memory. Throws UserError
// naming `what` ("images file", ".npy file", ...) and the file when it is missing, unreadable,
// a folder, not a regular file, or too large; `hint` says where such a file comes from.
std::string read_input_file(const std::filesystem::path& path, const std::string& what,
                            const std::string& hint = "");

// The machine's physical memory in bytes: no input larger than this can be loaded.
uint64_t physical_memory_bytes();

}  // namespace preimage::util
