#pragma once
// Step 2 of the thesis: encode the images; the encoder means form the latent space MT.
#include <string>

#include <nlohmann/json.hpp>

#include "cluster/farm.h"
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
// Under MPI (cluster/world.h) the batches are shared by the ranks; rank 0 alone writes, the
// same bytes as one process with the same --batch-size.
void encode_images(run::RunFolder& run, const EncodeStep& step);

// The encoder means of `images` (N, P): (N, L) on the CPU, `batch` images at a time, each batch
// with a single-threaded BLAS, on this process's BLAS threads or, on rank 0 of an MPI job, on
// every rank (which open `source`, the files of `model`).
torch::Tensor encode_shared(const decoders::GenerativeModel& model,
                            const decoders::ModelSource& source, const torch::Tensor& images,
                            int64_t batch);

// A worker rank's side of encode_shared (cluster_jobs.h).
cluster::ChunkSolver open_encode_job(const nlohmann::json& job);

}  // namespace preimage::pipeline
