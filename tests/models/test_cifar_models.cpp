// The CIFAR model zoo (issue 17): Wide-ResNet (De et al. 2022's private form),
// ResNet-20 with GroupNorm, the MLP and logistic regression. Shapes, exact
// parameter counts (the PyTorch twin of the Opacus benchmark must match them),
// the privacy layer's acceptance, and every per-example engine against the
// per-example loop in float64.
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/models/layers/layer_tap.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "tests/helpers/engine_checks.hpp"
#include "tests/helpers/private_step.hpp"
#include "tests/helpers/rule_checks.hpp"

using namespace dpsgd;

namespace {

models::ModelPtr make(const std::string& name, const models::ModelOptions& options) {
  return models::model_registry().get(name)(options);
}

std::int64_t parameter_count(models::Model& model) {
  std::int64_t total = 0;
  for (const auto& p : model.parameters()) total += p.numel();
  return total;
}

// CIFAR-10: 3 x 32 x 32 images, 10 classes; the defaults give WRN-16-4.
models::ModelOptions cifar_options() {
  models::ModelOptions o;
  o.in_channels = 3;
  o.num_classes = 10;
  o.image_size = 32;
  o.in_features = 3 * 32 * 32;
  return o;
}

std::int64_t count_kind(const privacy::PrivateModel& pm, models::LayerKind kind) {
  std::int64_t n = 0;
  for (const auto* layer : pm.layers) n += layer->kind() == kind ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("wide_resnet: WRN-16-4 gives B x classes logits at 32 x 32 and 2751146 parameters",
          "[models][cifar]") {
  // WRN-16-4, 3 input channels, 10 classes: n = (16 - 4) / 6 = 2 blocks per stage,
  // widths 64, 128, 256; conv(i -> o, k) has i o k^2 + o parameters, GN(c) 2 c.
  //   stem conv(3 -> 16, 3)                                               448
  //   stage1 block1: GN(16) 32 + conv(16->64,3) 9280 + GN(64) 128
  //                  + conv(64->64,3) 36928 + shortcut conv(16->64,1) 1088   47456
  //          block2: GN(64) 128 + 36928 + GN(64) 128 + 36928                74112
  //   stage2 block1: GN(64) 128 + conv(64->128,3) 73856 + GN(128) 256
  //                  + conv(128->128,3) 147584 + shortcut(64->128,1) 8320   230144
  //          block2: 256 + 147584 + 256 + 147584                           295680
  //   stage3 block1: GN(128) 256 + conv(128->256,3) 295168 + GN(256) 512
  //                  + conv(256->256,3) 590080 + shortcut(128->256,1) 33024 919040
  //          block2: 512 + 590080 + 512 + 590080                          1181184
  //   final GN(256)                                                          512
  //   fc Linear(256 -> 10)                                                  2570
  //   total                                                              2751146
  // (Zagoruyko & Komodakis 2016 report 2.7M for WRN-16-4.) Standardisation
  // reparametrises the weights, so both forms have the same count.
  for (const bool ws : {true, false}) {
    torch::manual_seed(1);
    auto o = cifar_options();
    o.weight_standardisation = ws;
    auto model = make("wide_resnet", o);
    INFO("weight_standardisation " << ws);
    REQUIRE(parameter_count(*model) == 2751146);
    const auto x = torch::randn({2, 3, 32, 32});
    REQUIRE(model->forward(x).sizes() == torch::IntArrayRef{2, 10});
    REQUIRE(model->penultimate(x).sizes() == torch::IntArrayRef{2, 256});
    const auto params = model->named_parameters();
    for (const std::string name :
         {"stem.weight", "stage1.block1.norm1.affine.weight", "stage1.block1.conv1.weight",
          "stage1.block1.shortcut.bias", "stage3.block2.conv2.weight", "final_norm.affine.bias",
          "fc.weight"}) {
      INFO("parameter " << name);
      REQUIRE(params.contains(name));
    }
    REQUIRE_FALSE(params.contains("stage1.block2.shortcut.weight"));  // identity shortcut
  }
}

TEST_CASE("resnet20: 273258 parameters and B x classes logits", "[models][cifar]") {
  // ResNet-20, 3 input channels, 10 classes, GN(c) 2 c, conv(i -> o, k) i o k^2 + o:
  //   stem conv(3 -> 16, 3) 448 + GN(16) 32                                  480
  //   stage1 3 x [conv(16->16,3) 2320 + GN 32 + 2320 + GN 32]      3 x 4704 = 14112
  //   stage2 block1: conv(16->32,3) 4640 + GN(32) 64 + conv(32->32,3) 9248
  //                  + GN 64 + shortcut conv(16->32,1) 544 + GN 64          14624
  //          2 x [9248 + 64 + 9248 + 64]                          2 x 18624 = 37248
  //   stage3 block1: conv(32->64,3) 18496 + GN(64) 128 + conv(64->64,3) 36928
  //                  + GN 128 + shortcut conv(32->64,1) 2112 + GN 128       57920
  //          2 x [36928 + 128 + 36928 + 128]                      2 x 74112 = 148224
  //   fc Linear(64 -> 10)                                                    650
  //   total                                                               273258
  // (He et al. 2016 report 0.27M.)
  for (const bool ws : {true, false}) {
    torch::manual_seed(2);
    auto o = cifar_options();
    o.weight_standardisation = ws;
    auto model = make("resnet20", o);
    INFO("weight_standardisation " << ws);
    REQUIRE(parameter_count(*model) == 273258);
    const auto x = torch::randn({3, 3, 32, 32});
    REQUIRE(model->forward(x).sizes() == torch::IntArrayRef{3, 10});
    REQUIRE(model->penultimate(x).sizes() == torch::IntArrayRef{3, 64});
  }
}

TEST_CASE("mlp and logistic_regression: B x classes logits on flattened images",
          "[models][cifar]") {
  torch::manual_seed(3);
  auto o = cifar_options();
  const auto x = torch::randn({5, 3, 32, 32});
  o.hidden = {64, 32};
  auto mlp = make("mlp", o);
  REQUIRE(mlp->forward(x).sizes() == torch::IntArrayRef{5, 10});
  REQUIRE(mlp->penultimate(x).sizes() == torch::IntArrayRef{5, 32});
  // (3072 * 64 + 64) + (64 * 32 + 32) + (32 * 10 + 10)
  REQUIRE(parameter_count(*mlp) == 196672 + 2080 + 330);
  o.hidden.clear();  // no hidden layer: a linear model
  auto flat = make("mlp", o);
  REQUIRE(flat->forward(x).sizes() == torch::IntArrayRef{5, 10});
  REQUIRE(parameter_count(*flat) == 3072 * 10 + 10);

  o.zero_init = true;
  auto logistic = make("logistic_regression", o);
  REQUIRE(parameter_count(*logistic) == 3072 * 10 + 10);
  const auto logits = logistic->forward(x);
  REQUIRE(logits.sizes() == torch::IntArrayRef{5, 10});
  REQUIRE(logits.abs().max().item<double>() == 0.0);  // model.zero_init honoured
  REQUIRE_THAT(models::model_registry().description("logistic_regression"),
               Catch::Contains("linear"));
}

TEST_CASE("CIFAR models refuse invalid depth, width, norm_groups and hidden widths",
          "[models][cifar]") {
  auto o = cifar_options();
  auto with = [&](auto&& change) {
    auto copy = o;
    change(copy);
    return copy;
  };
  const auto depth15 = with([](auto& c) { c.depth = 15; });
  REQUIRE_THROWS_AS(make("wide_resnet", depth15), std::invalid_argument);
  REQUIRE_THROWS_WITH(make("wide_resnet", depth15), Catch::Contains("depth"));
  REQUIRE_THROWS_WITH(make("wide_resnet", with([](auto& c) { c.depth = 4; })),
                      Catch::Contains("depth"));
  REQUIRE_THROWS_WITH(make("wide_resnet", with([](auto& c) { c.width = 0; })),
                      Catch::Contains("width"));
  const auto groups3 = with([](auto& c) { c.norm_groups = 3; });
  for (const std::string name : {"wide_resnet", "resnet20"}) {
    INFO("model " << name);
    REQUIRE_THROWS_AS(make(name, groups3), std::invalid_argument);
    REQUIRE_THROWS_WITH(make(name, groups3), Catch::Contains("norm_groups"));
  }
  const auto hidden0 = with([](auto& c) { c.hidden = {16, 0}; });
  REQUIRE_THROWS_AS(make("mlp", hidden0), std::invalid_argument);
  REQUIRE_THROWS_WITH(make("mlp", hidden0), Catch::Contains("hidden"));
}

TEST_CASE("inspect_model accepts every CIFAR model with all trainable layers tapped",
          "[models][cifar][privacy]") {
  struct Case {
    std::string name;
    bool ws;
    std::int64_t convs;    // WRN-16-4: stem + 12 + 3 shortcuts; ResNet-20: stem + 18 + 2
    std::int64_t affines;  // GroupNorms: WRN 2 per block + final; ResNet-20 stem + 18 + 2
    std::int64_t linears;
  };
  const std::vector<Case> cases = {
      {"wide_resnet", true, 16, 13, 1}, {"wide_resnet", false, 16, 13, 1},
      {"resnet20", true, 21, 21, 1},    {"resnet20", false, 21, 21, 1},
      {"mlp", false, 0, 0, 3},          {"logistic_regression", false, 0, 0, 1},
  };
  for (const auto& c : cases) {
    INFO("model " << c.name << " weight_standardisation " << c.ws);
    auto o = cifar_options();
    o.weight_standardisation = c.ws;
    auto model = make(c.name, o);
    // Throws for BatchNorm or any trainable parameter outside a tapped layer.
    const auto pm = privacy::inspect_model(*model);
    REQUIRE(pm.params.size() == model->parameters().size());
    std::int64_t tapped = 0;
    for (const auto& p : pm.params) tapped += p.numel();
    REQUIRE(tapped == parameter_count(*model));
    REQUIRE(count_kind(pm, models::LayerKind::kWsConv2d) == (c.ws ? c.convs : 0));
    REQUIRE(count_kind(pm, models::LayerKind::kConv2d) == (c.ws ? 0 : c.convs));
    REQUIRE(count_kind(pm, models::LayerKind::kChannelAffine) == c.affines);
    REQUIRE(count_kind(pm, models::LayerKind::kLinear) == c.linears);
  }
}

TEST_CASE("CIFAR models: every engine equals the per-example loop (float64, all clipped)",
          "[models][cifar][engines]") {
  struct Case {
    std::string name;
    bool ws;
    std::int64_t groups;
  };
  // Tiny WRN-10-1 (one block per stage, widths 16, 32, 64) and ResNet-20 on
  // 8 x 8 inputs (2 x 2 in the last stage), both with and without standardisation.
  const std::vector<Case> cases = {
      {"wide_resnet", true, 4}, {"wide_resnet", false, 2}, {"wide_resnet", true, 2},
      {"resnet20", true, 4},    {"resnet20", false, 2},    {"mlp", false, 1},
  };
  for (const auto& c : cases) {
    INFO("model " << c.name << " weight_standardisation " << c.ws << " groups " << c.groups);
    torch::manual_seed(17);
    models::ModelOptions o;
    o.in_channels = 3;
    o.num_classes = 3;
    o.image_size = 8;
    o.in_features = 3 * 8 * 8;
    o.depth = 10;
    o.width = 1;
    o.norm_groups = c.groups;
    o.weight_standardisation = c.ws;
    o.hidden = {12, 7};
    auto model = make(c.name, o);
    model->to(torch::kDouble);
    const auto x = torch::randn({4, 3, 8, 8}, torch::kDouble);
    const auto y = torch::randint(0, 3, {4}, torch::kInt64);
    test::check_engines_against_loop(*model, x, y);
    test::check_rules(*model, x, y);  // every layer's rule alone, against autograd
  }
}
