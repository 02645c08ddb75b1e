// Robust clipping (per_example/finite_examples.hpp): an example whose gradient is
// NaN or inf contributes nothing, under every engine and clipping mode, so the
// released update is the one of the batch without it, and it is counted.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "tests/helpers/clipping_reference.hpp"
#include "tests/helpers/private_step.hpp"

using namespace dpsgd;
using namespace dpsgd::test;

namespace {

constexpr std::int64_t kBad = 3;  // in the second chunk of 3 (dp_options' physical size)

// `b` with one pixel of example kBad set to `value` (NaN or inf).
Batch poisoned(const Batch& b, double value) {
  Batch out{b.x.clone(), b.y};
  out.x[kBad][0][5][7] = value;
  return out;
}

// `b` with example kBad replaced by `x` (and label 3).
Batch replaced(const Batch& b, const torch::Tensor& x) {
  Batch out{b.x.clone(), b.y.clone()};
  out.x[kBad].copy_(x[0]);
  out.y[kBad] = 3;
  return out;
}

Batch without_bad(const Batch& b) {
  const auto keep = torch::cat({torch::arange(0, kBad), torch::arange(kBad + 1, b.x.size(0))});
  return {b.x.index_select(0, keep), b.y.index_select(0, keep)};
}

struct StepResult {
  Grads grads;
  privacy::DpStepStats stats;
};

// One private step with sigma 0 and expected batch size 1: the clipped sum itself
// (after `warm_up` steps on one clean example, for clippers whose state moves).
StepResult dp_step(const privacy::PrivateModel& pm, std::shared_ptr<privacy::Clipper> clipper,
                   const std::string& engine, const Batch& b, std::int64_t microbatches = 0,
                   int warm_up = 0) {
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto dp =
      make_dp(pm, objective, std::move(clipper), dp_options(0.0, 1, 3, engine, microbatches, 5));
  for (int s = 0; s < warm_up; ++s) dp->compute(b.x.narrow(0, 0, 1), b.y.narrow(0, 0, 1));
  StepResult r;
  r.stats = dp->compute(b.x, b.y);
  for (const auto& p : pm.params) r.grads.push_back(p.grad().detach().clone());
  return r;
}

bool all_finite(const Grads& g) {
  for (const auto& t : g) {
    if (!torch::isfinite(t).all().item<bool>()) return false;
  }
  return true;
}

struct ModeCase {
  std::string name;
  std::string mode;
  nlohmann::json options;
  Rule rule;
  bool per_layer;
};

}  // namespace

TEST_CASE("a non-finite example adds nothing, under every engine and clipping mode",
          "[clipping][nonfinite]") {
  auto model = small_model(3);
  auto pm = privacy::inspect_model(*model);
  const auto b = random_batch(7, 4);
  const auto clean = without_bad(b);
  const auto grads = explicit_grads(*model, pm, clean);
  const double c = median_norm(pm, grads);
  const auto layers = static_cast<double>(pm.layers.size());
  const std::vector<double> flat_c{c};
  const std::vector<double> split(pm.layers.size(), c / std::sqrt(layers));
  const nlohmann::json base = {{"max_grad_norm", c}};
  const std::vector<ModeCase> cases{
      {"flat", "flat", base, Rule::kClip, false},
      {"per_layer", "per_layer", base, Rule::kClip, true},
      {"AUTO-S", "automatic", base, Rule::kAutoS, false},
      {"AUTO-V", "automatic", {{"max_grad_norm", c}, {"variant", "v"}}, Rule::kAutoV, false},
      {"AUTO-S per layer",
       "automatic",
       {{"max_grad_norm", c}, {"per_layer", true}},
       Rule::kAutoS,
       true},
      {"adaptive", "adaptive", base, Rule::kClip, false},
  };
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  for (const double value : {std::nan(""), kInfinity, -kInfinity}) {
    const auto bad = poisoned(b, value);
    // The premise: the example's own gradient is not finite.
    REQUIRE_FALSE(all_finite(
        explicit_grads(*model, pm, {bad.x.narrow(0, kBad, 1), bad.y.narrow(0, kBad, 1)})[0]));
    for (const auto& cs : cases) {
      const auto ref = reference_sum(pm, grads, cs.rule, cs.per_layer,
                                     cs.per_layer ? split : flat_c, 0.01, nullptr);
      for (const std::string engine : {"loop", "materialize", "ghost", "auto"}) {
        INFO(cs.name << " / " << engine << " / pixel " << value);
        const auto got = dp_step(pm, make_clipper(cs.mode, cs.options, pm), engine, bad);
        REQUIRE(all_finite(got.grads));
        REQUIRE(max_rel_error(got.grads, ref) < 1e-9);
        CHECK(got.stats.nonfinite == 1);
        CHECK(got.stats.batch_size == 7);
        CHECK(got.stats.clipped <= 6);
        CHECK(std::isfinite(got.stats.norm_sum));
      }
    }
  }
  SECTION("a clean batch counts none") {
    const auto got = dp_step(pm, make_clipper("flat", base, pm), "auto", b);
    CHECK(got.stats.nonfinite == 0);
  }
}

