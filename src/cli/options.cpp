#include "cli/options.h"

#include <cstdio>

#include "solvers/loss.h"
#include "solvers/solver.h"

namespace preimage::cli {

void add_data_options(CLI::App& cmd, data::DataSpec& spec) {
  cmd.add_option("--data", spec.source,
                 "Images: mnist, fashion-mnist, or the path of an IDX or .npy images file")
      ->capture_default_str();
  cmd.add_option("--split", spec.split, "Split of a named data set")
      ->check(CLI::IsMember({"train", "test"}))
      ->capture_default_str();
  cmd.add_option("--labels", spec.labels_path, "Labels file (IDX or .npy) for a custom --data");
  cmd.add_option("--data-dir", spec.data_dir,
                 "Folder holding mnist/ and fashion-mnist/ (default: the one scripts/setup.sh fills)");
}

void add_vae_options(CLI::App& cmd, model::VaeConfig& vae) {
  cmd.add_option("--latent-dim", vae.latent_dim, "Latent dimension L")->capture_default_str();
  cmd.add_option("--hidden-width", vae.hidden_width, "Units of every hidden Dense layer")
      ->capture_default_str();
  cmd.add_option("--encoder-depth", vae.encoder_depth, "Hidden layers of the encoder")
      ->capture_default_str();
  cmd.add_option("--decoder-depth", vae.decoder_depth, "Hidden layers of the decoder")
      ->capture_default_str();
}

void add_train_options(CLI::App& cmd, train::TrainConfig& train, std::string& preset) {
  cmd.add_option("--preset", preset,
                 "fast: batch 128, Adam 5e-4, 20 epochs (default); thesis: batch 32, Adam 1e-4, "
                 "10 epochs (the TensorFlow CVAE tutorial)")
      ->check(CLI::IsMember({"fast", "thesis"}))
      ->capture_default_str();
  cmd.add_option("--epochs", train.epochs, "Passes over the training images (overrides the preset)");
  cmd.add_option("--batch-size", train.batch_size, "Images per Adam step (overrides the preset)");
  cmd.add_option("--lr", train.learning_rate, "Adam learning rate (overrides the preset)");
}

void add_chunk_option(CLI::App& cmd, int64_t& chunk_size) {
  cmd.add_option("--chunk", chunk_size,
                 "Images solved together (bounds memory; 0: automatic, at most 2000, spread "
                 "evenly over the workers; give it for results that do not depend on the workers)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void add_workers_option(CLI::App& cmd, int64_t& workers) {
  cmd.add_option("--workers", workers,
                 "Chunks solved at once, each on one core (0: as many as the BLAS has threads)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void add_invert_options(CLI::App& cmd, pipeline::InvertStep& step, std::string& loss_name) {
  auto& r = step.request;
  cmd.add_option("--method", r.method, "Inversion method")
      ->check(CLI::IsMember(solvers::solver_names()))
      ->capture_default_str();
  cmd.add_option("--steps", r.settings.max_iterations,
                 "Iterations at most (default: the method's; adafactor: the thesis's 150)");
  cmd.add_option("--learning-rate", r.settings.learning_rate,
                 "Step size of first-order methods (default: the method's; adafactor: 1e-3)");
  cmd.add_option("--grad-tol", r.settings.gradient_tolerance,
                 "Stop an image when its gradient norm is below this (0: never; default: the "
                 "method's, 0 for adafactor)");
  cmd.add_option("--rel-tol", r.settings.relative_tolerance,
                 "Stop an image when its relative loss change is below this (0: never; default: "
                 "the method's, 0 for adafactor)");
  cmd.add_option("--step-tol", r.settings.step_tolerance,
                 "fixed-point: stop an image when |u_{k+1} - u_k| is below this")
      ->capture_default_str();
  cmd.add_option("--box", r.settings.box_radius,
                 "Latent box half-width: an iterate beyond it is flagged")
      ->capture_default_str();
  cmd.add_option("--loss", loss_name, "Objective")
      ->check(CLI::IsMember(solvers::loss_kind_names()))
      ->capture_default_str();
  cmd.add_option("--prior-weight", r.loss.prior_weight,
                 "lambda of a prior term lambda*|y|^2 (0: none)")
      ->capture_default_str();
  add_chunk_option(cmd, r.chunk_size);
  add_workers_option(cmd, r.workers);
  cmd.add_option("--start", step.start,
                 "Start point: encoder (MT), prior (the origin), grid (best grid point), or a "
                 "stored latent space")
      ->capture_default_str();
  cmd.add_option("--curves", step.curve_images,
                 "Positions (in the run) of images whose loss curves are recorded");
  cmd.add_option("--history", r.settings.history, "L-BFGS: curvature pairs kept per image")
      ->capture_default_str();
  cmd.add_option("--grid-points", r.settings.grid_points,
                 "grid: points per latent axis (0: automatic, 201 for L <= 2, 41 for L = 3)")
      ->capture_default_str();
  cmd.add_option("--grid-radius", r.settings.grid_radius,
                 "grid: half-width of the searched box [-r, r]^L")
      ->capture_default_str();
  cmd.add_option("--refine", r.settings.refine,
                 "grid: local method run from the best grid point; quadratic: only a quadratic "
                 "fitted to the grid scores (one decoder pass, the fastest); none: the grid point")
      ->check(CLI::IsMember({"gauss-newton", "lbfgs", "adam", "gd", "quadratic", "none"}))
      ->capture_default_str();
}

void finish_invert_options(CLI::App& cmd, pipeline::InvertStep& step,
                           const std::string& loss_name) {
  step.request.loss.kind = solvers::parse_loss_kind(loss_name);
  // The method's own defaults for every setting the user left alone.
  auto& s = step.request.settings;
  const auto d = solvers::SolverSettings::defaults_for(step.request.method);
  if (!cmd.count("--steps")) s.max_iterations = d.max_iterations;
  if (!cmd.count("--learning-rate")) s.learning_rate = d.learning_rate;
  if (!cmd.count("--grad-tol")) s.gradient_tolerance = d.gradient_tolerance;
  if (!cmd.count("--rel-tol")) s.relative_tolerance = d.relative_tolerance;
  s.keep_stale_jacobian = d.keep_stale_jacobian;  // no flag: the method's own choice
}


void print_config(const std::string& command, const nlohmann::json& config) {
  std::printf("| Parameter (%s) | Value |\n|---|---|\n", command.c_str());
  const auto flat = config.flatten();
  for (const auto& [key, value] : flat.items())
    std::printf("| %s | %s |\n", key.c_str() + 1, value.dump().c_str());
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace preimage::cli
