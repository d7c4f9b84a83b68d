#pragma once
// Synthetic binary images for training tests: noisy copies of a few random 8 x 8 prototypes, so
// that a tiny VAE has something to learn within a few epochs.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "data/dataset.h"
#include "model/vae.h"

namespace preimage::test_support {

inline data::Dataset synthetic_images(int64_t n, uint64_t seed, int64_t side = 8) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t pixels = side * side;
  auto prototypes = (torch::rand({4, pixels}, g) > 0.5).to(torch::kFloat32);      // (4, P)
  auto which = torch::randint(0, 4, {n}, g, torch::kInt64);                        // (N)
  auto flips = (torch::rand({n, pixels}, g) < 0.1).to(torch::kFloat32);            // (N, P)
  data::Dataset ds;
  ds.name = "synthetic";
  ds.images = (prototypes.index_select(0, which) - flips).abs();                   // (N, P) 0/1
  ds.labels = which;
  ds.indices = torch::arange(n, torch::kInt64);
  ds.height = ds.width = side;
  ds.source_size = n;
  return ds;
}

// A VAE for 8 x 8 images: 64-[1x16]-L / L-[1x16]-64.
inline model::VaeConfig tiny_vae_config(int64_t latent = 2) {
  model::VaeConfig c;
  c.image_height = c.image_width = 8;
  c.latent_dim = latent;
  c.hidden_width = 16;
  c.encoder_depth = 1;
  c.decoder_depth = 1;
  return c;
}

}  // namespace preimage::test_support
