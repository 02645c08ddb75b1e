// Config errors: every bad-input class names the file, key and value; CLI
// overrides beat YAML values and go through the same checks.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/config_text.hpp"

using dpsgd::config::parse_experiment_config;
using dpsgd::util::UserError;

namespace {

const std::string kBase = std::string("\n") + dpsgd::test::kMinimalConfig;

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return dpsgd::test::user_error_of([&] { parse_experiment_config(yaml, "exp.yaml", sets); });
}

}  // namespace

TEST_CASE("a valid config parses into typed values", "[config]") {
  const auto c = parse_experiment_config(kBase, "exp.yaml");
  REQUIRE(c.name == "t");
  REQUIRE(c.train.epochs == 2);
  REQUIRE(c.train.batch_size == 64);
  REQUIRE(c.optimizer_options.lr == 0.5);
  REQUIRE(c.privacy.noise_multipliers == std::vector<double>{1.1});
  REQUIRE(c.privacy.enabled);
  REQUIRE(c.train.sampling == dpsgd::data::Sampling::kPoisson);
}

TEST_CASE("unknown keys are named with their section", "[config]") {
  const auto e = error_of(std::string(kBase) + "  noise_multiplyer: 2\n");
  REQUIRE_THAT(e, Catch::Contains("exp.yaml") && Catch::Contains("privacy.noise_multiplyer") &&
                      Catch::Contains("valid keys"));
  REQUIRE_THAT(error_of(std::string(kBase) + "epochz: 3\n"), Catch::Contains("'epochz'"));
}

TEST_CASE("the old key privacy.secure_noise is refused, naming its replacement", "[config]") {
  // Renamed, not aliased: secure_noise covered only the noise, secure_rng covers
  // the sampler too (issue 13).
  for (const char* value : {"true", "false"}) {
    REQUIRE_THAT(error_of(kBase, {std::string("privacy.secure_noise=") + value}),
                 Catch::Contains("exp.yaml") && Catch::Contains("privacy.secure_noise") &&
                     Catch::Contains("secure_rng: true"));
  }
  REQUIRE_FALSE(parse_experiment_config(kBase, "exp.yaml").privacy.secure_rng);
  REQUIRE_FALSE(parse_experiment_config(kBase, "exp.yaml").train.secure_rng);
}

