// Every vectorized engine against the exact per-example loop, in float64, on
// random layers and inputs (odd shapes included), and whole models; the clipped
// output of an engine is a sum of gradients of norm <= C.
#include <catch2/catch.hpp>

#include "dpsgd/experiment/dp_gradient_builder.hpp"
#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/objectives/cross_entropy_dice_objective.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/privacy/per_example/layer_rule.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/private_step.hpp"
#include "tests/helpers/rule_checks.hpp"

using namespace dpsgd;

namespace {

// Wraps one layer (plus a fixed nonlinearity and a linear readout, so the loss
// depends on the layer in a non-trivial way) as a model.
class OneLayerModel final : public models::Model {
 public:
  OneLayerModel(std::shared_ptr<torch::nn::Module> layer,
                std::function<torch::Tensor(const torch::Tensor&)> apply, std::int64_t features,
                std::int64_t classes)
      : apply_(std::move(apply)) {
    register_module("layer", std::move(layer));
    head_ = register_module("head", models::Linear(features, classes));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return head_->forward(torch::tanh(apply_(x)).flatten(1));
  }

 private:
  std::function<torch::Tensor(const torch::Tensor&)> apply_;
  models::Linear head_{nullptr};
};

// Per-example clipped sums of every engine for the same model and batch.
std::vector<torch::Tensor> clipped_sum(models::Model& model, const std::string& engine,
                                       const torch::Tensor& x, const torch::Tensor& y, double c,
                                       torch::Tensor* norms_out = nullptr,
                                       const models::Objective* objective = nullptr) {
  auto pm = privacy::inspect_model(model);
  models::CrossEntropyObjective cross_entropy;
  privacy::FlatClipper clipper(c);
  privacy::EngineContext ctx{&pm, objective != nullptr ? objective : &cross_entropy, &clipper};
  auto eng = privacy::engine_registry().get(engine).make(ctx);
  std::vector<torch::Tensor> sums;
  for (const auto& p : pm.params) sums.push_back(torch::zeros_like(p));
  auto stats = eng->accumulate(x, y, sums, nullptr);
  if (norms_out != nullptr) *norms_out = stats.norms;
  return sums;
}

void require_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                   double tol) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double scale = std::max(1.0, b[k].abs().max().item<double>());
    const double err = (a[k] - b[k]).abs().max().item<double>();
    INFO("parameter " << k << " max abs error " << err);
    REQUIRE(err <= tol * scale);
  }
}

void check_all_engines(models::Model& model, const torch::Tensor& x, const torch::Tensor& y,
                       const models::Objective* objective = nullptr) {
  // Two thresholds: one that clips nearly everything, one that clips nothing.
  for (double c : {1e-3, 1e6}) {
    torch::Tensor loop_norms;
    torch::Tensor ghost_norms;
    torch::Tensor mat_norms;
    const auto ref = clipped_sum(model, "loop", x, y, c, &loop_norms, objective);
    const auto mat = clipped_sum(model, "materialize", x, y, c, &mat_norms, objective);
    const auto ghost = clipped_sum(model, "ghost", x, y, c, &ghost_norms, objective);
    require_close(mat, ref, 1e-10);
    require_close(ghost, ref, 1e-10);
    REQUIRE(torch::allclose(mat_norms, loop_norms, 1e-10, 1e-12));
    REQUIRE(torch::allclose(ghost_norms, loop_norms, 1e-10, 1e-12));
  }
}

struct ConvCase {
  models::Conv2dOptions options;
  std::int64_t batch;
  std::int64_t size;
};

}  // namespace

