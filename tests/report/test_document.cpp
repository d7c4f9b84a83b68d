// The report builder: HTML with every image embedded, Markdown with every image referenced.
#include <gtest/gtest.h>

#include "report/document.h"
#include "report/image_grid.h"
#include "report_test_util.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::report {
namespace {

using DocumentTest = testing::ScratchTest;

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A small grey PNG at `path`.
void small_png(const fs::path& path, float value) {
  write_image_grid(path, std::vector<float>(16, value), 1, 1, 4, 4);
}

TEST(Base64, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST(HtmlEscape, EscapesMarkup) {
  EXPECT_EQ(html_escape("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;");
}

TEST_F(DocumentTest, HtmlEmbedsEveryImageAndFetchesNothing) {
  small_png(dir() / "figures" / "a.png", 0.2f);
  small_png(dir() / "figures" / "b.png", 0.8f);
  Document doc("Preimage report <test>");
  doc.heading("Settings")
      .settings({{"seed", "42"}, {"latent_dim", "2"}}, "Run configuration")
      .heading("Results")
      .paragraph("MN improves on MT for 87% of images & more.")
      .table({"method", "mean delta (%)", "note"}, {{"MN_adam", "25.1+-0.3", "x|y"}, {"MB", "12"}},
             "Per-method summary")
      .figure(dir() / "figures" / "a.png", "First panel")
      .figure(dir() / "figures" / "b.png", "Second panel", /*pixelated=*/true);
  EXPECT_EQ(doc.figure_count(), 2);
  const std::string html = doc.html();

  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<img"), 2u);
  EXPECT_EQ(count(html, "src=\"data:image/png;base64,"), 2u);
  for (const char* name : {"a.png", "b.png"}) {
    const std::string encoded = base64_encode(util::read_file(dir() / "figures" / name));
    EXPECT_NE(html.find("base64," + encoded + "\""), std::string::npos)
        << name << " is embedded whole";
  }
  // Self-contained: no external stylesheet, script, font or image.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src=\"figures"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  // Text is escaped, numbers are right-aligned, figures are numbered.
  EXPECT_NE(html.find("<title>Preimage report &lt;test&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("87% of images &amp; more."), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">25.1+-0.3</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>MN_adam</td>"), std::string::npos);
  EXPECT_NE(html.find("<b>Figure 2.</b> Second panel"), std::string::npos);
  EXPECT_NE(html.find("class=\"pixelated\""), std::string::npos);
  // The check script the browser test relies on.
  EXPECT_NE(html.find("dataset.brokenImages"), std::string::npos);
  EXPECT_NE(html.find("window.onerror"), std::string::npos);
}

TEST_F(DocumentTest, MarkdownReferencesEveryImageRelatively) {
  small_png(dir() / "figures" / "a.png", 0.2f);
  small_png(dir() / "figures" / "with space.png", 0.4f);
  Document doc("Report");
  doc.heading("Figures")
      .table({"k", "v"}, {{"a|b", "1"}})
      .figure(dir() / "figures" / "a.png", "First")
      .figure(dir() / "figures" / "with space.png", "Second")
      .preformatted("preimage run --seed 1");
  const std::string md = doc.markdown(dir());
  EXPECT_EQ(md.rfind("# Report\n", 0), 0u);
  EXPECT_NE(md.find("## Figures"), std::string::npos);
  EXPECT_NE(md.find("![First](figures/a.png)"), std::string::npos) << md;
  EXPECT_NE(md.find("![Second](<figures/with space.png>)"), std::string::npos) << md;
  EXPECT_NE(md.find("*Figure 2. Second*"), std::string::npos);
  EXPECT_NE(md.find("| a\\|b | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("|---|---|"), std::string::npos);
  EXPECT_NE(md.find("```\npreimage run --seed 1\n```"), std::string::npos);
  EXPECT_EQ(md.find("base64"), std::string::npos);
}

TEST_F(DocumentTest, WriteCreatesBothFilesAtomically) {
  small_png(dir() / "figures" / "a.png", 0.5f);
  Document doc("Report");
  doc.figure(dir() / "figures" / "a.png", "Only figure");
  doc.write(dir());
  EXPECT_TRUE(fs::exists(dir() / "report.html"));
  EXPECT_TRUE(fs::exists(dir() / "report.md"));
  EXPECT_NE(util::read_file(dir() / "report.md").find("(figures/a.png)"), std::string::npos);
  EXPECT_EQ(testing::count_temp_files(dir()), 0);
}

TEST_F(DocumentTest, MissingImageIsAnErrorAndWritesNothing) {
  Document doc("Report");
  doc.figure(dir() / "figures" / "missing.png", "Never drawn");
  EXPECT_THROW(doc.html(), UserError);
  EXPECT_THROW(doc.write(dir() / "out"), UserError);
  EXPECT_FALSE(fs::exists(dir() / "out" / "report.html"));
  EXPECT_FALSE(fs::exists(dir() / "out" / "report.md"));
}

TEST(Document, RejectsMalformedInput) {
  Document doc("Report");
  EXPECT_THROW(doc.heading("x", 4), std::invalid_argument);
  EXPECT_THROW(doc.table({"a"}, {{"1", "2"}}), std::invalid_argument);
}

}  // namespace
}  // namespace preimage::report
