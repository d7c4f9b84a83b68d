// print_analysis: the thesis's tables (sections 3.3 to 3.6, annexes E and F) as Markdown, from
// analysis.json alone, so the same tables can be printed again from a saved analysis.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "analysis/analyze.h"
#include "analysis/success_rate.h"

namespace preimage::analysis {
namespace {

using Json = nlohmann::json;

std::string num(const Json& v, const char* spec = "{:.5g}") {
  if (v.is_null()) return "-";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return fmt::format(fmt::runtime(spec), v.get<double>());
}

std::string pm(const Json& mean, const Json& err, const char* spec = "{:.5g}") {
  return num(mean, spec) + " +- " + num(err, "{:.2g}");
}

std::string vec(const Json& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + num(v[i], "{:.4f}");
  return s + "]";
}

void heading(const std::string& title) { std::printf("\n### %s\n\n", title.c_str()); }
void row(const std::string& line) { std::printf("| %s |\n", line.c_str()); }

std::string join(const std::vector<std::string>& parts, const std::string& sep = " | ") {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? sep : "") + parts[i];
  return s;
}

void header(const std::vector<std::string>& cols) {
  row(join(cols));
  row(join(std::vector<std::string>(cols.size(), "---")));
}

std::vector<std::string> space_names(const Json& a) {
  std::vector<std::string> out;
  for (const auto& s : a["spaces"]) out.push_back(s);
  return out;
}

void print_statistics(const Json& a, const std::vector<std::string>& spaces) {
  const auto& ls = a["latent_statistics"];
  heading(fmt::format("Losses and deltas ({} images, loss {}; section 3.3, annex F)",
                      a["images"].get<int64_t>(), a["loss"].get<std::string>()));
  header({"Latent space", "mean loss", "mean delta %", "variance of delta", "min delta %",
          "max delta %"});
  for (const auto& s : spaces) {
    const auto& j = ls[s];
    if (j.contains("delta_pct")) {
      const auto& d = j["delta_pct"];
      row(join({s, pm(j["loss"]["mean"], j["loss"]["sem"]), pm(d["mean"], d["sem"]),
                num(d["variance"]), num(d["min"]), num(d["max"])}));
    } else {
      row(join({s, pm(j["loss"]["mean"], j["loss"]["sem"]), "-", "-", "-", "-"}));
    }
  }

  heading("Mean vector and covariance matrix of each latent space (annex E)");
  header({"Latent space", "Mean vector", "Covariance matrix"});
  for (const auto& s : spaces) {
    std::string cov = "[";
    for (size_t i = 0; i < ls[s]["covariance"].size(); ++i)
      cov += (i ? ", " : "") + vec(ls[s]["covariance"][i]);
    row(join({s, vec(ls[s]["mean"]), cov + "]"}));
  }

  heading("Distances between paired points ||a_i - b_i||");
  header({"Spaces", "mean", "variance"});
  for (const auto& d : a["paired_distances"])
    row(join({d["a"].get<std::string>() + " - " + d["b"].get<std::string>(),
              pm(d["mean"], d["sem"]), num(d["variance"])}));

  heading("Correlation of delta and final loss");
  header({"Latent space", "Pearson r", "p", "Spearman rho", "p"});
  for (const auto& s : spaces) {
    if (!ls[s].contains("delta_loss_correlation")) continue;
    const auto& c = ls[s]["delta_loss_correlation"];
    row(join({s, c["pearson"].is_null() ? "-" : num(c["pearson"]["r"], "{:.4f}"),
              c["pearson"].is_null() ? "-" : num(c["pearson"]["pvalue"], "{:.3g}"),
              c["spearman"].is_null() ? "-" : num(c["spearman"]["rho"], "{:.4f}"),
              c["spearman"].is_null() ? "-" : num(c["spearman"]["pvalue"], "{:.3g}")}));
  }

  for (const auto& s : spaces) {
    const auto& j = ls[s];
    heading(fmt::format("{}: best and worst images (index: digit, value)", s));
    const bool has_delta = j.contains("best_by_delta");
    std::vector<std::string> cols{"#"};
    if (has_delta) cols.insert(cols.end(), {"lowest delta %", "highest delta %"});
    cols.insert(cols.end(), {"lowest loss", "highest loss"});
    header(cols);
    auto cell = [](const Json& e, const char* key) {
      return fmt::format("{}: {}, {}", e["index"].get<int64_t>(), e["label"].get<int64_t>(),
                         num(e[key], "{:.4g}"));
    };
    for (size_t r = 0; r < j["lowest_loss"].size(); ++r) {
      std::vector<std::string> line{std::to_string(r + 1)};
      if (has_delta) {
        line.push_back(cell(j["best_by_delta"][r], "delta"));
        line.push_back(cell(j["worst_by_delta"][r], "delta"));
      }
      line.push_back(cell(j["lowest_loss"][r], "loss"));
      line.push_back(cell(j["highest_loss"][r], "loss"));
      row(join(line));
    }
  }

  const auto n_lowest = ls[spaces.front()]["lowest_loss_digits"]["n"].get<int64_t>();
  heading(fmt::format("Digits of the {} lowest final losses", n_lowest));
  std::vector<std::string> cols{"Latent space"};
  for (int d = 0; d < 10; ++d) cols.push_back(std::to_string(d));
  header(cols);
  for (const auto& s : spaces) {
    std::vector<std::string> line{s};
    for (const auto& c : ls[s]["lowest_loss_digits"]["counts"]) line.push_back(num(c));
    row(join(line));
  }

  heading("Per digit: mean final loss and mean delta %");
  cols = {"Digit", "images"};
  for (const auto& s : spaces) cols.push_back(s + " loss");
  for (const auto& s : spaces)
    if (ls[s]["per_digit"].contains("delta_pct")) cols.push_back(s + " delta %");
  header(cols);
  for (int d = 0; d < 10; ++d) {
    std::vector<std::string> line{std::to_string(d),
                                  num(ls[spaces.front()]["per_digit"]["loss"]["count"][d])};
    for (const auto& s : spaces) {
      const auto& p = ls[s]["per_digit"]["loss"];
      line.push_back(pm(p["mean"][d], p["sem"][d], "{:.4g}"));
    }
    for (const auto& s : spaces) {
      if (!ls[s]["per_digit"].contains("delta_pct")) continue;
      const auto& p = ls[s]["per_digit"]["delta_pct"];
      line.push_back(pm(p["mean"][d], p["sem"][d], "{:.4g}"));
    }
    row(join(line));
  }
}

void print_success(const Json& a, const std::vector<std::string>& spaces) {
  const auto& c = a["classifier"];
  heading("Classifier (section 3.4)");
  header({"Quantity", "Value"});
  row(join({"checkpoint", c["path"].get<std::string>()}));
  row(join({"test accuracy (binarized test images)", num(c["test_accuracy"], "{:.4f}") +
                                                         " on " + num(c["test_images"]) +
                                                         " images"}));
  const auto& acc = c["accuracy_on_run_images"];
  row(join({"accuracy on the run's images", right_out_of(acc["right"], acc["total"])}));

  heading("Success rate: decoded image (binarized at 0.5) classified as the original");
  header({"Latent space", "vs the classifier on the original (the thesis)", "vs the true label"});
  for (const auto& s : spaces) {
    const auto& r = a["success_rate"][s];
    row(join({s,
              right_out_of(r["vs_original_prediction"]["right"], r["vs_original_prediction"]["total"]),
              right_out_of(r["vs_label"]["right"], r["vs_label"]["total"])}));
  }

  heading("Success rate per digit (vs the classifier on the original, %)");
  std::vector<std::string> cols{"Digit", "images"};
  for (const auto& s : spaces) cols.push_back(s);
  header(cols);
  for (int d = 0; d < 10; ++d) {
    std::vector<std::string> line{
        std::to_string(d), num(a["success_rate"][spaces.front()]["per_digit"]["total"][d])};
    for (const auto& s : spaces) {
      const auto& v = a["success_rate"][s]["per_digit"]["rate_vs_original"][d];
      line.push_back(v.is_null() ? "-" : fmt::format("{:.2f}", 100.0 * v.get<double>()));
    }
    row(join(line));
  }

  for (const auto& s : spaces) {
    heading(fmt::format("{}: confusion, classifier on the original (rows) vs on D({}) (columns)",
                        s, s));
    std::vector<std::string> head{"orig \\ decoded"};
    for (int d = 0; d < 10; ++d) head.push_back(std::to_string(d));
    header(head);
    const auto& m = a["success_rate"][s]["confusion"];
    for (size_t i = 0; i < m.size(); ++i) {
      std::vector<std::string> line{std::to_string(i)};
      for (const auto& v : m[i]) line.push_back(num(v));
      row(join(line));
    }
  }
}

void print_normality(const Json& a, const std::vector<std::string>& spaces) {
  heading("Normality tests (section 3.5): radius r = ||y|| and the points themselves");
  header({"Latent space", "KS D (radius)", "KS p (scipy kstest)", "Lilliefors p",
          "Shapiro-Wilk W (flattened)", "SW p", "Mardia skewness p", "Mardia kurtosis p",
          "Henze-Zirkler", "HZ p"});
  auto get = [](const Json& t, const char* key) {
    return t.contains("error") ? std::string("n/a") : num(t[key], "{:.4g}");
  };
  for (const auto& s : spaces) {
    const auto& t = a["normality"][s];
    std::string lf = get(t["radius_lilliefors"], "pvalue");
    if (!t["radius_lilliefors"].contains("error") &&
        !t["radius_lilliefors"]["pvalue_in_valid_range"].get<bool>())
      lf = "> 0.1";
    std::string swp = get(t["shapiro_wilk"], "pvalue");
    if (!t["shapiro_wilk"].contains("error") &&
        t["shapiro_wilk"]["pvalue_may_be_inaccurate"].get<bool>())
      swp += " (N > 5000)";
    const auto& m = t["mardia"];
    row(join({s, get(t["radius_ks"], "statistic"), get(t["radius_ks"], "pvalue"), lf,
              get(t["shapiro_wilk"], "statistic"), swp,
              m.contains("error") ? "n/a" : get(m["skewness"], "pvalue"),
              m.contains("error") ? "n/a" : get(m["kurtosis"], "pvalue"),
              get(t["henze_zirkler"], "statistic"), get(t["henze_zirkler"], "pvalue")}));
  }
}

void print_bonus(const Json& a, const std::vector<std::string>& spaces) {
  if (a["bonus"].is_null()) return;
  const auto& b = a["bonus"];
  heading(fmt::format("Bonus models (section 3.6): learn {} from MT (MB) or from the image (MA)",
                      b["source_method"].get<std::string>()));
  header({"Model", "architecture", "epochs", "batch", "final train MSE", "final validation MSE",
          "seconds"});
  for (const char* m : {"MB", "MA"}) {
    if (!b.contains(m)) continue;
    const auto& arch = b[m]["architecture"];
    row(join({m,
              fmt::format("{}-{}x{}-{}", arch["input"].get<int64_t>(), arch["depth"].get<int64_t>(),
                          arch["width"].get<int64_t>(), arch["output"].get<int64_t>()),
              num(b[m]["train"]["epochs"]), num(b[m]["train"]["batch_size"]),
              num(b[m]["final_train_mse"], "{:.4g}"), num(b[m]["final_validation_mse"], "{:.4g}"),
              num(b[m]["seconds"], "{:.1f}")}));
  }
  const auto& h = b["held_out"];
  heading(fmt::format("Held-out images {}:{} (not used to train MB, MA)",
                      h["rows"][0].get<int64_t>(), h["rows"][1].get<int64_t>()));
  header({"Latent space", "mean loss", "share of images better than MT", "beats MT",
          "success vs original"});
  const int64_t held = h["images"];
  for (const auto& s : spaces) {
    row(join({s, pm(h["mean_loss"][s]["mean"], h["mean_loss"][s]["sem"]),
              s == "MT" ? "-" : fmt::format("{:.2f}%", 100 * h["share_better_than_MT"][s].get<double>()),
              s == "MT" ? "-" : num(h["beats_MT"][s]),
              right_out_of(h["success_vs_original"][s], held)}));
  }
}

void print_vectors(const Json& a, const std::vector<std::string>& spaces) {
  heading("Vector analysis (section 3.6.3): v = X - MT, u = mean(MT) - MT");
  header({"Latent space X", "u.v > 0", "mean u.v", "mean cosine", "mean |v|", "data"});
  for (const auto& s : spaces) {
    if (!a["vector_analysis"].contains(s)) continue;
    const auto& v = a["vector_analysis"][s];
    row(join({s, share_of(v["positive"], v["images"]), num(v["mean_dot"], "{:.4g}"),
              num(v["mean_cosine"], "{:.4f}"), num(v["mean_norm_v"], "{:.4g}"),
              v["file"].get<std::string>()}));
  }
}

}  // namespace

void print_analysis(const nlohmann::json& a) {
  const auto spaces = space_names(a);
  print_statistics(a, spaces);
  print_success(a, spaces);
  print_normality(a, spaces);
  print_bonus(a, spaces);
  print_vectors(a, spaces);
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace preimage::analysis
