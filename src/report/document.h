#pragma once
// A small report builder: headings, paragraphs, tables, settings, figures. Renders a self-contained
// report.html (images embedded as base64 data URIs, CSS inline, nothing fetched from the network,
// so it opens offline and can be mailed) and a report.md that references the images by relative
// path.
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace preimage::report {

namespace fs = std::filesystem;

class Document {
 public:
  // `title` is the page's <title> and its first heading.
  explicit Document(std::string title);

  // A section heading: level 1 (h1), 2 (h2) or 3 (h3).
  Document& heading(std::string text, int level = 2);
  // A paragraph of plain text (escaped in HTML: no markup is interpreted).
  Document& paragraph(std::string text);
  // Monospaced text kept as written, e.g. the command line that produced a run.
  Document& preformatted(std::string text);
  // A table: a header row and rows of cells (a row may have fewer cells than the header, not more).
  // Cells that look like numbers ("0.071", "12.5%", "0.0712+-0.0023") are right-aligned in HTML.
  Document& table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows,
                  std::string caption = "");
  // A two-column "Setting | Value" table, e.g. the resolved configuration of a run.
  Document& settings(std::vector<std::pair<std::string, std::string>> entries,
                     std::string caption = "");
  // An image file (PNG, JPEG or SVG) with a one-line caption, numbered "Figure n." in order.
  // `pixelated`: scale without smoothing (digit panels, manifolds), so pixels stay square.
  Document& figure(fs::path image, std::string caption, bool pixelated = false);

  // The HTML page, images embedded. Throws UserError naming an image that cannot be read.
  std::string html() const;
  // The Markdown text; image paths are written relative to `markdown_dir` (where report.md lives).
  std::string markdown(const fs::path& markdown_dir) const;

  // Writes `folder`/report.html and `folder`/report.md atomically (creating the folder).
  void write(const fs::path& folder) const;

  const std::string& title() const { return title_; }
  int figure_count() const;

 private:
  struct Heading {
    std::string text;
    int level;
  };
  struct Paragraph {
    std::string text;
  };
  struct Preformatted {
    std::string text;
  };
  struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::string caption;
    bool settings;
  };
  struct Figure {
    fs::path image;
    std::string caption;
    bool pixelated;
  };
  using Block = std::variant<Heading, Paragraph, Preformatted, Table, Figure>;

  std::string title_;
  std::vector<Block> blocks_;
};

// Standard base64 (RFC 4648, with '=' padding), for data URIs.
std::string base64_encode(std::string_view bytes);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

// Where the page's check script leaves its findings once the page has loaded:
// <body data-broken-images="N" data-image-count="M" data-script-errors="[JSON array of messages]">.
// browser_check.h reads them from a headless browser's dump of the DOM.
inline constexpr const char* kBrokenImagesAttribute = "data-broken-images";
inline constexpr const char* kImageCountAttribute = "data-image-count";
inline constexpr const char* kScriptErrorsAttribute = "data-script-errors";

}  // namespace preimage::report
