#include "analysis/tables.h"

#include <cmath>
#include <cstdio>
#include <functional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analysis/success_rate.h"
#include "report/json_tables.h"

namespace preimage::analysis {
namespace {

using Json = nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

// A number with `spec`; "-" for null or absent.
std::string num(const Json& v, const char* spec = "{:.5g}") {
  if (v.is_null()) return "-";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (!v.is_number()) return v.is_string() ? v.get<std::string>() : v.dump();
  return fmt::format(fmt::runtime(spec), v.get<double>());
}
// "mean +- standard error", as STYLE.md asks of means over images.
std::string pm(const Json& j, const char* spec = "{:.5g}") {
  return num(j.at("mean"), spec) + " +- " + num(j.at("sem"), "{:.2g}");
}
std::string vec(const Json& v) {
  if (!v.is_array()) return num(v, "{:.4f}");
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + vec(v[i]);
  return s + "]";
}
std::string right_out_of(const Json& c) {
  return analysis::right_out_of(c.at("right").get<int64_t>(), c.at("total").get<int64_t>());
}
std::vector<std::string> digits_header(const std::string& first) {
  std::vector<std::string> h{first};
  for (int d = 0; d < 10; ++d) h.push_back(std::to_string(d));
  return h;
}

// The spaces in the analysis's order (MT, the methods, MB, MA) that `section` covers.
std::vector<std::string> spaces(const Json& a, const char* section) {
  std::vector<std::string> out;
  if (!a.contains(section) || !a[section].is_object()) return out;
  if (a.contains("spaces") && a["spaces"].is_array()) {
    for (const auto& s : a["spaces"])
      if (s.is_string() && a[section].contains(s.get<std::string>())) out.push_back(s);
  } else {
    for (const auto& [k, v] : a[section].items()) out.push_back(k);
  }
  return out;
}

// Runs `render`; if the analysis's layout is not the one it expects, the section is shown as raw
// tables instead of failing the whole output.
void with_fallback(report::Document& doc, const Json& a, const char* section,
                   const std::string& caption, const std::function<void()>& render) {
  try {
    render();
  } catch (const Json::exception& e) {
    spdlog::warn("analysis.json, {}: unexpected layout ({}); shown as raw tables", section,
                 e.what());
    if (a.contains(section)) report::render_json_tables(doc, a[section], caption);
  }
}

}  // namespace

void space_tables(report::Document& doc, const Json& a) {
  with_fallback(doc, a, "latent_statistics", "Latent statistics", [&] {
    Rows rows;
    for (const auto& s : spaces(a, "latent_statistics")) {
      const auto& j = a["latent_statistics"][s];
      rows.push_back({s, vec(j.at("mean")), vec(j.at("covariance")), pm(j.at("loss"))});
    }
    doc.table({"latent space", "mean vector", "covariance matrix", "mean loss"}, rows,
              "Mean vector and covariance matrix of each latent space, and its mean loss "
              "(annex E)");
    if (a.contains("paired_distances") && !a["paired_distances"].empty()) {
      Rows d;
      for (const auto& p : a["paired_distances"])
        d.push_back({p.at("a").get<std::string>() + " - " + p.at("b").get<std::string>(), pm(p),
                     num(p.at("variance"))});
      doc.table({"pair", "mean distance", "variance"}, d,
                "Distances |a_i - b_i| between the paired points of two latent spaces");
    }
  });
}

void delta_tables(report::Document& doc, const Json& a) {
  with_fallback(doc, a, "latent_statistics", "Deltas", [&] {
    const auto names = spaces(a, "latent_statistics");
    const auto& ls = a["latent_statistics"];
    Rows rows;
    for (const auto& s : names) {
      const auto& j = ls[s];
      if (!j.contains("delta_pct")) {
        rows.push_back({s, pm(j.at("loss")), "-", "-", "-", "-", "-", "-"});
        continue;
      }
      const auto& d = j["delta_pct"];
      const auto& c = j.at("delta_loss_correlation");
      rows.push_back({s, pm(j.at("loss")), pm(d), num(d.at("variance")), num(d.at("min")),
                      num(d.at("max")),
                      c.at("pearson").is_null() ? "-" : num(c["pearson"].at("r"), "{:.4f}"),
                      c.at("spearman").is_null() ? "-" : num(c["spearman"].at("rho"), "{:.4f}")});
    }
    doc.table({"latent space", "mean loss", "mean delta %", "variance of delta", "min delta %",
               "max delta %", "Pearson r (delta, loss)", "Spearman rho"},
              rows,
              fmt::format("Losses and deltas ({} images, loss {}; section 3.3, annex F): delta = "
                          "(final - initial) / initial x 100",
                          num(a.at("images")), num(a.at("loss"))));

    Rows lowest;
    std::string n_lowest;
    for (const auto& s : names) {
      const auto& l = ls[s].at("lowest_loss_digits");
      std::vector<std::string> row{s};
      for (const auto& c : l.at("counts")) row.push_back(num(c));
      lowest.push_back(row);
      n_lowest = num(l.at("n"));
    }
    doc.table(digits_header("latent space"), lowest,
              fmt::format("Digits of the {} lowest final losses (the thesis: all ones)", n_lowest));

    std::vector<std::string> header{"digit", "images"};
    for (const auto& s : names) header.push_back(s + " loss");
    for (const auto& s : names)
      if (ls[s].at("per_digit").contains("delta_pct")) header.push_back(s + " delta %");
    Rows per_digit;
    for (int d = 0; d < 10; ++d) {
      std::vector<std::string> row{std::to_string(d),
                                   num(ls[names.front()]["per_digit"]["loss"]["count"][d])};
      auto cell = [&](const Json& p) {
        return num(p.at("mean")[d], "{:.4g}") + " +- " + num(p.at("sem")[d], "{:.2g}");
      };
      for (const auto& s : names) row.push_back(cell(ls[s]["per_digit"]["loss"]));
      for (const auto& s : names)
        if (ls[s]["per_digit"].contains("delta_pct"))
          row.push_back(cell(ls[s]["per_digit"]["delta_pct"]));
      per_digit.push_back(row);
    }
    doc.table(header, per_digit, "Per digit: mean final loss and mean delta %");
  });
}

void ranked_tables(report::Document& doc, const Json& a) {
  with_fallback(doc, a, "latent_statistics", "Best and worst images", [&] {
    auto cell = [](const Json& e, const char* key) {
      return fmt::format("{}: {}, {}", e.at("index").get<int64_t>(), e.at("label").get<int64_t>(),
                         num(e.at(key), "{:.4g}"));
    };
    for (const auto& s : spaces(a, "latent_statistics")) {
      const auto& j = a["latent_statistics"][s];
      const bool has_delta = j.contains("best_by_delta");
      std::vector<std::string> header{"#"};
      if (has_delta) header.insert(header.end(), {"lowest delta %", "highest delta %"});
      header.insert(header.end(), {"lowest loss", "highest loss"});
      Rows rows;
      for (size_t r = 0; r < j.at("lowest_loss").size(); ++r) {
        std::vector<std::string> row{std::to_string(r + 1)};
        if (has_delta) {
          row.push_back(cell(j["best_by_delta"][r], "delta"));
          row.push_back(cell(j["worst_by_delta"][r], "delta"));
        }
        row.push_back(cell(j["lowest_loss"][r], "loss"));
        row.push_back(cell(j["highest_loss"][r], "loss"));
        rows.push_back(row);
      }
      doc.table(header, rows, fmt::format("{}: best and worst images (index: digit, value)", s));
    }
  });
}

void success_tables(report::Document& doc, const Json& a) {
  if (!a.contains("success_rate")) {
    const auto why = a.contains("left_out") ? a["left_out"].value("success_rate", "") : "";
    doc.paragraph(why.empty() ? "The analysis holds no success rates."
                              : "No success rates: " + why + ".");
    return;
  }
  with_fallback(doc, a, "success_rate", "Success rates", [&] {
    const auto& c = a.at("classifier");
    doc.table({"quantity", "value"},
              {{"checkpoint", num(c.at("path"))},
               {"test accuracy (binarized test images)",
                num(c.at("test_accuracy"), "{:.4f}") + " on " + num(c.at("test_images")) +
                    " images"},
               {"accuracy on the run's images", right_out_of(c.at("accuracy_on_run_images"))}},
              "The classifier (the thesis's CNN, section 3.4)");
    const auto names = spaces(a, "success_rate");
    Rows rows;
    for (const auto& s : names) {
      const auto& r = a["success_rate"][s];
      rows.push_back({s, right_out_of(r.at("vs_original_prediction")),
                      right_out_of(r.at("vs_label"))});
    }
    doc.table({"latent space", "same class as the original image (the thesis's)",
               "same class as the true label"},
              rows, "Success rate: decoded image (binarized at 0.5) classified as the original");

    std::vector<std::string> header{"digit", "images"};
    for (const auto& s : names) header.push_back(s);
    Rows per_digit;
    for (int d = 0; d < 10; ++d) {
      std::vector<std::string> row{
          std::to_string(d), num(a["success_rate"][names.front()]["per_digit"]["total"][d])};
      for (const auto& s : names) {
        const auto& v = a["success_rate"][s]["per_digit"]["rate_vs_original"][d];
        row.push_back(v.is_null() ? "-" : fmt::format("{:.2f}", 100.0 * v.get<double>()));
      }
      per_digit.push_back(row);
    }
    doc.table(header, per_digit, "Success rate per digit (vs the classifier on the original, %)");

    for (const auto& s : names) {
      Rows m;
      const auto& confusion = a["success_rate"][s].at("confusion");
      for (size_t i = 0; i < confusion.size(); ++i) {
        std::vector<std::string> row{std::to_string(i)};
        for (const auto& v : confusion[i]) row.push_back(num(v));
        m.push_back(row);
      }
      doc.table(digits_header("original \\ decoded"), m,
                fmt::format("{}: confusion, classifier on the original (rows) against on D({}) "
                            "(columns)",
                            s, s));
    }
  });
}

std::vector<report::BarSeries> digit_success_series(const Json& a) {
  std::vector<report::BarSeries> series;
  for (const auto& s : spaces(a, "success_rate")) {
    const Json* rates = nullptr;
    const auto& r = a["success_rate"][s];
    if (r.contains("per_digit") && r["per_digit"].contains("rate_vs_original"))
      rates = &r["per_digit"]["rate_vs_original"];
    if (rates == nullptr || !rates->is_array() || rates->size() != 10) continue;
    report::BarSeries b{s, {}, {}};
    for (const auto& v : *rates) b.values.push_back(v.is_number() ? 100 * v.get<double>() : NAN);
    series.push_back(b);
  }
  return series;
}

void normality_tables(report::Document& doc, const Json& a) {
  if (!a.contains("normality")) {
    doc.paragraph("The analysis holds no normality tests.");
    return;
  }
  with_fallback(doc, a, "normality", "Normality tests", [&] {
    // "statistic (p = ...)", or n/a with the test's reason in the JSON.
    auto test = [](const Json& t, const std::string& note = "") {
      if (t.contains("error")) return std::string("n/a");
      return fmt::format("{} (p = {}{})", num(t.at("statistic"), "{:.4g}"),
                         num(t.at("pvalue"), "{:.3g}"), note);
    };
    Rows rows;
    for (const auto& s : spaces(a, "normality")) {
      const auto& t = a["normality"][s];
      const auto& lf = t.at("radius_lilliefors");
      std::string lilliefors = test(lf);
      if (!lf.contains("error") && !lf.at("pvalue_in_valid_range").get<bool>())
        lilliefors = num(lf.at("statistic"), "{:.4g}") + " (p > 0.1)";
      const auto& sw = t.at("shapiro_wilk");
      const auto& m = t.at("mardia");
      rows.push_back(
          {s, test(t.at("radius_ks")), lilliefors,
           test(sw, !sw.contains("error") && sw.at("pvalue_may_be_inaccurate").get<bool>()
                        ? ", N > 5000"
                        : ""),
           m.contains("error") ? "n/a" : test(m.at("skewness")),
           m.contains("error") ? "n/a" : test(m.at("kurtosis")), test(t.at("henze_zirkler"))});
    }
    doc.table({"latent space", "KS on the radius (scipy's kstest)", "Lilliefors on the radius",
               "Shapiro-Wilk (flattened)", "Mardia skewness", "Mardia kurtosis", "Henze-Zirkler"},
              rows,
              "Normality tests (section 3.5): statistic (p-value) on the radius r = |y| and on "
              "the points themselves; small p-values reject normality");
  });
}

void bonus_tables(report::Document& doc, const Json& a) {
  if (!a.contains("bonus") || a["bonus"].is_null()) {
    const auto why = a.contains("left_out") ? a["left_out"].value("bonus", "") : "";
    doc.paragraph(why.empty() ? "The analysis holds no bonus model (too few images, or disabled)."
                              : "No bonus model: " + why + ".");
    return;
  }
  with_fallback(doc, a, "bonus", "Bonus models", [&] {
    const auto& b = a["bonus"];
    Rows models;
    for (const char* m : {"MB", "MA"}) {
      if (!b.contains(m)) continue;
      const auto& arch = b[m].at("architecture");
      models.push_back(
          {m,
           fmt::format("{}-{}x{}-{}", num(arch.at("input")), num(arch.at("depth")),
                       num(arch.at("width")), num(arch.at("output"))),
           num(b[m].at("train").at("epochs")), num(b[m].at("train").at("batch_size")),
           num(b[m].at("final_train_mse"), "{:.4g}"),
           num(b[m].at("final_validation_mse"), "{:.4g}"), num(b[m].at("seconds"), "{:.1f}")});
    }
    doc.table({"model", "architecture", "epochs", "batch", "final train MSE",
               "final validation MSE", "seconds"},
              models,
              fmt::format("Bonus models (section 3.6): learn {} from MT (MB) or from the image (MA)",
                          num(b.at("source_method"))));
    const auto& h = b.at("held_out");
    Rows rows;
    const int64_t held = h.at("images").get<int64_t>();
    for (const auto& [s, loss] : h.at("mean_loss").items()) {
      const bool mt = s == "MT";
      rows.push_back(
          {s, pm(loss),
           mt ? "-" : fmt::format("{:.2f}%", 100 * h.at("share_better_than_MT").at(s).get<double>()),
           mt ? "-" : num(h.at("beats_MT").at(s)),
           analysis::right_out_of(h.at("success_vs_original").at(s).get<int64_t>(), held)});
    }
    doc.table({"latent space", "mean loss", "images better than MT", "beats MT",
               "success vs original"},
              rows,
              fmt::format("Held-out images {}:{} (not used to train MB, MA)",
                          num(h.at("rows")[0]), num(h.at("rows")[1])));
  });
}

void vector_tables(report::Document& doc, const Json& a) {
  if (!a.contains("vector_analysis")) return;
  with_fallback(doc, a, "vector_analysis", "Vector analysis", [&] {
    Rows rows;
    for (const auto& s : spaces(a, "vector_analysis")) {
      const auto& v = a["vector_analysis"][s];
      rows.push_back({s, share_of(v.at("positive").get<int64_t>(), v.at("images").get<int64_t>()),
                      num(v.at("mean_dot"), "{:.4g}"), num(v.at("mean_cosine"), "{:.4f}"),
                      num(v.at("mean_norm_v"), "{:.4g}"), num(v.at("file"))});
    }
    doc.table({"latent space X", "u.v > 0", "mean u.v", "mean cosine(u, v)", "mean |v|", "data"},
              rows,
              "Vector analysis (section 3.6.3): v = X - MT, u = mean(MT) - MT, per image");
  });
}

void likelihood_tables(report::Document& doc, const Json& lk, const Json& a) {
  with_fallback(doc, Json{{"likelihood", lk}}, "likelihood", "Likelihood", [&] {
    const auto& sets = lk.at("sets");
    const auto& cfg = lk.at("config");
    std::vector<std::pair<std::string, Json>> ordered;  // the run's images first
    for (const char* name : {"train", "test"})
      if (sets.contains(name)) ordered.emplace_back(name, sets[name]);
    Rows rows, gaps;
    for (const auto& [name, s] : ordered) {
      if (!s.contains("log_px")) {
        rows.push_back({name, num(s.at("source")), num(s.at("images")), "-", "-", "-",
                        num(s.value("left_out", Json("-")))});
        continue;
      }
      const bool iwae = s.value("estimate", std::string("exact")) == "iwae";
      std::string check = "-";
      if (!iwae)
        check = fmt::format("{:+.4f} ({})", s.at("check").at("mean_change").get<double>(),
                            s["check"].at("converged").get<bool>() ? "converged" : "NOT converged");
      rows.push_back({name, num(s.at("source")), num(s.at("images")),
                      iwae ? ">= " + pm(s.at("log_px"), "{:.3f}") +
                                 fmt::format(" (IWAE, k = {})", num(s.at("iwae_samples")))
                           : pm(s.at("log_px"), "{:.3f}"),
                      check, num(s.value("edge_images", Json())),
                      s.contains("elbo_encoder") ? pm(s["elbo_encoder"], "{:.3f}") : "-"});
      if (!s.contains("gaps")) continue;
      const auto& g = s["gaps"];
      gaps.push_back({name, num(g.at("images")), num(g.at("log_px"), "{:.3f}"),
                      num(g.at("elbo_optimal"), "{:.3f}"), num(g.at("elbo_encoder"), "{:.3f}"),
                      pm(g.at("amortization_gap"), "{:.3f}"),
                      pm(g.at("approximation_gap"), "{:.3f}")});
    }
    doc.paragraph(fmt::format(
        "log p(x) by the trapezoidal rule on a grid of {} points per axis over [-{}, {}]^L "
        "(h = {:.4g}); the check is the change of the mean from spacing 2h to h (converged: "
        "below 0.01 nat). Edge images have more than 0.1% of their posterior in the box's outer "
        "tenth (log p(x) may be underestimated there). ELBOs by a {}-node-per-axis Gauss-Hermite "
        "rule.",
        num(cfg.at("points")), num(cfg.at("radius")), num(cfg.at("radius")),
        cfg.at("spacing").get<double>(), num(cfg.at("elbo_nodes"))));
    doc.table({"set", "images", "count", "log p(x), nats", "check: change on halving h",
               "edge images", "ELBO of the encoder's posterior"},
              rows, "Exact log-likelihood (nats; higher is better)");
    if (!gaps.empty())
      doc.table({"set", "images", "log p(x)", "ELBO, best Gaussian", "ELBO, encoder",
                 "amortization gap", "approximation gap"},
                gaps,
                "Inference gaps (Cremer et al. 2018), nats: amortization = ELBO(best Gaussian) - "
                "ELBO(encoder), approximation = log p(x) - ELBO(best Gaussian), on the first "
                "images of each set");
    for (const auto& [name, s] : ordered) {
      Rows joint;
      const bool has_loss = !a.is_null() && a.contains("latent_statistics") && name == "train";
      if (!s.contains("spaces")) continue;
      for (const auto& space : s.at("spaces")) {
        const auto& lj = s.at("log_joint").at(space.get<std::string>());
        std::string loss = "-";
        if (has_loss && a["latent_statistics"].contains(space.get<std::string>()))
          loss = pm(a["latent_statistics"][space.get<std::string>()].at("loss"));
        joint.push_back({space, pm(lj, "{:.3f}"), num(lj.at("below_log_px"), "{:.3f}"), loss});
      }
      doc.table({"point", "log p(x|y) + log p(y)", "log p(x) minus it",
                 has_loss ? "loss (" + num(a.value("loss", Json("loss"))) + ")" : "loss"},
                joint, fmt::format("The log joint at each latent space's point, {} images (a "
                                   "density: it exceeds log p(x) where the posterior is narrower "
                                   "than a unit area)",
                                   name));
      // The thesis's question, in nats beside its squared error.
      const auto names = s.at("spaces");
      if (!s["log_joint"].contains("MT")) continue;
      const double mt = s["log_joint"]["MT"].at("mean").get<double>();
      for (const auto& space : names) {
        const auto n = space.get<std::string>();
        if (n == "MT" || n == "MAP" || n == "MB" || n == "MA") continue;
        const double d = s["log_joint"][n].at("mean").get<double>() - mt;
        std::string text = fmt::format(
            "Is {}'s latent space better than MT ({} images)? In nats: its points' log joint is "
            "{} MT's by {:.3f} on average",
            n, name, d >= 0 ? "above" : "below", std::abs(d));
        if (has_loss && a["latent_statistics"].contains(n) && a["latent_statistics"].contains("MT"))
          text += fmt::format("; in the thesis's {} it is {} against MT's {}",
                              num(a.value("loss", Json("loss"))),
                              num(a["latent_statistics"][n]["loss"].at("mean")),
                              num(a["latent_statistics"]["MT"]["loss"].at("mean")));
        if (s["log_joint"].contains("MAP"))
          text += fmt::format(". The MAP point's log joint is {:.3f} above MT's",
                              s["log_joint"]["MAP"].at("mean").get<double>() - mt);
        doc.paragraph(text + ".");
      }
    }
  });
}

void print_likelihood(const Json& lk) {
  report::Document doc("Likelihood");
  likelihood_tables(doc, lk);
  std::printf("\n%s\n", doc.markdown(".").c_str());
  std::fflush(stdout);
}

report::Document analysis_document(const Json& a) {
  report::Document doc(fmt::format("Analysis of {}", a.value("run", std::string("a run"))));
  doc.heading("Latent spaces (section 3.3, annexes E and F)");
  space_tables(doc, a);
  delta_tables(doc, a);
  doc.heading("Best and worst images");
  ranked_tables(doc, a);
  doc.heading("Success rate (section 3.4)");
  success_tables(doc, a);
  doc.heading("Normality tests (section 3.5)");
  normality_tables(doc, a);
  doc.heading("Bonus models (section 3.6)");
  bonus_tables(doc, a);
  doc.heading("Vector analysis (section 3.6.3)");
  vector_tables(doc, a);
  if (a.contains("likelihood") && a["likelihood"].is_object()) {
    doc.heading("Likelihood (the VAE's own measure)");
    likelihood_tables(doc, a["likelihood"], a);
  }
  return doc;
}

void print_analysis(const Json& a) {
  std::printf("\n%s\n", analysis_document(a).markdown(".").c_str());
  std::fflush(stdout);
}

}  // namespace preimage::analysis
