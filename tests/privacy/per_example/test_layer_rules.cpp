// Per-example rules of GroupNorm, LayerNorm, Embedding and ConvTranspose2d against
// plain autograd one example at a time, in float64, on random layers and inputs
// (odd shapes included): per-example gradients, per-parameter ghost norms and
// weighted sums of each rule, then the clipped sums and norms of the loop,
// materialize and ghost engines on the whole model.
#include <catch2/catch.hpp>

#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/models/layers/conv_transpose2d.hpp"
#include "dpsgd/models/layers/embedding.hpp"
#include "dpsgd/models/layers/group_norm.hpp"
#include "dpsgd/models/layers/layer_norm.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/tf_cnn.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/privacy/per_example/layer_rule.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "tests/helpers/rule_checks.hpp"

using namespace dpsgd;
using dpsgd::test::check_rules;
using dpsgd::test::require_close;

namespace {

using Body = std::function<torch::Tensor(const torch::Tensor&)>;

// The layers under test, applied by `body`, then a fixed nonlinearity and a
// linear readout, so the loss depends on every layer in a non-trivial way. A
// tapped layer placed before the one under test receives its output gradient
// through that layer's input_grad (and, for the norms, through the parameter-free
// normalisation), so input_grad is checked too.
class StackModel final : public models::Model {
 public:
  StackModel(const std::vector<std::shared_ptr<torch::nn::Module>>& layers, Body body,
             const torch::Tensor& sample, std::int64_t classes)
      : body_(std::move(body)) {
    for (std::size_t k = 0; k < layers.size(); ++k) {
      register_module("layer" + std::to_string(k), layers[k]);
    }
    torch::NoGradGuard no_grad;
    const std::int64_t features = body_(sample.narrow(0, 0, 1)).numel();
    head_ = register_module("head", models::Linear(features, classes));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return head_->forward(torch::tanh(body_(x)).flatten(1));
  }

 private:
  Body body_;
  models::Linear head_{nullptr};
};

// Random values for every parameter: the norm layers start as the identity
// affine, which would hide a wrong weight in input_grad.
void randomise(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p.copy_(torch::randn_like(p));
}

// Clipped sums (and norms) of one engine.
std::vector<torch::Tensor> clipped_sum(models::Model& model, const std::string& engine,
                                       const torch::Tensor& x, const torch::Tensor& y, double c,
                                       torch::Tensor* norms_out) {
  auto pm = privacy::inspect_model(model);
  models::CrossEntropyObjective objective;
  privacy::FlatClipper clipper(c);
  privacy::EngineContext ctx{&pm, &objective, &clipper};
  auto eng = privacy::engine_registry().get(engine).make(ctx);
  std::vector<torch::Tensor> sums;
  for (const auto& p : pm.params) sums.push_back(torch::zeros_like(p));
  auto stats = eng->accumulate(x, y, sums, nullptr);
  *norms_out = stats.norms;
  return sums;
}

void check_all_engines(models::Model& model, const torch::Tensor& x, const torch::Tensor& y) {
  // Two thresholds: one that clips everything, one that clips nothing.
  for (double c : {1e-3, 1e6}) {
    INFO("clipping threshold " << c);
    torch::Tensor loop_norms;
    torch::Tensor mat_norms;
    torch::Tensor ghost_norms;
    const auto ref = clipped_sum(model, "loop", x, y, c, &loop_norms);
    const auto mat = clipped_sum(model, "materialize", x, y, c, &mat_norms);
    const auto ghost = clipped_sum(model, "ghost", x, y, c, &ghost_norms);
    for (std::size_t k = 0; k < ref.size(); ++k) {
      INFO("parameter " << k);
      require_close(mat[k], ref[k], 1e-10);
      require_close(ghost[k], ref[k], 1e-10);
    }
    require_close(mat_norms, loop_norms, 1e-10);
    require_close(ghost_norms, loop_norms, 1e-10);
  }
}

void check_model(const std::vector<std::shared_ptr<torch::nn::Module>>& layers, Body body,
                 const torch::Tensor& x, std::int64_t classes = 3) {
  for (const auto& layer : layers) layer->to(torch::kFloat64);  // before the shape probe
  auto model = std::make_shared<StackModel>(layers, std::move(body), x, classes);
  model->to(torch::kFloat64);
  randomise(*model);
  const auto y = torch::randint(0, classes, {x.size(0)}, torch::kInt64);
  check_rules(*model, x, y);
  check_all_engines(*model, x, y);
}

models::Conv2d conv1x1(std::int64_t in, std::int64_t out) {
  models::Conv2dOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel = {1, 1};
  return models::Conv2d(o);
}

}  // namespace