TEST_CASE("wrong types and out-of-range values name key and value", "[config]") {
  REQUIRE_THAT(error_of(kBase, {"train.epochs=three"}),
               Catch::Contains("train.epochs") && Catch::Contains("three"));
  REQUIRE_THAT(error_of(kBase, {"privacy.noise_multiplier=-1"}),
               Catch::Contains("privacy.noise_multiplier") && Catch::Contains("-1"));
  REQUIRE_THAT(error_of(kBase, {"privacy.delta=1.5"}), Catch::Contains("privacy.delta"));
  REQUIRE_THAT(error_of(kBase, {"train.batch_size=0"}), Catch::Contains("train.batch_size"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.max_grad_norm=0"}),
               Catch::Contains("max_grad_norm"));
  REQUIRE_THAT(error_of(kBase, {"train.optimizer.lr=[1, 2]"}),
               Catch::Contains("train.optimizer.lr"));
}

TEST_CASE("unknown registry names list the valid ones", "[config]") {
  const auto e = error_of(kBase, {"model.name=resnet9000"});
  REQUIRE_THAT(e, Catch::Contains("model.name") && Catch::Contains("resnet9000") &&
                      Catch::Contains("tanh_cnn") && Catch::Contains("tf_cnn"));
  REQUIRE_THAT(error_of(kBase, {"privacy.engine=magic"}),
               Catch::Contains("ghost") && Catch::Contains("loop"));
  REQUIRE_THAT(error_of(kBase, {"data.name=cifar"}), Catch::Contains("fashion_mnist"));
}

TEST_CASE("CLI overrides beat YAML values, a list value makes a sweep", "[config]") {
  const auto c = parse_experiment_config(
      kBase, "exp.yaml",
      {"train.epochs=7", "privacy.noise_multiplier=[0.8, 1.6]", "train.optimizer.momentum=0"});
  REQUIRE(c.train.epochs == 7);
  REQUIRE(c.privacy.noise_multipliers == std::vector<double>{0.8, 1.6});
  REQUIRE(c.optimizer_options.momentum == 0.0);
  // An override of an unknown key is caught like one in the file.
  REQUIRE_THAT(error_of(kBase, {"train.epoch=3"}), Catch::Contains("train.epoch"));
  REQUIRE_THAT(error_of(kBase, {"novalue"}), Catch::Contains("KEY=VALUE"));
}

TEST_CASE("private runs refuse non-Poisson sampling and need a noise multiplier", "[config]") {
  REQUIRE_THAT(error_of(kBase, {"train.sampling=shuffle"}), Catch::Contains("Poisson"));
  const auto np = parse_experiment_config(kBase, "exp.yaml",
                                          {"privacy.enabled=false", "train.sampling=shuffle"});
  REQUIRE_FALSE(np.privacy.enabled);
  REQUIRE(np.train.sampling == dpsgd::data::Sampling::kShuffle);
}

TEST_CASE("the resolved config round-trips through YAML", "[config]") {
  const auto c = parse_experiment_config(kBase, "exp.yaml", {"privacy.noise_multiplier=[1, 2]"});
  const auto yaml = dpsgd::config::json_to_yaml(dpsgd::config::run_config_json(c, 2.0));
  const auto back = parse_experiment_config(yaml, "config.yaml");
  REQUIRE(back.privacy.noise_multipliers == std::vector<double>{2.0});
  REQUIRE(back.train.batch_size == c.train.batch_size);
  REQUIRE(back.optimizer_options.lr == c.optimizer_options.lr);
  REQUIRE(back.name == c.name);
}

TEST_CASE("target_epsilon is an alternative to noise_multiplier, never both", "[config]") {
  const auto c = parse_experiment_config(
      kBase, "exp.yaml", {"privacy.noise_multiplier=null", "privacy.target_epsilon=[1, 8]"});
  REQUIRE(c.privacy.target_epsilons == std::vector<double>{1.0, 8.0});
  REQUIRE(c.privacy.noise_multipliers.empty());
  REQUIRE_THAT(error_of(kBase, {"privacy.target_epsilon=3"}), Catch::Contains("exactly one"));
  REQUIRE_THAT(error_of(kBase, {"privacy.noise_multiplier=null", "privacy.target_epsilon=0"}),
               Catch::Contains("privacy.target_epsilon"));
}

TEST_CASE("clipping options are typed, and keys of other modes are refused", "[config]") {
  const auto c = parse_experiment_config(
      kBase, "exp.yaml",
      {"privacy.clipping.mode=automatic", "privacy.clipping.per_layer=true",
       "privacy.clipping.gamma=0.05", "privacy.microbatches=0", "privacy.secure_rng=true"});
  REQUIRE(c.privacy.clipping.mode == "automatic");
  REQUIRE(c.privacy.clipping.echo["per_layer"] == true);
  REQUIRE(c.privacy.clipping.echo["gamma"] == 0.05);
  REQUIRE_FALSE(c.privacy.clipping.needs.coordinate_masks);
  REQUIRE(c.privacy.secure_rng);
  REQUIRE(c.train.secure_rng);
  const auto rs = parse_experiment_config(
      kBase, "exp.yaml",
      {"privacy.clipping.mode=random_sparsification", "privacy.clipping.final_rate=0.8",
       "privacy.clipping.refresh=2", "privacy.engine=materialize"});
  REQUIRE(rs.privacy.clipping.echo["final_rate"] == 0.8);
  REQUIRE(rs.privacy.clipping.echo["refresh"] == 2);
  REQUIRE(rs.privacy.clipping.needs.coordinate_masks);
  const auto pl = parse_experiment_config(
      kBase, "exp.yaml",
      {"privacy.clipping.mode=per_layer", "privacy.clipping.layer_max_grad_norms=[1, 2, 3, 4]"});
  REQUIRE(pl.privacy.clipping.echo["layer_max_grad_norms"] == std::vector<double>{1, 2, 3, 4});

  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.gamma=0.1"}),
               Catch::Contains("privacy.clipping.gamma") && Catch::Contains("automatic") &&
                   Catch::Contains("mode is 'flat'"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.mode=automatic", "privacy.clipping.variant=v",
                                "privacy.clipping.gamma=0.1"}),
               Catch::Contains("AUTO-V"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.mode=automatic", "privacy.clipping.variant=w"}),
               Catch::Contains("privacy.clipping.variant") && Catch::Contains("'w'"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.mode=random_sparsification",
                                "privacy.clipping.final_rate=1"}),
               Catch::Contains("final_rate"));
  REQUIRE_THAT(
      error_of(kBase, {"privacy.clipping.mode=random_sparsification", "privacy.engine=ghost"}),
      Catch::Contains("privacy.engine") && Catch::Contains("ghost"));
  REQUIRE_THAT(error_of(kBase, {"privacy.microbatches=4", "privacy.engine=ghost"}),
               Catch::Contains("privacy.engine") && Catch::Contains("microbatches"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.mode=adaptive", "privacy.microbatches=4"}),
               Catch::Contains("privacy.microbatches"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.layer_max_grad_norms=[1, 2]"}),
               Catch::Contains("layer_max_grad_norms"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.mode=per_layer",
                                "privacy.clipping.layer_max_grad_norms=[1, -2]"}),
               Catch::Contains("layer_max_grad_norms") && Catch::Contains("-2"));
}