TEST_CASE("Conv2d engines equal the per-example loop (float64, odd shapes)", "[engines]") {
  torch::manual_seed(1);
  auto conv = [](std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t s,
                 std::int64_t p, std::int64_t d, std::int64_t g, bool bias) {
    models::Conv2dOptions o;
    o.in_channels = cin;
    o.out_channels = cout;
    o.kernel = {k, k};
    o.stride = {s, s};
    o.padding = {p, p};
    o.dilation = {d, d};
    o.groups = g;
    o.bias = bias;
    return o;
  };
  const std::vector<ConvCase> cases = {
      {conv(1, 16, 8, 2, 3, 1, 1, true), 5, 28},   // TF CNN conv1 (materialised route)
      {conv(16, 32, 4, 2, 0, 1, 1, true), 4, 13},  // TF CNN conv2 (Gram form)
      {conv(3, 5, 1, 1, 0, 1, 1, true), 1, 7},     // batch 1, 1x1 kernel
      {conv(2, 4, 2, 3, 0, 1, 1, false), 3, 9},    // stride > kernel, no bias
      {conv(4, 4, 3, 1, 1, 1, 4, true), 3, 6},     // depthwise (groups = channels)
      {conv(4, 6, 3, 2, 2, 2, 2, true), 2, 11},    // groups 2, dilation 2
      // One input channel per group (the correlation form of the per-example
      // weight gradient): stride > kernel, depthwise with multiplier 2, dilation
      // larger than the stride, and maps whose last rows no kernel position reaches.
      {conv(1, 3, 2, 3, 1, 1, 1, true), 3, 10},
      {conv(3, 6, 3, 2, 1, 2, 3, false), 2, 12},
      {conv(1, 4, 3, 2, 0, 3, 1, true), 3, 12},
      // Materialised route (T^2 = 1296 >= p d = 784) whose gradients (800 values per
      // example) outgrow the captured pair (144 + 576): norms from them, clipped sum
      // by the weight-gradient product.
      {conv(1, 16, 7, 1, 0, 1, 1, true), 3, 12},
      {[&] {  // one input channel, every geometry parameter different in h and w
         auto o = conv(1, 3, 3, 1, 0, 1, 1, true);
         o.kernel = {3, 2};
         o.stride = {2, 3};
         o.padding = {1, 0};
         o.dilation = {1, 2};
         return o;
       }(),
       2, 11},
  };
  for (const auto& c : cases) {
    models::Conv2d layer(c.options);
    layer->to(torch::kFloat64);
    const auto probe = layer->plain_forward(
        torch::zeros({1, c.options.in_channels, c.size, c.size}, torch::kFloat64));
    const std::int64_t features = probe.numel();
    auto model = std::make_shared<OneLayerModel>(
        layer.ptr(), [layer](const torch::Tensor& x) mutable { return layer->forward(x); },
        features, 3);
    model->to(torch::kFloat64);
    const auto x = torch::randn({c.batch, c.options.in_channels, c.size, c.size}, torch::kFloat64);
    const auto y = torch::randint(0, 3, {c.batch}, torch::kInt64);
    INFO("case " << layer->describe() << " batch " << c.batch);
    check_all_engines(*model, x, y);
    test::check_rules(*model, x, y);  // every rule alone, both norm routes
  }
}

TEST_CASE("Linear engines equal the loop for 2-D and sequence inputs", "[engines]") {
  torch::manual_seed(2);
  for (std::int64_t t : {1, 3, 40}) {  // 40: t^2 >= p*d: the materialised route
    models::Linear layer(6, 5);
    auto model = std::make_shared<OneLayerModel>(
        layer.ptr(), [layer](const torch::Tensor& x) mutable { return layer->forward(x); }, t * 5,
        4);
    model->to(torch::kFloat64);
    const auto x =
        t == 1 ? torch::randn({7, 6}, torch::kFloat64) : torch::randn({7, t, 6}, torch::kFloat64);
    const auto y = torch::randint(0, 4, {7}, torch::kInt64);
    INFO("sequence length " << t);
    check_all_engines(*model, x, y);
  }
}

