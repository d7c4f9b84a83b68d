#pragma once
// Drives gnuplot (Debian's gnuplot-nox) through a pipe: the script, with its data inline as
// datablocks, goes to gnuplot's stdin; the PNG is drawn into a temporary file that is renamed into
// place only when gnuplot succeeded, so a failed figure never leaves an empty or partial file.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace preimage::report {

namespace fs = std::filesystem;

// Size and font of a PNG figure. Defaults read well at 100% zoom in the HTML report.
struct Canvas {
  int width = 0;         // pixels; 0: the figure's own default (900; a scatter sizes itself to its panels)
  int height = 0;        // pixels; 0: the figure's own default (650)
  int font_points = 12;  // font size of labels and tick marks
};

// Renders `script` (gnuplot commands that plot; no `set terminal`/`set output`, which this adds)
// into `png` with the pngcairo terminal at `canvas` size. `program` is the gnuplot executable.
// Throws UserError when gnuplot is missing, fails (its stderr is in the message) or writes no
// valid PNG; `png` is then left untouched.
void run_gnuplot(std::string_view script, const fs::path& png, const Canvas& canvas = {},
                 const std::string& program = "gnuplot");

// `text` as a gnuplot single-quoted string literal (no escapes are interpreted inside).
std::string gnuplot_string(std::string_view text);

// `text` as a double-quoted string inside a datablock (a column that may contain spaces).
std::string datablock_string(std::string_view text);

// A number as gnuplot reads it back exactly enough for a figure; non-finite values become NaN,
// which gnuplot treats as a missing point.
std::string gnuplot_number(double value);

// Builds a datablock `$name << EOD ... EOD` from columns of equal length.
std::string datablock(const std::string& name, const std::vector<std::vector<double>>& columns);

}  // namespace preimage::report
