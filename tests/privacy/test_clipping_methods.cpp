// Every clipping mode against a reference computed here from explicit
// per-example gradients (plain autograd, one example at a time), for every
// engine that supports the mode; sensitivity on adversarial neighbours; the
// stateful methods' own properties (sparsification masks, adaptive threshold);
// microbatches; secure noise.
#include <algorithm>
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/adaptive_clipper.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "tests/helpers/private_step.hpp"
#include "dpsgd/privacy/clipping/random_sparsification.hpp"
#include "dpsgd/privacy/secure_random.hpp"

using namespace dpsgd;
using Grads = std::vector<torch::Tensor>;

namespace {

models::ModelPtr small_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  auto model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  model->to(torch::kFloat64);
  return model;
}

struct Batch {
  torch::Tensor x;
  torch::Tensor y;
};

Batch random_batch(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::rand({n, 1, 28, 28}, torch::kFloat64) * 2.0,
          torch::randint(0, 10, {n}, torch::kInt64)};
}

// One plain-autograd gradient per example (no taps, no engines).
std::vector<Grads> explicit_grads(models::Model& model, const privacy::PrivateModel& pm,
                                  const Batch& b) {
  models::CrossEntropyObjective objective;
  std::vector<Grads> out;
  for (std::int64_t i = 0; i < b.x.size(0); ++i) {
    const auto loss =
        objective.per_example_loss(model.forward(b.x.narrow(0, i, 1)), b.y.narrow(0, i, 1)).sum();
    auto g = torch::autograd::grad({loss}, pm.params);
    for (auto& t : g) t = t.detach();
    out.push_back(g);
  }
  return out;
}

double sq_norm(const Grads& g, const std::vector<std::size_t>& which) {
  double s = 0.0;
  for (auto k : which) s += g[k].pow(2).sum().item<double>();
  return s;
}

std::vector<std::size_t> all_params(const privacy::PrivateModel& pm) {
  std::vector<std::size_t> v(pm.num_params());
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = k;
  return v;
}

std::vector<std::vector<std::size_t>> layer_params(const privacy::PrivateModel& pm) {
  std::vector<std::vector<std::size_t>> v(pm.layers.size());
  for (std::size_t k = 0; k < pm.num_params(); ++k) v[pm.param_layer[k]].push_back(k);
  return v;
}

enum class Rule { kClip, kAutoS, kAutoV };

// sum_i of per-example gradients scaled group by group by the rule: the reference.
Grads reference_sum(const privacy::PrivateModel& pm, std::vector<Grads> grads, Rule rule,
                    bool per_layer, const std::vector<double>& thresholds, double gamma,
                    const Grads* masks) {
  const auto groups =
      per_layer ? layer_params(pm) : std::vector<std::vector<std::size_t>>{all_params(pm)};
  Grads sum;
  for (const auto& p : pm.params) sum.push_back(torch::zeros_like(p));
  for (auto& g : grads) {
    if (masks != nullptr) {
      for (std::size_t k = 0; k < g.size(); ++k) g[k] = g[k] * (*masks)[k];
    }
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      const double n = std::sqrt(sq_norm(g, groups[gi]));
      const double c = thresholds[gi];
      double f = 1.0;
      if (rule == Rule::kClip) f = n > 0 ? std::min(1.0, c / n) : 1.0;
      if (rule == Rule::kAutoS) f = c / (n + gamma);
      if (rule == Rule::kAutoV) f = n > 0 ? c / n : 0.0;
      for (auto k : groups[gi]) sum[k] += f * g[k];
    }
  }
  return sum;
}

using test::make_clipper;

