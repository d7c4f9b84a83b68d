#include "pipeline/report_analysis.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analysis/success_rate.h"
#include "util/atomic_file.h"

namespace preimage::pipeline {
namespace {

using nlohmann::json;

std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d != 0 && (std::abs(d) < 1e-3 || std::abs(d) >= 1e6)) return fmt::format("{:.4e}", d);
    return fmt::format("{:.4f}", d);
  }
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_null()) return "";
  if (v.is_array() && v.size() <= 4) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + cell(x);
    return "[" + s + "]";
  }
  return v.dump();
}

bool is_flat(const json& v) {
  if (!v.is_object()) return false;
  for (const auto& [k, x] : v.items())
    if (x.is_object() || (x.is_array() && x.size() > 4)) return false;
  return true;
}

// A number with 4 significant digits; "" for null or absent.
std::string num(const json* v, const char* spec = "{:.4g}") {
  if (v == nullptr || !v->is_number()) return "";
  return fmt::format(fmt::runtime(spec), v->get<double>());
}

// `j`[a][b]... or nullptr when any step is missing.
const json* at_path(const json& j, std::initializer_list<const char*> path) {
  const json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return nullptr;
    p = &(*p)[k];
  }
  return p;
}

std::string mean_sem(const json& j) {
  const json* m = at_path(j, {"mean"});
  const json* e = at_path(j, {"sem"});
  if (m == nullptr) return "";
  return e != nullptr && e->is_number() ? num(m) + " +- " + num(e, "{:.2g}") : num(m);
}

std::string vector_str(const json& v) {
  if (!v.is_array()) return "";
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + (x.is_array() ? vector_str(x) : num(&x));
  return "[" + s + "]";
}

// "right N out of M (P%)", the thesis's way of giving a success rate (as `analyze` prints it).
std::string right_out_of(const json* c) {
  if (c == nullptr || !c->contains("right") || !c->contains("total")) return "";
  return analysis::right_out_of((*c)["right"].get<int64_t>(), (*c)["total"].get<int64_t>());
}

// A test result "statistic (p = ...)", or why it is missing.
std::string test_cell(const json* t, const char* statistic = "statistic") {
  if (t == nullptr || t->is_null()) return "";
  if (t->contains("error")) return "n/a";
  const json* st = at_path(*t, {statistic});
  const json* p = at_path(*t, {"pvalue"});
  return fmt::format("{} (p = {})", num(st), num(p, "{:.3g}"));
}

// The spaces in the analysis's order (MT, the methods, MB, MA).
std::vector<std::string> space_names(const json& a, const char* section) {
  std::vector<std::string> names;
  if (a.contains("spaces") && a["spaces"].is_array())
    for (const auto& s : a["spaces"])
      if (s.is_string()) names.push_back(s);
  if (names.empty() && a.contains(section) && a[section].is_object())
    for (const auto& [k, v] : a[section].items()) names.push_back(k);
  std::vector<std::string> present;
  for (const auto& n : names)
    if (a.contains(section) && a[section].is_object() && a[section].contains(n))
      present.push_back(n);
  return present;
}

// Runs `render`; if the analysis's layout is not what it expects, shows the section generically
// rather than failing the whole report.
template <typename F>
void with_fallback(report::Document& doc, const json* section, const std::string& caption,
                   F&& render) {
  try {
    render();
  } catch (const json::exception& e) {
    spdlog::warn("analysis.json, {}: unexpected layout ({}); shown as raw tables", caption,
                 e.what());
    if (section != nullptr) render_json_tables(doc, *section, caption);
  }
}

}  // namespace

void render_json_tables(report::Document& doc, const json& value, const std::string& caption) {
  if (value.is_null()) return;
  if (is_flat(value)) {
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& [k, v] : value.items()) entries.emplace_back(k, cell(v));
    doc.settings(entries, caption);
    return;
  }
  // Rows of flat objects (an array, or an object keyed by row name): one column per key.
  std::vector<std::pair<std::string, const json*>> rows;
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) rows.emplace_back(std::to_string(i), &value[i]);
  } else if (value.is_object()) {
    for (const auto& [k, v] : value.items()) rows.emplace_back(k, &v);
  }
  bool all_flat = !rows.empty();
  for (const auto& [k, v] : rows) all_flat &= is_flat(*v);
  if (all_flat) {
    std::vector<std::string> header = {""};
    for (const auto& [k, v] : rows)
      for (const auto& [key, x] : v->items())
        if (std::find(header.begin(), header.end(), key) == header.end()) header.push_back(key);
    std::vector<std::vector<std::string>> cells;
    for (const auto& [k, v] : rows) {
      std::vector<std::string> row = {value.is_array() ? "" : k};
      for (size_t c = 1; c < header.size(); ++c)
        row.push_back(v->contains(header[c]) ? cell((*v)[header[c]]) : "");
      cells.push_back(row);
    }
    if (value.is_array()) header[0] = "#";
    doc.table(header, cells, caption);
    return;
  }
  // Deeper: one table per member, captioned by its path.
  if (value.is_object()) {
    std::vector<std::pair<std::string, std::string>> scalars;
    for (const auto& [k, v] : value.items()) {
      if (v.is_object() || (v.is_array() && v.size() > 4))
        render_json_tables(doc, v, caption.empty() ? k : caption + ": " + k);
      else
        scalars.emplace_back(k, cell(v));
    }
    if (!scalars.empty()) doc.settings(scalars, caption);
  }
}

