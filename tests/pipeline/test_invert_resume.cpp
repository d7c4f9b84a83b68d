// Resuming an inversion from its recorded chunks (solvers/invert.h, run/partial_inversion.h):
// the chunks solved before are not solved again, and the whole solution is the uninterrupted
// one's, to the bit, with the recorded split even when the automatic one would differ.
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "run/partial_inversion.h"
#include "solvers/invert.h"
#include "test_helpers.h"
#include "tiny_decoder.h"

namespace fs = std::filesystem;
using namespace preimage;

namespace {

// The same dtype, shape and bytes (torch::equal says false for NaN, and curves hold NaN past an
// image's last iteration).
bool same_bytes(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const auto ca = a.to(torch::kCPU).contiguous(), cb = b.to(torch::kCPU).contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()) == 0;
}

void expect_same(const solvers::Solution& a, const solvers::Solution& b) {
  EXPECT_TRUE(same_bytes(a.latents, b.latents));
  EXPECT_TRUE(same_bytes(a.initial_loss, b.initial_loss));
  EXPECT_TRUE(same_bytes(a.final_loss, b.final_loss));
  EXPECT_TRUE(same_bytes(a.iterations, b.iterations));
  EXPECT_TRUE(same_bytes(a.stop_reason, b.stop_reason));
  EXPECT_TRUE(same_bytes(a.left_box, b.left_box));
  ASSERT_TRUE(a.curves.defined());  // every test asks for curves
  EXPECT_TRUE(same_bytes(a.curves, b.curves));
  ASSERT_EQ(a.diagnostics.size(), b.diagnostics.size());
  for (const auto& [name, values] : a.diagnostics)
    EXPECT_TRUE(same_bytes(values, b.diagnostics.at(name))) << name;
}

struct Problem {
  decoders::DenseReluDecoder decoder = test_support::tiny_dense(2, 16, 5);
  torch::Tensor targets, start;
  Problem() {
    torch::manual_seed(11);
    targets = decoder.forward(torch::randn({50, 2})).detach().sigmoid();  // (50, 16)
    start = torch::zeros({50, 2});
  }
};

solvers::InvertRequest request_for(const std::string& method) {
  solvers::InvertRequest r;
  r.method = method;
  r.settings = solvers::settings_for(method);
  r.chunk_size = 10;
  r.workers = 2;
  r.show_progress = false;
  r.curve_images = {3, 27};
  return r;
}

}  // namespace

TEST(InvertResume, SolvedChunksAreNotSolvedAgainAndTheBytesAreTheSame) {
  const Problem p;
  for (const std::string method : {"adafactor", "lbfgs", "grid"}) {
    auto request = request_for(method);
    std::map<int64_t, solvers::Solution> recorded;
    request.on_chunk = [&](int64_t c, const solvers::Solution& s) { recorded[c] = s; };
    const auto whole = solvers::invert(p.decoder, p.targets, p.start, request);
    ASSERT_EQ(recorded.size(), 5u) << method;

    auto resumed = request_for(method);
    resumed.solved_chunks = {{0, recorded[0]}, {2, recorded[2]}, {3, recorded[3]}};
    std::vector<int64_t> solved_now;
    resumed.on_chunk = [&](int64_t c, const solvers::Solution&) { solved_now.push_back(c); };
    const auto again = solvers::invert(p.decoder, p.targets, p.start, resumed);
    std::sort(solved_now.begin(), solved_now.end());
    EXPECT_EQ(solved_now, (std::vector<int64_t>{1, 4})) << method;
    expect_same(whole, again);
  }
}

TEST(InvertResume, TheRecordedSplitIsKept) {
  const Problem p;
  auto request = request_for("adafactor");
  request.chunk_size = 0;  // automatic: depends on the workers
  request.bounds = {0, 7, 30, 50};
  const auto plan = solvers::plan_chunks(request, 50, torch::kCPU);
  EXPECT_EQ(plan.bounds, request.bounds);
  request.bounds = {0, 30, 20, 50};
  EXPECT_THROW(solvers::plan_chunks(request, 50, torch::kCPU), UserError);
}

TEST(PartialInversion, RecordsRoundTripExactlyAndAnotherIdentityStartsOver) {
  const Problem p;
  const auto run = test_support::fresh_dir("partial");
  auto request = request_for("grid");  // with diagnostics and curves
  const nlohmann::json identity = {{"method", "grid"}, {"targets", run::tensor_digest(p.targets)}};
  std::map<int64_t, solvers::Solution> recorded;
  {
    const run::PartialInversion partial(run, "grid", identity, {0, 10, 20, 30, 40, 50});
    request.on_chunk = [&](int64_t c, const solvers::Solution& s) {
      if (c % 2 == 0) partial.record(c, s);  // the odd ones "were not reached"
      recorded[c] = s;
    };
    solvers::invert(p.decoder, p.targets, p.start, request);
  }
  // A resume with another automatic split keeps the recorded one.
  const run::PartialInversion again(run, "grid", identity, {0, 25, 50});
  EXPECT_EQ(again.bounds(), (std::vector<int64_t>{0, 10, 20, 30, 40, 50}));
  const auto solved = again.solved(torch::kCPU);
  ASSERT_EQ(solved.size(), 3u);
  for (const auto& [c, s] : solved) {
    SCOPED_TRACE(c);
    expect_same(recorded.at(c), s);
  }
  const run::PartialInversion other(run, "grid", {{"method", "grid"}, {"targets", "other"}},
                                    {0, 25, 50});
  EXPECT_EQ(other.bounds(), (std::vector<int64_t>{0, 25, 50}));
  EXPECT_TRUE(other.solved(torch::kCPU).empty());
  other.remove();
  EXPECT_FALSE(fs::exists(run / "partial"));
}