TEST_CASE("every clipping mode's options echo into a resolved config that reads back",
          "[config][clipping]") {
  // JSON is YAML flow syntax, so each setting is also the --set value.
  const std::vector<nlohmann::json> settings{
      {{"mode", "flat"}, {"max_grad_norm", 0.3}},
      {{"mode", "per_layer"}, {"max_grad_norm", 0.3}, {"layer_max_grad_norms", {1, 2, 3, 4}}},
      {{"mode", "automatic"}, {"per_layer", true}, {"variant", "s"}, {"gamma", 0.05}},
      {{"mode", "automatic"}, {"variant", "v"}},
      {{"mode", "random_sparsification"}, {"final_rate", 0.5}, {"refresh", 3}, {"per_layer", true}},
      {{"mode", "adaptive"},
       {"target_quantile", 0.7},
       {"quantile_lr", 0.1},
       {"count_noise_std", 4}}};
  for (const auto& s : settings) {
    INFO(s.dump());
    std::vector<std::string> sets{"privacy.clipping=" + s.dump()};
    if (s["mode"] == "random_sparsification") sets.emplace_back("privacy.engine=materialize");
    const auto c = parse_experiment_config(kBase, "exp.yaml", sets);
    // Every given key is echoed with its value (so none is lost on the way back).
    for (const auto& [key, value] : s.items()) REQUIRE(c.privacy.clipping.echo.at(key) == value);
    const auto yaml = dpsgd::config::json_to_yaml(dpsgd::config::run_config_json(c, 1.1));
    const auto back = parse_experiment_config(yaml, "config.yaml");
    REQUIRE(back.privacy.clipping.echo == c.privacy.clipping.echo);
    REQUIRE(back.privacy.clipping.mode == c.privacy.clipping.mode);
    REQUIRE(back.privacy.clipping.max_grad_norm == c.privacy.clipping.max_grad_norm);
    REQUIRE(back.privacy.clipping.needs.coordinate_masks ==
            c.privacy.clipping.needs.coordinate_masks);
  }
  // A null value removes a key of another mode (how a variant drops a base setting).
  const auto dropped = parse_experiment_config(kBase, "exp.yaml", {"privacy.clipping.gamma=null"});
  REQUIRE(dropped.privacy.clipping.mode == "flat");
  // ... but a key of no mode is still unknown, null or not.
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.bogus=null"}),
               Catch::Contains("unknown key 'privacy.clipping.bogus'"));
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.gamma=0.1"}), Catch::Contains("mode is 'flat'"));
}

