#include "tests/helpers/rule_checks.hpp"

#include <catch2/catch.hpp>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/per_example/activation_capture.hpp"
#include "dpsgd/privacy/per_example/layer_rule.hpp"
#include "dpsgd/privacy/per_example/tapped_pass.hpp"
#include "dpsgd/privacy/private_model.hpp"

namespace dpsgd::test {

void require_close(const torch::Tensor& actual, const torch::Tensor& expected, double tol) {
  REQUIRE(actual.sizes() == expected.sizes());
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  const double err = (actual - expected).abs().max().item<double>();
  INFO("max abs error " << err << " (scale " << scale << ")");
  REQUIRE(err <= tol * scale);
}

void check_rules(models::Model& model, const torch::Tensor& x, const torch::Tensor& y) {
  const auto pm = privacy::inspect_model(model);
  const models::CrossEntropyObjective objective;
  const std::int64_t batch = x.size(0);

  // Reference: one backward per example, no taps installed.
  std::vector<std::vector<torch::Tensor>> per_param(pm.params.size());
  for (std::int64_t i = 0; i < batch; ++i) {
    const auto loss =
        objective.per_example_loss(model.forward(x.narrow(0, i, 1)), y.narrow(0, i, 1)).sum();
    const auto grads = torch::autograd::grad({loss}, pm.params, {}, false, false, true);
    for (std::size_t k = 0; k < grads.size(); ++k) {
      per_param[k].push_back(grads[k].defined() ? grads[k] : torch::zeros_like(pm.params[k]));
    }
  }
  std::vector<torch::Tensor> reference;
  for (auto& list : per_param) reference.push_back(torch::stack(list));

  privacy::FlatClipper clipper(1.0);
  privacy::EngineContext ctx{&pm, &objective, &clipper};
  privacy::ActivationCapture capture(pm);
  privacy::tapped_pass(ctx, capture, x, y, nullptr);
  torch::NoGradGuard no_grad;
  for (std::size_t l = 0; l < pm.layers.size(); ++l) {
    auto& layer = *pm.layers[l];
    const auto& rule = privacy::rule_for(layer.kind());
    const auto& pair = capture.pair(l);
    const auto first = pm.layer_first_param[l];
    const auto grads = rule.per_example_grads(layer, pair.activation, pair.output_grad);
    const auto sq = rule.per_example_sq_norms(layer, pair.activation, pair.output_grad);
    const auto weights =
        torch::rand({batch, static_cast<std::int64_t>(grads.size())}, torch::kFloat64);
    const auto sums = rule.weighted_grad_sum(layer, pair.activation, pair.output_grad, weights);
    REQUIRE(grads.size() == layer.layer_parameters().size());
    REQUIRE(sums.size() == grads.size());
    REQUIRE(sq.sizes() == torch::IntArrayRef{batch, static_cast<std::int64_t>(grads.size())});
    for (std::size_t k = 0; k < grads.size(); ++k) {
      const auto& ref = reference[first + k];
      INFO("layer " << layer.describe() << " parameter " << pm.param_names[first + k]);
      require_close(grads[k], ref, 1e-10);
      const auto ref_sq = ref.flatten(1).pow(2).sum(1);
      require_close(sq.select(1, static_cast<std::int64_t>(k)), ref_sq, 1e-10);
      const auto ref_sum =
          torch::tensordot(weights.select(1, static_cast<std::int64_t>(k)), ref, {0}, {0});
      require_close(sums[k], ref_sum, 1e-10);
    }
  }
}

}  // namespace dpsgd::test
