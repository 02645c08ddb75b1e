#include "dpsgd/privacy/per_example/activation_capture.hpp"

#include <stdexcept>

#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

torch::Tensor full_precision(const torch::Tensor& t) {
  const auto type = t.scalar_type();
  return type == torch::kBFloat16 || type == torch::kHalf ? t.to(torch::kFloat32) : t;
}

// y = layer(x) with (x, g) recorded in backward. The weight is passed only so
// that autograd creates this node when the input needs no gradient (first
// layer); its gradient is returned undefined, so parameters' .grad stay untouched.
struct CaptureFunction : public torch::autograd::Function<CaptureFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, ActivationCapture* capture,
                               std::int64_t index) {
    (void)weight;
    ctx->saved_data["capture"] = reinterpret_cast<std::int64_t>(capture);
    ctx->saved_data["index"] = index;
    ctx->save_for_backward({input});
    return capture->layer(static_cast<std::size_t>(index)).plain_forward(input);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto* capture = reinterpret_cast<ActivationCapture*>(ctx->saved_data["capture"].toInt());
    const auto index = static_cast<std::size_t>(ctx->saved_data["index"].toInt());
    const auto saved = ctx->get_saved_variables()[0];
    // Under bf16 autocast (util/autocast.hpp) a layer may see and emit bfloat16;
    // every per-example quantity is computed from float32 copies, so norms,
    // clipping and the clipped sum are float32 whatever the forward used.
    const auto input = full_precision(saved);
    const auto g = full_precision(grad_outputs[0]);
    capture->store_grad(index, input, g);
    torch::Tensor grad_input;
    if (ctx->needs_input_grad(0)) {
      auto& layer = capture->layer(index);
      grad_input = rule_for(layer.kind()).input_grad(layer, input, g).to(saved.scalar_type());
    }
    return {grad_input, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

ActivationCapture::ActivationCapture(const PrivateModel& model)
    : layers_(model.layers), pairs_(model.layers.size()), forwarded_(model.layers.size(), false) {
  for (auto* layer : layers_) layer->set_tap(this);
}

ActivationCapture::~ActivationCapture() {
  for (auto* layer : layers_) layer->set_tap(nullptr);
}

torch::Tensor ActivationCapture::forward(models::TappedLayer& layer, const torch::Tensor& input) {
  std::size_t index = 0;
  while (index < layers_.size() && layers_[index] != &layer) ++index;
  if (index == layers_.size()) throw std::logic_error("tap called for an unknown layer");
  if (forwarded_[index]) {
    // A second use would need the cross terms of both uses in the norm.
    throw std::runtime_error("layer " + layer.describe() +
                             " was applied twice in one forward pass; weight sharing is not "
                             "supported by the per-example gradient engines");
  }
  forwarded_[index] = true;
  auto params = layer.layer_parameters();
  return CaptureFunction::apply(input, params.front(), this, static_cast<std::int64_t>(index));
}

void ActivationCapture::store_grad(std::size_t index, const torch::Tensor& activation,
                                   const torch::Tensor& grad) {
  pairs_[index] = CapturedPair{activation, grad};
}

const CapturedPair& ActivationCapture::pair(std::size_t index) const {
  const auto& p = pairs_.at(index);
  if (!p.activation.defined() || !p.output_grad.defined()) {
    throw std::runtime_error("layer " + layers_[index]->describe() +
                             " received no gradient: is it used in the forward pass?");
  }
  return p;
}

void ActivationCapture::release(std::size_t index) { pairs_.at(index) = CapturedPair{}; }

void ActivationCapture::clear() {
  for (auto& p : pairs_) p = CapturedPair{};
  std::fill(forwarded_.begin(), forwarded_.end(), false);
}

}  // namespace dpsgd::privacy
