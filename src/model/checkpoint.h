#pragma once
// Checkpoints: LibTorch serialization of a module's parameters plus a JSON record of its
// architecture (and of how it was made). Loading checks the architecture first and refuses a
// checkpoint of another shape with a message naming both.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/vae.h"

namespace preimage::model {

// Writes `module`'s parameters and `record` = {"architecture": ..., "meta": ...} atomically.
void save_checkpoint(torch::nn::Module& module, const nlohmann::json& architecture,
                     const nlohmann::json& meta, const std::filesystem::path& path);

// Reads only the JSON record of a checkpoint ({"architecture", "meta"}). Throws UserError naming
// the file when it is missing, not a checkpoint, or corrupt.
nlohmann::json read_checkpoint_record(const std::filesystem::path& path);

// Loads parameters into `module` after checking that the stored architecture equals
// `architecture`; throws UserError naming the file and both architectures otherwise.
void load_checkpoint(torch::nn::Module& module, const nlohmann::json& architecture,
                     const std::filesystem::path& path);

// A VAE with the architecture its checkpoint records. If `expected` is given (e.g. from
// --latent-dim), a different stored architecture is an error.
Vae load_vae(const std::filesystem::path& path, const VaeConfig* expected = nullptr);

// A tensor read from a mangled archive (a checkpoint, a TorchScript file) may reach past its
// storage: its shape, strides and offset are in the archive's pickle, its bytes in another
// member. Throws UserError naming the `role` ("checkpoint", "decoder"), `path` and the tensor
// unless every element lies inside.
void require_tensor_inside_storage(const torch::Tensor& t, const std::string& name,
                                   const std::filesystem::path& path, const std::string& role);

}  // namespace preimage::model
