// Materialised per-example gradients (Goodfellow 2015; Opacus' grad samplers):
// each layer's per-example gradients are built from its (a, g) as tensors of
// shape (B, *param), then normed, scaled and summed. Memory grows with
// B x parameters; it is the engine for methods that touch coordinates. With
// augmentation multiplicity each example's gradient is its views' sum (the rows
// carry 1/K), formed per layer by the rule's group product.
#include <stdexcept>

#include "dpsgd/privacy/per_example/finite_examples.hpp"
#include "dpsgd/privacy/per_example/gradient_engine.hpp"
#include "dpsgd/privacy/per_example/layer_rule.hpp"
#include "dpsgd/privacy/per_example/tapped_pass.hpp"

namespace dpsgd::privacy {
namespace {

class MaterializeEngine final : public GradientEngine {
 public:
  explicit MaterializeEngine(const EngineContext& context) : context_(context) {}
  [[nodiscard]] std::string name() const override { return "materialize"; }

  ChunkStats accumulate(const torch::Tensor& x, const torch::Tensor& y,
                        std::vector<torch::Tensor>& sums, PhaseClock* clock) override {
    const auto& pm = *context_.model;
    ActivationCapture capture(pm);
    auto pass = tapped_pass(context_, capture, x, y, clock);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> grads;
    torch::Tensor sq_norms;
    {
      PhaseScope scope(clock, "norms");
      std::vector<torch::Tensor> sq;
      for (std::size_t l = 0; l < pm.layers.size(); ++l) {
        const auto& pair = capture.pair(l);
        for (auto& g : rule_for(pm.layers[l]->kind())
                           .per_group_grads(*pm.layers[l], pair.activation, pair.output_grad,
                                            context_.views)) {
          apply_coordinate_mask(*context_.clipper, grads.size(), g);
          sq.push_back(per_example_sq_norm(g));
          grads.push_back(std::move(g));
        }
      }
      capture.clear();
      sq_norms = torch::stack(sq, 1);
    }
    ClipFactors clip;
    {
      PhaseScope scope(clock, "clip_sum");
      clip = clip_factors(*context_.clipper, sq_norms);
      for (std::size_t k = 0; k < grads.size(); ++k) {
        grads[k] = zero_excluded(grads[k], clip);  // 0 * NaN would be NaN
        sums[k].add_(
            weighted_example_sum(clip.factors.select(1, static_cast<std::int64_t>(k)), grads[k]));
      }
    }
    return {pass.losses, pass.scores, sq_norms.sum(1).sqrt(), clip.factors};
  }

 private:
  EngineContext context_;
};

}  // namespace

std::unique_ptr<GradientEngine> make_materialize_engine(const EngineContext& context) {
  return std::make_unique<MaterializeEngine>(context);
}

}  // namespace dpsgd::privacy