TEST_CASE("Whole zoo models: every exact engine gives the same clipped sum", "[engines]") {
  for (const auto& name : models::model_registry().names()) {
    torch::manual_seed(3);
    models::ModelOptions options;
    const bool segmentation = name == "unet" || name == "nested_unet" || name == "filter_bank_head";
    if (segmentation) {
      // Tiny widths; 18 x 18 is odd below 16 (18 -> 9 -> 4 -> 2 -> 1), so the
      // decoders' size matching is exercised too.
      options.base_filters = 4;
      options.norm_groups = 2;
      options.num_classes = 3;
      options.hidden = {8};
    }
    if (name == "wide_resnet") {
      // WRN-10-1: every block kind of WRN-16-4 at a test's cost.
      options.depth = 10;
      options.width = 1;
      options.norm_groups = 4;
    }
    if (name == "resnet20") options.norm_groups = 4;
    if (name == "mlp") options.hidden = {16, 8};
    auto model = models::model_registry().get(name)(options);
    model->to(torch::kFloat64);
    INFO("model " << name);
    if (segmentation) {
      const auto x = torch::randn({3, 1, 18, 18}, torch::kFloat64);
      const auto y = torch::randint(0, 3, {3, 18, 18}, torch::kInt64);
      models::CrossEntropyDiceObjective objective({3, 1.0, 1.0, 1.0, {1, 2}});
      check_all_engines(*model, x, y, &objective);
    } else {
      const auto x = torch::rand({6, 1, 28, 28}, torch::kFloat64);
      const auto y = torch::randint(0, 10, {6}, torch::kInt64);
      check_all_engines(*model, x, y);
    }
  }
}

TEST_CASE("U-Nets: a private step gives the same gradient under every exact engine",
          "[engines][unet]") {
  // The study's setting in miniature: per-layer automatic clipping (and flat),
  // noise sigma = 1 from the same seed, Cross-entropy + Dice per example.
  for (const std::string mode : {"automatic", "flat"}) {
    for (const std::string name : {"unet", "nested_unet"}) {
      config::ExperimentConfig c;
      c.seed = 5;
      c.model.options.base_filters = 4;
      c.model.options.norm_groups = 2;
      c.model.options.num_classes = 4;
      c.privacy.clipping = privacy::make_clipping_spec(
          mode, mode == "automatic" ? nlohmann::json{{"max_grad_norm", 0.5}, {"per_layer", true}}
                                    : nlohmann::json{{"max_grad_norm", 0.5}});
      torch::manual_seed(21);
      const auto x = torch::randn({4, 1, 16, 16}, torch::kFloat64);
      const auto y = torch::randint(0, 4, {4, 16, 16}, torch::kInt64);
      auto objective = std::make_shared<models::CrossEntropyDiceObjective>(
          models::CrossEntropyDiceOptions{4, 1.0, 1.0, 1.0, {}});
      std::vector<std::vector<torch::Tensor>> grads;
      for (const std::string engine : {"loop", "materialize", "ghost"}) {
        torch::manual_seed(11);
        auto model = models::model_registry().get(name)(c.model.options);
        model->to(torch::kFloat64);
        auto dp =
            experiment::build_dp_gradient(c, *model, objective, {engine, 1.0, 1000}, torch::kCPU);
        dp->compute(x, y);
        std::vector<torch::Tensor> g;
        for (const auto& p : model->parameters()) g.push_back(p.grad().clone());
        grads.push_back(g);
      }
      INFO("model " << name << ", clipping " << mode);
      require_close(grads[1], grads[0], 1e-10);
      require_close(grads[2], grads[0], 1e-10);
      double total = 0.0;
      for (const auto& g : grads[0]) total += g.abs().sum().item<double>();
      REQUIRE(total > 1e-3);  // a real step: the comparison cannot pass vacuously
    }
  }
}

TEST_CASE("Clipped engine output: every clipped per-example gradient has norm <= C", "[clipping]") {
  // Batch of 1 through the whole private path: the clipped sum is one clipped gradient.
  torch::manual_seed(5);
  auto model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  model->to(torch::kFloat64);
  for (int i = 0; i < 4; ++i) {
    const auto x = torch::rand({1, 1, 28, 28}, torch::kFloat64) * 50;  // large gradients
    const auto y = torch::randint(0, 10, {1}, torch::kInt64);
    torch::Tensor norms;
    const auto sums = clipped_sum(*model, "ghost", x, y, 0.1, &norms);
    double sq = 0;
    for (const auto& s : sums) sq += s.pow(2).sum().item<double>();
    REQUIRE(std::sqrt(sq) <= 0.1 * (1 + 1e-12));
    if (norms.item<double>() > 0.1) REQUIRE(std::sqrt(sq) == Approx(0.1).epsilon(1e-12));
  }
}
