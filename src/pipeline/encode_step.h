#pragma once
// Step 2 of the thesis: encode the images; the encoder means form the latent space MT.
#include <string>

#include "data/dataset.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

struct EncodeStep {
  data::DataSpec data;            // images to encode
  std::string images = "5000";    // range (the thesis: the first 5000 training images)
  std::string shard;              // "k/n": only the k-th of n parts of the range ("" = all)
  int64_t batch_size = 5000;      // images encoded together
};

// Loads the run's model, encodes the images, writes latents/MT.npy and records the images.
void encode_images(run::RunFolder& run, const EncodeStep& step);

}  // namespace preimage::pipeline
