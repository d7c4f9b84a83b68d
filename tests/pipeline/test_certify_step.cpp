// The automatic split of a certificate's box into parts: several per worker (the farm evens out
// their unequal work), never more than the first level's cells.
#include <gtest/gtest.h>

#include "pipeline/certify_step.h"

namespace preimage::pipeline {
namespace {

TEST(CertifyParts, TheAutomaticPartsAreSeveralPerWorker) {
  EXPECT_EQ(CertifyConfig::automatic_parts(4096, 2), 2 * CertifyConfig::kPartsPerWorker);
  EXPECT_EQ(CertifyConfig::automatic_parts(4096, 0), CertifyConfig::kPartsPerWorker);
  EXPECT_EQ(CertifyConfig::automatic_parts(4, 2), 4);  // a part is at least one cell
  EXPECT_EQ(CertifyConfig::automatic_parts(1, 16), 1);
  for (int64_t workers : {1, 2, 3, 7, 16})
    for (int64_t cells : {1, 8, 64, 4096}) {
      const int64_t p = CertifyConfig::automatic_parts(cells, workers);
      EXPECT_GE(p, std::min(cells, workers)) << cells << " cells, " << workers << " workers";
      EXPECT_LE(p, cells);
    }
}

}  // namespace
}  // namespace preimage::pipeline
