// The kill test: `preimage run` on a tiny data set killed (SIGKILL) at 20 moments drawn from a
// fixed seed and run again after each kill. After every kill the folder holds no half-written
// file and no mixed step (the manifest agrees with every array it records), and the last run
// ends with the bytes of an uninterrupted run (timings and paths aside). Training continues
// after its last finished epoch (RUN/train_state.bin); the inversion resumes from its chunks.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "child_process.h"
#include "data/tensor_io.h"
#include "folder_snapshot.h"
#include "model/checkpoint.h"
#include "run/thesis_format.h"
#include "test_helpers.h"
#include "train/train_state.h"
#include "util/atomic_file.h"
#include "util/csv.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::ChildProcess;
using nlohmann::json;

namespace {

constexpr int kKills = 20;
constexpr int kKillsPerChain = 4;  // then the chain is run to its end and checked
constexpr uint64_t kSeed = 15;  // of the kill moments (issue 15)

// Train, encode and invert (in 10 chunks) on a tiny data set; no analysis, no report.
std::string run_args(const fs::path& out) {
  return "run --out " + out.string() + " --data-dir " + PREIMAGE_DATA_DIR +
         " --train-images 1000 --eval-images 100 --images 100 --epochs 1 --hidden-width 32"
         " --batch-size 64 --chunk 10 --steps 300 --curves 0 --curves 42"
         " --no-analyze --no-report --quiet";
}

// The file minus what changes from run to run by design: timings and the folder's own path.
json without_timings(json j) {
  if (j.is_object()) {
    j.erase("seconds");
    j.erase("out");
    for (auto& [key, value] : j.items()) value = without_timings(value);
  } else if (j.is_array()) {
    for (auto& value : j) value = without_timings(value);
  }
  return j;
}

// Every file is whole: each parses as what its name says.
void expect_whole_files(const fs::path& run) {
  for (const auto& e : fs::recursive_directory_iterator(run)) {
    if (!e.is_regular_file()) continue;
    const auto rel = e.path().lexically_relative(run).string();
    if (test_support::is_temporary(rel) || rel == ".lock") continue;
    SCOPED_TRACE(rel);
    const auto ext = e.path().extension();
    try {
      if (ext == ".npy") data::read_npy_tensor(e.path());
      else if (ext == ".json") (void)json::parse(util::read_file(e.path()));
      else if (ext == ".csv") util::read_csv(e.path());
      else if (ext == ".pt") model::load_vae(e.path());
      else if (rel == "train_state.bin") train::read_train_state(e.path());
      else if (e.path().filename() == "solutions.txt") run::read_thesis_solutions(e.path());
      else if (ext == ".txt") run::read_thesis_values(e.path());
      else ADD_FAILURE() << "an unexpected file";
    } catch (const std::exception& error) {
      ADD_FAILURE() << "half-written: " << error.what();
    }
  }
}

int64_t rows(const fs::path& npy) { return data::read_npy_tensor(npy).size(0); }

// The manifest agrees with what it records: the images, MT, every method's arrays and its
// columns of results.csv (the same values), the model and its training.
void expect_consistent(const fs::path& run) {
  if (!fs::exists(run / "manifest.json")) return;  // killed before the first commit
  const auto m = json::parse(util::read_file(run / "manifest.json"));
  if (m.contains("model") && m["model"].value("path", "") == "model.pt") {
    ASSERT_TRUE(fs::exists(run / "model.pt"));
    const auto record = model::read_checkpoint_record(run / "model.pt");
    if (m["model"].contains("training"))
      EXPECT_EQ(record["meta"]["train"], m["model"]["training"]["settings"]);
  }
  if (!m.contains("images")) return;
  const int64_t n = m["images"]["count"];
  EXPECT_EQ(rows(run / "indices.npy"), n);
  EXPECT_EQ(rows(run / "labels.npy"), n);
  if (m.contains("encode")) EXPECT_EQ(rows(run / "latents" / "MT.npy"), n);
  const auto order = m.value("method_order", std::vector<std::string>{});
  if (order.empty()) return;
  const auto csv = util::read_csv(run / "results.csv");
  std::vector<std::string> columns = {"index", "label"};
  for (const auto& method : order)
    for (const char* c : {"initial_loss", "final_loss", "delta_pct", "iterations", "stop_reason"})
      columns.push_back(method + "_" + c);
  EXPECT_EQ(csv.columns, columns);
  ASSERT_EQ(static_cast<int64_t>(csv.rows.size()), n);
  for (const auto& method : order) {
    SCOPED_TRACE(method);
    ASSERT_TRUE(m["methods"].contains(method));
    EXPECT_EQ(m["methods"][method]["images"], n);
    EXPECT_EQ(rows(run / "latents" / (method + ".npy")), n);
    for (const char* what : {"initial", "final", "delta", "iterations", "stop_reason", "left_box"})
      EXPECT_EQ(rows(run / "losses" / (method + "_" + what + ".npy")), n) << what;
    // results.csv and the arrays come from the same step.
    const auto final_loss = data::read_npy_tensor(run / "losses" / (method + "_final.npy"));
    const size_t column = csv.column(method + "_final_loss");
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(static_cast<float>(std::stod(csv.rows[static_cast<size_t>(i)][column])),
                final_loss[i].item<float>())
          << "row " << i;
    const auto solutions = run::read_thesis_solutions(run / "thesis" / method / "solutions.txt");
    EXPECT_TRUE(torch::allclose(solutions.to(torch::kFloat32),
                                data::read_npy_tensor(run / "latents" / (method + ".npy")), 1e-5,
                                1e-6));
  }
}

// The files of an uninterrupted run that a killed and resumed one must equal, byte for byte
// (manifest.json and summary.json without timings, train_log.csv without seconds, model.pt's
// parameters: their records hold timings).
void expect_same_end(const fs::path& reference, const fs::path& run) {
  expect_whole_files(run);
  expect_consistent(run);
  auto kept = [](const std::string& p) { return p != ".lock"; };
  auto a = test_support::snapshot(reference, kept), b = test_support::snapshot(run, kept);
  for (const std::string f : {"manifest.json", "summary.json"}) {
    EXPECT_EQ(without_timings(json::parse(a[f])), without_timings(json::parse(b[f]))) << f;
    a.erase(f);
    b.erase(f);
  }
  const auto la = util::read_csv(reference / "train_log.csv");
  const auto lb = util::read_csv(run / "train_log.csv");
  ASSERT_EQ(la.rows.size(), lb.rows.size());
  for (size_t i = 0; i < la.rows.size(); ++i)
    for (const char* c : {"epoch", "train_elbo", "test_elbo"})
      EXPECT_EQ(la.rows[i][la.column(c)], lb.rows[i][lb.column(c)]) << c;
  const auto va = model::load_vae(reference / "model.pt"), vb = model::load_vae(run / "model.pt");
  const auto pa = va->named_parameters(), pb = vb->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  for (const std::string f : {"train_log.csv", "model.pt"}) {
    a.erase(f);
    b.erase(f);
  }
  ASSERT_TRUE(a.count("latents/adafactor.npy") && a.count("results.csv"));
  // No temporary, no partial record, no journal is left: they would be "only in the second".
  const auto diff = test_support::differences(a, b);
  EXPECT_TRUE(diff.empty()) << diff.size() << " files differ, the first: " << diff.front();
}

// The chunks of the inversion recorded in `run` (partial/adafactor/chunk_<k>.json).
int chunks_recorded(const fs::path& run) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run / "partial" / "adafactor", ec))
    if (e.path().extension() == ".json" && e.path().filename() != "record.json") ++n;
  return n;
}

}  // namespace