// The privatised gradient with sigma = 0 and expected batch size 1, i.e. the
// pre-noise clipped sum, through DpGradient (chunked, to cover chunking too).
Grads dp_sum(const privacy::PrivateModel& pm, std::shared_ptr<privacy::Clipper> clipper,
             const std::string& engine, const Batch& b, std::int64_t microbatches = 0) {
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto dp = test::make_dp(pm, objective, std::move(clipper),
                          test::dp_options(0.0, 1, 3, engine, microbatches));
  dp->compute(b.x, b.y);
  Grads out;
  for (const auto& p : pm.params) out.push_back(p.grad().detach().clone());
  return out;
}

double max_rel_error(const Grads& a, const Grads& b) {
  double worst = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double scale = std::max(1e-12, b[k].abs().max().item<double>());
    worst = std::max(worst, (a[k] - b[k]).abs().max().item<double>() / scale);
  }
  return worst;
}

double distance(const Grads& a, const Grads& b) {
  double s = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]).pow(2).sum().item<double>();
  return std::sqrt(s);
}

// Median whole-model norm of the batch, so thresholds clip about half.
double median_norm(const privacy::PrivateModel& pm, const std::vector<Grads>& grads) {
  std::vector<double> n;
  for (const auto& g : grads) n.push_back(std::sqrt(sq_norm(g, all_params(pm))));
  std::sort(n.begin(), n.end());
  return n[n.size() / 2];
}

}  // namespace

TEST_CASE("every clipping mode equals its reference from explicit per-example gradients",
          "[clipping]") {
  auto model = small_model(3);
  auto pm = privacy::inspect_model(*model);
  const auto b = random_batch(7, 4);
  const auto grads = explicit_grads(*model, pm, b);
  const double c = median_norm(pm, grads);
  const auto layers = static_cast<std::int64_t>(pm.layers.size());
  const std::vector<double> flat_c{c};
  const std::vector<double> split(static_cast<std::size_t>(layers), c / std::sqrt(layers));

  struct Case {
    std::string name;
    std::string mode;
    nlohmann::json options;
    Rule rule;
    bool per_layer;
    std::vector<double> thresholds;
  };
  const nlohmann::json base = {{"max_grad_norm", c}};
  auto with = [&](const nlohmann::json& change) {
    auto o = base;
    o.update(change);
    return o;
  };
  const std::vector<double> custom{c, 0.5 * c, 0.1 * c, 2.0 * c};
  REQUIRE(custom.size() == static_cast<std::size_t>(layers));
  std::vector<Case> cases{
      {"flat", "flat", base, Rule::kClip, false, flat_c},
      {"per_layer equal split", "per_layer", base, Rule::kClip, true, split},
      {"per_layer list", "per_layer",
       with({{"layer_max_grad_norms", custom}}), Rule::kClip, true, custom},
      {"AUTO-S flat", "automatic", base, Rule::kAutoS, false, flat_c},
      {"AUTO-V flat", "automatic", with({{"variant", "v"}}), Rule::kAutoV, false, flat_c},
      {"AUTO-S per layer", "automatic",
       with({{"per_layer", true}}), Rule::kAutoS, true, split},
      {"adaptive (first step)", "adaptive", base, Rule::kClip, false, flat_c},
  };
  for (const auto& cs : cases) {
    const auto ref = reference_sum(pm, grads, cs.rule, cs.per_layer, cs.thresholds, 0.01, nullptr);
    for (const std::string engine : {"loop", "materialize", "ghost", "auto"}) {
      INFO(cs.name << " / " << engine);
      const auto got = dp_sum(pm, make_clipper(cs.mode, cs.options, pm), engine, b);
      REQUIRE(max_rel_error(got, ref) < 1e-9);
    }
  }

  SECTION("random sparsification (flat and per-layer) under loop, materialize and auto") {
    for (bool per_layer : {false, true}) {
      auto o = with({{"per_layer", per_layer}, {"final_rate", 0.6}});
      for (const std::string engine : {"loop", "materialize", "auto"}) {
        INFO("per_layer " << per_layer << " / " << engine);
        auto clipper = make_clipper("random_sparsification", o, pm);
        clipper->begin_step(9);  // a late period: a substantial rate
        const Grads masks = *clipper->coordinate_masks();
        const auto ref = reference_sum(pm, grads, Rule::kClip, per_layer,
                                       per_layer ? split : flat_c, 0.0, &masks);
        // DpGradient begins step 0 itself: use a clipper whose step 0 is late.
        auto fresh = make_clipper("random_sparsification", o, pm);
        auto objective = std::make_shared<models::CrossEntropyObjective>();
        auto dp = test::make_dp(pm, objective, fresh, test::dp_options(0.0, 1, 3, engine));
        for (int s = 0; s < 9; ++s) dp->compute(b.x.narrow(0, 0, 1), b.y.narrow(0, 0, 1));
        dp->compute(b.x, b.y);
        Grads got;
        for (const auto& p : pm.params) got.push_back(p.grad().detach().clone());
        REQUIRE(max_rel_error(got, ref) < 1e-9);
      }
    }
    auto clipper = make_clipper("random_sparsification", base, pm);
    auto objective = std::make_shared<models::CrossEntropyObjective>();
    REQUIRE_THROWS_WITH(
        test::make_dp(pm, objective, clipper, test::dp_options(0.0, 1, 3, "ghost")),
        Catch::Contains("materialize"));
  }
}

