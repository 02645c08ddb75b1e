// The small segmentation models of the private OCT recipe (issue 18): U-Nets with
// depthwise-separable blocks, and the per-pixel head on the fixed filter bank.
// Exact parameter counts, the filter bank's properties (per example, no
// parameters, the numbers of known inputs), and every engine against the
// per-example loop in float64.
#include <cmath>
#include <string>

#include <catch2/catch.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/models/objectives/cross_entropy_dice_objective.hpp"
#include "dpsgd/models/zoo/filter_bank.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/util/autocast.hpp"
#include "tests/helpers/config_text.hpp"
#include "tests/helpers/engine_checks.hpp"

using namespace dpsgd;

namespace {

std::int64_t parameter_count(models::Model& model) {
  std::int64_t total = 0;
  for (const auto& p : model.parameters()) total += p.numel();
  return total;
}

models::ModelOptions segmentation_options() {
  models::ModelOptions o;
  o.in_channels = 1;
  o.num_classes = 9;
  o.base_filters = 4;
  o.norm_groups = 2;
  return o;
}

}  // namespace

TEST_CASE("unet with separable blocks: exact parameter count, same output shape",
          "[models][segmentation]") {
  // base 4, GN groups 2, 1 input channel, 9 classes. A separable block(i -> o) has
  // dw(i) 9 i + pw(i -> o) i o + GN(o) 2 o + dw(o) 9 o + pw(o -> o) o^2 + GN(o) 2 o.
  auto block = [](std::int64_t i, std::int64_t o) { return 9 * i + i * o + 4 * o + 9 * o + o * o; };
  // Transposed conv(i -> o, 2x2) with bias: 4 i o + o; head conv1x1(4 -> 9): 45.
  auto up = [](std::int64_t i, std::int64_t o) { return 4 * i * o + o; };
  const std::int64_t expected = block(1, 4) + block(4, 8) + block(8, 16) + block(16, 32) +
                                block(32, 64) + up(64, 32) + block(64, 32) + up(32, 16) +
                                block(32, 16) + up(16, 8) + block(16, 8) + up(8, 4) + block(8, 4) +
                                45;
  auto o = segmentation_options();
  o.block = models::BlockKind::kSeparable;
  auto separable = models::model_registry().get("unet")(o);
  REQUIRE(parameter_count(*separable) == expected);
  auto standard = models::model_registry().get("unet")(segmentation_options());
  REQUIRE(parameter_count(*standard) > 4 * expected);  // 122061: the point of the block
  const auto x = torch::randn({2, 1, 32, 32});
  REQUIRE(separable->forward(x).sizes() == torch::IntArrayRef{2, 9, 32, 32});
  auto nested = models::model_registry().get("nested_unet")(o);
  REQUIRE(nested->forward(x).sizes() == torch::IntArrayRef{2, 9, 32, 32});
}

TEST_CASE("filter bank: per-example, parameter-free features with known responses",
          "[models][segmentation]") {
  const std::vector<double> scales{1.0, 2.0, 4.0};
  REQUIRE(models::filter_bank_channels(1, scales.size()) == 14);
  torch::manual_seed(4);
  const auto x = torch::randn({3, 1, 20, 24}, torch::kFloat64);
  const auto f = models::filter_bank_features(x, scales);
  REQUIRE(f.sizes() == torch::IntArrayRef{3, 14, 20, 24});
  REQUIRE_FALSE(f.requires_grad());
  // Per example: an image's features do not depend on the rest of the batch
  // (anything else would break per-example gradients and the DP sensitivity).
  const auto alone = models::filter_bank_features(x.narrow(0, 1, 1), scales);
  REQUIRE(torch::allclose(alone, f.narrow(0, 1, 1), 1e-12, 1e-12));
  // Every filtered channel is standardised per image: mean 0, variance 1.
  const auto filtered = f.narrow(1, 0, 13);
  REQUIRE(filtered.mean({2, 3}).abs().max().item<double>() < 1e-9);
  // (1 up to the 1e-6 guard added to the standard deviation)
  REQUIRE((filtered.var({2, 3}, false) - 1.0).abs().max().item<double>() < 1e-3);
  // The last channel is the row coordinate, -1 at the top to 1 at the bottom.
  REQUIRE(f[0][13][0][5].item<double>() == Approx(-1.0));
  REQUIRE(f[2][13][19][0].item<double>() == Approx(1.0));
  // A vertical ramp: the smoothed image away from the borders is the ramp (the
  // Gaussian is symmetric and normalised), so the row derivative is constant
  // there and the column derivative zero.
  const auto ramp = torch::arange(40, torch::kFloat64).view({1, 1, 40, 1}).expand({1, 1, 40, 30});
  const auto r = models::filter_bank_features(ramp.contiguous(), {2.0});
  const auto dy = r[0][2].narrow(0, 8, 24).narrow(1, 8, 14);
  REQUIRE((dy - dy.mean()).abs().max().item<double>() < 1e-9);
  // conv2d correlates with (0.5, 0, -0.5): the channel is -d/dy, negative inside
  // (the borders, flattened by the padding, lift the mean above it).
  REQUIRE(dy.mean().item<double>() < 0.0);
  REQUIRE(r[0][3].abs().max().item<double>() < 1e-9);
  // ... and its second row derivative is constant (zero before standardising) there.
  const auto dyy = r[0][4].narrow(0, 8, 24).narrow(1, 8, 14);
  REQUIRE((dyy - dyy.mean()).abs().max().item<double>() < 1e-6);
  REQUIRE_THROWS_AS(models::filter_bank_features(x, {0.0}), std::invalid_argument);
  // Under bf16 autocast the bank still computes in the input's dtype (differences of
  // smoothed values are below bfloat16's resolution at large scales).
  const auto x32 = x.to(torch::kFloat32);
  const auto reference = models::filter_bank_features(x32, scales);
  {
    const util::AutocastScope bf16(util::Precision::kBf16, torch::kCPU);
    const auto under = models::filter_bank_features(x32, scales);
    REQUIRE(under.scalar_type() == torch::kFloat32);
    REQUIRE(torch::equal(under, reference));
  }
}