TEST_CASE("GroupNorm: per-example rules and engines equal the loop", "[engines]") {
  torch::manual_seed(11);
  struct Case {
    std::int64_t groups, channels, batch, height, width;
    bool affine;
  };
  const std::vector<Case> cases = {
      {2, 4, 5, 5, 3, true},   // two channels per group
      {3, 3, 1, 4, 6, true},   // batch 1, one channel per group
      {1, 6, 3, 3, 3, true},   // one group (LayerNorm over C, H, W)
      {2, 4, 2, 4, 4, false},  // no affine: only the conv before it is trainable
  };
  SECTION("(B, C, H, W) input, GroupNorm after a Conv2d") {
    for (const auto& c : cases) {
      models::GroupNorm norm(models::GroupNormOptions{c.groups, c.channels, 1e-5, c.affine});
      auto pre = conv1x1(2, c.channels);
      INFO("GroupNorm(" << c.groups << ", " << c.channels << ") affine " << c.affine << " batch "
                        << c.batch);
      check_model(
          {pre.ptr(), norm.ptr()},
          [pre, norm](const torch::Tensor& x) mutable { return norm->forward(pre->forward(x)); },
          torch::randn({c.batch, 2, c.height, c.width}, torch::kFloat64));
    }
  }
  SECTION("(B, C) input, GroupNorm after a Linear") {
    models::GroupNorm norm(models::GroupNormOptions{3, 6, 1e-5, true});
    models::Linear pre(4, 6);
    check_model(
        {pre.ptr(), norm.ptr()},
        [pre, norm](const torch::Tensor& x) mutable { return norm->forward(pre->forward(x)); },
        torch::randn({4, 4}, torch::kFloat64));
  }
}

TEST_CASE("LayerNorm: per-example rules and engines equal the loop", "[engines]") {
  torch::manual_seed(12);
  SECTION("over the last dim of a sequence, after a Linear") {
    models::LayerNorm norm(models::LayerNormOptions{{6}, 1e-5, true, true});
    models::Linear pre(5, 6);
    check_model(
        {pre.ptr(), norm.ptr()},
        [pre, norm](const torch::Tensor& x) mutable { return norm->forward(pre->forward(x)); },
        torch::randn({4, 3, 5}, torch::kFloat64));
  }
  SECTION("over the last two dims of a feature map, after a Conv2d") {
    models::LayerNorm norm(models::LayerNormOptions{{4, 5}, 1e-5, true, true});
    auto pre = conv1x1(2, 3);
    check_model(
        {pre.ptr(), norm.ptr()},
        [pre, norm](const torch::Tensor& x) mutable { return norm->forward(pre->forward(x)); },
        torch::randn({3, 2, 4, 5}, torch::kFloat64));
  }
  SECTION("(B, D) input, batch 1, no bias") {
    models::LayerNorm norm(models::LayerNormOptions{{7}, 1e-5, true, false});
    models::Linear pre(3, 7);
    check_model(
        {pre.ptr(), norm.ptr()},
        [pre, norm](const torch::Tensor& x) mutable { return norm->forward(pre->forward(x)); },
        torch::randn({1, 3}, torch::kFloat64));
  }
  SECTION("no affine: only the Linear before it is trainable") {
    models::LayerNorm norm(models::LayerNormOptions{{2, 4}, 1e-5, false, true});
    models::Linear pre(3, 4);
    check_model(
        {pre.ptr(), norm.ptr()},
        [pre, norm](const torch::Tensor& x) mutable { return norm->forward(pre->forward(x)); },
        torch::randn({3, 2, 3}, torch::kFloat64));
  }
}