TEST_CASE("sensitivity: one added adversarial example moves the clipped sum by at most Delta",
          "[clipping]") {
  auto model = small_model(5);
  auto pm = privacy::inspect_model(*model);
  const auto d = random_batch(6, 6);
  // The neighbour: D plus one example with a huge input and its gradient.
  torch::manual_seed(8);
  const auto z = torch::rand({1, 1, 28, 28}, torch::kFloat64) * 1e4;
  const Batch d_plus{torch::cat({d.x, z}), torch::cat({d.y, torch::tensor({3}, torch::kInt64)})};

  const nlohmann::json o = {{"max_grad_norm", 0.05}};
  const nlohmann::json per_layer_auto = {{"max_grad_norm", 0.05}, {"per_layer", true}};
  const nlohmann::json rs = {{"max_grad_norm", 0.05}, {"final_rate", 0.5}};
  struct Case {
    std::string mode;
    nlohmann::json options;
    std::string engine;
    std::int64_t microbatches;
    double delta;
  };
  const std::vector<Case> cases{
      {"flat", o, "ghost", 0, 0.05},
      {"per_layer", o, "ghost", 0, 0.05},
      {"automatic", o, "ghost", 0, 0.05},
      {"automatic", per_layer_auto, "ghost", 0, 0.05},
      {"random_sparsification", rs, "materialize", 0, 0.05},
      {"adaptive", o, "ghost", 0, 0.05},
      // One microbatch holding everything: its clipped mean moves by up to 2C.
      {"flat", o, "microbatch", 1, 0.1},
  };
  for (const auto& cs : cases) {
    INFO(cs.mode << " " << cs.options.dump() << " microbatches " << cs.microbatches);
    auto c1 = make_clipper(cs.mode, cs.options, pm);
    auto c2 = make_clipper(cs.mode, cs.options, pm);
    const double stated = c1->sensitivity() * (cs.microbatches > 0 ? 2.0 : 1.0);
    REQUIRE(stated == Approx(cs.delta));
    const double moved = distance(dp_sum(pm, c1, cs.engine, d_plus, cs.microbatches),
                                  dp_sum(pm, c2, cs.engine, d, cs.microbatches));
    REQUIRE(moved <= stated * (1 + 1e-9));
    if (cs.microbatches == 0) {
      // The huge gradient saturates the bound: the analysis is tight, not loose.
      REQUIRE(moved >= 0.9 * stated);
    }
  }
}

