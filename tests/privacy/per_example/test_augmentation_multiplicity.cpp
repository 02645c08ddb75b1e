// Augmentation multiplicity (De et al. 2022): K views per example, the
// example's gradient the mean of its views' gradients, clipped once. Checked in
// float64 against autograd of each example's mean view loss, for every engine
// and for the whole private step at sigma 0; the add/remove-one sensitivity
// (one example moves the clipped sum by at most C) is checked directly.
#include <catch2/catch.hpp>

#include "dpsgd/models/layers/group_norm.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/layers/ws_conv2d.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "tests/helpers/private_step.hpp"
#include "tests/helpers/rule_checks.hpp"

using namespace dpsgd;
using dpsgd::test::require_close;

namespace {

constexpr std::int64_t kViews = 3;
constexpr std::int64_t kClasses = 4;

// Every layer kind of the CIFAR models: WsConv2d, GroupNorm's affine, Linear.
class ViewNet final : public models::Model {
 public:
  ViewNet() {
    models::Conv2dOptions o;
    o.in_channels = 2;
    o.out_channels = 4;
    o.padding = {1, 1};
    conv_ = register_module("conv", models::WsConv2d(o));
    norm_ = register_module("norm", models::GroupNorm(models::GroupNormOptions{2, 4, 1e-5, true}));
    head_ = register_module("head", models::Linear(4 * 5 * 5, kClasses));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return head_->forward(torch::relu(norm_->forward(conv_->forward(x))).flatten(1));
  }

 private:
  models::WsConv2d conv_{nullptr};
  models::GroupNorm norm_{nullptr};
  models::Linear head_{nullptr};
};

std::shared_ptr<ViewNet> make_net() {
  auto net = std::make_shared<ViewNet>();
  net->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.copy_(torch::randn_like(p) * 0.5);
  return net;
}

// sum_i clip_C(mean over example i's views of the view-loss gradients), by
// plain autograd one example at a time: the definition, independent of engines.
std::vector<torch::Tensor> reference_sum(ViewNet& net, const torch::Tensor& views,
                                         const torch::Tensor& labels, double c) {
  models::CrossEntropyObjective objective;
  const auto params = net.parameters();
  std::vector<torch::Tensor> sums;
  for (const auto& p : params) sums.push_back(torch::zeros_like(p));
  for (std::int64_t i = 0; i < views.size(0) / kViews; ++i) {
    const auto loss = objective
                          .per_example_loss(net.forward(views.narrow(0, i * kViews, kViews)),
                                            labels.narrow(0, i * kViews, kViews))
                          .mean();
    const auto grads = torch::autograd::grad({loss}, params);
    double sq = 0.0;
    for (const auto& g : grads) sq += g.pow(2).sum().item<double>();
    const double factor = std::min(1.0, c / std::sqrt(sq));
    for (std::size_t k = 0; k < grads.size(); ++k) sums[k] += factor * grads[k];
  }
  return sums;
}

std::vector<torch::Tensor> engine_sum(ViewNet& net, const std::string& engine,
                                      const torch::Tensor& views, const torch::Tensor& labels,
                                      double c, std::int64_t* examples) {
  auto pm = privacy::inspect_model(net);
  models::CrossEntropyObjective objective;
  privacy::FlatClipper clipper(c);
  auto eng = privacy::engine_registry().get(engine).make({&pm, &objective, &clipper, kViews});
  std::vector<torch::Tensor> sums;
  for (const auto& p : pm.params) sums.push_back(torch::zeros_like(p));
  *examples = eng->accumulate(views, labels, sums, nullptr).norms.size(0);
  return sums;
}

}  // namespace

