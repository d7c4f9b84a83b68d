#pragma once
// Integrity of a zip file before a library that trusts it parses it (LibTorch's archive reader
// checks no CRC and can crash on mangled contents).
#include <filesystem>
#include <string>

namespace preimage::util {

// Reads every member of the zip file `path` to its end, so that libzip checks each member's
// CRC-32 and the central directory's consistency; throws UserError naming `path` as `what`
// (e.g. "checkpoint") and the member that failed. Memory stays bounded: members are streamed.
void verify_zip(const std::filesystem::path& path, const std::string& what);

}  // namespace preimage::util
