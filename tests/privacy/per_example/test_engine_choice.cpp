// The one owner of engine compatibility (privacy/per_example/engine_choice.hpp):
// what auto means, which pairs are refused, and that the config loader, the
// bench and the private step all follow it.
#include <catch2/catch.hpp>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/per_example/engine_choice.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "tests/helpers/private_step.hpp"

using dpsgd::privacy::choose_engine;
using dpsgd::privacy::ClippingNeeds;
using dpsgd::privacy::compatible_engines;

namespace {
const ClippingNeeds kNormOnly{false, false};
const ClippingNeeds kMasks{true, false};
const ClippingNeeds kCount{false, true};
}  // namespace

TEST_CASE("engine choice: auto picks the fastest exact engine", "[engines][choice]") {
  REQUIRE(choose_engine("auto", kNormOnly, 0) == "ghost");
  REQUIRE(choose_engine("auto", kCount, 0) == "ghost");
  REQUIRE(choose_engine("auto", kMasks, 0) == "materialize");
  REQUIRE(choose_engine("auto", kNormOnly, 4) == "microbatch");
  REQUIRE(choose_engine("auto", kMasks, 4) == "microbatch");
}

TEST_CASE("engine choice: possible pairs pass unchanged, impossible ones say why",
          "[engines][choice]") {
  for (const std::string e : {"loop", "materialize", "ghost"}) {
    REQUIRE(choose_engine(e, kNormOnly, 0) == e);
    REQUIRE_THROWS_WITH(choose_engine(e, kNormOnly, 2), Catch::Contains("microbatches"));
  }
  REQUIRE(choose_engine("microbatch", kNormOnly, 2) == "microbatch");
  REQUIRE_THROWS_WITH(choose_engine("microbatch", kNormOnly, 0),
                      Catch::Contains("privacy.microbatches is 0"));
  REQUIRE_THROWS_WITH(choose_engine("ghost", kMasks, 0),
                      Catch::Contains("masks") && Catch::Contains("materialize"));
  REQUIRE_THROWS_WITH(choose_engine("auto", kCount, 3), Catch::Contains("adaptive"));
  REQUIRE_THROWS_WITH(choose_engine("microbatch", kCount, 3), Catch::Contains("adaptive"));
  REQUIRE_THROWS(choose_engine("warp", kNormOnly, 0));  // unknown: lists the valid names
  REQUIRE_THROWS(choose_engine("auto", kNormOnly, -1));
}

TEST_CASE("engine choice: compatible engines are exactly those choose_engine accepts",
          "[engines][choice]") {
  using V = std::vector<std::string>;
  REQUIRE(compatible_engines(kNormOnly, 0) == V{"ghost", "loop", "materialize"});
  REQUIRE(compatible_engines(kMasks, 0) == V{"loop", "materialize"});
  REQUIRE(compatible_engines(kNormOnly, 3) == V{"microbatch"});
  REQUIRE(compatible_engines(kCount, 3).empty());
  for (const auto& needs : {kNormOnly, kMasks, kCount}) {
    for (std::int64_t m : {0, 3}) {
      const auto ok = compatible_engines(needs, m);
      for (const auto& name : dpsgd::privacy::engine_registry().names()) {
        if (name == dpsgd::privacy::kAutoEngine) continue;
        const bool listed = std::find(ok.begin(), ok.end(), name) != ok.end();
        INFO(name << " microbatches " << m);
        if (listed) {
          REQUIRE(choose_engine(name, needs, m) == name);
        } else {
          REQUIRE_THROWS(choose_engine(name, needs, m));
        }
      }
    }
  }
}

TEST_CASE("the private step builds its engine through the same rule", "[engines][choice]") {
  auto model = dpsgd::models::model_registry().get("tanh_cnn")(dpsgd::models::ModelOptions{});
  auto pm = dpsgd::privacy::inspect_model(*model);
  auto objective = std::make_shared<dpsgd::models::CrossEntropyObjective>();
  auto flat = dpsgd::test::make_clipper("flat", {{"max_grad_norm", 1.0}}, pm);
  auto masks = dpsgd::test::make_clipper("random_sparsification", {{"max_grad_norm", 1.0}}, pm);
  auto adaptive = dpsgd::test::make_clipper("adaptive", {{"max_grad_norm", 1.0}}, pm);
  using dpsgd::test::dp_options;
  using dpsgd::test::make_dp;
  REQUIRE(make_dp(pm, objective, flat, dp_options(1, 8, 0, "auto"))->engine_name() == "ghost");
  REQUIRE(make_dp(pm, objective, masks, dp_options(1, 8, 0, "auto"))->engine_name() ==
          "materialize");
  REQUIRE(make_dp(pm, objective, flat, dp_options(1, 8, 0, "auto", 2))->engine_name() ==
          "microbatch");
  REQUIRE_THROWS_AS(make_dp(pm, objective, masks, dp_options(1, 8, 0, "ghost")),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(make_dp(pm, objective, adaptive, dp_options(1, 8, 0, "auto", 2)),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(make_dp(pm, objective, flat, dp_options(1, 8, 0, "loop", 2)),
                    std::invalid_argument);
}
