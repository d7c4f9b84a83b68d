#pragma once
// Flags shared by several subcommands, bound to the library's config structs.
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "model/vae.h"
#include "pipeline/invert_step.h"
#include "train/vae_trainer.h"

namespace preimage::cli {

void add_data_options(CLI::App& cmd, data::DataSpec& spec);
void add_vae_options(CLI::App& cmd, model::VaeConfig& vae);
void add_train_options(CLI::App& cmd, train::TrainConfig& train, std::string& preset);
// --chunk and --workers: how invert() splits and shares out the images (see InvertRequest).
void add_chunk_option(CLI::App& cmd, int64_t& chunk_size);
void add_workers_option(CLI::App& cmd, int64_t& workers);
// Method, iterations, tolerances, loss, chunk, workers, start, curves.
void add_invert_options(CLI::App& cmd, pipeline::InvertStep& step, std::string& loss_name);
// Applies the method's defaults for settings the user left alone, and the loss name.
void finish_invert_options(CLI::App& cmd, pipeline::InvertStep& step, const std::string& loss_name);

// Prints the resolved configuration as a | Parameter | Value | table (llm.c style).
void print_config(const std::string& command, const nlohmann::json& config);

}  // namespace preimage::cli
