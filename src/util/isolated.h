#pragma once
// Running a library that is not robust against mangled input (LibTorch's archive reader, the
// HDF5 library) on a user's file, so that whatever it does with a bad file (crash, abort, loop
// for ever, exhaust memory) ends as a UserError of preimage, never as its crash or hang: the
// work runs in a forked child process with a time limit and a memory budget.
#include <cstdint>
#include <functional>
#include <string>

namespace preimage::util {

struct IsolatedLimits {
  unsigned seconds = 60;         // wall time before the child is killed (SIGALRM)
  uint64_t memory_bytes = 0;     // peak resident memory the child may add to what it inherited
                                 // (0: no budget); checked when `work` returns
};

// The time limit for reading a file of `bytes`: 60 s, or a second per 8 MB for files over 480 MB.
inline unsigned isolated_seconds_for(uint64_t bytes) {
  return static_cast<unsigned>(bytes >> 23 > 60 ? bytes >> 23 : 60);
}

// How the child ended: "" when `work` returned 0 within the limits, else why it did not
// ("crashed (signal 11)", "was still running after 60 s", "used 4.4 GB, more than its budget
// of 2.0 GB", "failed (status 3)").
std::string run_isolated(const std::function<int()>& work, const IsolatedLimits& limits);

// In a child started by run_isolated (or any fork): signal handlers back to their defaults and
// a sanitizer's death callback (a fuzzer's) removed, so the child's death is only the parent's
// error; then the time limit.
void become_isolated_child(unsigned seconds);

}  // namespace preimage::util
