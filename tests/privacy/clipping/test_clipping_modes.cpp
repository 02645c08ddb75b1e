// Every clipping mode against a reference computed from explicit per-example
// gradients (plain autograd, one example at a time), for every engine that
// supports the mode; and the sensitivity bound on adversarial neighbours.
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/adaptive_clipper.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/clipping/random_sparsification.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/util/option_reader.hpp"
#include "tests/helpers/clipping_reference.hpp"
#include "tests/helpers/private_step.hpp"

using namespace dpsgd;
using namespace dpsgd::test;

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
      {"per_layer list", "per_layer", with({{"layer_max_grad_norms", custom}}), Rule::kClip, true,
       custom},
      {"AUTO-S flat", "automatic", base, Rule::kAutoS, false, flat_c},
      {"AUTO-V flat", "automatic", with({{"variant", "v"}}), Rule::kAutoV, false, flat_c},
      {"AUTO-S per layer", "automatic", with({{"per_layer", true}}), Rule::kAutoS, true, split},
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
    REQUIRE_THROWS_WITH(test::make_dp(pm, objective, clipper, test::dp_options(0.0, 1, 3, "ghost")),
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

namespace {

// Records every key a mode's reader asks for; every key is absent.
class RecordingReader final : public util::OptionReader {
 public:
  bool has(const std::string& key) override { return note(key); }
  void read_bool(const std::string& key, bool&) override { note(key); }
  void read_string(const std::string& key, std::string&, const std::string&) override { note(key); }
  void read_int(const std::string& key, std::int64_t&, std::int64_t, const std::string&) override {
    note(key);
  }
  void read_double(const std::string& key, double&, const std::function<bool(double)>&,
                   const std::string&) override {
    note(key);
  }
  void read_double_list(const std::string& key, std::vector<double>&,
                        const std::function<bool(double)>&, const std::string&) override {
    note(key);
  }
  [[noreturn]] void reject(const std::string& key, const std::string&) override {
    throw std::logic_error("rejected " + key);
  }
  std::set<std::string> keys;

 private:
  bool note(const std::string& key) {
    keys.insert(key);
    return false;
  }
};

}  // namespace

TEST_CASE(
    "each clipping mode reads exactly the keys it registers, and its spec's needs are "
    "its clipper's",
    "[clipping]") {
  auto model = small_model(13);
  auto pm = privacy::inspect_model(*model);
  privacy::ClippingRunFacts facts;
  facts.noise_multiplier = 1.0;
  facts.expected_batch_size = 100.0;
  for (const auto& mode : privacy::clipper_registry().names()) {
    INFO(mode);
    const auto& entry = privacy::clipper_registry().get(mode);
    RecordingReader reader;
    (void)entry.read(reader);
    REQUIRE(reader.keys == std::set<std::string>(entry.keys.begin(), entry.keys.end()));
    const auto spec = privacy::make_clipping_spec(mode);
    const auto clipper = spec.make(pm, facts);
    REQUIRE(spec.needs.coordinate_masks == clipper->needs().coordinate_masks);
    REQUIRE(spec.needs.per_example_count == clipper->needs().per_example_count);
    REQUIRE(spec.echo.at("mode") == mode);
    REQUIRE(spec.max_grad_norm == 1.0);
  }
  REQUIRE_THROWS_WITH(privacy::make_clipping_spec("flat", {{"gamma", 0.1}}),
                      Catch::Contains("has no key 'gamma'"));
}
