#pragma once
// Step 2 of the thesis: encode the images; the encoder means form the latent space MT.
#include <string>

#include "data/dataset.h"
#include "decoders/model_source.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

struct EncodeStep {
  data::DataSpec data;            // images to encode
  std::string images = "5000";    // range (the thesis: the first 5000 training images)
  std::string shard;              // "k/n": only the k-th of n parts of the range ("" = all)
  int64_t batch_size = 5000;      // images encoded together
  // A model given with the command (--decoder, --weights): recorded by a run without one; empty:
  // the run's.
  decoders::ModelSource model;
};

// Records the run's images (indices.npy, labels.npy) and, where the model has an encoder,
// writes their encoder means, latents/MT.npy. Without an encoder there is no MT: invert then
// starts from the prior, the grid or random draws (--start).
void encode_images(run::RunFolder& run, const EncodeStep& step);

}  // namespace preimage::pipeline