TEST_CASE("Embedding: per-example rules and engines equal the loop", "[engines]") {
  torch::manual_seed(13);
  SECTION("repeated indices within one example") {
    models::Embedding table(10, 4);
    auto x = torch::randint(0, 10, {5, 7}, torch::kInt64);
    x[0].fill_(3);                  // one row looked up 7 times
    x[1].narrow(0, 0, 3).fill_(2);  // a row shared by 3 lookups and maybe more
    x[2].narrow(0, 0, 4).fill_(9);  // the same row as in other examples
    x[3].narrow(0, 0, 2).fill_(9);
    check_model(
        {table.ptr()}, [table](const torch::Tensor& i) mutable { return table->forward(i); }, x);
  }
  SECTION("batch 1, 3-D index tensor") {
    models::Embedding table(6, 3);
    auto x = torch::randint(0, 6, {1, 3, 2}, torch::kInt64);
    x[0][2][1] = x[0][0][0].item<std::int64_t>();
    check_model(
        {table.ptr()}, [table](const torch::Tensor& i) mutable { return table->forward(i); }, x);
  }
  SECTION("large vocabulary, few rows used, one lookup per example") {
    models::Embedding table(500, 5);
    check_model(
        {table.ptr()}, [table](const torch::Tensor& i) mutable { return table->forward(i); },
        torch::randint(0, 500, {6, 1}, torch::kInt64));
  }
  SECTION("followed by a LayerNorm") {
    models::Embedding table(8, 6);
    models::LayerNorm norm(models::LayerNormOptions{{6}, 1e-5, true, true});
    check_model(
        {table.ptr(), norm.ptr()},
        [table, norm](const torch::Tensor& i) mutable { return norm->forward(table->forward(i)); },
        torch::randint(0, 8, {4, 5}, torch::kInt64));
  }
}

TEST_CASE("ConvTranspose2d: per-example rules and engines equal the loop", "[engines]") {
  torch::manual_seed(14);
  struct Case {
    models::ConvTranspose2dOptions options;
    std::int64_t batch, height, width;
  };
  auto deconv = [](std::int64_t cin, std::int64_t cout, std::array<std::int64_t, 2> k,
                   std::array<std::int64_t, 2> s, std::array<std::int64_t, 2> p,
                   std::array<std::int64_t, 2> op, std::int64_t d, std::int64_t g, bool bias) {
    models::ConvTranspose2dOptions o;
    o.in_channels = cin;
    o.out_channels = cout;
    o.kernel = k;
    o.stride = s;
    o.padding = p;
    o.output_padding = op;
    o.dilation = {d, d};
    o.groups = g;
    o.bias = bias;
    return o;
  };
  // T = H W input positions; the ghost engine takes the Gram form when
  // T^2 < (C_in/G) (C_out/G) kh kw and materialises otherwise (check_rules tests both).
  const std::vector<Case> cases = {
      {deconv(4, 6, {3, 3}, {2, 2}, {1, 1}, {1, 1}, 1, 2, true), 3, 5,
       4},  // s2, op1, groups 2 (materialised)
      {deconv(8, 8, {3, 3}, {2, 2}, {0, 0}, {1, 1}, 1, 1, true), 2, 3, 3},  // Gram: 81 < 576
      {deconv(4, 4, {3, 3}, {1, 1}, {2, 2}, {1, 1}, 2, 2, true), 2, 5,
       5},  // dilation 2, op >= stride
      {deconv(3, 5, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1, 1, true), 1, 4, 3},  // 1x1 kernel, batch 1
      {deconv(2, 3, {2, 2}, {3, 3}, {0, 0}, {2, 2}, 1, 1, false), 3, 3,
       2},  // stride > kernel, no bias
      {deconv(4, 4, {3, 3}, {2, 2}, {1, 1}, {0, 0}, 1, 4, true), 2, 4, 4},  // depthwise
      {deconv(2, 4, {2, 3}, {2, 1}, {1, 0}, {1, 0}, 1, 2, true), 2, 3, 5},  // non-square
  };
  for (const auto& c : cases) {
    models::ConvTranspose2d layer(c.options);
    auto pre = conv1x1(2, c.options.in_channels);
    INFO("case " << layer->describe() << " batch " << c.batch << " input " << c.height << "x"
                 << c.width);
    check_model(
        {pre.ptr(), layer.ptr()},
        [pre, layer](const torch::Tensor& x) mutable { return layer->forward(pre->forward(x)); },
        torch::randn({c.batch, 2, c.height, c.width}, torch::kFloat64));
  }
}

