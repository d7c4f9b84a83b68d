#pragma once
// The state of an unfinished VAE training, written atomically after every epoch so that a killed
// training continues after its last finished epoch and ends with the same bytes as one that was
// never interrupted (llm.c's checkpoints: weights, optimizer moments, step, RNG state).
//
// File format (one file, no LibTorch archive: every byte is checked by this code before use):
//   line 1  "preimage-train-state 1"
//   line 2  a JSON header: {"made_for", "epochs", "schedule", "stopped", "held_out", "adam_step",
//           "tensors": [{"name", "dtype", "shape", "offset", "bytes"}], "payload_sha256"}
//   then    the payload: the tensors' bytes (native byte order), in the header's order.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "train/vae_trainer.h"

namespace preimage::train {

struct TrainState {
  nlohmann::json made_for;                 // the settings and data it was made for
  std::vector<EpochLog> logs;              // the epochs done, 1..n
  nlohmann::json schedule;                 // PlateauSchedule::to_json() after epoch n
  bool stopped = false;                    // early stopping decided after epoch n
  std::string held_out;                    // HeldOut::name of the figures in `logs` ("": none)
  std::vector<torch::Tensor> parameters;   // the model's parameters after epoch n, in order
  std::vector<torch::Tensor> best;         // the best epoch's parameters (empty: none kept)
  std::vector<torch::Tensor> adam_m;       // Adam's first moments, one per parameter
  std::vector<torch::Tensor> adam_v;       // Adam's second moments
  int64_t adam_step = 0;                   // Adam's step count t
  torch::Tensor generator;                 // (S) uint8: LibTorch's default CPU generator's state
};

// Writes `state` to `path` atomically (util::write_file_atomic); the tensors are copied to
// contiguous CPU memory first.
void save_train_state(const TrainState& state, const std::filesystem::path& path);

// The state in `path`. Throws UserError naming the file when it is not a whole training state
// of this format (missing, truncated, a byte changed: its SHA-256 no longer matches).
TrainState read_train_state(const std::filesystem::path& path);

// The state in `path` if there is one and it was made for `made_for`; otherwise nullopt, with a
// warning naming the file when one is there but unreadable (corrupt) or made for other settings.
std::optional<TrainState> find_train_state(const std::filesystem::path& path,
                                           const nlohmann::json& made_for);

}  // namespace preimage::train
