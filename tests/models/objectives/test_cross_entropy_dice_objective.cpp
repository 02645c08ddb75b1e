// Dice on known small masks (absent classes included), the cross-entropy + soft
// Dice loss against a hand computation, and its per-example independence.
#include <cmath>

#include <catch2/catch.hpp>

#include "dpsgd/models/objectives/cross_entropy_dice_objective.hpp"
#include "dpsgd/models/objectives/dice.hpp"
#include "dpsgd/models/zoo/nested_unet.hpp"
#include "dpsgd/models/zoo/unet.hpp"

using namespace dpsgd;

namespace {

// Logits that make `labels` (B x H x W) the argmax with a margin.
torch::Tensor logits_for(const torch::Tensor& labels, std::int64_t k) {
  return torch::one_hot(labels, k).movedim(-1, 1).to(torch::kFloat64) * 10.0;
}

}  // namespace

TEST_CASE("Dice of known masks, with classes absent from both left out", "[dice]") {
  // Truth:      Prediction:
  //  0 0 1       0 1 1
  //  2 2 1       2 0 1
  const auto truth = torch::tensor({0, 0, 1, 2, 2, 1}, torch::kLong).view({1, 2, 3});
  const auto pred = torch::tensor({0, 1, 1, 2, 0, 1}, torch::kLong).view({1, 2, 3});
  const auto confusion = models::confusion_matrices(pred, truth, 4);
  REQUIRE(confusion.sum().item<std::int64_t>() == 6);
  const auto d = models::dice_per_class(confusion);
  // class 0: |P|=2 |T|=2 inter 1 -> 0.5; class 1: |P|=3 |T|=2 inter 2 -> 0.8;
  // class 2: |P|=1 |T|=2 inter 1 -> 2/3; class 3: absent from both -> NaN.
  REQUIRE(d[0][0].item<double>() == Approx(0.5));
  REQUIRE(d[0][1].item<double>() == Approx(0.8));
  REQUIRE(d[0][2].item<double>() == Approx(2.0 / 3.0));
  REQUIRE(std::isnan(d[0][3].item<double>()));
  // Mean over {1, 2, 3}: class 3 is skipped, not counted as 0 or 1.
  REQUIRE(models::mean_dice(d, {1, 2, 3})[0].item<double>() == Approx((0.8 + 2.0 / 3.0) / 2));
  // Every listed class absent from both: nothing to find, nothing found.
  REQUIRE(models::mean_dice(d, {3})[0].item<double>() == Approx(1.0));
  // A class predicted but absent from the truth scores 0.
  const auto wrong = models::dice_per_class(models::confusion_matrices(
      torch::full({1, 2, 2}, 3, torch::kLong), torch::zeros({1, 2, 2}, torch::kLong), 4));
  REQUIRE(wrong[0][3].item<double>() == Approx(0.0));
  REQUIRE(wrong[0][0].item<double>() == Approx(0.0));
}

TEST_CASE("Segmentation evaluation: per-class Dice, Dice over score classes, pixel accuracy",
          "[dice]") {
  models::CrossEntropyDiceObjective objective({4, 1.0, 1.0, 1.0, {1, 2}});
  const auto truth =
      torch::tensor({0, 0, 1, 2, 2, 1, 0, 0, 0, 0, 0, 3}, torch::kLong).view({2, 2, 3});
  const auto pred =
      torch::tensor({0, 1, 1, 2, 0, 1, 0, 0, 0, 0, 0, 3}, torch::kLong).view({2, 2, 3});
  auto acc = objective.make_accumulator();
  acc->add(logits_for(pred, 4), truth);
  const auto s = acc->scalars();
  // Example 1: classes 1, 2 -> (0.8 + 2/3) / 2. Example 2: classes 1, 2 absent from
  // both -> 1. Mean over the two examples.
  REQUIRE(s.at("dice") == Approx(((0.8 + 2.0 / 3.0) / 2 + 1.0) / 2));
  REQUIRE(s.at("pixel_accuracy") == Approx(10.0 / 12.0));
  // All classes: example 1 mean of {0.5, 0.8, 2/3} (3 absent); example 2 {1, 1}.
  REQUIRE(s.at("dice_all") == Approx(((0.5 + 0.8 + 2.0 / 3.0) / 3 + 1.0) / 2));
  const auto per_class = acc->vectors().at("dice_per_class");
  REQUIRE(per_class[0] == Approx((0.5 + 1.0) / 2));
  REQUIRE(per_class[1] == Approx(0.8));  // defined in example 1 only
  REQUIRE(per_class[3] == Approx(1.0));  // defined in example 2 only
  // The per-step score agrees with the evaluation's Dice, example by example.
  const auto score = objective.per_example_score(logits_for(pred, 4), truth);
  REQUIRE(score[0].item<double>() == Approx((0.8 + 2.0 / 3.0) / 2));
  REQUIRE(score[1].item<double>() == Approx(1.0));
}