TEST_CASE("random sparsification: schedule, kept fraction, seeded masks, noise only on kept",
          "[clipping][sparsification]") {
  privacy::SparsificationSchedule s{0.9, 2, 5, 3};  // 2 refreshes/epoch, 5 steps/epoch, 3 epochs
  REQUIRE(s.period(0) == 0);
  REQUIRE(s.period(1) == 0);
  REQUIRE(s.period(2) == 1);  // periods of floor(5/2) = 2 steps; the leftover joins the last
  REQUIRE(s.period(4) == 1);
  REQUIRE(s.period(5) == 2);
  REQUIRE(s.period(14) == 5);
  REQUIRE(s.rate(0) == 0.0);
  REQUIRE(s.rate(5) == Approx(0.9));
  REQUIRE(s.rate(2) == Approx(0.9 * 2.0 / 5.0));

  auto model = small_model(9);
  auto pm = privacy::inspect_model(*model);
  std::int64_t d = 0;
  for (const auto& p : pm.params) d += p.numel();
  const nlohmann::json o = {{"final_rate", 0.9}};
  auto a = make_clipper("random_sparsification", o, pm);
  auto a2 = make_clipper("random_sparsification", o, pm);
  a->begin_step(11);  // facts: 4 steps/epoch, 3 epochs, refresh 1 -> period 2 of 0..2: rate 0.9
  a2->begin_step(11);
  std::int64_t kept = 0;
  for (const auto& m : *a->coordinate_masks()) kept += m.sum().item<std::int64_t>();
  REQUIRE(d - kept == static_cast<std::int64_t>(std::floor(0.9 * static_cast<double>(d))));
  for (std::size_t k = 0; k < pm.num_params(); ++k) {
    REQUIRE(torch::equal((*a->coordinate_masks())[k], (*a2->coordinate_masks())[k]));
  }
  // The next period draws a new mask (the rate at step 4 is 0.45).
  a2->begin_step(4);
  std::int64_t kept4 = 0;
  for (const auto& m : *a2->coordinate_masks()) kept4 += m.sum().item<std::int64_t>();
  REQUIRE(d - kept4 == static_cast<std::int64_t>(std::floor(0.45 * static_cast<double>(d))));

  // Noise lands only on kept coordinates: with sigma > 0 and a zero-gradient
  // batch (empty), dropped coordinates are exactly 0 and kept ones are not.
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto clipper = make_clipper("random_sparsification", o, pm);
  auto dp = test::make_dp(pm, objective, clipper, test::dp_options(1.0, 8, 0, "materialize"),
                          /*noise_seed=*/1);
  const auto empty = random_batch(0, 1);
  for (int step = 0; step < 12; ++step) dp->compute(empty.x, empty.y);  // ends in period 2
  const auto& masks = *clipper->coordinate_masks();
  for (std::size_t k = 0; k < pm.num_params(); ++k) {
    const auto g = pm.params[k].grad();
    REQUIRE(torch::all(g.masked_select(masks[k] == 0) == 0).item<bool>());
    REQUIRE(torch::all(g.masked_select(masks[k] == 1) != 0).item<bool>());
  }
}

TEST_CASE("adaptive clipping: C tracks the target quantile; noise split keeps sigma",
          "[clipping][adaptive]") {
  // sigma_g from sigma^-2 = sigma_g^-2 + (2 sigma_b)^-2.
  privacy::AdaptiveClippingOptions o{1.0, 0.5, 0.2, 1.0};
  privacy::AdaptiveClipper clipper(o, 100.0, 1.0);
  REQUIRE(clipper.gradient_noise_multiplier(1.0) == Approx(1.0 / std::sqrt(0.75)));
  REQUIRE_THROWS(privacy::AdaptiveClipper(o, 100.0, 2.0));  // 2 sigma_b = 2 = sigma

  for (double quantile : {0.3, 0.5, 0.9}) {
    privacy::AdaptiveClippingOptions q{0.01, quantile, 0.2, 0.0};  // sigma_b = 1000/20
    privacy::AdaptiveClipper ac(q, 1000.0, 1.0);
    privacy::GaussianNoise noise(5, torch::kCPU);
    auto gen = at::detail::createCPUGenerator(17);
    for (int t = 0; t < 400; ++t) {
      // Norms ~ |N(0, 4)|: the p-quantile is 2 * Phi^-1((1 + p) / 2).
      const auto norms = at::randn({1000}, gen, torch::kFloat64).abs().mul(2.0);
      ac.end_step(norms, 1000.0, 1.0, noise);
    }
    const double expected = quantile == 0.3   ? 2 * 0.38532
                            : quantile == 0.5 ? 2 * 0.67449
                                              : 2 * 1.64485;
    INFO("quantile " << quantile << " C " << ac.threshold());
    REQUIRE(ac.threshold() == Approx(expected).epsilon(0.1));
    REQUIRE(ac.log_values().front().second == ac.threshold());
  }
}