TEST_CASE("random sparsification: a non-finite example adds nothing", "[clipping][nonfinite]") {
  auto model = small_model(3);
  auto pm = privacy::inspect_model(*model);
  const auto b = random_batch(7, 4);
  const auto clean = without_bad(b);
  const auto grads = explicit_grads(*model, pm, clean);
  const nlohmann::json o = {{"max_grad_norm", median_norm(pm, grads)}, {"final_rate", 0.6}};
  const auto bad = poisoned(b, std::nan(""));
  for (const std::string engine : {"loop", "materialize", "auto"}) {
    INFO(engine);
    // The masks are drawn per step: the same late step (a substantial rate) of
    // equally seeded clippers.
    const auto ref = dp_step(pm, make_clipper("random_sparsification", o, pm), engine, clean, 0, 9);
    const auto got = dp_step(pm, make_clipper("random_sparsification", o, pm), engine, bad, 0, 9);
    REQUIRE(all_finite(got.grads));
    REQUIRE(max_rel_error(got.grads, ref.grads) < 1e-9);
    CHECK(got.stats.nonfinite == 1);
  }
}

TEST_CASE("adaptive clipping counts a non-finite example as not under the threshold",
          "[clipping][nonfinite][adaptive]") {
  auto model = small_model(3);
  auto pm = privacy::inspect_model(*model);
  const auto b = random_batch(7, 4);
  const double c = median_norm(pm, explicit_grads(*model, pm, without_bad(b)));
  const nlohmann::json o = {{"max_grad_norm", c}, {"quantile_lr", 0.5}};
  torch::manual_seed(8);
  const auto huge = replaced(b, torch::rand({1, 1, 28, 28}, torch::kFloat64) * 1e4);
  const auto huge_grad =
      explicit_grads(*model, pm, {huge.x.narrow(0, kBad, 1), huge.y.narrow(0, kBad, 1)})[0];
  REQUIRE(std::sqrt(sq_norm(huge_grad, all_params(pm))) > c);  // over the threshold
  // sigma 0: the released count is exact, so the next thresholds are comparable.
  auto after = [&](const Batch& batch) {
    auto clipper = make_clipper("adaptive", o, pm, 1.0, 0.0);
    dp_step(pm, clipper, "auto", batch);
    return clipper->log_values().front().second;
  };
  const double with_huge = after(huge);
  CHECK(after(poisoned(b, std::nan(""))) == with_huge);
  CHECK(after(poisoned(b, std::numeric_limits<double>::infinity())) == with_huge);
}

TEST_CASE("microbatches: a non-finite microbatch adds nothing and is counted once",
          "[clipping][nonfinite][microbatches]") {
  auto model = small_model(11);
  auto pm = privacy::inspect_model(*model);
  const auto b = random_batch(7, 12);
  const auto bad = poisoned(b, std::nan(""));
  const nlohmann::json o = {{"max_grad_norm", 0.5}};
  SECTION("one microbatch: the whole batch, so nothing is released but noise") {
    const auto got = dp_step(pm, make_clipper("flat", o, pm), "auto", bad, 1);
    REQUIRE(all_finite(got.grads));
    for (const auto& g : got.grads) CHECK(g.abs().max().item<double>() == 0.0);
    CHECK(got.stats.nonfinite == 1);
  }
  SECTION("three microbatches: finite, the bad one counted once") {
    const auto got = dp_step(pm, make_clipper("flat", o, pm), "auto", bad, 3);
    REQUIRE(all_finite(got.grads));
    CHECK(got.stats.nonfinite == 1);
  }
  SECTION("the engine: the poisoned microbatch's sum is 0, a clean one's its clipped mean") {
    models::CrossEntropyObjective objective;
    auto clipper = make_clipper("flat", {{"max_grad_norm", 1e9}}, pm);
    privacy::EngineContext ctx{&pm, &objective, clipper.get()};
    auto engine = privacy::engine_registry().get("microbatch").make(ctx);
    Grads sums;
    for (const auto& p : pm.params) sums.push_back(torch::zeros_like(p));
    const auto stats = engine->accumulate(bad.x, bad.y, sums, nullptr);
    for (const auto& s : sums) CHECK(s.abs().max().item<double>() == 0.0);
    CHECK((stats.factors == 0).all().item<bool>());
    const auto clean = without_bad(b);
    engine->accumulate(clean.x, clean.y, sums, nullptr);
    const auto grads = explicit_grads(*model, pm, clean);
    Grads mean;
    for (std::size_t k = 0; k < pm.num_params(); ++k) {
      auto s = torch::zeros_like(pm.params[k]);
      for (const auto& g : grads) s += g[k];
      mean.push_back(s / static_cast<double>(grads.size()));
    }
    REQUIRE(max_rel_error(sums, mean) < 1e-9);
  }
}
