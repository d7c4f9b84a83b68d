// The report's sections that only `preimage analyze` provides (analysis.json): success rates
// (thesis 3.4), normality tests (3.5), the bonus models (3.6). Their tables come from
// analysis/tables.h, the same as `preimage analyze` prints.
#include <fmt/format.h>

#include "analysis/tables.h"
#include "pipeline/report_context.h"
#include "report/figures.h"

namespace preimage::pipeline::report_sections {

// ---- what only `preimage analyze` provides ---------------------------------------------------

void success_section(ReportContext& c) {
  c.doc.heading("Success rate (thesis 3.4)");
  if (!c.analysis.is_object()) {
    c.note("the classifier's success rates: analysis.json is missing (run preimage analyze " +
         c.run.path().string() + ", then preimage report again).");
    return;
  }
  analysis::success_tables(c.doc, c.analysis);
  std::vector<report::BarSeries> series = analysis::digit_success_series(c.analysis);
  if (series.empty()) {
    c.note("the per-digit success rate: analysis.json holds no per-digit success rates.");
    return;
  }
  std::vector<std::string> digits;
  for (int c = 0; c < 10; ++c) digits.push_back(std::to_string(c));
  const fs::path png = c.figures / "digit_success.png";
  report::bar_chart(png, digits, series,
                    {"Success rate per digit", "digit", "decoded image classified as the original  [%]"});
  c.figure(png, "Share of images per digit whose binarized decoding the classifier puts in the same "
              "class as the original image (the thesis's success rate), per latent space.");
}

void normality_section(ReportContext& c) {
  c.doc.heading("Normality tests (thesis 3.5)");
  if (!c.analysis.is_object()) {
    c.note("the normality tests: analysis.json is missing (run preimage analyze).");
    return;
  }
  analysis::normality_tables(c.doc, c.analysis);
}

void bonus_section(ReportContext& c) {
  c.doc.heading("Bonus model MB (thesis 3.6)");
  if (!c.analysis.is_object()) {
    c.note("the bonus model MB: analysis.json is missing (run preimage analyze).");
    return;
  }
  analysis::bonus_tables(c.doc, c.analysis);
  if (c.data.extra.empty() && c.data.has_mt())
    c.note("MB's latent points: the run has no latents/MB.npy, so the figures show MT and MN "
         "only.");
  else
    c.doc.paragraph("The bonus models' latents (latents/MB.npy, latents/MA.npy) appear in the "
                   "latent scatter and as the last rows of every panel of decoded images.");
}

}  // namespace preimage::pipeline::report_sections