TEST_CASE("the config refuses engine and clipping pairs by the engine-choice rule", "[config]") {
  // Microbatching is an engine of its own; the loop no longer stands in for it.
  REQUIRE_THAT(error_of(kBase, {"privacy.microbatches=4", "privacy.engine=loop"}),
               Catch::Contains("privacy.engine") && Catch::Contains("microbatch"));
  REQUIRE_THAT(error_of(kBase, {"privacy.engine=microbatch"}),
               Catch::Contains("privacy.engine") && Catch::Contains("microbatches is 0"));
  REQUIRE(error_of(kBase, {"privacy.microbatches=4", "privacy.engine=microbatch"}).empty());
  REQUIRE(error_of(kBase, {"privacy.microbatches=4"}).empty());  // engine auto
  REQUIRE_THAT(error_of(kBase, {"privacy.clipping.bogus=1"}),
               Catch::Contains("unknown key 'privacy.clipping.bogus'"));
}

TEST_CASE("learning-rate schedules are typed and validated", "[config]") {
  const auto c = parse_experiment_config(
      kBase, "exp.yaml",
      {"train.optimizer.schedule={name: step, step_epochs: 5, gamma: 0.5, warmup_epochs: 1}"});
  REQUIRE(c.lr_schedule == "step");
  REQUIRE(c.lr_schedule_options.step_epochs == 5);
  REQUIRE(c.lr_schedule_options.gamma == 0.5);
  REQUIRE(c.lr_schedule_options.warmup_epochs == 1);
  REQUIRE_THAT(error_of(kBase, {"train.optimizer.schedule={name: linear}"}),
               Catch::Contains("train.optimizer.schedule.name") && Catch::Contains("cosine"));
  REQUIRE_THAT(error_of(kBase, {"train.optimizer.schedule={name: step, gamma: 2}"}),
               Catch::Contains("train.optimizer.schedule.gamma"));
}

TEST_CASE("segmentation data keys are typed, and refused for other data sets", "[config]") {
  const std::string seg = R"(
name: s
data:
  name: segmentation_folder
  root: datasets/duke-oct
  image_size: [64, 48]
  mean: 46.3758
  std: 53.9434
  label_map: {8: 0, 9: 8}
  augment: {hflip: true}
model: {name: unet, num_classes: 9, base_filters: 8, norm_groups: 4}
train:
  batch_size: 4
  loss: {name: cross_entropy_dice, score_classes: [1, 2, 3]}
  optimizer: {name: adam, lr: 0.001}
privacy: {noise_multiplier: 1.0}
)";
  const auto c = parse_experiment_config(seg, "seg.yaml");
  REQUIRE(c.data.segmentation.image_size[0] == 64);
  REQUIRE(c.data.segmentation.image_size[1] == 48);
  REQUIRE(c.data.segmentation.label_map.size() == 2);
  REQUIRE(c.data.segmentation.label_map[1] == std::pair<std::int64_t, std::int64_t>(9, 8));
  REQUIRE(c.train.augment_hflip);
  REQUIRE(c.model.options.base_filters == 8);
  REQUIRE(c.loss.name == "cross_entropy_dice");
  REQUIRE(c.loss.options.score_classes == std::vector<std::int64_t>{1, 2, 3});
  // The resolved config reads back to the same values.
  const auto again = parse_experiment_config(
      dpsgd::config::json_to_yaml(dpsgd::config::run_config_json(c, 1.0)), "again.yaml");
  REQUIRE(again.data.segmentation.label_map == c.data.segmentation.label_map);
  REQUIRE(again.data.segmentation.image_size == c.data.segmentation.image_size);
  REQUIRE(again.loss.options.score_classes == c.loss.options.score_classes);
  REQUIRE(again.train.augment_hflip);

  REQUIRE_THAT(error_of(kBase, {"data.image_size=[32,32]"}),
               Catch::Contains("data.image_size") && Catch::Contains("segmentation_folder"));
  REQUIRE_THAT(error_of(seg, {"data.std=0"}), Catch::Contains("data.std"));
  REQUIRE_THAT(error_of(seg, {"data.label_map=[1,2]"}), Catch::Contains("data.label_map"));
  REQUIRE_THAT(error_of(seg, {"train.loss.score_classes=[9]"}),
               Catch::Contains("train.loss.score_classes") && Catch::Contains("[9]"));
  REQUIRE_THAT(error_of(seg, {"train.loss.name=dice_only"}),
               Catch::Contains("train.loss.name") && Catch::Contains("cross_entropy_dice"));
  REQUIRE_THAT(error_of(seg, {"model.norm_groups=3"}), Catch::Contains("model.norm_groups"));
  // The U-Nets pool four times: sides below 16 are refused; [0, 0] keeps the size.
  REQUIRE_THAT(error_of(seg, {"data.image_size=[8,8]"}), Catch::Contains("data.image_size"));
  REQUIRE(error_of(seg, {"data.image_size=[0,0]"}).empty());
  // Dice keys with the plain cross-entropy are a mistake, not silently ignored.
  REQUIRE_THAT(
      error_of(seg, {"train.loss.name=cross_entropy"}),
      Catch::Contains("train.loss.score_classes") && Catch::Contains("cross_entropy_dice"));
}

