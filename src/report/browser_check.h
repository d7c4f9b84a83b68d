#pragma once
// Opens a report.html in headless Chromium (Debian's `chromium`) the way a reader would: takes a
// screenshot, and dumps the DOM after the page's check script ran (see document.h), to prove that
// every image decodes and no script failed.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace preimage::report {

namespace fs = std::filesystem;

struct BrowserOptions {
  std::string program = "chromium";   // the browser executable (a name in $PATH or a path)
  int window_width = 1200;            // pixels of the screenshot
  int window_height = 2000;           // pixels of the screenshot (the page is cut there)
  int virtual_time_budget_ms = 5000;  // virtual time the page gets to load and run its scripts
  int timeout_s = 120;                // wall-clock limit per browser run, then it is killed
};

struct BrowserCheck {
  bool screenshot_written = false;         // a PNG was written at the screenshot path
  bool checks_ran = false;                 // the page's load handler reported (data-* found)
  int image_count = -1;                    // <img> elements on the page; -1: not reported
  int broken_images = -1;                  // images with naturalWidth 0; -1: not reported
  std::vector<std::string> script_errors;  // messages caught by window.onerror

  // Everything fine: screenshot taken, checks ran, no broken image, no script error.
  bool ok() const {
    return screenshot_written && checks_ran && broken_images == 0 && script_errors.empty();
  }
  // One line for logs and test failures: "screenshot:yes images:3 broken:0 script_errors:0 ...".
  std::string summary() const;
};

// True when `program` is an executable in $PATH (or a path to one).
bool browser_available(const std::string& program = "chromium");

// Runs the browser twice on `html`: once writing `screenshot` (PNG, atomically), once with
// --dump-dom, whose <body data-...> attributes give the image and error counts. Throws UserError
// if the browser is missing ("install chromium"), fails, or times out.
BrowserCheck check_in_browser(const fs::path& html, const fs::path& screenshot,
                              const BrowserOptions& options = {});

// The check results from a dumped DOM (the attributes of its <body> tag); screenshot_written is
// left false. Exposed for tests.
BrowserCheck parse_dumped_dom(std::string_view dom);

// A file:// URL for `path` (made absolute), with unsafe characters percent-encoded.
std::string file_url(const fs::path& path);

}  // namespace preimage::report