TEST_CASE("filter_bank_head: only the head is trained, B x classes x H x W logits",
          "[models][segmentation]") {
  auto o = segmentation_options();
  o.scales = {1.0, 4.0};
  o.hidden = {16};
  auto model = models::model_registry().get("filter_bank_head")(o);
  // 1 * (1 + 4 * 2) + 1 = 10 feature channels; (10 * 16 + 16) + (16 * 9 + 9).
  REQUIRE(parameter_count(*model) == 176 + 153);
  const auto x = torch::randn({2, 1, 24, 20});
  REQUIRE(model->forward(x).sizes() == torch::IntArrayRef{2, 9, 24, 20});
  o.hidden.clear();  // linear per-pixel head
  REQUIRE(parameter_count(*models::model_registry().get("filter_bank_head")(o)) == 10 * 9 + 9);
  o.scales.clear();
  REQUIRE_THROWS_AS(models::model_registry().get("filter_bank_head")(o), std::invalid_argument);
}

TEST_CASE("separable U-Nets and the filter-bank head: engines equal the per-example loop",
          "[models][segmentation][engines]") {
  torch::manual_seed(6);
  // 18 x 18 is odd below 16, so the U-Nets' size matching is exercised too.
  const auto x = torch::randn({3, 1, 18, 18}, torch::kFloat64);
  const auto y = torch::randint(0, 3, {3, 18, 18}, torch::kInt64);
  for (const std::string name : {"unet", "nested_unet", "filter_bank_head"}) {
    INFO("model " << name);
    auto o = segmentation_options();
    o.num_classes = 3;
    o.block = models::BlockKind::kSeparable;
    o.hidden = {8, 4};
    o.scales = {1.0, 3.0};
    auto model = models::model_registry().get(name)(o);
    model->to(torch::kFloat64);
    const models::CrossEntropyDiceObjective objective({3, 1.0, 1.0, 1.0, {1, 2}});
    test::check_engines_against_loop(*model, x, y, &objective);
  }
}

TEST_CASE("segmentation model keys: block and scales parse, round-trip and are refused elsewhere",
          "[config][segmentation]") {
  const std::string base = std::string("\n") + test::kMinimalConfig;
  const auto c = config::parse_experiment_config(
      base, "c.yaml",
      {"model.name=unet", "model.block=separable", "model.base_filters=4", "model.norm_groups=2"});
  REQUIRE(c.model.options.block == models::BlockKind::kSeparable);
  const auto back = config::parse_experiment_config(
      config::json_to_yaml(config::run_config_json(c, 1.0)), "config.yaml");
  REQUIRE(back.model.options.block == models::BlockKind::kSeparable);
  const auto h = config::parse_experiment_config(
      base, "c.yaml", {"model.name=filter_bank_head", "model.scales=[1, 2.5]"});
  REQUIRE(h.model.options.scales == std::vector<double>{1.0, 2.5});
  REQUIRE(h.model.options.hidden == std::vector<std::int64_t>{32});  // the head's default
  const auto h2 = config::parse_experiment_config(
      config::json_to_yaml(config::run_config_json(h, 1.0)), "config.yaml");
  REQUIRE(h2.model.options.scales == h.model.options.scales);
  REQUIRE(h2.model.options.hidden == h.model.options.hidden);
  for (const std::vector<std::int64_t>& widths :
       {std::vector<std::int64_t>{8, 4}, std::vector<std::int64_t>{}}) {
    std::string list = "[";
    for (std::size_t i = 0; i < widths.size(); ++i)
      list += (i ? ", " : "") + std::to_string(widths[i]);
    const auto w = config::parse_experiment_config(
        base, "c.yaml", {"model.name=filter_bank_head", "model.hidden=" + list + "]"});
    REQUIRE(w.model.options.hidden == widths);
    const auto again = config::parse_experiment_config(
        config::json_to_yaml(config::run_config_json(w, 1.0)), "config.yaml");
    REQUIRE(again.model.options.hidden == widths);  // not the default [32]
  }
  const auto plain = config::parse_experiment_config(base, "c.yaml");
  REQUIRE_FALSE(config::run_config_json(plain, 1.0)["model"].contains("block"));
  auto error_of = [&](const std::vector<std::string>& sets) {
    return test::user_error_of(
        [&] { (void)config::parse_experiment_config(base, "c.yaml", sets); });
  };
  CHECK_THAT(error_of({"model.name=unet", "model.block=dense"}),
             Catch::Contains("model.block") && Catch::Contains("standard or separable"));
  CHECK_THAT(error_of({"model.block=separable"}), Catch::Contains("model.block"));
  CHECK_THAT(error_of({"model.name=filter_bank_head", "model.scales=[1, -2]"}),
             Catch::Contains("model.scales"));
  CHECK_THAT(error_of({"model.name=filter_bank_head", "model.scales=[]"}),
             Catch::Contains("model.scales"));
  CHECK_THAT(error_of({"model.name=unet", "model.scales=[1]"}), Catch::Contains("model.scales"));
}
