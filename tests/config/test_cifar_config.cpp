// The CIFAR recipe's keys (data.augment.multiplicity/crop_padding, train.precision,
// train.ema, model.depth/width/weight_standardisation/hidden): typed values,
// refusals with the key and the fix, and the resolved config's round trip (new
// keys echoed only when used, so older run folders still compare equal).
#include <string>

#include <catch2/catch.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "tests/helpers/config_text.hpp"

using dpsgd::config::parse_experiment_config;
using dpsgd::test::user_error_of;

namespace {

const std::string kBase = std::string("\n") + dpsgd::test::kMinimalConfig;

std::string error_of(const std::vector<std::string>& sets) {
  return user_error_of([&] { (void)parse_experiment_config(kBase, "c.yaml", sets); });
}

}  // namespace

TEST_CASE("CIFAR recipe keys parse into typed values and round-trip", "[config][cifar]") {
  const std::vector<std::string> sets = {"model.name=wide_resnet",
                                         "model.depth=22",
                                         "model.width=2",
                                         "model.norm_groups=16",
                                         "model.weight_standardisation=false",
                                         "data.augment.multiplicity=4",
                                         "data.augment.crop_padding=4",
                                         "data.augment.hflip=true",
                                         "train.precision=bf16",
                                         "train.ema.decay=0.999",
                                         "train.ema.warmup=false"};
  const auto c = parse_experiment_config(kBase, "c.yaml", sets);
  REQUIRE(c.model.options.depth == 22);
  REQUIRE(c.model.options.width == 2);
  REQUIRE_FALSE(c.model.options.weight_standardisation);
  REQUIRE(c.train.augment_multiplicity == 4);
  REQUIRE(c.train.augment_crop_padding == 4);
  REQUIRE(c.train.precision == dpsgd::util::Precision::kBf16);
  REQUIRE(c.train.ema_decay == 0.999);
  REQUIRE_FALSE(c.train.ema_warmup);
  const auto back = parse_experiment_config(
      dpsgd::config::json_to_yaml(dpsgd::config::run_config_json(c, 1.0)), "config.yaml");
  REQUIRE(back.model.options.depth == 22);
  REQUIRE(back.model.options.width == 2);
  REQUIRE_FALSE(back.model.options.weight_standardisation);
  REQUIRE(back.train.augment_multiplicity == 4);
  REQUIRE(back.train.augment_crop_padding == 4);
  REQUIRE(back.train.precision == dpsgd::util::Precision::kBf16);
  REQUIRE(back.train.ema_decay == 0.999);
  REQUIRE_FALSE(back.train.ema_warmup);
  SECTION("defaults are not echoed: a config from before these keys compares equal") {
    const auto plain = parse_experiment_config(kBase, "c.yaml");
    const auto j = dpsgd::config::run_config_json(plain, 1.0);
    REQUIRE_FALSE(j["train"].contains("precision"));
    REQUIRE_FALSE(j["train"].contains("ema"));
    REQUIRE_FALSE(j["data"]["augment"].contains("multiplicity"));
    REQUIRE_FALSE(j["model"].contains("depth"));
  }
  SECTION("mlp hidden widths, and an image_folder config, round-trip too") {
    const auto m = parse_experiment_config(
        kBase, "c.yaml",
        {"model.name=mlp", "model.hidden=[64, 32]", "data.name=image_folder", "data.root=/tmp/x",
         "data.image_size=[32, 32]"});
    const auto again = parse_experiment_config(
        dpsgd::config::json_to_yaml(dpsgd::config::run_config_json(m, 1.0)), "config.yaml");
    REQUIRE(again.model.options.hidden == std::vector<std::int64_t>{64, 32});
    REQUIRE(again.data.name == "image_folder");
  }
}

TEST_CASE("CIFAR recipe keys: bad values are refused with the key and the fix", "[config][cifar]") {
  CHECK_THAT(error_of({"train.precision=fp16"}),
             Catch::Contains("train.precision") && Catch::Contains("float32 or bf16"));
  CHECK_THAT(error_of({"train.ema.decay=1.0"}), Catch::Contains("train.ema.decay"));
  CHECK_THAT(error_of({"data.augment.multiplicity=0"}),
             Catch::Contains("data.augment.multiplicity"));
  CHECK_THAT(error_of({"data.augment.crop_padding=-1"}),
             Catch::Contains("data.augment.crop_padding"));
  CHECK_THAT(error_of({"model.name=wide_resnet", "model.depth=17"}),
             Catch::Contains("model.depth") && Catch::Contains("divisible by 6"));
  CHECK_THAT(error_of({"model.name=wide_resnet", "model.norm_groups=3"}),
             Catch::Contains("model.norm_groups"));
  // Keys a model does not read are refused, not ignored.
  CHECK_THAT(error_of({"model.depth=16"}),
             Catch::Contains("model.depth") && Catch::Contains("does not apply"));
  CHECK_THAT(error_of({"model.name=wide_resnet", "model.hidden=[8]"}),
             Catch::Contains("model.hidden"));
  // The closed-form heads train no network: training-only settings are refused there.
  for (const char* key :
       {"train.ema.decay=0.9", "train.precision=bf16", "data.augment.hflip=true"}) {
    INFO(key);
    CHECK_THAT(error_of({"model.name=linear", "head.method=dp_ls", key}),
               Catch::Contains("DP-SGD training only"));
  }
  CHECK_THAT(error_of({"data.augment.multiplicity=2", "privacy.microbatches=4"}),
             Catch::Contains("data.augment.multiplicity") && Catch::Contains("microbatches"));
}
