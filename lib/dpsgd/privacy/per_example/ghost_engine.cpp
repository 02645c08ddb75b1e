// Ghost norms + book-keeping (Bu, Mao, Xu 2023, "Differentially private
// optimization on large model at small cost"): per-example norms from each
// layer's (a, g), clipping factors from them, then the clipped sum per layer as
// one weighted product of the same stored (a, g). One forward, one backward.
// Per layer the cheaper route is taken (mixed ghost clipping, Bu et al. 2022):
// the ghost (Gram) norm, or, where T^2 >= p d, the per-example gradients
// themselves, which then also give the clipped sum as sum_i c_i grad_i when they
// are no larger than the layer's captured (a, g). Every route is exact (tested
// against the per-example loop); they differ only in cost.
#include <stdexcept>
#include <string>

#include "dpsgd/privacy/per_example/finite_examples.hpp"
#include "dpsgd/privacy/per_example/gradient_engine.hpp"
#include "dpsgd/privacy/per_example/layer_rule.hpp"
#include "dpsgd/privacy/per_example/tapped_pass.hpp"

namespace dpsgd::privacy {
namespace {

// The clipping outcome per row: each example's repeated over its K views.
ClipFactors repeat_rows(const ClipFactors& clip, std::int64_t views) {
  if (views == 1) return clip;
  return {clip.factors.repeat_interleave(views, 0), clip.finite.repeat_interleave(views, 0),
          clip.any_excluded};
}

class GhostEngine final : public GradientEngine {
 public:
  explicit GhostEngine(const EngineContext& context) : context_(context) {}
  [[nodiscard]] std::string name() const override { return "ghost"; }

  ChunkStats accumulate(const torch::Tensor& x, const torch::Tensor& y,
                        std::vector<torch::Tensor>& sums, PhaseClock* clock) override {
    const auto& pm = *context_.model;
    ActivationCapture capture(pm);
    auto pass = tapped_pass(context_, capture, x, y, clock);
    torch::NoGradGuard no_grad;
    // Per layer, the gradients themselves where the cost rule says forming them is
    // cheaper than the ghost norm (empty otherwise): see layer_norms.
    std::vector<std::vector<torch::Tensor>> materialized(pm.layers.size());
    torch::Tensor sq_norms;
    {
      PhaseScope scope(clock, "norms");
      sq_norms = layer_norms(capture, materialized);
    }
    ClipFactors clip;
    {
      PhaseScope scope(clock, "clip_sum");
      clip = clip_factors(*context_.clipper, sq_norms);
      const auto& factors = clip.factors;
      for (std::size_t l = 0; l < pm.layers.size(); ++l) {
        const auto first = static_cast<std::int64_t>(pm.layer_first_param[l]);
        const auto count = static_cast<std::int64_t>(pm.layers[l]->layer_parameters().size());
        std::vector<torch::Tensor> grads;
        if (!materialized[l].empty()) {
          if (static_cast<std::int64_t>(materialized[l].size()) != count) {
            throw std::logic_error(
                "ghost engine: a layer rule returned " + std::to_string(materialized[l].size()) +
                " per-example gradients for " + std::to_string(count) + " parameters");
          }
          for (std::int64_t k = 0; k < count; ++k) {
            grads.push_back(weighted_example_sum(
                factors.select(1, first + k),
                zero_excluded(materialized[l][static_cast<std::size_t>(k)], clip)));
          }
          materialized[l].clear();
        } else {
          // Both rows zeroed: an excluded example's activation may be inf where
          // its output gradient is 0, and 0 * inf is NaN. With views, each
          // example's factors and exclusion repeat over its rows: the weighted
          // sum over rows is then the weighted sum of the examples' gradients.
          const auto& pair = capture.pair(l);
          const auto rows = repeat_rows(clip, context_.views);
          grads = rule_for(pm.layers[l]->kind())
                      .weighted_grad_sum(*pm.layers[l], zero_excluded(pair.activation, rows),
                                         zero_excluded(pair.output_grad, rows),
                                         rows.factors.narrow(1, first, count));
        }
        for (std::int64_t k = 0; k < count; ++k) {
          sums[static_cast<std::size_t>(first + k)].add_(grads[static_cast<std::size_t>(k)]);
        }
      }
    }
    capture.clear();
    return {pass.losses, pass.scores, sq_norms.sum(1).sqrt(), clip.factors};
  }

 private:
  // (B, P) squared norms. Where a layer's gradients are formed (the cost rule,
  // or K views) the norms come from them, and the clipped sum reuses them
  // instead of a second weight-gradient product when they are no larger than the
  // layer's captured (a, g), which is then released. So the engine never holds
  // more than twice what the capture holds, instead of B x parameters; larger
  // ones are dropped after their norm and the clipped sum takes the product route.
  torch::Tensor layer_norms(ActivationCapture& capture,
                            std::vector<std::vector<torch::Tensor>>& materialized) const {
    const auto& pm = *context_.model;
    std::vector<torch::Tensor> per_layer;
    for (std::size_t l = 0; l < pm.layers.size(); ++l) {
      auto& layer = *pm.layers[l];
      const auto& rule = rule_for(layer.kind());
      const auto& pair = capture.pair(l);
      // With K views the Gram form would grow with (K T)^2: every layer's norm
      // then comes from its per-example (per-group) gradient.
      if (context_.views == 1 &&
          !rule.materializing_is_cheaper(layer, pair.activation, pair.output_grad)) {
        per_layer.push_back(rule.per_example_sq_norms(layer, pair.activation, pair.output_grad));
        continue;
      }
      auto grads = rule.per_group_grads(layer, pair.activation, pair.output_grad, context_.views);
      std::vector<torch::Tensor> sq;
      std::int64_t grad_elements = 0;
      for (const auto& g : grads) {
        sq.push_back(per_example_sq_norm(g));
        grad_elements += g.numel();
      }
      per_layer.push_back(torch::stack(sq, 1));
      if (grad_elements <= pair.activation.numel() + pair.output_grad.numel()) {
        materialized[l] = std::move(grads);
        capture.release(l);
      }
    }
    return torch::cat(per_layer, 1);
  }

  EngineContext context_;
};

}  // namespace

std::unique_ptr<GradientEngine> make_ghost_engine(const EngineContext& context) {
  return std::make_unique<GhostEngine>(context);
}

}  // namespace dpsgd::privacy
