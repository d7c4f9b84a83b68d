#pragma once
// The VAE's own measure of a run (`preimage likelihood`, and a section of `analyze`): per image,
// in nats, the exact log p(x) (quadrature over the latent plane, L <= 3), the ELBO of the
// encoder's posterior and of the best Gaussian posterior for that image (hence the amortization
// and approximation gaps), and the log joint log p(x | y) + log p(y) at each latent space's point
// (MT, each method's solution, MB/MA) and at the MAP point; for L > 3, importance-weighted
// bounds instead (likelihood/importance.h). On the run's images ("train") and on
// test images of the same source ("test"). Arrays in RUN/likelihood/, figures in JSON (schema:
// docs/ANALYSIS.md, "likelihood").
#include <string>

#include <nlohmann/json.hpp>

#include "cluster/farm.h"
#include "likelihood/gaussian_posterior.h"
#include "likelihood/quadrature.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

struct LikelihoodConfig {
  likelihood::QuadratureSettings quadrature;      // the grid of the latent box
  likelihood::OptimalPosteriorSettings posterior{60, 0.05, 5, 256};  // the best Gaussians
  int64_t elbo_nodes = 10;       // Gauss-Hermite nodes per axis of the reported ELBOs
  int64_t gap_images = 200;      // first images of each set whose best Gaussian is found
  std::string test_images = "auto";  // range of the test split ("none": the run's only; "auto":
                                     // 1000:1000+min(N, 1000) for a run of N images);
                                     // training keeps the best epoch on test 0:1000
  bool map = true;               // the MAP point (Gauss-Newton from the grid's best point)
  int64_t iwae_samples = 1000;   // L > 3: samples of the importance-weighted bound (up to 10^5)
  uint64_t seed = 0;             // of the bound's samples
  int64_t batch = 1000;          // images per decoder batch
  // Images scored together, each chunk with a single-threaded BLAS, the chunks on the BLAS's
  // threads or an MPI job's ranks: the same bytes wherever they run. 0: the whole set at once
  // with every BLAS thread (in one process) or split evenly over the ranks (MPI).
  int64_t chunk = 0;
  void check() const;            // UserError on values out of range
  nlohmann::json to_json() const;
};

// The section for `run`: `spaces` names the latent spaces of the run's images to score (each
// read from RUN/latents/<name>.npy; empty: MT, the methods, MB and MA where present). Writes the
// per-image arrays under RUN/likelihood/ (staged with the caller's step). For L > 3 the exact
// figures give way to the importance-weighted bound (IWAE, `iwae_samples`) from the encoder's
// posterior, and the gaps and the MAP point are left out. Throws UserError when the images are
// not binary.
nlohmann::json likelihood_section(const run::RunFolder& run, const LikelihoodConfig& config,
                                  std::vector<std::string> spaces = {});

// A worker rank's side of a set's chunks under MPI (cluster_jobs.h): the arrays of each chunk.
cluster::ChunkSolver open_likelihood_job(const nlohmann::json& job);

// Removes the records of scored chunks (RUN/partial/likelihood_<set>/), once the step that
// scored them has committed its files: until then a killed command resumes from them.
void remove_likelihood_records(const run::RunFolder& run);

// `preimage likelihood RUN`: the section written to RUN/likelihood.json (with its arrays, in
// one commit) and printed.
nlohmann::json likelihood_run(run::RunFolder& run, const LikelihoodConfig& config);

}  // namespace preimage::pipeline