TEST_CASE("augmentation multiplicity: every engine clips each example's mean over its views",
          "[engines][augment]") {
  torch::manual_seed(31);
  auto net = make_net();
  const std::int64_t batch = 5;
  const auto views = torch::randn({batch * kViews, 2, 5, 5}, torch::kFloat64);
  const auto labels = torch::randint(0, kClasses, {batch}, torch::kInt64).repeat_interleave(kViews);
  for (double c : {1e-2, 1e6}) {
    INFO("clipping threshold " << c);
    const auto ref = reference_sum(*net, views, labels, c);
    for (const char* engine : {"loop", "materialize", "ghost"}) {
      INFO("engine " << engine);
      std::int64_t examples = 0;
      const auto sums = engine_sum(*net, engine, views, labels, c, &examples);
      CHECK(examples == batch);  // statistics per example, not per view
      for (std::size_t k = 0; k < ref.size(); ++k) require_close(sums[k], ref[k], 1e-10);
    }
  }
}

TEST_CASE("augmentation multiplicity: one example moves the clipped sum by at most C",
          "[engines][augment]") {
  torch::manual_seed(32);
  auto net = make_net();
  const double c = 0.05;
  const auto views = torch::randn({4 * kViews, 2, 5, 5}, torch::kFloat64);
  const auto labels = torch::randint(0, kClasses, {4}, torch::kInt64).repeat_interleave(kViews);
  std::int64_t examples = 0;
  const auto with = engine_sum(*net, "ghost", views, labels, c, &examples);
  // Remove example 2 (its K rows).
  const auto keep = torch::tensor({0, 1, 2, 3, 4, 5, 9, 10, 11}, torch::kInt64);
  const auto without = engine_sum(*net, "ghost", views.index_select(0, keep),
                                  labels.index_select(0, keep), c, &examples);
  double sq = 0.0;
  for (std::size_t k = 0; k < with.size(); ++k)
    sq += (with[k] - without[k]).pow(2).sum().item<double>();
  CHECK(std::sqrt(sq) <= c * (1 + 1e-9));
  CHECK(std::sqrt(sq) >= c * (1 - 1e-6));  // this example's gradient is clipped: exactly C
}

TEST_CASE("augmentation multiplicity: at sigma 0 the private step is the mean-of-views gradient",
          "[dpstep][augment]") {
  torch::manual_seed(33);
  auto net = make_net();
  auto pm = privacy::inspect_model(*net);
  const std::int64_t batch = 6;
  const auto x = torch::randn({batch, 2, 5, 5}, torch::kFloat64);
  const auto y = torch::randint(0, kClasses, {batch}, torch::kInt64);
  // Fixed views: example i's view k is x_i shifted by k (any per-example map will do).
  const auto make = [](const torch::Tensor& xs, const torch::Tensor& ys, std::int64_t /*first*/) {
    std::vector<torch::Tensor> rows;
    for (std::int64_t i = 0; i < xs.size(0); ++i) {
      for (std::int64_t k = 0; k < kViews; ++k)
        rows.push_back(xs[i] + 0.1 * static_cast<double>(k));
    }
    return std::make_pair(torch::stack(rows), ys.repeat_interleave(kViews));
  };
  auto options = test::dp_options(0.0, 4, 4, "ghost");  // chunks of 4: a chunk boundary inside
  options.views = kViews;
  auto dp = test::make_dp(pm, std::make_shared<models::CrossEntropyObjective>(),
                          std::make_shared<privacy::FlatClipper>(1e6), options);
  REQUIRE_THROWS_AS(dp->compute(x, y), std::logic_error);  // no view maker yet
  dp->set_view_maker(make);
  const auto stats = dp->compute(x, y);
  CHECK(stats.batch_size == batch);
  const auto [views, labels] = make(x, y, 0);
  const auto ref = reference_sum(*net, views, labels, 1e6);
  const auto params = net->parameters();
  for (std::size_t k = 0; k < params.size(); ++k) {
    require_close(params[k].grad(), ref[k] / 4.0, 1e-10);  // divided by q N = 4
  }
}

TEST_CASE("augmentation multiplicity is refused with microbatches", "[dpstep][augment]") {
  auto net = make_net();
  auto pm = privacy::inspect_model(*net);
  auto options = test::dp_options(1.0, 4, 0, "auto", /*microbatches=*/2);
  options.views = 2;
  REQUIRE_THROWS_AS(test::make_dp(pm, std::make_shared<models::CrossEntropyObjective>(),
                                  std::make_shared<privacy::FlatClipper>(1.0), options),
                    std::invalid_argument);
}
