#pragma once
// Completion masks from files (`preimage complete --mask FILE`): which pixels of an image are
// known. A PNG (grey > 127 = known) or a .npy array (nonzero = known) of the images' size.
#include <filesystem>
#include <string>

#include <torch/torch.h>

namespace preimage::data {

// The mask in `path` as (height * width) float32 of 0 and 1. Throws UserError naming the file
// when it is missing, not a PNG or .npy, corrupt, or of another size (checked before a PNG's
// pixels are decoded).
torch::Tensor read_mask(const std::filesystem::path& path, int64_t height, int64_t width);
// A PNG from its bytes; `name` names it in errors.
torch::Tensor parse_image_mask(const std::string& bytes, const std::string& name, int64_t height,
                               int64_t width);

}  // namespace preimage::data
