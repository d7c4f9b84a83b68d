#include "report/browser_check.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "report/document.h"
#include "report/subprocess.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::report {

namespace {

constexpr size_t kMaxLogChars = 3000;  // of the browser's own messages, quoted in errors
constexpr int kTimeoutExitStatus =
    124;  // what coreutils' `timeout` returns when it killed the command

// Flags for a quiet, reproducible, offline headless run (root in containers needs --no-sandbox).
std::string common_flags(const fs::path& profile, const BrowserOptions& options) {
  return fmt::format(
      "--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
      "--disable-component-update --disable-sync --disable-default-apps --mute-audio "
      "--hide-scrollbars --user-data-dir={} --virtual-time-budget={}",
      shell_quote(profile.string()), options.virtual_time_budget_ms);
}

std::string tail(const fs::path& log) {
  std::error_code ec;
  if (!fs::exists(log, ec)) return "";
  std::string text = util::read_file(log);
  if (text.size() > kMaxLogChars) text = "..." + text.substr(text.size() - kMaxLogChars);
  return text;
}

void require_success(int status, const std::string& what, const fs::path& log,
                     const BrowserOptions& options) {
  if (exited_successfully(status)) return;
  const bool timed_out =
      status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == kTimeoutExitStatus;
  throw UserError(fmt::format("{} {} ({}); its messages:\n{}", options.program, what,
                              timed_out ? fmt::format("no answer within {} s", options.timeout_s)
                                        : describe_exit_status(status),
                              tail(log)),
                  "check that Debian's chromium starts: `chromium --headless --no-sandbox "
                  "--dump-dom about:blank`");
}

std::string html_unescape(std::string_view text) {
  static const std::map<std::string, std::string> kEntities = {
      {"&quot;", "\""}, {"&amp;", "&"},  {"&lt;", "<"},         {"&gt;", ">"},
      {"&#39;", "'"},   {"&#x27;", "'"}, {"&nbsp;", "\xc2\xa0"}};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [entity, value] : kEntities) {
        if (text.compare(i, entity.size(), entity) == 0) {
          out += value;
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

// The attributes of the <body ...> tag. Values are double-quoted in a serialized DOM, with
// any '"' inside escaped, so the next '"' always ends a value.
std::map<std::string, std::string> body_attributes(std::string_view dom) {
  std::map<std::string, std::string> attributes;
  // The <body> tag follows </head> in a serialized DOM; text before it (scripts) may mention
  // "<body".
  const size_t head_end = dom.find("</head>");
  size_t i = dom.find("<body", head_end == std::string_view::npos ? 0 : head_end);
  while (i != std::string_view::npos && i + 5 < dom.size() && dom[i + 5] != ' ' &&
         dom[i + 5] != '>') {
    i = dom.find("<body", i + 5);
  }
  if (i == std::string_view::npos) return attributes;
  i += 5;
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (i < dom.size()) {
    while (i < dom.size() && is_space(dom[i])) ++i;
    if (i >= dom.size() || dom[i] == '>' || dom[i] == '/') break;
    const size_t name_start = i;
    while (i < dom.size() && !is_space(dom[i]) && dom[i] != '=' && dom[i] != '>') ++i;
    const std::string name(dom.substr(name_start, i - name_start));
    std::string value;
    if (i < dom.size() && dom[i] == '=') {
      ++i;
      if (i < dom.size() && dom[i] == '"') {
        const size_t end = dom.find('"', i + 1);
        if (end == std::string_view::npos) break;
        value = html_unescape(dom.substr(i + 1, end - i - 1));
        i = end + 1;
      } else {
        const size_t start = i;
        while (i < dom.size() && !is_space(dom[i]) && dom[i] != '>') ++i;
        value = html_unescape(dom.substr(start, i - start));
      }
    }
    attributes[name] = value;
  }
  return attributes;
}

int parse_count(const std::map<std::string, std::string>& attributes, const char* name) {
  const auto it = attributes.find(name);
  if (it == attributes.end()) return -1;
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

std::string BrowserCheck::summary() const {
  std::string text = fmt::format("screenshot:{} checks_ran:{} images:{} broken:{} script_errors:{}",
                                 screenshot_written ? "yes" : "no", checks_ran ? "yes" : "no",
                                 image_count, broken_images, script_errors.size());
  for (const auto& error : script_errors) text += "\n  script error: " + error;
  return text;
}

bool browser_available(const std::string& program) {
  return find_program(program).has_value();
}

std::string file_url(const fs::path& path) {
  const std::string absolute = fs::absolute(path).lexically_normal().generic_string();
  std::string url = "file://";
  for (unsigned char c : absolute) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      url += static_cast<char>(c);
    } else {
      url += fmt::format("%{:02X}", c);
    }
  }
  return url;
}

BrowserCheck parse_dumped_dom(std::string_view dom) {
  BrowserCheck check;
  const auto attributes = body_attributes(dom);
  check.image_count = parse_count(attributes, kImageCountAttribute);
  check.broken_images = parse_count(attributes, kBrokenImagesAttribute);
  const auto errors = attributes.find(kScriptErrorsAttribute);
  if (errors != attributes.end()) {
    const auto parsed = nlohmann::json::parse(errors->second, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_array()) {
      for (const auto& message : parsed) {
        check.script_errors.push_back(message.is_string() ? message.get<std::string>()
                                                          : message.dump());
      }
    } else {
      check.script_errors.push_back("unreadable " + std::string(kScriptErrorsAttribute) + ": " +
                                    errors->second);
    }
  }
  check.checks_ran = check.broken_images >= 0 && errors != attributes.end();
  return check;
}

BrowserCheck check_in_browser(const fs::path& html, const fs::path& screenshot,
                              const BrowserOptions& options) {
  const auto executable = find_program(options.program);
  if (!executable) {
    throw UserError(
        fmt::format("chromium not found: '{}' is not an executable in $PATH, so the report "
                    "cannot be checked in a browser",
                    options.program),
        "install Debian's chromium (sudo apt-get install chromium), or run scripts/setup.sh");
  }
  std::error_code ec;
  require(fs::is_regular_file(html, ec),
          fmt::format("cannot check '{}' in a browser: no such file", html.string()),
          "write the report first");
  if (screenshot.has_parent_path()) util::ensure_writable_dir(screenshot.parent_path());

  TempDir scratch("preimage-chromium");
  const std::string url = file_url(html);
  const std::string timeout = fmt::format("timeout --kill-after=10 {} {}", options.timeout_s,
                                          shell_quote(executable->string()));

  // 1. The screenshot, into a temporary file that keeps the .png extension (Chromium picks the
  //    format from it), renamed into place when complete.
  BrowserCheck check;
  const fs::path temp_png = screenshot.parent_path() /
                            fmt::format(".tmp-{}-{}", ::getpid(), screenshot.filename().string());
  {
    const fs::path log = scratch.path() / "screenshot.log";
    const std::string command =
        fmt::format("{} {} --screenshot={} --window-size={},{} {} >{} 2>&1", timeout,
                    common_flags(scratch.path() / "profile-screenshot", options),
                    shell_quote(temp_png.string()), options.window_width, options.window_height,
                    shell_quote(url), shell_quote(log.string()));
    const int status = std::system(command.c_str());
    if (!exited_successfully(status)) fs::remove(temp_png, ec);
    require_success(status, "failed taking a screenshot of " + html.string(), log, options);
    if (fs::exists(temp_png, ec) && fs::file_size(temp_png, ec) > 0 &&
        has_png_signature(temp_png)) {
      util::commit_temp_file(temp_png, screenshot);
      check.screenshot_written = true;
    } else {
      fs::remove(temp_png, ec);
    }
  }

  // 2. The DOM after the load event, from stdout.
  std::string dom;
  {
    const fs::path log = scratch.path() / "dump-dom.log";
    const std::string command = fmt::format("{} {} --dump-dom {} 2>{}", timeout,
                                            common_flags(scratch.path() / "profile-dom", options),
                                            shell_quote(url), shell_quote(log.string()));
    std::FILE* pipe = ::popen(command.c_str(), "r");
    require(pipe != nullptr, fmt::format("cannot start {}", options.program),
            "is the system out of memory?");
    char buffer[1 << 16];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) dom.append(buffer, n);
    const int status = ::pclose(pipe);
    require_success(status, "failed dumping the DOM of " + html.string(), log, options);
  }
  BrowserCheck parsed = parse_dumped_dom(dom);
  parsed.screenshot_written = check.screenshot_written;
  return parsed;
}

}  // namespace preimage::report
