#pragma once
// A small process-wide table of values made from files, by a key that changes when a file does
// (`file_stamp`): what one command would otherwise open, probe or hash again in each of its
// steps (the model, its checksum).
#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

namespace preimage::util {

// A regular file's absolute path, size and modification time; "" for anything else (a folder,
// whose files may change without it; a missing file).
std::string file_stamp(const std::filesystem::path& path);

template <typename Value>
class Memo {
 public:
  explicit Memo(size_t capacity) : capacity_(capacity) {}

  // The value remembered under `key`, else make() remembered (when `key` is not empty). At most
  // `capacity` values: a full table is emptied first. Thread-safe; make() runs unlocked.
  template <typename Make>
  Value get(const std::string& key, Make make) {
    if (!key.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (const auto it = values_.find(key); it != values_.end()) return it->second;
    }
    Value value = make();
    if (!key.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (values_.size() >= capacity_) values_.clear();
      values_.emplace(key, value);
    }
    return value;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Value> values_;
  size_t capacity_;
};

}  // namespace preimage::util
