// The features: and head: sections: what each key becomes, the resolved config
// reading back to the same thing, and bad values refused with the key named.
#include <catch2/catch.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "tests/helpers/config_text.hpp"

using Catch::Contains;
using dpsgd::config::HeadMethod;
using dpsgd::config::parse_experiment_config;

namespace {

const std::string kFeatures = R"(name: f
data: {name: fashion_mnist}
features:
  extractor: scatternet
  scatternet: {J: 2, L: 8}
  normalisation: group_norm
  groups: 27
  cache_dir: /tmp/dpsgd-test-cache
model: {name: linear, zero_init: true}
privacy:
  noise_multiplier: 1.0
)";

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return dpsgd::test::user_error_of([&] { parse_experiment_config(yaml, "exp.yaml", sets); });
}

}  // namespace

TEST_CASE("features: the section becomes typed options", "[config][features]") {
  const auto c = parse_experiment_config(kFeatures, "exp.yaml");
  CHECK(c.features.enabled());
  CHECK(c.features.extractor == "scatternet");
  CHECK(c.features.scatternet.J == 2);
  CHECK(c.features.normalisation == dpsgd::features::Normalisation::kGroupNorm);
  CHECK(c.features.groups == 27);
  CHECK(c.model.options.zero_init);
  CHECK(c.head.method == HeadMethod::kDpSgd);
  SECTION("the resolved config reads back to the same config") {
    const auto yaml = dpsgd::config::json_to_yaml(dpsgd::config::run_config_json(c, 1.0));
    const auto again = parse_experiment_config(yaml, "config.yaml");
    // The typed fields, not only the echo: a key the echo dropped would vanish on both sides.
    CHECK(again.features.extractor == "scatternet");
    CHECK(again.features.scatternet.J == 2);
    CHECK(again.features.scatternet.L == 8);
    CHECK(again.features.normalisation == dpsgd::features::Normalisation::kGroupNorm);
    CHECK(again.features.groups == 27);
    CHECK(again.features.cache_dir == c.features.cache_dir);
    CHECK(again.model.options.zero_init);
  }
  SECTION("no features section: none") {
    CHECK_FALSE(parse_experiment_config(dpsgd::test::kMinimalConfig, "e.yaml").features.enabled());
  }
}

TEST_CASE("features: bad values name the key and the valid choices", "[config][features]") {
  CHECK_THAT(error_of(kFeatures, {"features.extractor=wavelets"}),
             Contains("features.extractor") && Contains("scatternet") && Contains("model"));
  CHECK_THAT(error_of(kFeatures, {"features.scatternet.J=0"}), Contains("features.scatternet.J"));
  CHECK_THAT(error_of(kFeatures, {"features.normalisation=batch_norm"}),
             Contains("features.normalisation") && Contains("group_norm"));
  CHECK_THAT(error_of(kFeatures, {"features.scatternet.Q=1"}), Contains("features.scatternet.Q"));
  CHECK_THAT(error_of(kFeatures, {"features.model={run: /nonexistent/run}"}),
             Contains("features.model") && Contains("extractor: model"));
  CHECK_THAT(error_of(kFeatures, {"features.extractor=model", "features.scatternet=null",
                                  "features.model={run: /nonexistent/run}"}),
             Contains("features.model.run") && Contains("/nonexistent/run"));
  CHECK_THAT(error_of(kFeatures, {"features.extractor=none", "features.scatternet=null"}),
             Contains("features.normalisation"));
}

TEST_CASE("head: methods, their keys, and keys of other methods refused", "[config][head]") {
  const auto ls = parse_experiment_config(
      kFeatures, "exp.yaml",
      {"head={method: dp_ls, clip_norm: 2, ridge: 30, budget_share: 0.7, class_weight_alpha: 2}"});
  CHECK(ls.head.method == HeadMethod::kDpLs);
  CHECK(ls.head.clip_norm == 2.0);
  CHECK(ls.head.ridge == 30.0);
  CHECK(ls.head.budget_share == 0.7);
  REQUIRE(ls.head.class_weight_alpha);
  CHECK(*ls.head.class_weight_alpha == 2.0);
  const auto fc = parse_experiment_config(
      kFeatures, "exp.yaml", {"head={method: dp_fc, steps: 20, lr: 0.5, gradient_clip_norm: 3}"});
  CHECK(fc.head.method == HeadMethod::kDpFc);
  CHECK(fc.head.steps == 20);
  SECTION("the resolved config reads back") {
    for (const auto* c : {&ls, &fc}) {
      const auto echo = dpsgd::config::run_config_json(*c, 1.0);
      const auto again = parse_experiment_config(dpsgd::config::json_to_yaml(echo), "c.yaml");
      CHECK(again.head.method == c->head.method);
      CHECK(again.head.clip_norm == c->head.clip_norm);
      CHECK(again.head.ridge == c->head.ridge);
      CHECK(again.head.budget_share == c->head.budget_share);
      CHECK(again.head.class_weight_alpha == c->head.class_weight_alpha);
      CHECK(again.head.steps == c->head.steps);
      CHECK(again.head.lr == c->head.lr);
      CHECK(again.head.gradient_clip_norm == c->head.gradient_clip_norm);
    }
  }
  CHECK_THAT(error_of(kFeatures, {"head={method: dp_ls, steps: 3}"}),
             Contains("head.steps") && Contains("dp_fc only"));
  CHECK_THAT(error_of(kFeatures, {"head={method: dp_fc, class_weight_alpha: 1}"}),
             Contains("head.class_weight_alpha"));
  CHECK_THAT(error_of(kFeatures, {"head={method: dp_sgd, ridge: 1}"}), Contains("head.ridge"));
  CHECK_THAT(error_of(kFeatures, {"head={method: newton}"}),
             Contains("head.method") && Contains("dp_ls"));
  CHECK_THAT(error_of(kFeatures, {"head={method: dp_ls, budget_share: 1}"}),
             Contains("head.budget_share"));
  CHECK_THAT(error_of(kFeatures, {"head={method: dp_ls}", "model.name=tanh_cnn"}),
             Contains("model.name") && Contains("linear"));
  CHECK_THAT(error_of(kFeatures, {"head={method: dp_fc, ridge: 0}"}), Contains("head.ridge"));
  CHECK_THAT(error_of(kFeatures, {"data.augment={hflip: true}"}),
             Contains("data.augment.hflip") && Contains("features"));
}
