#pragma once
// The thesis's motivating use: complete an image of which a part is missing. The decoder is
// inverted on the known pixels only (a masked loss), and the completion keeps the known pixels
// and takes the missing ones from the decoding of the solution.
#include <filesystem>
#include <string>

#include "data/dataset.h"
#include "decoders/model_source.h"
#include "run/run_folder.h"
#include "solvers/invert.h"

namespace preimage::pipeline {

struct CompleteStep {
  decoders::ModelSource model;    // the model (its `device`: where the inversion runs)
  data::DataSpec data;            // images to complete
  std::string images = "8";       // their range: N (first N), A:B, all
  std::string rect;               // known pixels "R0:R1,C0:C1" (rows R0..R1-1, cols C0..C1-1)
  std::filesystem::path mask_file;  // or a mask image (PNG or .npy, H x W; nonzero = known)
  bool missing = false;           // the rectangle / mask marks the missing pixels instead
  std::string start = "encoder";  // encoder (of the masked image, missing pixels 0) or prior
  // Global by default: a mask leaves several basins plausible.
  std::string method = "grid";
  solvers::SettingsOverrides settings;  // what the user set; the rest is the method's default
  solvers::LossSpec loss;         // its mask is set from the rectangle or the mask file
  std::filesystem::path out;      // folder of completed.png, completed.npy, ...
};

// A completion of `run`'s images: its model (on `step.model.device`) and, unless `data_given`,
// its images (the first 8 of its range unless `images_given`), into RUN/completion unless
// `step.out` is set.
CompleteStep completion_of_run(const run::RunFolder& run, CompleteStep step, bool data_given,
                               bool images_given);

// (H * W) float mask, 1 = known pixel, from a rectangle "R0:R1,C0:C1"; throws UserError on a
// malformed, empty or out-of-image rectangle.
torch::Tensor rect_mask(const std::string& rect, int64_t height, int64_t width);
// (H * W) float mask from a PNG (grey > 127 = known) or .npy ((H, W) or (H*W), nonzero = known).
torch::Tensor read_mask(const std::filesystem::path& path, int64_t height, int64_t width);

struct Completion {
  torch::Tensor latents;    // (N, L)
  torch::Tensor completed;  // (N, P): known pixels kept, missing ones sigmoid(D(y))
  torch::Tensor final_loss; // (N) masked loss at the solution
  torch::Tensor mask;       // (P) 1 = known
};

// Inverts on the known pixels and writes OUT/completed.png (one row per image: original | masked
// | completed), completed.npy, decoded.npy, latents.npy, mask.npy, start_loss.npy and
// final_loss.npy (the masked loss at the start and at the solution, per image) and
// completion.json.
Completion complete_images(const CompleteStep& step);

}  // namespace preimage::pipeline
