#pragma once
// The function every solver minimises, image by image: f_b(y_b) = loss(D(y_b), z_b) + lambda |y_b|^2.
// Holds the targets (and mask) of a batch; `restrict_to` gives the same objective on a subset of
// the images, so solvers can work on the images still running only.
#include <memory>

#include <torch/torch.h>

#include "decoders/decoder.h"
#include "decoders/encoder.h"
#include "solvers/loss.h"

namespace preimage::solvers {

// Latents decoded with what differentiating there needs: a solver can decode trial points with
// one forward pass and differentiate only those it accepts.
struct DecodedPoints {
  torch::Tensor y;       // (B, L)
  torch::Tensor logits;  // (B, P)
  decoders::Trace trace;
  DecodedPoints select(const torch::Tensor& rows) const;  // the rows `rows` (int64) only
  // Row b from `a` where take_a[b], else from `b` (same batch size).
  static DecodedPoints where(const torch::Tensor& take_a, const DecodedPoints& a,
                             const DecodedPoints& b);
};

struct Evaluation {
  torch::Tensor value;  // (B)
  torch::Tensor grad;   // (B, L), if asked
  torch::Tensor gn;     // (B, L, L) Gauss-Newton matrix J^T W J (+ 2 lambda I), if asked
  torch::Tensor jacobian;  // (B, L, P) d logits / d y (Decoder::jacobian), with gn
};

class Objective {
 public:
  Objective(const decoders::Decoder& decoder, const LossSpec& loss, torch::Tensor targets);

  int64_t batch() const { return targets_.size(0); }
  int64_t latent_dim() const { return decoder_->latent_dim(); }
  const decoders::Decoder& decoder() const { return *decoder_; }
  const LossSpec& loss() const { return loss_; }
  const torch::Tensor& targets() const { return targets_; }

  torch::Tensor value(const torch::Tensor& y) const;  // (B)
  // The objective at `y` from logits (B, P) already decoded there (saves a decoder pass).
  torch::Tensor value_from_logits(const torch::Tensor& y, const torch::Tensor& logits) const;
  Evaluation evaluate(const torch::Tensor& y, bool need_grad, bool need_gauss_newton = false) const;

  // One forward pass keeping the trace; then the value, or the derivatives, at those points.
  // With the Gauss-Newton matrix the gradient comes from the Jacobian (no backward pass).
  DecodedPoints decode(const torch::Tensor& y) const;
  torch::Tensor value(const DecodedPoints& points) const;
  // `jacobian` (B, L, P), when given, is used instead of computing it: the decoder is piecewise
  // linear, so the Jacobian is the same wherever the ReLU activation pattern is the same.
  // `stale` (B) bool, when given, marks rows whose `jacobian` is that of a nearby point (a
  // solver's approximation): it still makes their Gauss-Newton matrix, but their gradient comes
  // from a backward pass (exact).
  Evaluation evaluate(const DecodedPoints& points, bool need_grad, bool need_gauss_newton = false,
                      const torch::Tensor& jacobian = {}, const torch::Tensor& stale = {}) const;

  // The model's encoder, for the methods that need one (fixed-point: the thesis's
  // h(u) = E(Z) - E(D(u)) + u); kept by restrict_to. Null: none.
  void set_encoder(std::shared_ptr<const decoders::Encoder> encoder) { encoder_ = std::move(encoder); }
  const decoders::Encoder* encoder() const { return encoder_.get(); }

  // The objective of the images `rows` (int64 indices) only.
  Objective restrict_to(const torch::Tensor& rows) const;

 private:
  // data_term (B) + lambda |y|^2.
  torch::Tensor with_prior(const torch::Tensor& data_term, const torch::Tensor& y) const;

  const decoders::Decoder* decoder_;
  LossSpec loss_;
  torch::Tensor targets_;  // (B, P)
  std::shared_ptr<const decoders::Encoder> encoder_;  // null unless set
};

}  // namespace preimage::solvers
