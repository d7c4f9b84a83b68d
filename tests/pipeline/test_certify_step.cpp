// The automatic split of a certificate's images into blocks: at most 1000 images a block, and as
// many blocks as a multiple of the workers, so that no worker waits through the last block.
#include <gtest/gtest.h>

#include "pipeline/certify_step.h"

namespace preimage::pipeline {
namespace {

TEST(CertifyBlocks, TheAutomaticBlocksKeepEveryWorkerBusy) {
  const auto blocks = [](int64_t images, int64_t workers) {
    const int64_t b = CertifyConfig::automatic_block(images, workers);
    return (images + b - 1) / b;
  };
  EXPECT_EQ(CertifyConfig::automatic_block(5000, 2), 834);  // 6 blocks, not 5 of 1000
  EXPECT_EQ(CertifyConfig::automatic_block(200, 2), 100);
  EXPECT_EQ(CertifyConfig::automatic_block(60000, 2), 1000);
  EXPECT_EQ(CertifyConfig::automatic_block(7, 2), 4);
  EXPECT_EQ(CertifyConfig::automatic_block(1, 4), 1);
  EXPECT_EQ(CertifyConfig::automatic_block(0, 2), 1);
  for (int64_t workers : {1, 2, 3, 4, 7, 16})
    for (int64_t images : {1, 2, 9, 999, 1000, 1001, 2500, 5000, 12345, 60000}) {
      const int64_t b = CertifyConfig::automatic_block(images, workers);
      EXPECT_GE(b, 1);
      EXPECT_LE(b, CertifyConfig::kDefaultBlock) << images << " images, " << workers;
      // Balanced: the workers' busiest share (rounds of blocks, each a block long) is at most
      // one image a round above an even split. Blocks of 1000 for 5000 images on 2 workers
      // would be 3 rounds of 1000 against an even 2500.
      const int64_t rounds = (blocks(images, workers) + workers - 1) / workers;
      EXPECT_LE(rounds * b, (images + workers - 1) / workers + rounds)
          << images << " images on " << workers << " workers: blocks of " << b;
    }
}

}  // namespace
}  // namespace preimage::pipeline
