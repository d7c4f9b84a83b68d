#include "cli/options.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "solvers/loss.h"
#include "solvers/registry.h"
#include "util/error.h"

namespace preimage::cli {
namespace {

// " (methods: a, b)": who reads a setting, from the registry.
std::string used_by(solvers::OptionGroup group) {
  return fmt::format(" ({})", fmt::join(solvers::methods_using(group), ", "));
}

// The registry's default of one setting for each method (that reads `group`, if given), e.g.
// "; default: adafactor 150, adam 1000, ...".
template <typename Get>
std::string defaults_of(Get get, std::optional<solvers::OptionGroup> group = std::nullopt) {
  std::vector<std::string> parts;
  for (const auto& row : solvers::method_registry())
    if (!group || std::find(row.options.begin(), row.options.end(), *group) != row.options.end())
      parts.push_back(fmt::format("{} {}", row.name, get(row.defaults)));
  return fmt::format("; default: {}", fmt::join(parts, ", "));
}

}  // namespace

void add_data_options(CLI::App& cmd, data::DataSpec& spec, DataFlags& flags) {
  cmd.add_option("--data", spec.source,
                 "Images: mnist, fashion-mnist, or the path of an IDX or .npy images file "
                 "((N, H, W), (N, C, H, W) or flat (N, P) with --image-shape)")
      ->capture_default_str();
  cmd.add_option("--binarize", flags.binarize,
                 "Pixels above this threshold become 1, the others 0 (the thesis: 0.5); none: "
                 "keep the grey levels")
      ->capture_default_str();
  cmd.add_option("--image-shape", flags.image_shape,
                 "H,W or C,H,W of flat images (a (N, P) .npy) and of a model's flat output "
                 "(default: square, one channel)");
  cmd.add_option("--split", spec.split, "Split of a named data set")
      ->check(CLI::IsMember({"train", "test"}))
      ->capture_default_str();
  cmd.add_option("--labels", spec.labels_path, "Labels file (IDX or .npy) for a custom --data");
  cmd.add_option("--data-dir", spec.data_dir,
                 "Folder holding mnist/ and fashion-mnist/ (default: the one scripts/setup.sh fills)");
}

void finish_data_options(data::DataSpec& spec, const DataFlags& flags) {
  spec.binarize = data::parse_binarize(flags.binarize);
  if (!flags.image_shape.empty()) spec.image_shape = data::parse_image_shape(flags.image_shape);
}

void add_model_options(CLI::App& cmd, decoders::ModelSource& source, ModelFlags& flags) {
  cmd.add_option("--decoder", source.decoder,
                 "Your own decoder: a TorchScript file (torch.jit.save) whose forward maps "
                 "latents (B, L) to (B, P) or (B, C, H, W)");
  cmd.add_option("--encoder", source.encoder,
                 "Its encoder (optional, TorchScript): images to the mean, (mean, logvar), or "
                 "(B, 2L)");
  cmd.add_option("--decoder-output", flags.output, "What --decoder returns")
      ->check(CLI::IsMember({"logits", "probabilities"}))
      ->capture_default_str();
  cmd.add_option("--weights", source.weights,
                 "Your own dense ReLU model by its matrices: .npz, a folder of .npy, or Keras's "
                 ".h5 / .weights.h5 (the thesis's CVAE)");
  cmd.add_option("--weights-layout", flags.layout,
                 "--weights' matrices: pytorch (out, in), keras (in, out), or auto (by shape)")
      ->check(CLI::IsMember({"auto", "pytorch", "keras"}))
      ->capture_default_str();
  add_device_option(cmd, source.device);
}

void add_device_option(CLI::App& cmd, std::string& device) {
  cmd.add_option("--device", device, "Where decoding and the solvers run: cpu, cuda, cuda:N")
      ->capture_default_str();
}

void finish_model_options(decoders::ModelSource& source, const ModelFlags& flags,
                          const DataFlags& data) {
  source.output = decoders::parse_decoder_output(flags.output);
  source.layout = decoders::parse_weights_layout(flags.layout);
  if (!data.image_shape.empty()) source.image_shape = data::parse_image_shape(data.image_shape);
  if (!source.encoder.empty())
    require(!source.decoder.empty(), "--encoder goes with --decoder (TorchScript)",
            "a --weights file holds its encoder's layers itself");
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

size_t architecture_flags_given(const CLI::App& cmd) {
  return cmd.count("--latent-dim") + cmd.count("--hidden-width") + cmd.count("--encoder-depth") +
         cmd.count("--decoder-depth");
}

void add_train_options(CLI::App& cmd, std::string& preset, train::TrainOverrides& given) {
  cmd.add_option("--preset", preset,
                 "fast: batch 128, Adam 5e-4, at most 20 epochs, the learning-rate schedule, "
                 "early stopping and the best epoch kept (default); converged: the same for at "
                 "most 200 epochs; thesis: batch 32, Adam 1e-4, 10 epochs, a fixed learning rate "
                 "and the last epoch kept (the TensorFlow CVAE tutorial)")
      ->check(CLI::IsMember({"fast", "converged", "thesis"}))
      ->capture_default_str();
  cmd.add_option("--epochs", given.epochs,
                 "Passes over the training images, at most (overrides the preset)");
  cmd.add_option("--batch-size", given.batch_size,
                 "Images per Adam step (overrides the preset)");
  cmd.add_option("--lr", given.learning_rate, "Adam's initial learning rate (overrides the preset)");
  cmd.add_option("--lr-patience", given.lr_patience,
                 "Epochs without a better held-out figure before the learning rate is halved "
                 "(0: a fixed learning rate; fast and converged: 2, thesis: 0)");
  cmd.add_option("--stop-patience", given.stop_patience,
                 "Epochs without a better held-out figure before training stops (0: every epoch "
                 "runs; fast and converged: 5, thesis: 0)");
}

void add_chunk_option(CLI::App& cmd, int64_t& chunk_size) {
  cmd.add_option("--chunk", chunk_size,
                 "Images solved together (bounds memory; 0: automatic, at most 2000, spread "
                 "evenly over the workers; give it for results that do not depend on the workers)")
      ->capture_default_str();
}

void add_workers_option(CLI::App& cmd, int64_t& workers) {
  cmd.add_option("--workers", workers,
                 "Chunks solved at once, each on one core (0: as many as the BLAS has threads)")
      ->capture_default_str();
}

void add_method_option(CLI::App& cmd, std::string& method) {
  std::string help = "Inversion method:";
  for (const auto& row : solvers::method_registry())
    help += fmt::format("\n  {}: {}", row.name, row.summary);
  cmd.add_option("--method", method, help)
      ->check(CLI::IsMember(solvers::method_names()))
      ->capture_default_str();
}

void add_method_settings(CLI::App& cmd, solvers::SettingsOverrides& given) {
  using solvers::OptionGroup;
  using solvers::SolverSettings;
  cmd.add_option("--steps", given.max_iterations,
                 "Iterations at most" + defaults_of([](const SolverSettings& s) {
                   return s.stop.max_iterations;
                 }));
  cmd.add_option("--grad-tol", given.gradient_tolerance,
                 "Stop an image when its gradient norm is below this (0: never)" +
                     defaults_of([](const SolverSettings& s) { return s.stop.gradient_tolerance; }));
  cmd.add_option("--rel-tol", given.relative_tolerance,
                 "Stop an image when its relative loss change is below this (0: never)" +
                     defaults_of([](const SolverSettings& s) { return s.stop.relative_tolerance; }));
  cmd.add_option("--box", given.box_radius,
                 fmt::format("Latent box half-width: an iterate beyond it is flagged (default {})",
                             SolverSettings{}.box_radius));
  cmd.add_option("--learning-rate", given.learning_rate,
                 "Step size" + defaults_of(
                                   [](const SolverSettings& s) {
                                     return s.options.step_size.learning_rate;
                                   },
                                   OptionGroup::kStepSize));
  cmd.add_option("--history", given.history,
                 fmt::format("Curvature pairs kept per image{}; default {}",
                             used_by(OptionGroup::kLbfgs), solvers::LbfgsOptions{}.history));
  cmd.add_option("--step-tol", given.step_tolerance,
                 fmt::format("Stop an image when |u_(k+1) - u_k| is below this{}; default {}",
                             used_by(OptionGroup::kFixedPoint),
                             solvers::FixedPointOptions{}.step_tolerance));
  cmd.add_option("--grid-points", given.grid_points,
                 "Points per latent axis" + used_by(OptionGroup::kGrid) +
                     "; default 0: automatic, 201 for L <= 2, 41 for L = 3");
  cmd.add_option("--grid-radius", given.grid_radius,
                 fmt::format("Half-width of the searched box [-r, r]^L{}; default {}",
                             used_by(OptionGroup::kGrid), solvers::GridOptions{}.radius));
  cmd.add_option("--refine", given.refine,
                 fmt::format("What the grid search does from its best point{}: a local method, "
                             "quadratic (a quadratic fitted to the grid's scores, one decoder "
                             "pass) or none; default {}",
                             used_by(OptionGroup::kGrid), solvers::GridOptions{}.refine.name()))
      ->check(CLI::IsMember(solvers::refinement_names()));
}

void add_loss_options(CLI::App& cmd, solvers::LossSpec& loss) {
  std::map<std::string, solvers::LossKind> kinds;
  for (const auto& name : solvers::loss_kind_names()) kinds[name] = solvers::parse_loss_kind(name);
  cmd.add_option("--loss", loss.kind,
                 "Objective: squared-error |z - sigmoid(D(y))|^2 (the thesis) or bernoulli (the "
                 "VAE's likelihood)")
      ->transform(CLI::CheckedTransformer(kinds))
      ->default_str("squared-error");
  cmd.add_option("--prior-weight", loss.prior_weight,
                 "lambda of a prior term lambda*|y|^2 (0: none)")
      ->capture_default_str();
}

void add_invert_options(CLI::App& cmd, pipeline::InvertStep& step, bool with_seed) {
  add_method_option(cmd, step.method);
  add_method_settings(cmd, step.settings);
  add_loss_options(cmd, step.loss);
  add_chunk_option(cmd, step.chunk_size);
  add_workers_option(cmd, step.workers);
  cmd.add_option("--start", step.start,
                 "Start point: encoder (MT), prior (the origin), grid (best grid point), "
                 "random:K (the best of K draws from the prior, per image), or a stored latent "
                 "space")
      ->capture_default_str();
  if (with_seed)
    cmd.add_option("--seed", step.seed, "Seed of random:K starts")->capture_default_str();
  cmd.add_option("--curves", step.curve_images,
                 "Positions (in the run) of images whose loss curves are recorded");
}

}  // namespace preimage::cli