ReportAnalysis ReportAnalysis::load(const std::filesystem::path& run_folder) {
  ReportAnalysis a;
  const auto path = run_folder / "analysis.json";
  if (!std::filesystem::exists(path)) return a;
  try {
    a.json_ = json::parse(util::read_file(path));
  } catch (const std::exception& e) {
    spdlog::warn("{} is unreadable ({}): reported as missing", path.string(), e.what());
    a.json_ = json();
  }
  return a;
}

bool ReportAnalysis::has_space_table() const {
  return at_path(json_, {"latent_statistics"}) != nullptr;
}

void ReportAnalysis::space_table(report::Document& doc) const {
  const json* stats = at_path(json_, {"latent_statistics"});
  with_fallback(doc, stats, "Annex E: latent-space statistics", [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& name : space_names(json_, "latent_statistics")) {
      const json& s = (*stats)[name];
      rows.push_back({name, vector_str(s.at("mean")), vector_str(s.at("covariance")),
                      s.contains("loss") ? mean_sem(s["loss"]) : ""});
    }
    doc.table({"latent space", "mean vector", "covariance matrix", "mean loss"}, rows,
              "Annex E: mean vectors, covariance matrices and mean loss of every latent space "
              "(analysis.json)");
    if (const json* pd = at_path(json_, {"paired_distances"}); pd && pd->is_array() && !pd->empty()) {
      std::vector<std::vector<std::string>> d;
      for (const auto& p : *pd)
        d.push_back({p.at("a").get<std::string>() + " - " + p.at("b").get<std::string>(),
                     mean_sem(p), num(at_path(p, {"variance"}))});
      doc.table({"pair", "mean distance", "variance"}, d,
                "Distances |a_i - b_i| between the paired points of two latent spaces");
    }
  });
}

void ReportAnalysis::delta_table(report::Document& doc) const {
  const json* stats = at_path(json_, {"latent_statistics"});
  if (stats == nullptr) return;
  with_fallback(doc, stats, "Annex F: delta statistics", [&] {
    std::vector<std::vector<std::string>> rows, lowest;
    std::string lowest_n;
    for (const auto& name : space_names(json_, "latent_statistics")) {
      const json& s = (*stats)[name];
      if (const json* d = at_path(s, {"delta_pct"})) {
        rows.push_back({name, mean_sem(*d), num(at_path(*d, {"variance"})),
                        num(at_path(*d, {"min"})), num(at_path(*d, {"max"})),
                        num(at_path(s, {"delta_loss_correlation", "pearson", "r"})),
                        num(at_path(s, {"delta_loss_correlation", "spearman", "rho"}))});
      }
      if (const json* l = at_path(s, {"lowest_loss_digits"})) {
        std::vector<std::string> row = {name};
        for (const auto& c : l->at("counts")) row.push_back(std::to_string(c.get<int64_t>()));
        lowest.push_back(row);
        lowest_n = std::to_string(l->at("n").get<int64_t>());
      }
    }
    if (!rows.empty())
      doc.table({"latent space", "mean delta %", "variance", "min", "max",
                 "Pearson r (delta, loss)", "Spearman rho"},
                rows, "Annex F: delta = (final - initial) / initial x 100, per latent space, "
                      "against the encoder's loss (analysis.json)");
    if (!lowest.empty()) {
      std::vector<std::string> header = {"latent space"};
      for (size_t c = 1; c < lowest.front().size(); ++c) header.push_back(std::to_string(c - 1));
      doc.table(header, lowest,
                "Digits of the " + lowest_n + " lowest final losses (the thesis: all 1s)");
    }
  });
}

void ReportAnalysis::success_tables(report::Document& doc) const {
  const json* success = at_path(json_, {"success_rate"});
  if (success == nullptr) {
    doc.paragraph("analysis.json holds no success rates.");
    return;
  }
  if (const json* acc = at_path(json_, {"classifier", "test_accuracy"}); acc && acc->is_number())
    doc.paragraph(fmt::format("The classifier (the thesis's CNN) classifies {:.2f}% of the MNIST "
                              "test images correctly.",
                              100 * acc->get<double>()));
  with_fallback(doc, success, "Success rates", [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& name : space_names(json_, "success_rate")) {
      const json& s = (*success)[name];
      rows.push_back({name, right_out_of(at_path(s, {"vs_original_prediction"})),
                      right_out_of(at_path(s, {"vs_label"}))});
    }
    doc.table({"latent space", "same class as the original image (the thesis's)",
               "same class as the true label"},
              rows, "Success rates: decode, binarize at 0.5, classify (analysis.json)");
  });
}

