#include "report/gnuplot.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "report/subprocess.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::report {

namespace {

constexpr int kDefaultWidth = 900;   // pixels: fits a laptop screen beside the report's margins
constexpr int kDefaultHeight = 650;  // pixels
constexpr size_t kMaxStderrChars = 4000;  // gnuplot's error context, enough to see the bad line

void write_all(std::FILE* pipe, std::string_view text) {
  // A short write means gnuplot exited early (an error); pclose's status reports it.
  std::fwrite(text.data(), 1, text.size(), pipe);
}

}  // namespace

std::string gnuplot_string(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "''";  // gnuplot's escape for a quote inside a single-quoted string
    } else if (c == '\n' || c == '\r') {
      quoted += ' ';
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return quoted;
}

std::string datablock_string(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') {
      quoted += '\'';  // a datablock column cannot hold a double quote
    } else if (c == '\n' || c == '\r') {
      quoted += ' ';
    } else {
      quoted += c;
    }
  }
  quoted += "\"";
  return quoted;
}

std::string gnuplot_number(double value) {
  if (!std::isfinite(value)) return "NaN";
  return fmt::format("{:.10g}", value);
}

std::string datablock(const std::string& name, const std::vector<std::vector<double>>& columns) {
  const size_t rows = columns.empty() ? 0 : columns.front().size();
  for (const auto& column : columns) {
    if (column.size() != rows) {
      throw std::invalid_argument(fmt::format(
          "datablock ${}: columns of different lengths ({} and {})", name, rows, column.size()));
    }
  }
  std::string text = fmt::format("${} << EOD\n", name);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) text += ' ';
      text += gnuplot_number(columns[c][r]);
    }
    text += '\n';
  }
  text += "EOD\n";
  return text;
}

void run_gnuplot(std::string_view script, const fs::path& png, const Canvas& canvas,
                 const std::string& program) {
  const auto executable = find_program(program);
  if (!executable) {
    throw UserError(
        fmt::format("gnuplot not found: install gnuplot-nox (scripts/setup.sh does); "
                    "'{}' is not an executable in $PATH, so figure '{}' cannot be drawn",
                    program, png.string()),
        "sudo apt-get install gnuplot-nox, or run scripts/setup.sh");
  }
  if (png.has_parent_path()) util::ensure_writable_dir(png.parent_path());

  // The PNG is drawn beside its final name (same file system, so the rename is atomic);
  // gnuplot's stderr goes to a private temporary folder.
  const fs::path temp_png = util::temp_path_for(png);
  TempDir scratch("preimage-gnuplot");
  const fs::path stderr_path = scratch.path() / "stderr.txt";

  const int width = canvas.width > 0 ? canvas.width : kDefaultWidth;
  const int height = canvas.height > 0 ? canvas.height : kDefaultHeight;
  // noenhanced: method names such as "MN_adam" must print as written, not with subscripts.
  const std::string prologue =
      fmt::format("set terminal pngcairo size {},{} font 'sans,{}' noenhanced\nset output {}\n",
                  width, height, canvas.font_points, gnuplot_string(temp_png.string()));
  const std::string command = fmt::format("exec {} 2>{}", shell_quote(executable->string()),
                                          shell_quote(stderr_path.string()));

  int status = -1;
  {
    SigpipeGuard guard;  // gnuplot exits at its first error, possibly before reading everything
    std::FILE* pipe = ::popen(command.c_str(), "w");
    if (pipe == nullptr) {
      throw UserError(fmt::format("cannot start gnuplot ('{}') for figure '{}'",
                                  executable->string(), png.string()),
                      "is the system out of processes or memory?");
    }
    write_all(pipe, prologue);
    write_all(pipe, script);
    write_all(pipe, "\nunset output\n");  // closes the PNG before gnuplot exits
    status = ::pclose(pipe);
  }

  std::error_code ec;
  if (!exited_successfully(status)) {
    fs::remove(temp_png, ec);
    std::string errors = fs::exists(stderr_path) ? util::read_file(stderr_path) : "";
    if (errors.size() > kMaxStderrChars)
      errors = "..." + errors.substr(errors.size() - kMaxStderrChars);
    throw UserError(
        fmt::format("gnuplot failed ({}) drawing '{}'; its messages:\n{}",
                    describe_exit_status(status), png.string(), errors),
        "a gnuplot script of the report is wrong: please report this with the messages above");
  }
  const auto size = fs::file_size(temp_png, ec);
  if (ec || size == 0 || !has_png_signature(temp_png)) {
    fs::remove(temp_png, ec);
    throw UserError(fmt::format("gnuplot exited normally but wrote no PNG for '{}'", png.string()),
                    "check that gnuplot has the pngcairo terminal (Debian's gnuplot-nox does)");
  }
  util::commit_temp_file(temp_png, png);
}

}  // namespace preimage::report