TEST_CASE("variants: one config per variant, settings applied, --set applied last", "[config]") {
  const std::string yaml = std::string(kBase) + R"(
variants:
  plain: {}
  auto-s:
    privacy.clipping: {mode: automatic, max_grad_norm: 0.5}
    train.epochs: 3
  baseline:
    privacy.enabled: false
)";
  const auto cs = dpsgd::config::parse_experiment_variants(yaml, "v.yaml", {"train.batch_size=32"});
  REQUIRE(cs.size() == 3);
  REQUIRE(cs[0].variant == "plain");
  REQUIRE(cs[1].variant == "auto-s");
  REQUIRE(cs[1].privacy.clipping.mode == "automatic");
  REQUIRE(cs[1].train.epochs == 3);
  REQUIRE(cs[0].train.epochs == 2);
  REQUIRE(cs[2].privacy.enabled == false);
  // A non-private variant is one run, whatever sigma list the base holds.
  REQUIRE(cs[2].privacy.noise_multipliers.size() == 1);
  for (const auto& c : cs) REQUIRE(c.train.batch_size == 32);
  // --variant keeps the named ones; an unknown one lists the defined ones.
  const auto only = dpsgd::config::parse_experiment_variants(yaml, "v.yaml", {}, {"baseline"});
  REQUIRE(only.size() == 1);
  REQUIRE(only[0].variant == "baseline");
  try {
    (void)dpsgd::config::parse_experiment_variants(yaml, "v.yaml", {}, {"nope"});
    FAIL("expected an error");
  } catch (const UserError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("nope") && Catch::Contains("auto-s"));
  }
  // A bad value inside a variant names the key and the variant.
  const std::string bad = std::string(kBase) + "variants:\n  x: {train.epochs: 0}\n";
  try {
    (void)dpsgd::config::parse_experiment_variants(bad, "v.yaml");
    FAIL("expected an error");
  } catch (const UserError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("train.epochs") && Catch::Contains("variant 'x'"));
  }
  // A whole-section setting would drop the section's other keys: refused.
  const std::string whole = std::string(kBase) + "variants:\n  x: {model: {name: tf_cnn}}\n";
  try {
    (void)dpsgd::config::parse_experiment_variants(whole, "v.yaml");
    FAIL("expected an error");
  } catch (const UserError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("variants.x.model") && Catch::Contains("model.name"));
  }
  // The single-config loader refuses a file with variants instead of guessing.
  REQUIRE_THAT(error_of(yaml), Catch::Contains("variants"));
}

TEST_CASE("the shipped study configs parse, every variant", "[config]") {
  for (const char* file : {"configs/oct_study.yaml", "configs/oct_budget.yaml",
                           "configs/oct_smoke.yaml", "configs/oct_private.yaml"}) {
    INFO(file);
    const auto cs =
        dpsgd::config::load_experiment_variants(std::string(DPSGD_SOURCE_DIR) + "/" + file);
    REQUIRE(!cs.empty());
  }
  const auto study = dpsgd::config::load_experiment_variants(std::string(DPSGD_SOURCE_DIR) +
                                                             "/configs/oct_study.yaml");
  REQUIRE(study.size() == 6);
  std::size_t runs = 0;
  for (const auto& c : study) runs += c.privacy.noise_multipliers.size();
  REQUIRE(runs == 2 * (1 + 2 * 4));
}
