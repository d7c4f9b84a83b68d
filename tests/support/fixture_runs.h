#pragma once
// The run folders the test suite shares, made once per CTest run by the fixture
// `fixture_runs` (tests/support/make_fixture_runs.sh, through the `preimage` executable):
//   run/            `preimage run` on 200 real MNIST images (a narrow VAE, two epochs on 6000
//                   images, adafactor, curves of images 0 and 3), analyzed with the classifier
//                   below and reported;
//   run_output.txt  what that command printed;
//   cache/          the user's cache of those commands (XDG_CACHE_HOME): the classifier the
//                   run trained on first use, the lean CNN, one epoch on 6000 images;
//   cwd/            the folder they ran in, left empty;
//   inverted/       the same model, 120 images inverted with gauss-newton (no analysis).
// Tests read them; a test that changes one works on a copy (copy_fixture).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace preimage::test_support {

inline const std::filesystem::path& fixture_root() {
  static const std::filesystem::path root = [] {
    const std::filesystem::path p = PREIMAGE_FIXTURE_RUNS;
    if (!std::filesystem::exists(p / "done"))
      ADD_FAILURE() << p << " is missing: the CTest fixture makes it (run the tests with ctest, "
                    << "or first: ctest -R fixture_runs_make)";
    return p;
  }();
  return root;
}
inline std::filesystem::path fixture_run() { return fixture_root() / "run"; }
inline std::filesystem::path fixture_inverted() { return fixture_root() / "inverted"; }
inline std::filesystem::path fixture_cache() { return fixture_root() / "cache"; }
// The classifier the fixture's run trained into the cache.
inline std::filesystem::path fixture_classifier() {
  const auto dir = fixture_cache() / "preimage" / "classifiers";
  if (std::filesystem::is_directory(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".pt") return e.path();
  ADD_FAILURE() << "no classifier in " << dir;
  return dir / "missing.pt";
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
inline std::string fixture_run_output() { return read_text(fixture_root() / "run_output.txt"); }

// A copy of a fixture folder in a fresh scratch folder, to change.
inline std::filesystem::path copy_fixture(const std::filesystem::path& folder,
                                          const std::string& name) {
  const auto copy = fresh_dir(name) / folder.filename();
  std::filesystem::copy(folder, copy, std::filesystem::copy_options::recursive);
  return copy;
}

}  // namespace preimage::test_support