TEST_CASE("Norm layers equal LibTorch's fused ops, constructors validate", "[engines]") {
  torch::manual_seed(15);
  torch::NoGradGuard no_grad;
  models::GroupNorm gn(models::GroupNormOptions{2, 6, 1e-3, true});
  gn->affine->weight.copy_(torch::randn({6}));
  gn->affine->bias.copy_(torch::randn({6}));
  const auto x = torch::randn({3, 6, 4, 5});
  require_close(gn->forward(x), torch::group_norm(x, 2, gn->affine->weight, gn->affine->bias, 1e-3),
                1e-5);

  models::LayerNorm ln(models::LayerNormOptions{{4, 5}, 1e-3, true, true});
  ln->affine->weight.copy_(torch::randn({4, 5}));
  ln->affine->bias.copy_(torch::randn({4, 5}));
  require_close(ln->forward(x),
                torch::layer_norm(x, {4, 5}, ln->affine->weight, ln->affine->bias, 1e-3), 1e-5);

  REQUIRE_THROWS(models::GroupNorm(models::GroupNormOptions{4, 6, 1e-5, true}));
  REQUIRE_THROWS(models::LayerNorm(models::LayerNormOptions{{}, 1e-5, true, true}));
  REQUIRE_THROWS(models::Embedding(0, 3));
  REQUIRE_THROWS(models::Embedding(4, 3)->forward(torch::zeros({2, 2})));
  models::ConvTranspose2dOptions bad;
  bad.stride = {2, 2};
  bad.output_padding = {2, 0};
  REQUIRE_THROWS(models::ConvTranspose2d(bad));
  bad.dilation = {3, 3};
  REQUIRE_NOTHROW(models::ConvTranspose2d(bad));
  // Parameters are named like PyTorch's modules' (under the affine for the norms).
  auto params = gn->named_parameters();
  REQUIRE(params.contains("affine.weight"));
  REQUIRE(params.contains("affine.bias"));
}

TEST_CASE("Cost rule: TF-CNN conv1 materialises, conv2 takes the Gram form", "[engines]") {
  models::TfCnn model(models::Activation::kTanh, 1, 10);
  const auto pm = privacy::inspect_model(model);
  REQUIRE(pm.layer_names.at(0) == "conv1");
  REQUIRE(pm.layer_names.at(1) == "conv2");
  const auto& rule = privacy::rule_for(models::LayerKind::kConv2d);
  // conv1: T = 196, T^2 = 38416 >= p d = 16 * 64; conv2: T = 25, T^2 = 625 < p d = 32 * 256.
  REQUIRE(rule.materializing_is_cheaper(*pm.layers[0], torch::zeros({2, 1, 28, 28}),
                                        torch::zeros({2, 16, 14, 14})));
  REQUIRE_FALSE(rule.materializing_is_cheaper(*pm.layers[1], torch::zeros({2, 16, 13, 13}),
                                              torch::zeros({2, 32, 5, 5})));
}
