#include "decoders/decoder.h"

namespace preimage::decoders {

Trace Trace::select(const torch::Tensor& index) const {
  Trace out;
  for (const auto& r : rows) out.rows.push_back(r.index_select(0, index));
  return out;
}

Trace Trace::where(const torch::Tensor& take_a, const Trace& a, const Trace& b) {
  Trace out;
  for (size_t i = 0; i < a.rows.size(); ++i) {
    auto mask = take_a.view({-1});
    for (int64_t d = 1; d < a.rows[i].dim(); ++d) mask = mask.unsqueeze(-1);
    out.rows.push_back(torch::where(mask, a.rows[i], b.rows[i]));
  }
  return out;
}

}  // namespace preimage::decoders