std::vector<report::BarSeries> ReportAnalysis::digit_success_series() const {
  std::vector<report::BarSeries> series;
  const json* success = at_path(json_, {"success_rate"});
  if (success == nullptr) return series;
  for (const auto& name : space_names(json_, "success_rate")) {
    const json* rates = at_path((*success)[name], {"per_digit", "rate_vs_original"});
    if (rates == nullptr || !rates->is_array() || rates->size() != 10) continue;
    report::BarSeries s{name, {}, {}};
    for (const auto& r : *rates) s.values.push_back(r.is_number() ? 100 * r.get<double>() : NAN);
    series.push_back(s);
  }
  return series;
}

void ReportAnalysis::normality_tables(report::Document& doc) const {
  const json* normality = at_path(json_, {"normality"});
  if (normality == nullptr) {
    doc.paragraph("analysis.json holds no normality tests.");
    return;
  }
  with_fallback(doc, normality, "Normality tests", [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& name : space_names(json_, "normality")) {
      const json& t = (*normality)[name];
      rows.push_back({name, test_cell(at_path(t, {"radius_ks"})),
                      test_cell(at_path(t, {"radius_lilliefors"})),
                      test_cell(at_path(t, {"shapiro_wilk"})),
                      test_cell(at_path(t, {"mardia", "skewness"})),
                      test_cell(at_path(t, {"mardia", "kurtosis"})),
                      test_cell(at_path(t, {"henze_zirkler"}))});
    }
    doc.table({"latent space", "KS on the radius", "Lilliefors on the radius",
               "Shapiro-Wilk (flattened)", "Mardia skewness", "Mardia kurtosis",
               "Henze-Zirkler"},
              rows,
              "Normality tests: statistic (p-value); small p-values reject normality "
              "(analysis.json)");
  });
}

void ReportAnalysis::bonus_tables(report::Document& doc) const {
  const json* bonus = at_path(json_, {"bonus"});
  if (bonus == nullptr || bonus->is_null()) {
    doc.paragraph("analysis.json holds no bonus model (too few images, or disabled).");
    return;
  }
  with_fallback(doc, bonus, "Bonus model", [&] {
    if (const json* held = at_path(*bonus, {"held_out"})) {
      std::vector<std::vector<std::string>> rows;
      const json* loss = at_path(*held, {"mean_loss"});
      if (loss != nullptr) {
        for (const auto& [name, v] : loss->items()) {
          const json* share = at_path(*held, {"share_better_than_MT", name.c_str()});
          const json* beats = at_path(*held, {"beats_MT", name.c_str()});
          rows.push_back({name, mean_sem(v),
                          right_out_of(at_path(*held, {"success_vs_original", name.c_str()})),
                          share && share->is_number()
                              ? fmt::format("{:.1f}%", 100 * share->get<double>())
                              : "",
                          beats && beats->is_boolean() ? (beats->get<bool>() ? "yes" : "no")
                                                       : ""});
        }
      }
      doc.table({"latent space", "mean loss", "success rate", "images better than MT",
                 "beats MT"},
                rows,
                fmt::format("On the {} held-out images (not used to fit MB or MA)",
                            held->value("images", int64_t{0})));
    }
    json rest = *bonus;
    rest.erase("held_out");
    render_json_tables(doc, rest, "Bonus models: training");
  });
}

void ReportAnalysis::vector_tables(report::Document& doc) const {
  const json* va = at_path(json_, {"vector_analysis"});
  if (va == nullptr) return;
  with_fallback(doc, va, "Vector analysis", [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& name : space_names(json_, "vector_analysis")) {
      const json& v = (*va)[name];
      const json* share = at_path(v, {"share_positive"});
      rows.push_back({name, num(at_path(v, {"images"}), "{:.0f}"),
                      share && share->is_number() ? fmt::format("{:.1f}%", 100 * share->get<double>()) : "",
                      num(at_path(v, {"mean_dot"})), num(at_path(v, {"mean_cosine"})),
                      num(at_path(v, {"mean_norm_v"}))});
    }
    doc.table({"v = space - MT", "images", "u.v > 0", "mean u.v", "mean cosine(u, v)",
               "mean |v|"},
              rows, "u_i = mean(MT) - MT_i, v_i = the space's point - MT_i (analysis.json)");
  });
}

std::optional<double> ReportAnalysis::seconds() const {
  const json* s = at_path(json_, {"seconds"});
  if (s != nullptr && s->is_number()) return s->get<double>();
  if (s != nullptr && s->is_object()) {
    const json* t = at_path(*s, {"total"});
    if (t != nullptr && t->is_number()) return t->get<double>();
  }
  return std::nullopt;
}

}  // namespace preimage::pipeline
