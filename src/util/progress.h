#pragma once
// A progress bar for every long loop: rate and time left. On a terminal it redraws one line;
// otherwise (CI, a log file) it prints a line every 10% so logs stay short. Its calls may come
// from several threads.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace preimage::util {

class Progress {
 public:
  // `label`: what is running ("invert"); `total`: units to do; `unit`: their name ("img").
  Progress(std::string label, int64_t total, std::string unit);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);  // n more units done
  void set_postfix(std::string text);
  void finish();  // prints the final line (idempotent)

  // Silences every progress bar (tests, --quiet).
  static void set_enabled(bool enabled);

 private:
  void draw(bool final);  // with mutex_ held
  std::mutex mutex_;
  std::string label_, unit_, postfix_;
  int64_t total_, done_ = 0;
  int last_decile_ = -1;
  bool finished_ = false, tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1.2 s", "3 min 4 s", "2 h 5 min".
std::string format_duration(double seconds);

}  // namespace preimage::util
