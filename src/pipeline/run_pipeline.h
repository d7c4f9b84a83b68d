#pragma once
// `preimage run`: the whole thesis pipeline in one call: train (or reuse) the VAE, encode,
// invert with one or several methods, summarize, analyze, report.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoders/model_source.h"
#include "pipeline/analyze_step.h"
#include "pipeline/invert_step.h"
#include "pipeline/train_step.h"

namespace preimage::pipeline {

struct RunJob {
  std::filesystem::path out = "runs/default";  // run folder
  std::string images = "5000";  // images to encode and invert (thesis: the first 5000)
  std::string model;            // an existing checkpoint to use instead of training
  // An imported model (--decoder, --weights) instead of training; its `device` is where the
  // steps run.
  decoders::ModelSource source;
  bool architecture_given = false;  // architecture flags given: checked against `model`
  bool retrain = false;         // train even if the run folder has a matching model
  TrainStep train;              // data, training and evaluation images, VAE, training settings
  InvertStep invert;            // the inversion's settings, shared by the methods
  std::vector<std::string> methods;  // inversion methods, in order (empty: invert.method)
  bool analyze = true;          // analysis.json at the end
  AnalyzeConfig analysis;       // its settings (classifier, bonus models, ...)
  bool report = true;           // figures and report.html at the end

  std::vector<std::string> method_list() const;
  nlohmann::json to_json() const;  // the resolved configuration, printed and recorded
};

// Checks every step's settings, the folder, the data and the tools, before any long work;
// throws UserError naming what is wrong.
void check_run_job(const RunJob& job);

// Runs the pipeline (check_run_job first); prints the configuration, the summary, the analysis's
// tables and where the report is.
void run_pipeline(const RunJob& job);

// A worker rank (rank > 0) of `mpirun ... preimage run`: rank 0 runs the pipeline and shares
// each inversion's chunks with the ranks (invert_step.h); this rank solves them.
void serve_run(const RunJob& job);

}  // namespace preimage::pipeline
