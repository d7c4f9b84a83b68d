#include "train/train_step.h"

#include <algorithm>
#include <cstdint>

#include "train/elbo.h"

namespace preimage::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Where a dense stack's backward pass puts its parameters' gradients.
struct GradientSink {
  KerasAdam* adam = nullptr;  // null: returned to autograd, which stores them in .grad()
  AdamScalars scalars;        // this step's (KerasAdam::next_scalars)
  std::vector<size_t> index;  // the optimizer's index of each parameter (weight, bias, ...)
  torch::Tensor scratch;      // 1-D, where weight gradients are made (the largest's numel)
};

// The layers' weights and biases in order (weight 0, bias 0, weight 1, ...).
std::vector<torch::Tensor> stack_parameters(const model::Mlp& mlp) {
  std::vector<torch::Tensor> out;
  for (const auto& layer : mlp->layers()) {
    out.push_back(layer->weight);
    out.push_back(layer->bias);
  }
  return out;
}

// model::Mlp's forward pass (Dense layers, ReLU between them, none after the last) as one
// autograd node with a backward pass of its own. It runs the LibTorch operations autograd runs
// for the Mlp (addmm forward; for each layer from the last, mm for the input gradient and the
// weight gradient, a sum over the batch for the bias, threshold_backward for the ReLU), so its
// gradients are autograd's bit for bit. With an optimizer in the sink, each layer's weight
// gradient is made in one reused buffer and the layer's parameters updated at once, while the
// gradient is in the cache: no gradient is stored, zeroed or read back from memory (after the
// layer's input gradient is taken, the layer's weights are not needed again in the pass).
struct DenseStack : torch::autograd::Function<DenseStack> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               at::TensorList params, int64_t sink_address) {
    const size_t layers = params.size() / 2;
    std::vector<torch::Tensor> inputs;  // each layer's input: (B, in)
    torch::Tensor h = input;
    for (size_t i = 0; i < layers; ++i) {
      inputs.push_back(h);
      h = torch::addmm(params[2 * i + 1], h, params[2 * i].t());  // as torch::nn::Linear
      if (i + 1 < layers) h.relu_();
    }
    ctx->saved_data["inputs"] = inputs;
    ctx->saved_data["sink"] = sink_address;  // the GradientSink outlives the backward pass
    ctx->save_for_backward(params.vec());
    return h;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto params = ctx->get_saved_variables();
    const auto inputs = ctx->saved_data["inputs"].toTensorVector();
    auto* sink = reinterpret_cast<GradientSink*>(ctx->saved_data["sink"].toInt());
    const size_t layers = params.size() / 2;
    variable_list out(2 + params.size());  // input, parameters, the sink (none)
    torch::Tensor g = grad_outputs[0];     // (B, out) of the current layer
    for (size_t i = layers; i-- > 0;) {
      const auto& weight = params[2 * i];
      torch::Tensor input_grad;
      if (i > 0 || ctx->needs_input_grad(0)) input_grad = g.mm(weight);  // before the update
      if (sink->adam) {
        auto weight_grad = sink->scratch.slice(0, 0, weight.numel()).view(weight.sizes());
        torch::mm_out(weight_grad, g.t(), inputs[i]);
        sink->adam->update(sink->index[2 * i], weight_grad, sink->scalars);
        sink->adam->update(sink->index[2 * i + 1], g.sum(0), sink->scalars);
      } else {
        out[1 + 2 * i] = g.t().mm(inputs[i]);
        out[2 + 2 * i] = g.sum(0);
      }
      if (i > 0)
        g = torch::threshold_backward(input_grad, inputs[i], 0);
      else
        out[0] = input_grad;
    }
    return out;
  }
};

// The VAE's forward pass and loss with both MLPs as DenseStack nodes: the same
// operations as `negative_elbo(vae->forward(x), x).mean()`, created in the same order (so that
// autograd sums the latent sample's three gradients in the same order, and draws the same
// sample from the generator).
torch::Tensor forward_and_loss(model::Vae& vae, const torch::Tensor& x, GradientSink& encoder,
                               GradientSink& decoder) {
  const auto address = [](GradientSink& s) {
    return static_cast<int64_t>(reinterpret_cast<intptr_t>(&s));
  };
  // TensorList, not the vector itself: autograd takes a vector argument for a non-tensor one.
  const auto encoder_params = stack_parameters(vae->encoder());
  const auto decoder_params = stack_parameters(vae->decoder());
  auto encoded = DenseStack::apply(x, at::TensorList(encoder_params), address(encoder));
  auto parts = encoded.chunk(2, /*dim=*/1);  // (B, 2L): mean then log-variance
  model::VaeOutput out;
  out.mean = parts[0];
  out.logvar = parts[1];
  out.z = model::reparameterize(out.mean, out.logvar);
  out.logits = DenseStack::apply(out.z, at::TensorList(decoder_params), address(decoder));
  return negative_elbo(out, x).mean();
}

}  // namespace

double train_step(model::Vae& vae, KerasAdam& adam, const torch::Tensor& x) {
  adam.zero_grad();  // none are made; none left from elsewhere either
  GradientSink encoder, decoder;
  int64_t largest = 0;
  for (auto* s : {&encoder, &decoder}) {
    for (const auto& p : stack_parameters(s == &encoder ? vae->encoder() : vae->decoder())) {
      s->index.push_back(adam.index_of(p));
      largest = std::max(largest, p.numel());
    }
    s->adam = &adam;
  }
  // The same buffer step after step (the thesis's VAE: 2.4 MB), so that it stays in the cache.
  thread_local torch::Tensor scratch;
  if (!scratch.defined() || scratch.numel() < largest) scratch = torch::empty({largest});
  encoder.scratch = decoder.scratch = scratch;
  encoder.scalars = decoder.scalars = adam.next_scalars();
  auto loss = forward_and_loss(vae, x, encoder, decoder);
  loss.backward();
  return loss.item<double>();
}

double train_step_reference(model::Vae& vae, KerasAdam& adam, const torch::Tensor& x) {
  auto loss = negative_elbo(vae->forward(x), x).mean();
  adam.zero_grad();
  loss.backward();
  adam.step();
  return loss.item<double>();
}

std::vector<torch::Tensor> stack_gradients(model::Vae& vae, const torch::Tensor& x) {
  GradientSink none;
  auto loss = forward_and_loss(vae, x, none, none);
  std::vector<torch::Tensor> params = stack_parameters(vae->encoder()), out;
  for (const auto& p : stack_parameters(vae->decoder())) params.push_back(p);
  for (auto& p : params) p.mutable_grad() = torch::Tensor();
  loss.backward();
  for (auto& p : params) out.push_back(p.grad());
  return out;
}

}  // namespace preimage::train
