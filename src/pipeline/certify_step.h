#pragma once
// `preimage certify RUN --method M` (and `invert --certify`): a proof per image that the method's
// solution is the global optimum over the latent box, or how far from it it may be
// (certify/branch_and_bound.h). The box is certified in parts (ranges of its first level's cells,
// each for every image: no cell is bounded twice), solved by as many workers as the BLAS has
// threads, each part with a single-threaded BLAS (under MPI, by the ranks); each finished part is
// recorded under partial/certify_<M>/, so a killed command resumes with the same result. Written with the run's step commit:
//   losses/<M>_lower_bound.npy     (N) float64 no point of the box has a lower loss
//   losses/<M>_optimum.npy         (N) float64 the lowest loss known (the method's, or better)
//   losses/<M>_optimum_latents.npy (N, L) float64 where
//   losses/<M>_gap.npy             (N) float64 (optimum - lower_bound) / max(|optimum|, 1)
//   losses/<M>_certified.npy       (N) bool    gap <= the tolerance
//   losses/<M>_improved.npy        (N) bool    the search found a point below the method's
//   losses/<M>_at_edge.npy         (N) bool    the optimum is on the box's border (within 1%)
//   losses/<M>_cells.npy           (N) int64   (image, cell) bounds evaluated
//   losses/<M>_certificate.json    the settings and the summary below
#include <string>

#include <nlohmann/json.hpp>

#include "certify/branch_and_bound.h"
#include "cluster/farm.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

struct CertifyConfig {
  certify::CertifyOptions options;
  // Parts of the box certified apart (ranges of its first level's cells, each for every image,
  // by one worker; a killed command resumes from the last whole part). 0: automatic,
  // kPartsPerWorker per worker (the ranks under MPI), so the split, and so the bytes, follow the
  // machine: give it to fix them.
  int64_t parts = 0;
  static constexpr int64_t kPartsPerWorker = 8;
  // The automatic parts of `first_cells` cells for `workers`: many per worker, so that the farm
  // evens out the parts' unequal work (the images' optima crowd the box's centre).
  static int64_t automatic_parts(int64_t first_cells, int64_t workers);
  void check() const;    // UserError on values out of range
  nlohmann::json to_json() const;
};

// Certifies `method`'s solutions in `run` (its loss and prior weight), writes the files above in
// one commit, returns the summary: share certified, gap quantiles, cells per image, seconds, and
// the images whose certified optimum is below the method's loss by more than 0.1%.
nlohmann::json certify_run(run::RunFolder& run, const std::string& method,
                           const CertifyConfig& config);

// Under MPI (cluster_jobs.h) the parts are shared by the ranks: a worker rank's side, the
// certificate of each part rank 0 sends, for its job `job`.
cluster::ChunkSolver open_certificate_job(const nlohmann::json& job);

// Whether `run` holds a certificate of `method`, and its summary.
bool has_certificate(const run::RunFolder& run, const std::string& method);
nlohmann::json read_certificate(const run::RunFolder& run, const std::string& method);

// The summary printed by the command.
void print_certificate(const nlohmann::json& summary);

// The certificates `run` holds, by method: share certified, gap quantiles, cells per image, the
// images below the method's loss (for analysis.json and the report); an empty object if none.
nlohmann::json certificates_section(const run::RunFolder& run);
// Printed by `preimage analyze`.
void print_certificates_section(const nlohmann::json& section);

// The lowest loss proven or found for the run's images [begin, end) by its certificates of the
// squared error without prior (the solver benchmark's loss): (n) float64, +inf where none, and
// whether that image's optimum is certified; `from` names the certificates used. Empty
// (undefined tensors) when the run holds none.
struct CertifiedReference {
  torch::Tensor optimum, certified;
  std::vector<std::string> from;
};
CertifiedReference certified_reference(const run::RunFolder& run, int64_t begin, int64_t end);

}  // namespace preimage::pipeline