// A chain: `preimage run` started on the folder, killed at a random moment, started again, ...,
// killed 4 times, then run to its end: its folder must equal the uninterrupted run's, and the
// next chain starts from nothing, so that the kills land in every step (a chain's first run
// trains; its later ones reuse the model and resume the inversion). A run that ends before its
// kill (exit 0) closes its chain early the same way.
TEST(KillTest, TwentyKillsNeverLeaveAHalfFileOrAMixedFolderAndEndWithTheSameBytes) {
  const auto dir = test_support::fresh_dir("kill");
  const auto reference = dir / "reference", killed = dir / "killed", check = dir / "check";

  const auto t0 = std::chrono::steady_clock::now();
  ChildProcess whole(run_args(reference), dir / "reference.log");
  ASSERT_EQ(whole.wait(), 0) << util::read_file(whole.log());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Kill moments spread over an uninterrupted run's time (fixed seed: the same moments each
  // time; what they hit depends on the machine's speed).
  std::mt19937_64 rng(kSeed);
  std::uniform_real_distribution<double> moment(0.0, seconds);
  int finished = 0, journals = 0, temporaries = 0, chunks = 0, chains = 0, in_chain = 0;
  std::map<std::string, int> hit;  // the last step the folder had committed when the kill came
  auto close_chain = [&] {  // the folder must be the uninterrupted run's; the next starts anew
    expect_same_end(reference, killed);
    fs::remove_all(killed);
    ++chains;
    in_chain = 0;
  };
  for (int k = 0; k < kKills; ++k) {
    SCOPED_TRACE("kill " + std::to_string(k));
    ChildProcess again(run_args(killed), dir / "killed.log");
    std::this_thread::sleep_for(std::chrono::duration<double>(moment(rng)));
    const int status = again.kill();
    if (status == 0) {  // it ended before the kill
      ++finished;
      close_chain();
      continue;
    }
    ASSERT_EQ(status, 128 + SIGKILL) << util::read_file(again.log());
    ++in_chain;
    if (!fs::exists(killed)) {
      ++hit["nothing"];
    } else {
      if (fs::exists(killed / ".commit")) ++journals;
      for (const auto& e : fs::recursive_directory_iterator(killed))
        temporaries += test_support::is_temporary(e.path().string()) ? 1 : 0;
      chunks += chunks_recorded(killed);
      // The folder as the next command sees it once it has finished an interrupted commit
      // (under its lock): checked on a copy, so that the next command finishes it itself.
      fs::remove_all(check);
      fs::copy(killed, check, fs::copy_options::recursive);
      util::recover_commit(check / ".commit");
      expect_whole_files(check);
      expect_consistent(check);
      const auto m = fs::exists(check / "manifest.json")
                         ? json::parse(util::read_file(check / "manifest.json"))
                         : json::object();
      ++hit[m.contains("method_order") ? "inverted"
            : m.contains("encode")     ? "encoded"
            : m.contains("model")      ? "trained"
                                       : "nothing"];
    }
    if (in_chain == kKillsPerChain || k + 1 == kKills) {
      ChildProcess last(run_args(killed), dir / "last.log");
      ASSERT_EQ(last.wait(), 0) << util::read_file(last.log());
      close_chain();
    }
  }
  std::printf("[   KILL   ] %d kills over %.2f s runs in %d chains: %d after the run ended; at the "
              "other kills the folder had committed nothing %d, trained %d, encoded %d, inverted "
              "%d; commits left to a journal %d, temporaries left %d, inversion chunks recorded "
              "%d\n",
              kKills, seconds, chains, finished, hit["nothing"], hit["trained"], hit["encoded"],
              hit["inverted"], journals, temporaries, chunks);
}