TEST_CASE("CE + soft Dice loss: the formula, per example, on logits", "[dice]") {
  torch::manual_seed(1);
  const auto z = torch::randn({3, 4, 5, 6}, torch::kFloat64);
  const auto y = torch::randint(0, 4, {3, 5, 6}, torch::kLong);
  models::CrossEntropyDiceObjective objective({4, 1.0, 1.0, 1.0, {}});
  const auto loss = objective.per_example_loss(z, y);
  REQUIRE(loss.sizes() == torch::IntArrayRef({3}));
  for (std::int64_t i = 0; i < 3; ++i) {
    // Hand computation for example i, pixel by pixel.
    const auto p = torch::softmax(z[i], 0);  // 4 x 5 x 6
    double ce = 0.0;
    std::vector<double> inter(4, 0.0), psum(4, 0.0), tsum(4, 0.0);
    for (int r = 0; r < 5; ++r) {
      for (int c = 0; c < 6; ++c) {
        const auto t = y[i][r][c].item<std::int64_t>();
        ce -= std::log(p[t][r][c].item<double>());
        for (int k = 0; k < 4; ++k) {
          psum[k] += p[k][r][c].item<double>();
          if (k == t) {
            inter[k] += p[k][r][c].item<double>();
            tsum[k] += 1.0;
          }
        }
      }
    }
    double dice = 0.0;
    for (int k = 0; k < 4; ++k) dice += (2 * inter[k] + 1.0) / (psum[k] + tsum[k] + 1.0);
    const double expected = ce / 30.0 + (1.0 - dice / 4.0);
    REQUIRE(loss[i].item<double>() == Approx(expected).epsilon(1e-12));
  }
  // Example 0's loss does not depend on example 1's logits (per-example losses).
  auto z2 = z.clone();
  z2[1] += torch::randn({4, 5, 6}, torch::kFloat64);
  REQUIRE(objective.per_example_loss(z2, y)[0].item<double>() == loss[0].item<double>());
}

TEST_CASE("U-Net and Nested U-Net: logits of the input size, study widths", "[unet]") {
  models::ModelOptions o;
  o.num_classes = 9;
  o.base_filters = 4;
  o.norm_groups = 2;
  for (std::int64_t size : {32, 37}) {
    models::UNet unet(o);
    models::NestedUNet nested(o);
    const auto x = torch::randn({2, 1, size, size});
    REQUIRE(unet.forward(x).sizes() == torch::IntArrayRef({2, 9, size, size}));
    REQUIRE(nested.forward(x).sizes() == torch::IntArrayRef({2, 9, size, size}));
  }
  // The study's widths: U-Net 32-64-128-256 + 512 bottleneck, ~7.8M parameters;
  // UNet++ filters 32..512, ~9.2M parameters (GroupNorm affines instead of
  // BatchNorm; convolutions before a norm have no bias).
  models::ModelOptions study;
  study.num_classes = 9;
  auto count = [](torch::nn::Module& m) {
    std::int64_t n = 0;
    for (const auto& p : m.parameters()) n += p.numel();
    return n;
  };
  models::UNet unet(study);
  models::NestedUNet nested(study);
  REQUIRE(count(unet) > 7'000'000);
  REQUIRE(count(unet) < 8'500'000);
  REQUIRE(count(nested) > 8'500'000);
  REQUIRE(count(nested) < 10'000'000);
}
