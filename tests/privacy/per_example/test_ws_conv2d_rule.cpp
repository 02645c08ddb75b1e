// The weight-standardised convolution's per-example rules (the Jacobian of the
// standardisation applied per example, and the ghost norm through it) against
// plain autograd one example at a time, in float64, on random layers: every
// rule, then the clipped sums and norms of the loop, materialize and ghost
// engines, for strides, groups, padding, 1x1 kernels and no bias.
#include <catch2/catch.hpp>

#include "dpsgd/models/layers/group_norm.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/layers/ws_conv2d.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/per_example/conv2d_products.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/privacy/per_example/layer_rule.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "tests/helpers/rule_checks.hpp"

using namespace dpsgd;
using dpsgd::test::check_rules;
using dpsgd::test::require_close;

namespace {

// WsConv2d -> GroupNorm -> tanh -> Linear: the GroupNorm's affine is tapped
// after the convolution, so the convolution's output gradient comes through
// the normalisation and the rules' input_grad is exercised by the readout.
class WsNet final : public models::Model {
 public:
  WsNet(const models::Conv2dOptions& o, std::int64_t norm_groups, const torch::Tensor& sample) {
    conv_ = register_module("conv", models::WsConv2d(o));
    norm_ = register_module("norm", models::GroupNorm(models::GroupNormOptions{
                                        norm_groups, o.out_channels, 1e-5, true}));
    torch::NoGradGuard no_grad;
    const auto features = norm_->forward(conv_->forward(sample.narrow(0, 0, 1))).numel();
    head_ = register_module("head", models::Linear(features, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return head_->forward(torch::tanh(norm_->forward(conv_->forward(x))).flatten(1));
  }

 private:
  models::WsConv2d conv_{nullptr};
  models::GroupNorm norm_{nullptr};
  models::Linear head_{nullptr};
};

std::vector<torch::Tensor> clipped_sum(models::Model& model, const std::string& engine,
                                       const torch::Tensor& x, const torch::Tensor& y, double c,
                                       torch::Tensor* norms) {
  auto pm = privacy::inspect_model(model);
  models::CrossEntropyObjective objective;
  privacy::FlatClipper clipper(c);
  auto eng = privacy::engine_registry().get(engine).make({&pm, &objective, &clipper});
  std::vector<torch::Tensor> sums;
  for (const auto& p : pm.params) sums.push_back(torch::zeros_like(p));
  *norms = eng->accumulate(x, y, sums, nullptr).norms;
  return sums;
}

}  // namespace

TEST_CASE("WsConv2d: per-example rules and engines equal the loop in float64", "[engines]") {
  torch::manual_seed(21);
  struct Case {
    std::int64_t in, out, kernel, stride, padding, groups, norm_groups;
    bool bias;
    std::int64_t batch, side;
  };
  const std::vector<Case> cases = {
      {3, 4, 3, 1, 1, 1, 2, true, 4, 6},   // the WRN's 3x3 convolution
      {4, 6, 3, 2, 1, 2, 3, false, 3, 7},  // stride 2, two groups, no bias, odd side
      {2, 4, 1, 2, 0, 1, 4, true, 5, 5},   // the 1x1 shortcut (fan-in 2)
      {3, 2, 3, 1, 0, 1, 1, true, 1, 4},   // batch 1, no padding
      // T^2 < p d: the ghost engine takes the Gram (ghost-norm) route for these.
      {8, 8, 3, 1, 1, 1, 4, true, 3, 4},   // T = 16: 256 < 8 x 72
      {8, 8, 3, 2, 1, 2, 2, false, 4, 5},  // two groups, T = 9: 81 < 4 x 36
  };
  for (const auto& c : cases) {
    models::Conv2dOptions o;
    o.in_channels = c.in;
    o.out_channels = c.out;
    o.kernel = {c.kernel, c.kernel};
    o.stride = {c.stride, c.stride};
    o.padding = {c.padding, c.padding};
    o.groups = c.groups;
    o.bias = c.bias;
    INFO("WsConv2d(" << c.in << ", " << c.out << ", k" << c.kernel << ", s" << c.stride << ", g"
                     << c.groups << ") batch " << c.batch);
    const auto x = torch::randn({c.batch, c.in, c.side, c.side}, torch::kFloat64);
    const auto y = torch::randint(0, 3, {c.batch}, torch::kInt64);
    WsNet model(o, c.norm_groups, x.to(torch::kFloat32));
    model.to(torch::kFloat64);
    {
      torch::NoGradGuard no_grad;
      for (auto& p : model.parameters()) p.copy_(torch::randn_like(p));
    }
    check_rules(model, x, y);
    for (double clip : {1e-3, 1e6}) {
      INFO("clipping threshold " << clip);
      torch::Tensor ref_norms;
      torch::Tensor norms;
      const auto ref = clipped_sum(model, "loop", x, y, clip, &ref_norms);
      for (const char* engine : {"materialize", "ghost"}) {
        INFO("engine " << engine);
        const auto sums = clipped_sum(model, engine, x, y, clip, &norms);
        for (std::size_t k = 0; k < ref.size(); ++k) require_close(sums[k], ref[k], 1e-10);
        require_close(norms, ref_norms, 1e-10);
      }
    }
  }
}

TEST_CASE("WsConv2d: the standardised weight has zero mean and unit variance per output channel",
          "[models]") {
  models::Conv2dOptions o;
  o.in_channels = 3;
  o.out_channels = 5;
  models::WsConv2d conv(o);
  const auto rows = conv->standardized_weight().flatten(1);
  require_close(rows.mean(1), torch::zeros({5}), 1e-6);
  // var / (var + eps): just below 1 for a He-initialised row.
  const auto var = rows.var(1, /*unbiased=*/false);
  CHECK((var < 1.0).all().item<bool>());
  CHECK((var > 0.99).all().item<bool>());
}

TEST_CASE("WsConv2d: the ghost norm is exact when the standardisation is nearly a projection",
          "[engines]") {
  // eps = 0 up to rounding: J is sigma^-1 times an orthogonal projection, the
  // case where the formula's two corrections cancel most of |G|^2.
  torch::manual_seed(22);
  models::Conv2dOptions o;
  o.in_channels = 2;
  o.out_channels = 3;
  o.padding = {1, 1};  // 5 x 5 in, 5 x 5 out
  models::WsConv2d conv(o, 1e-12);
  conv->to(torch::kFloat64);
  const auto a = torch::randn({3, 2, 5, 5}, torch::kFloat64);
  const auto g = torch::randn({3, 3, 5, 5}, torch::kFloat64);
  const auto& rule = privacy::rule_for(models::LayerKind::kWsConv2d);
  const auto grads = rule.per_example_grads(*conv, a, g);
  const auto sq = rule.per_example_sq_norms(*conv, a, g);
  require_close(sq.select(1, 0), privacy::per_example_sq_norm(grads[0]), 1e-9);
  require_close(sq.select(1, 1), privacy::per_example_sq_norm(grads[1]), 1e-9);
}

TEST_CASE("WsConv2d: the ghost norm stays accurate in float32 on offset-dominated inputs",
          "[engines]") {
  // Inputs 100 +- 0.1 (as after a ReLU or a large GroupNorm shift): |G|^2 and
  // (1.G)^2 / n agree to 6 digits, so subtracting them in float32 would leave
  // rounding noise, or a negative norm that clips nothing. The rule must match
  // the float64 per-example gradients' norms to float32 precision instead.
  torch::manual_seed(23);
  models::Conv2dOptions o;
  o.in_channels = 8;
  o.out_channels = 8;
  o.bias = false;
  models::WsConv2d conv(o);
  const auto a = 100.0 + 0.1 * torch::randn({4, 8, 4, 4});
  const auto g = torch::randn({4, 8, 2, 2});
  REQUIRE_FALSE(
      privacy::rule_for(models::LayerKind::kWsConv2d).materializing_is_cheaper(*conv, a, g));
  const auto& rule = privacy::rule_for(models::LayerKind::kWsConv2d);
  {
    // The formula route, not the fallback, is the one under test here: the w_hat
    // term removes less than half of |G - mean(G)|^2 for every example and channel.
    const auto w_hat = conv->standardized_weight().detach().to(torch::kFloat64);
    const auto grads = privacy::conv2d_per_example_weight_grads(o, w_hat, a.to(torch::kFloat64),
                                                                g.to(torch::kFloat64))
                           .flatten(2);
    const auto n = static_cast<double>(grads.size(2));
    const auto centred = (grads - grads.mean(-1, true)).pow(2).sum(-1);
    const auto rows = w_hat.flatten(1);
    const auto w_dot = (grads * rows).sum(-1);
    const auto removed = w_dot.pow(2) * (2.0 / n - rows.pow(2).sum(1) / (n * n));
    REQUIRE((removed <= 0.5 * centred).all().item<bool>());
  }
  const auto ghost = rule.per_example_sq_norms(*conv, a, g).select(1, 0).to(torch::kFloat64);
  conv->to(torch::kFloat64);
  const auto exact = privacy::per_example_sq_norm(
      rule.per_example_grads(*conv, a.to(torch::kFloat64), g.to(torch::kFloat64))[0]);
  INFO("ghost " << ghost << " exact " << exact);
  CHECK(((ghost - exact).abs() / exact).max().item<double>() < 1e-3);
}

TEST_CASE("WsConv2d: where the w_hat term would cancel, the norms come from the gradients",
          "[engines]") {
  // Fan-in 2: w_hat = (+-1, -+1) spans the whole centred space, so the w_hat
  // term removes all of |G - mean(G)|^2 (ratio 2c - c^2, about 1) and the rule
  // must take its fallback; its norms then equal the per-example gradients'.
  torch::manual_seed(24);
  models::Conv2dOptions o;
  o.in_channels = 2;
  o.out_channels = 3;
  o.kernel = {1, 1};
  models::WsConv2d conv(o);
  conv->to(torch::kFloat64);
  const auto a = torch::randn({4, 2, 3, 3}, torch::kFloat64);
  const auto g = torch::randn({4, 3, 3, 3}, torch::kFloat64);
  const auto& rule = privacy::rule_for(models::LayerKind::kWsConv2d);
  const auto sq = rule.per_example_sq_norms(*conv, a, g);
  const auto grads = rule.per_example_grads(*conv, a, g);
  require_close(sq.select(1, 0), privacy::per_example_sq_norm(grads[0]), 1e-12);
  require_close(sq.select(1, 1), privacy::per_example_sq_norm(grads[1]), 1e-12);
}
