#pragma once
// Flags shared by several subcommands, bound to the library's config structs. The methods'
// choices and the help of their settings come from the solver registry (solvers/registry.h).
#include <string>

#include <CLI/CLI.hpp>

#include "data/dataset.h"
#include "model/vae.h"
#include "pipeline/invert_step.h"
#include "train/vae_trainer.h"

namespace preimage::cli {

void add_data_options(CLI::App& cmd, data::DataSpec& spec);
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
// Method, its settings, loss, chunk, workers, start, curves.
void add_invert_options(CLI::App& cmd, pipeline::InvertStep& step);

}  // namespace preimage::cli
