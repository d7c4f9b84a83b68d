#include "report/document.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <stdexcept>

#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::report {

namespace {

// Readable typography without any external font or stylesheet.
constexpr const char* kStyle = R"css(
:root { color-scheme: light; }
body { margin: 0; background: #ffffff; color: #1f2328;
  font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif;
  font-size: 16px; line-height: 1.55; }
main { max-width: 62rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 1.2rem; }
h2 { font-size: 1.45rem; margin: 2.6rem 0 0.8rem; padding-bottom: 0.3rem; border-bottom: 1px solid #d8dee4; }
h3 { font-size: 1.15rem; margin: 1.8rem 0 0.6rem; }
p { margin: 0.7rem 0; max-width: 48rem; }
pre { background: #f6f8fa; border: 1px solid #e5e8eb; border-radius: 4px; padding: 0.7rem 1rem;
  overflow-x: auto; font-size: 0.88rem; line-height: 1.45; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.table-wrap { overflow-x: auto; margin: 1rem 0 1.4rem; }
table { border-collapse: collapse; font-size: 0.94rem; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 0.4rem; }
th, td { padding: 0.35rem 0.8rem; text-align: left; vertical-align: top; border-bottom: 1px solid #e3e6ea; }
thead th { background: #f3f5f7; border-bottom: 2px solid #c9d1d9; font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.settings td:first-child { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.88rem; }
figure { margin: 1.6rem 0; }
figure img { display: block; max-width: 100%; height: auto; }
figure img.pixelated { image-rendering: pixelated; }
figcaption { margin-top: 0.45rem; font-size: 0.92rem; color: #57606a; max-width: 48rem; }
figcaption b { color: #1f2328; }
)css";

// Counts broken images and records script errors into <body data-...> so that a headless
// browser's --dump-dom shows them (browser_check.cpp parses them). In <head>, before any other
// script, so it sees every error.
constexpr const char* kCheckScript = R"js(
(function () {
  var errors = [];
  function record() {
    if (document.body) document.body.dataset.scriptErrors = JSON.stringify(errors);
  }
  window.onerror = function (message, source, line) {
    errors.push(String(message) + (line ? ' (line ' + line + ')' : ''));
    record();
    return false;
  };
  window.addEventListener('unhandledrejection', function (event) {
    errors.push('unhandled rejection: ' + String(event.reason));
    record();
  });
  window.addEventListener('load', function () {
    var images = document.images, broken = 0;
    for (var i = 0; i < images.length; i++) {
      if (!images[i].complete || images[i].naturalWidth === 0) broken++;
    }
    document.body.dataset.imageCount = String(images.length);
    document.body.dataset.brokenImages = String(broken);
    record();
  });
})();
)js";

std::string mime_type(const fs::path& image) {
  std::string ext = image.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".gif") return "image/gif";
  throw UserError(fmt::format("report figure '{}': unknown image type '{}'", image.string(), ext),
                  "use a .png, .jpg, .svg or .gif file");
}

// "0.071", "-3", "12.5%", "1e-05", "0.0712+-0.0023", "0.07 ± 0.01": right-aligned numbers.
bool looks_numeric(std::string_view cell) {
  bool digit = false;
  for (size_t i = 0; i < cell.size(); ++i) {
    const char c = cell[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' || c == '+' || c == '-' || c == 'e' || c == 'E' || c == '%' || c == ' ') {
    } else if (cell.compare(i, 2, "\xc2\xb1") == 0) {  // ± in UTF-8
      ++i;
    } else {
      return false;
    }
  }
  return digit && cell.front() != 'e' && cell.front() != 'E';
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out.empty() ? " " : out;
}

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Document::Document(std::string title) : title_(std::move(title)) {}

Document& Document::heading(std::string text, int level) {
  if (level < 1 || level > 3) {
    throw std::invalid_argument(
        fmt::format("heading '{}': level {} is not 1, 2 or 3", text, level));
  }
  blocks_.emplace_back(Heading{std::move(text), level});
  return *this;
}

Document& Document::paragraph(std::string text) {
  blocks_.emplace_back(Paragraph{std::move(text)});
  return *this;
}

Document& Document::preformatted(std::string text) {
  blocks_.emplace_back(Preformatted{std::move(text)});
  return *this;
}

Document& Document::table(std::vector<std::string> header,
                          std::vector<std::vector<std::string>> rows, std::string caption) {
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() > header.size()) {
      throw std::invalid_argument(fmt::format("table '{}': row {} has {} cells, the header {}",
                                              caption, r, rows[r].size(), header.size()));
    }
    rows[r].resize(header.size());
  }
  blocks_.emplace_back(Table{std::move(header), std::move(rows), std::move(caption), false});
  return *this;
}

Document& Document::settings(std::vector<std::pair<std::string, std::string>> entries,
                             std::string caption) {
  std::vector<std::vector<std::string>> rows;
  for (auto& [key, value] : entries) rows.push_back({std::move(key), std::move(value)});
  blocks_.emplace_back(Table{{"Setting", "Value"}, std::move(rows), std::move(caption), true});
  return *this;
}

Document& Document::figure(fs::path image, std::string caption, bool pixelated) {
  blocks_.emplace_back(Figure{std::move(image), std::move(caption), pixelated});
  return *this;
}

int Document::figure_count() const {
  int n = 0;
  for (const Block& block : blocks_) n += std::holds_alternative<Figure>(block);
  return n;
}

std::string Document::html() const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n", html_escape(title_));
  out += fmt::format("<style>{}</style>\n", kStyle);
  out += fmt::format("<script>{}</script>\n", kCheckScript);
  out += "</head>\n<body>\n<main>\n";
  out += fmt::format("<h1>{}</h1>\n", html_escape(title_));
  int figure_number = 0;
  for (const Block& block : blocks_) {
    if (const auto* h = std::get_if<Heading>(&block)) {
      out += fmt::format("<h{0}>{1}</h{0}>\n", h->level, html_escape(h->text));
    } else if (const auto* p = std::get_if<Paragraph>(&block)) {
      out += fmt::format("<p>{}</p>\n", html_escape(p->text));
    } else if (const auto* pre = std::get_if<Preformatted>(&block)) {
      out += fmt::format("<pre>{}</pre>\n", html_escape(pre->text));
    } else if (const auto* t = std::get_if<Table>(&block)) {
      out += fmt::format("<div class=\"table-wrap\"><table{}>\n",
                         t->settings ? " class=\"settings\"" : "");
      if (!t->caption.empty())
        out += fmt::format("<caption>{}</caption>\n", html_escape(t->caption));
      out += "<thead><tr>";
      for (const auto& cell : t->header) out += fmt::format("<th>{}</th>", html_escape(cell));
      out += "</tr></thead>\n<tbody>\n";
      for (const auto& row : t->rows) {
        out += "<tr>";
        for (size_t c = 0; c < row.size(); ++c) {
          const bool numeric = !(t->settings && c == 0) && looks_numeric(row[c]);
          out += fmt::format("<td{}>{}</td>", numeric ? " class=\"num\"" : "", html_escape(row[c]));
        }
        out += "</tr>\n";
      }
      out += "</tbody>\n</table></div>\n";
    } else if (const auto* f = std::get_if<Figure>(&block)) {
      ++figure_number;
      const std::string bytes = util::read_file(f->image);
      require(!bytes.empty(), fmt::format("report figure '{}' is an empty file", f->image.string()),
              "the step that draws it failed; run `report` again and look at its errors");
      out +=
          fmt::format("<figure id=\"figure-{}\">\n<img{} alt=\"{}\" src=\"data:{};base64,{}\">\n",
                      figure_number, f->pixelated ? " class=\"pixelated\"" : "",
                      html_escape(one_line(f->caption)), mime_type(f->image), base64_encode(bytes));
      out += fmt::format("<figcaption><b>Figure {}.</b> {}</figcaption>\n</figure>\n",
                         figure_number, html_escape(one_line(f->caption)));
    }
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

std::string Document::markdown(const fs::path& markdown_dir) const {
  std::string out = fmt::format("# {}\n", one_line(title_));
  const fs::path base = fs::absolute(markdown_dir).lexically_normal();
  int figure_number = 0;
  for (const Block& block : blocks_) {
    out += '\n';
    if (const auto* h = std::get_if<Heading>(&block)) {
      out += fmt::format("{} {}\n", std::string(static_cast<size_t>(h->level), '#'),
                         one_line(h->text));
    } else if (const auto* p = std::get_if<Paragraph>(&block)) {
      out += p->text + "\n";
    } else if (const auto* pre = std::get_if<Preformatted>(&block)) {
      out += fmt::format("```\n{}\n```\n", pre->text);
    } else if (const auto* t = std::get_if<Table>(&block)) {
      if (!t->caption.empty()) out += fmt::format("**{}**\n\n", one_line(t->caption));
      out += "|";
      for (const auto& cell : t->header) out += " " + markdown_cell(cell) + " |";
      out += "\n|";
      for (size_t c = 0; c < t->header.size(); ++c) out += "---|";
      out += "\n";
      for (const auto& row : t->rows) {
        out += "|";
        for (const auto& cell : row) out += " " + markdown_cell(cell) + " |";
        out += "\n";
      }
    } else if (const auto* f = std::get_if<Figure>(&block)) {
      ++figure_number;
      std::string link =
          fs::absolute(f->image).lexically_normal().lexically_relative(base).generic_string();
      if (link.empty()) link = fs::absolute(f->image).generic_string();
      // CommonMark's <...> form allows spaces in a link destination.
      if (link.find_first_of(" ()") != std::string::npos) link = "<" + link + ">";
      const std::string caption = one_line(f->caption);
      out += fmt::format("![{}]({})\n\n*Figure {}. {}*\n", markdown_cell(caption), link,
                         figure_number, caption);
    }
  }
  return out;
}

void Document::write(const fs::path& folder) const {
  util::ensure_writable_dir(folder);
  // Render both before writing either, so a missing image leaves no half-updated report.
  const std::string page = html();
  const std::string text = markdown(folder);
  util::write_file_atomic(folder / "report.html", page);
  util::write_file_atomic(folder / "report.md", text);
}

}  // namespace preimage::report
