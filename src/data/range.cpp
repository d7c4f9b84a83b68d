#include "data/range.h"

#include <regex>

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::data {

std::string ImageRange::str() const { return fmt::format("{}:{}", begin, end); }

namespace {
// A count or position of at most 18 digits (beyond any data set; int64 holds 19): more is an
// error naming `text`, not std::stoll's out_of_range.
int64_t parse_count(const std::string& digits, const std::string& what, const std::string& text,
                    const std::string& hint) {
  require(digits.size() <= 18,
          fmt::format("{} '{}' holds the number {}, more than any data set holds", what, text,
                      digits),
          hint);
  return std::stoll(digits);
}
}  // namespace

ImageRange parse_range(const std::string& text) {
  const std::string hint = "use N (the first N images), A:B (images A to B-1) or all";
  if (text == "all") return {0, -1};
  std::smatch m;
  if (std::regex_match(text, m, std::regex(R"((\d+))"))) {
    const int64_t n = parse_count(m[1], "image range", text, hint);
    require(n > 0, fmt::format("image range '{}' is empty", text), hint);
    return {0, n};
  }
  if (std::regex_match(text, m, std::regex(R"((\d+):(\d+))"))) {
    ImageRange r{parse_count(m[1], "image range", text, hint),
                 parse_count(m[2], "image range", text, hint)};
    require(r.end > r.begin, fmt::format("image range '{}' is empty or inverted", text), hint);
    return r;
  }
  throw UserError(fmt::format("cannot read image range '{}'", text), hint);
}

ImageRange resolve_range(ImageRange range, int64_t available, const std::string& source) {
  require(available > 0, fmt::format("{} holds no images", source),
          "give a data set with images (check the file's first dimension)");
  if (range.end < 0) range.end = available;
  require(range.begin < available && range.end <= available,
          fmt::format("image range {} reaches past the {} images of {}", range.str(), available,
                      source),
          fmt::format("choose a range within 0:{}", available));
  require(range.end > range.begin, fmt::format("image range {} is empty", range.str()));
  return range;
}

Shard parse_shard(const std::string& text) {
  std::smatch m;
  require(std::regex_match(text, m, std::regex(R"((\d+)/(\d+))")),
          fmt::format("cannot read shard '{}'", text), "use k/n, e.g. 0/4 for the first of 4 parts");
  const std::string hint = "use k/n, e.g. 0/4 for the first of 4 parts";
  Shard s{parse_count(m[1], "shard", text, hint), parse_count(m[2], "shard", text, hint)};
  require(s.count > 0 && s.index < s.count,
          fmt::format("shard {}/{} is out of bounds: k must be in 0..n-1", s.index, s.count));
  return s;
}

ImageRange shard_range(ImageRange range, Shard shard) {
  const int64_t n = range.size(), base = n / shard.count, extra = n % shard.count;
  const int64_t begin = range.begin + shard.index * base + std::min(shard.index, extra);
  const int64_t size = base + (shard.index < extra ? 1 : 0);
  require(size > 0, fmt::format("shard {}/{} of range {} holds no image", shard.index, shard.count,
                                range.str()));
  return {begin, begin + size};
}

}  // namespace preimage::data
