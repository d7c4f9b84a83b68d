#include "util/progress.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include <fmt/format.h>

namespace preimage::util {
namespace {
std::atomic<bool> g_enabled{true};
constexpr int kBarWidth = 24;                  // characters in the bar
constexpr double kRedrawSeconds = 0.1;         // terminal redraw period
}  // namespace

void Progress::set_enabled(bool enabled) { g_enabled = enabled; }

std::string format_duration(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
  return fmt::format("{} h {} min", s / 3600, (s % 3600) / 60);
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(std::max<int64_t>(total, 1)),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = std::min(done_ + n, total_);
  draw(false);
}

void Progress::set_postfix(std::string text) {
  std::lock_guard<std::mutex> lock(mutex_);
  postfix_ = std::move(text);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final) {
  if (!g_enabled) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
  const int decile = static_cast<int>(fraction * 10);
  if (!final) {
    if (tty_ && std::chrono::duration<double>(now - last_draw_).count() < kRedrawSeconds) return;
    if (!tty_ && (decile == last_decile_ || done_ == total_)) return;
  }
  last_draw_ = now;
  last_decile_ = decile;
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double left = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kBarWidth - filled), '.');
  const std::string timing = final ? fmt::format("in {}", format_duration(elapsed))
                                   : fmt::format("eta {}", format_duration(left));
  std::string line = fmt::format("{:<10} {:3.0f}% [{}] {}/{} {} {:.4g} {}/s {} {}", label_,
                                 fraction * 100, bar, done_, total_, unit_, rate, unit_, timing,
                                 postfix_);
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace preimage::util
