#pragma once
// One training step of the thesis's VAE, shared by the training loop (train_vae) and `preimage
// bench`, so that the benchmark times what training runs.
#include <vector>

#include <torch/torch.h>

#include "model/vae.h"
#include "train/adam.h"

namespace preimage::train {

// One Adam step on the batch `x` (B, H*W): one latent sample per image from LibTorch's default
// generator, the batch's mean negative ELBO (elbo.h), its gradient, then `adam`'s update of
// every parameter. Returns that loss, as computed before the update. `adam` must hold the VAE's
// parameters (vae->parameters(), any order).
//
// The same numbers bit for bit as train_step_reference, in another order: each layer's
// parameters are updated during the backward pass, as soon as their gradient is known
// (KerasAdam::update), from a buffer that stays in the cache; no gradient is kept in .grad().
double train_step(model::Vae& vae, KerasAdam& adam, const torch::Tensor& x);

// The plain sequence train_step stands for (LibTorch's autograd for the whole model, gradients
// in .grad(), then KerasAdam::step): for tests and benchmarks.
double train_step_reference(model::Vae& vae, KerasAdam& adam, const torch::Tensor& x);

// The gradients train_step's backward pass computes for the batch `x` (one sample drawn), left
// in .grad() and returned in the order encoder (weight, bias per layer), then decoder: for tests.
std::vector<torch::Tensor> stack_gradients(model::Vae& vae, const torch::Tensor& x);

}  // namespace preimage::train
