// The report opens in a real browser: every image decodes, no script fails, a screenshot is taken.
// The negative test proves the check can fail.
#include <gtest/gtest.h>

#include "report/browser_check.h"
#include "report/document.h"
#include "report/figures.h"
#include "report/image_grid.h"
#include "report_test_util.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::report {
namespace {

using testing::read_png_header;

class BrowserTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    if (!browser_available()) {
      FAIL() << "chromium is not installed (scripts/setup.sh installs it): these tests need it";
    }
    ScratchTest::SetUp();
  }

  // A report with a loss plot, a bar chart and a digit panel, written to dir()/report.html.
  fs::path write_report() {
    const fs::path figures = dir() / "figures";
    line_plot(figures / "loss.png",
              {{"MN_adam", {0, 1, 2, 3, 4}, {9, 5, 3, 2.5, 2.2}},
               {"MN_lbfgs", {0, 1, 2, 3, 4}, {9, 3, 2.1, 2, 2}}},
              {"Loss curves", "iteration", "mean loss"});
    bar_chart(figures / "success.png", {"0", "1", "2"}, {{"success rate", {0.9, 0.95, 0.8}, {}}},
              {"Success rate by digit", "digit", "fraction improved"});
    std::vector<float> digits(3 * 4 * 28 * 28);
    for (size_t i = 0; i < digits.size(); ++i)
      digits[i] = static_cast<float>((i * 7919) % 256) / 255.0f;
    write_image_grid(figures / "panel.png", digits, 3, 4, 28, 28);

    Document doc("Browser test report");
    doc.heading("Settings")
        .settings({{"seed", "1"}, {"images", "3"}})
        .heading("Figures")
        .paragraph("Three figures that must all decode in the browser.")
        .figure(figures / "loss.png", "Loss curves")
        .figure(figures / "success.png", "Success rate by digit")
        .figure(figures / "panel.png", "target | D(MN) | D(MT) | D(MB)", /*pixelated=*/true);
    doc.write(dir());
    return dir() / "report.html";
  }
};

TEST_F(BrowserTest, ReportOpensWithoutBrokenImagesOrScriptErrors) {
  const fs::path html = write_report();
  const fs::path screenshot = dir() / "screenshot.png";
  const BrowserCheck check = check_in_browser(html, screenshot);
  std::printf("%s\n", check.summary().c_str());
  EXPECT_TRUE(check.checks_ran) << check.summary();
  EXPECT_EQ(check.image_count, 3) << check.summary();
  EXPECT_EQ(check.broken_images, 0) << check.summary();
  EXPECT_TRUE(check.script_errors.empty()) << check.summary();
  EXPECT_TRUE(check.screenshot_written) << check.summary();
  EXPECT_TRUE(check.ok()) << check.summary();
  const auto header = read_png_header(screenshot);
  ASSERT_TRUE(header.valid);
  EXPECT_EQ(header.width, 1200u);
  EXPECT_EQ(header.height, 2000u);
  EXPECT_GT(fs::file_size(screenshot), 20000u);
}

TEST_F(BrowserTest, BrokenImagesAndScriptErrorsAreDetected) {
  const fs::path html = write_report();
  std::string page = util::read_file(html);
  // Corrupt the first embedded image, reference a file that does not exist, and add a failing
  // script.
  const std::string marker = "base64,";
  const size_t start = page.find(marker) + marker.size();
  page.replace(start, page.find('"', start) - start, "bm90IGEgcG5n");  // "not a png"
  const std::string extra =
      "<img src=\"figures/does-not-exist.png\" alt=\"missing\">\n"
      "<script>function_that_does_not_exist();</script>\n";
  page.insert(page.find("</main>"), extra);
  const fs::path broken = dir() / "broken.html";
  util::write_file_atomic(broken, page);

  const BrowserCheck check = check_in_browser(broken, dir() / "broken.png");
  std::printf("%s\n", check.summary().c_str());
  EXPECT_TRUE(check.checks_ran) << check.summary();
  EXPECT_EQ(check.image_count, 4) << check.summary();
  EXPECT_EQ(check.broken_images, 2) << check.summary();
  ASSERT_EQ(check.script_errors.size(), 1u) << check.summary();
  EXPECT_NE(check.script_errors[0].find("function_that_does_not_exist"), std::string::npos)
      << check.script_errors[0];
  EXPECT_FALSE(check.ok());
}

TEST_F(BrowserTest, MissingReportIsAnError) {
  EXPECT_THROW(check_in_browser(dir() / "nothing.html", dir() / "shot.png"), UserError);
}

TEST(BrowserCheckWithoutBrowser, MissingChromiumIsAClearError) {
  BrowserOptions options;
  options.program = "chromium-that-is-not-installed";
  try {
    check_in_browser("report.html", "shot.png", options);
    FAIL() << "a missing browser must throw";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("chromium not found"), std::string::npos) << e.what();
  }
}

TEST(BrowserCheckWithoutBrowser, ParsesTheBodyAttributes) {
  const BrowserCheck ok = parse_dumped_dom(
      "<html><head><script>var s = '<body data-broken-images=\"9\">';</script></head>"
      "<body data-image-count=\"3\" data-broken-images=\"0\" "
      "data-script-errors=\"[]\"><main></main></body></html>");
  EXPECT_TRUE(ok.checks_ran);
  EXPECT_EQ(ok.image_count, 3);
  EXPECT_EQ(ok.broken_images, 0);
  EXPECT_TRUE(ok.script_errors.empty());

  const BrowserCheck errors = parse_dumped_dom(
      "<html><body class=\"x\" data-script-errors=\"[&quot;Uncaught ReferenceError: f &gt; "
      "g&quot;]\" "
      "data-broken-images=\"2\"></body></html>");
  EXPECT_TRUE(errors.checks_ran);
  EXPECT_EQ(errors.broken_images, 2);
  EXPECT_EQ(errors.image_count, -1);
  ASSERT_EQ(errors.script_errors.size(), 1u);
  EXPECT_EQ(errors.script_errors[0], "Uncaught ReferenceError: f > g");

  // The load handler never ran: the check must not pass.
  const BrowserCheck silent = parse_dumped_dom("<html><body><p>hi</p></body></html>");
  EXPECT_FALSE(silent.checks_ran);
  EXPECT_FALSE(silent.ok());
}

TEST(BrowserCheckWithoutBrowser, FileUrlsAreAbsoluteAndEncoded) {
  EXPECT_EQ(file_url("/tmp/a b/report.html"), "file:///tmp/a%20b/report.html");
  EXPECT_EQ(file_url("/tmp/x#1.html"), "file:///tmp/x%231.html");
}

}  // namespace
}  // namespace preimage::report
