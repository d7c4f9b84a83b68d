// CSV tables and atomic writes: no half-written file is ever left behind.
#include <filesystem>

#include <gtest/gtest.h>

#include "util/atomic_file.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/progress.h"

namespace fs = std::filesystem;
using namespace preimage;

namespace {
fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(Csv, RoundTripKeepsNumbersExact) {
  const auto path = temp_dir("csv") / "t.csv";
  util::CsvTable t{{"index", "loss"}, {{"0", util::csv_number(0.1)}, {"1", util::csv_number(1e-30)}}};
  util::write_csv(path, t);
  const auto back = util::read_csv(path);
  EXPECT_EQ(back.columns, t.columns);
  ASSERT_EQ(back.rows.size(), 2u);
  EXPECT_EQ(std::stod(back.rows[0][1]), 0.1);
  EXPECT_EQ(std::stod(back.rows[1][1]), 1e-30);
  EXPECT_EQ(back.column("loss"), 1u);
  EXPECT_THROW(back.column("nope"), UserError);
}

TEST(Csv, ShortRowIsAnError) {
  const auto path = temp_dir("csv_bad") / "t.csv";
  util::write_file_atomic(path, "a,b,c\n1,2,3\n4,5\n");
  EXPECT_THROW(util::read_csv(path), UserError);
}

TEST(AtomicFile, AbandonedWriteLeavesNothing) {
  const auto dir = temp_dir("atomic");
  {
    util::AtomicFile f(dir / "out.txt");
    f.stream() << "partial";
    // destroyed without commit(), as when an exception unwinds
  }
  EXPECT_FALSE(fs::exists(dir / "out.txt"));
  EXPECT_TRUE(fs::is_empty(dir)) << "the temporary file was not removed";
}

TEST(AtomicFile, CommitReplacesTheOldFile) {
  const auto dir = temp_dir("atomic2");
  util::write_file_atomic(dir / "x", "old");
  util::write_file_atomic(dir / "x", "new");
  EXPECT_EQ(util::read_file(dir / "x"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(AtomicFile, UnwritableFolderIsAUserError) {
  const auto dir = temp_dir("atomic3");
  util::write_file_atomic(dir / "a_file", "x");
  // A folder below a regular file cannot be created, even by root.
  EXPECT_THROW(util::ensure_writable_dir(dir / "a_file" / "sub"), UserError);
}

TEST(Progress, DurationsReadNaturally) {
  EXPECT_EQ(util::format_duration(1.25), "1.2 s");
  EXPECT_EQ(util::format_duration(125), "2 min 5 s");
  EXPECT_EQ(util::format_duration(7500), "2 h 5 min");
}
