#pragma once
// The global optimum of the inversion loss over a latent box, proven: branch and bound over the
// box [-r, r]^L, shared by all images. The box starts as a grid of cells; level by level, every
// cell still open for some image is bounded once (its logits' zonotope, cell_bounds.h: the same
// for every image), every (image, open cell) pair gets the loss's lower bound and its value at
// the cell's centre with matrix products (loss_bounds.h), the centres improve the images'
// incumbents, and a pair whose bound is above the image's incumbent less the tolerance is
// closed. The cells still open for some image are split in 2^L, for those images only.
// A cell the propagation finds inside one linear region of the decoder (no unstable ReLU) passes
// its affine map to its children: their bounds follow without the network (split_affine). A cell
// that leaves only a few ReLUs unstable (at most `local_neurons`) passes the decoder restricted
// to its activation pattern (local_network.h): its descendants are bounded through that small
// network, which on a wide decoder is most of the deep cells.
//
// The claim per image: no point of the box has a loss below `lower_bound`; `incumbent` is the
// best point known (the caller's, or a cell's centre, wherever lower). Certified when
//     lower_bound >= incumbent - tolerance * max(|incumbent|, 1)
// (relative for the losses of real images, absolute near 0, where a relative gap means nothing:
// a decoder's own output has loss 0).
#include <functional>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "certify/cell_bounds.h"
#include "solvers/loss.h"

namespace preimage::certify {

struct CertifyOptions {
  double radius = 4.0;          // the box [-radius, radius]^L (the grid search's)
  double tolerance = 1e-4;      // relative: certified within max(|incumbent|, 1) * tolerance
  int64_t initial_cells = 64;   // cells per axis of the first level (half-width radius / 64)
  int64_t symbols = 16;         // error generators per cell (cell_bounds.h)
  int64_t max_depth = 24;       // levels of splitting below the first, at most
  int64_t max_cells = 100000;   // (image, cell) bounds per image before it is given up (in
                                //   each part of the box: certify_part)
  int64_t cell_chunk = 128;     // cells bounded together
  int64_t local_neurons = 64;   // a cell leaving at most this many ReLUs unstable bounds its
                                //   descendants through the restricted network; 0: never
  int64_t local_memory = int64_t{1} << 30;  // bytes the restricted networks may hold at once
                                //   (new ones are made only within it; 1 GiB: about 2300
                                //   networks of 64 neurons on MNIST's 784 pixels)
  // Test hook: added to every lower bound (times 1 + |bound|), which makes them wrong; the
  // tests show that their checks catch it. Always 0 outside the tests.
  double unsound_slack_for_tests = 0;
};

struct Certificate {
  torch::Tensor incumbent;    // (B) float64, the lowest loss known
  torch::Tensor point;        // (B, L) float64, where
  torch::Tensor lower_bound;  // (B) float64, no point of the box is lower
  torch::Tensor certified;    // (B) bool
  torch::Tensor cells;        // (B) int64, (image, cell) bounds evaluated
  torch::Tensor improved;     // (B) bool, a cell's centre beat the caller's point
  torch::Tensor at_edge;      // (B) bool, the incumbent is outside the box or on its border
                              //   (within 1% of r): the loss may go on decreasing beyond it
  torch::Tensor gap() const;  // (B) (incumbent - lower_bound) / max(|incumbent|, 1), >= 0
  int64_t levels = 0;         // levels explored
  int64_t distinct_cells = 0; // cells bounded (each once, for every image that needed it)
  int64_t network_cells = 0;  // of them, bounded by a pass through the network
  int64_t local_cells = 0;    // of them, bounded through a restricted network (the others lie
                              //   in a linear region found at a coarser level)
};

// Progress after each level: the level, cells bounded so far, images still open.
using LevelCallback = std::function<void(int64_t level, int64_t cells, int64_t open_images)>;

// Certifies images `targets` (B, P) (binary or grey in [0, 1]; `mask` (B, P) or undefined) for
// the loss `kind` with prior `prior_weight` of `network`, starting from the incumbents
// `points` (B, L) (a method's solutions).
Certificate certify(const DenseNetwork& network, solvers::LossKind kind, double prior_weight,
                    const torch::Tensor& targets, const torch::Tensor& mask,
                    const torch::Tensor& points, const CertifyOptions& options,
                    const LevelCallback& on_level = {});

// The box in parts: certify() over the first level's cells [part.first, part.second) only (in
// the Z-order it explores them: a range is a compact patch of the box), for every image. Its
// lower bound holds over that patch; its incumbent is the least of the caller's and the patch's
// centres. Parts share no cell, so certifying the parts apart costs what the whole does (less
// the incumbents one part would have passed to another) in the memory of one part at a time.
Certificate certify_part(const DenseNetwork& network, solvers::LossKind kind,
                         double prior_weight, const torch::Tensor& targets,
                         const torch::Tensor& mask, const torch::Tensor& points,
                         const CertifyOptions& options, std::pair<int64_t, int64_t> part,
                         const LevelCallback& on_level = {});
// The first level's cells: initial_cells^L.
int64_t first_level_cells(int64_t latent_dim, const CertifyOptions& options);
// The certificate of the parts that cover the box, joined: per image the least incumbent (the
// first part's at a tie), the least lower bound, the cells summed; certified and at_edge stated
// for the whole box.
Certificate join_parts(const std::vector<Certificate>& parts, const CertifyOptions& options);

}  // namespace preimage::certify