TEST_CASE("microbatches: each microbatch's mean gradient is clipped, noise for 2C",
          "[clipping][microbatches]") {
  auto model = small_model(11);
  auto pm = privacy::inspect_model(*model);
  const auto b = random_batch(6, 12);
  const auto grads = explicit_grads(*model, pm, b);
  Grads mean;
  for (std::size_t k = 0; k < pm.num_params(); ++k) {
    auto s = torch::zeros_like(pm.params[k]);
    for (const auto& g : grads) s += g[k];
    mean.push_back(s / 6.0);
  }
  const double n = std::sqrt(sq_norm(mean, all_params(pm)));
  nlohmann::json o = {{"max_grad_norm", 0.5 * n}};
  // One microbatch: the whole batch's mean, clipped (the sum of one term / m = 1).
  const auto got = dp_sum(pm, make_clipper("flat", o, pm), "microbatch", b, 1);
  Grads ref;
  for (const auto& t : mean) ref.push_back(t * 0.5);
  REQUIRE(max_rel_error(got, ref) < 1e-9);

  // Many microbatches with a huge C: sum of microbatch means / m; every
  // example's gradient enters exactly once, weighted by 1/|its microbatch|.
  o["max_grad_norm"] = 1e9;
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto dp = test::make_dp(pm, objective, make_clipper("flat", o, pm),
                          test::dp_options(2.0, 6, 0, "auto", /*microbatches=*/3, /*seed=*/5));
  REQUIRE(dp->noise_std() == Approx(2.0 * 2.0 * 1e9));
  REQUIRE(dp->engine_name() == "microbatch");
  for (const std::string engine : {"ghost", "materialize", "loop"}) {
    INFO(engine);
    REQUIRE_THROWS_AS(test::make_dp(pm, objective, make_clipper("flat", o, pm),
                                    test::dp_options(2.0, 6, 0, engine, /*microbatches=*/3)),
                      std::invalid_argument);
  }
}

TEST_CASE("secure noise: right mean and variance, never repeats", "[noise][secure]") {
  const auto a = privacy::secure_standard_normal(200001);
  const auto b = privacy::secure_standard_normal(200001);
  REQUIRE(a.size(0) == 200001);
  REQUIRE_FALSE(torch::equal(a, b));
  REQUIRE(std::abs(a.mean().item<double>()) < 0.0112);            // ~5 standard errors
  REQUIRE(a.std().item<double>() == Approx(1.0).epsilon(0.008));  // ~5 standard errors
  REQUIRE(torch::isfinite(a).all().item<bool>());
  auto noise = privacy::GaussianNoise::secure();
  REQUIRE(noise.is_secure());
  const auto s = noise.sample({1000, 3}, 0.5, torch::TensorOptions().dtype(torch::kFloat32));
  REQUIRE(s.sizes() == torch::IntArrayRef({1000, 3}));
  REQUIRE(s.scalar_type() == torch::kFloat32);
  REQUIRE(s.std().item<double>() == Approx(0.5).epsilon(0.1));
}
