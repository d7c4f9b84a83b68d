#pragma once
// Which images a command works on: `--images 5000` (the first 5000), `--images 100:300`,
// `--images all`; and `--shard k/n`, the k-th of n equal parts of that range.
#include <cstdint>
#include <string>

namespace preimage::data {

struct ImageRange {
  int64_t begin = 0;
  int64_t end = -1;  // exclusive; -1 = to the end of the data set
  int64_t size() const { return end - begin; }
  std::string str() const;  // "begin:end"
};

// Parses "N", "A:B" or "all"; throws UserError on anything else, an empty or inverted range.
ImageRange parse_range(const std::string& text);

// Clamps an open range to `available` images; throws UserError if it reaches past them.
ImageRange resolve_range(ImageRange range, int64_t available, const std::string& source);

struct Shard {
  int64_t index = 0;  // 0-based
  int64_t count = 1;
};
// Parses "k/n" with 0 <= k < n; throws UserError otherwise.
Shard parse_shard(const std::string& text);
// The k-th of n contiguous, nearly equal parts of `range` (the first parts get one more image).
ImageRange shard_range(ImageRange range, Shard shard);

}  // namespace preimage::data
