#pragma once
// Flags shared by several subcommands, bound to the library's config structs. The methods'
// choices and the help of their settings come from the solver registry (solvers/registry.h).
#include <string>

#include <CLI/CLI.hpp>

#include "data/dataset.h"
#include "decoders/model_source.h"
#include "model/vae.h"
#include "pipeline/invert_step.h"
#include "train/vae_trainer.h"

namespace preimage::cli {

// --data, --split, --labels, --data-dir, --binarize, --image-shape. Call finish_data_options in
// the callback (it parses the last two).
struct DataFlags {
  std::string binarize = "0.5";
  std::string image_shape;
};
void add_data_options(CLI::App& cmd, data::DataSpec& spec, DataFlags& flags);
void finish_data_options(data::DataSpec& spec, const DataFlags& flags);
// An imported model and where it runs: --decoder, --encoder, --decoder-output, --weights,
// --weights-layout, --device (and --image-shape, set by the data options, for flat outputs).
struct ModelFlags {
  std::string output = "logits";
  std::string layout = "auto";
};
void add_model_options(CLI::App& cmd, decoders::ModelSource& source, ModelFlags& flags);
// --device alone, for the commands that only run a model.
void add_device_option(CLI::App& cmd, std::string& device);
void finish_model_options(decoders::ModelSource& source, const ModelFlags& flags,
                          const DataFlags& data);
// --latent-dim, --hidden-width, --encoder-depth, --decoder-depth.
void add_vae_options(CLI::App& cmd, model::VaeConfig& vae);
// The number of architecture flags given (they must then agree with a --model checkpoint).
size_t architecture_flags_given(const CLI::App& cmd);
// --preset and the flags that override it.
void add_train_options(CLI::App& cmd, std::string& preset, train::TrainOverrides& given);
// --chunk and --workers: how invert() splits and shares out the images (see InvertRequest).
void add_chunk_option(CLI::App& cmd, int64_t& chunk_size);
void add_workers_option(CLI::App& cmd, int64_t& workers);
// --method: one of the registry's methods.
void add_method_option(CLI::App& cmd, std::string& method);
// Every method's settings (--steps, --learning-rate, --history, --grid-points, ...): unset ones
// take the method's default. Each flag's help names the methods that read it.
void add_method_settings(CLI::App& cmd, solvers::SettingsOverrides& given);
// --loss and --prior-weight.
void add_loss_options(CLI::App& cmd, solvers::LossSpec& loss);
// Method, its settings, loss, chunk, workers, start, curves, and (`with_seed`) the seed of
// random starts.
void add_invert_options(CLI::App& cmd, pipeline::InvertStep& step, bool with_seed = true);

}  // namespace preimage::cli
