// Config strictness (issue 13): what yaml-cpp would silently accept is an
// error naming the file, the key and the lines: a key given twice (at any
// level, in block and flow mappings, in variants and in --set values), a second
// YAML document, a quote never closed, an empty --set value, and counts so large
// that the step arithmetic would overflow. Paths that are not UTF-8 still give
// a resolved config that JSON can write.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/config/yaml_strict.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/config_text.hpp"

using Catch::Contains;
using dpsgd::config::parse_experiment_config;
using dpsgd::config::parse_experiment_variants;
using dpsgd::util::UserError;

namespace {

const std::string kBase = dpsgd::test::kMinimalConfig;

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return dpsgd::test::user_error_of([&] { parse_experiment_variants(yaml, "exp.yaml", sets); });
}

}  // namespace

TEST_CASE("strict YAML: a key given twice is an error with both lines", "[config][strict]") {
  SECTION("top level: an appended block would be ignored") {
    const auto e = error_of(kBase + "train:\n  epochs: 5\n");
    CHECK_THAT(e, Contains("exp.yaml") && Contains("'train'") && Contains("twice") &&
                      Contains("line 4") && Contains("line 12"));
  }
  SECTION("nested block mapping") {
    const auto e = error_of(kBase + "output:\n  flush_every_s: 1\n  flush_every_s: 2\n");
    CHECK_THAT(e, Contains("'output.flush_every_s'") && Contains("line 13") && Contains("line 14"));
  }
  SECTION("flow mapping") {
    const auto e =
        error_of("name: t\nmodel: {name: tanh_cnn, name: mlp}\ndata: {name: fashion_mnist}\n");
    CHECK_THAT(
        e, Contains("'model.name'") && Contains("line 2 column 9") && Contains("line 2 column 25"));
  }
  SECTION("inside variants") {
    const auto e = error_of(kBase + "variants:\n  a: {train.epochs: 1, train.epochs: 3}\n");
    CHECK_THAT(e, Contains("'variants.a.train.epochs'") && Contains("twice"));
    const auto twice = error_of(kBase + "variants:\n  a: {train.epochs: 1}\n  a: {}\n");
    CHECK_THAT(twice, Contains("'variants.a'") && Contains("twice"));
  }
  SECTION("in a --set value") {
    const auto e = error_of(kBase, {"privacy.clipping={mode: flat, mode: automatic}"});
    CHECK_THAT(e, Contains("--set") && Contains("'mode'") && Contains("twice"));
  }
  SECTION("the same key in different mappings is fine") {
    CHECK(error_of(kBase + "output: {flush_every_s: 1}\n").empty());
  }
}

TEST_CASE("strict YAML: a second document is an error, a bare trailing --- is not",
          "[config][strict]") {
  const auto e = error_of(kBase + "---\ntrain: {epochs: 9}\n");
  CHECK_THAT(e, Contains("exp.yaml") && Contains("second YAML document") && Contains("line 13"));
  CHECK(error_of(kBase + "---\n").empty());
  CHECK(error_of("---\n" + kBase).empty());  // an explicit start of the one document
  CHECK_THAT(error_of(kBase, {"train.epochs=3\n---\n4"}), Contains("second YAML document"));
}

TEST_CASE("strict YAML: a quote never closed is an error", "[config][strict]") {
  // yaml-cpp reads `name: 'abc` + newline at the end as the string abc.
  CHECK_THAT(error_of(kBase + "output: {}\nname2: 'abc\n"),
             Contains("exp.yaml") && Contains("never closed") && Contains("line 13"));
  CHECK_THAT(error_of("data: {name: fashion_mnist}\nname: \"abc\n"),
             Contains("'name'") && Contains("never closed"));
  CHECK_THAT(error_of(kBase, {"name='abc\n"}), Contains("--set") && Contains("never closed"));
  // Closed quotes with their escapes are fine.
  const auto c = parse_experiment_config(
      "data: {name: fashion_mnist}\nname: 'it''s \"x\"'\nmodel: {name: \"tanh_cnn\"}\n"
      "privacy: {enabled: false}\n",
      "e.yaml");
  CHECK(c.name == "it's \"x\"");
  CHECK(parse_experiment_config("privacy: {enabled: false}\nname: \"a\\\"b\"\n", "e.yaml").name ==
        "a\"b");
}

TEST_CASE("strict YAML: --set with an empty value is an error that says how to write null",
          "[config][strict]") {
  const auto e = error_of(kBase, {"train.epochs="});
  CHECK_THAT(e, Contains("train.epochs=") && Contains("empty") && Contains("train.epochs=null") &&
                    Contains("train.epochs=\"\""));
  CHECK_THAT(error_of(kBase, {"train.epochs=  "}), Contains("empty"));
  // null spelled out removes the key (its default applies).
  CHECK(parse_experiment_config(kBase, "e.yaml", {"train.epochs=null"}).train.epochs == 1);
  CHECK_THAT(error_of(kBase, {"name=''"}), !Contains("the value is empty"));
}

TEST_CASE("counts that would overflow the step arithmetic are refused", "[config][strict]") {
  CHECK_THAT(
      error_of(kBase, {"train.epochs=9223372036854775807"}),
      Contains("train.epochs") && Contains("9223372036854775807") && Contains("[1, 1000000]"));
  CHECK_THAT(error_of(kBase, {"train.epochs=9223372036854775808"}), Contains("train.epochs"));
  CHECK_THAT(error_of(kBase, {"train.epochs=1000001"}), Contains("train.epochs"));
  CHECK(error_of(kBase, {"train.epochs=1000000"}).empty());
  for (const char* key :
       {"train.batch_size", "train.physical_batch_size", "train.eval_batch_size"}) {
    CHECK_THAT(error_of(kBase, {std::string(key) + "=4611686018427387904"}), Contains(key));
  }
  CHECK_THAT(error_of(kBase, {"model.num_classes=1000001"}), Contains("model.num_classes"));
  CHECK_THAT(error_of(kBase, {"model.base_filters=4611686018427387904"}),
             Contains("model.base_filters"));
  const std::string seg =
      "data: {name: segmentation_folder, root: /x}\nmodel: {name: unet, num_classes: 2}\n";
  CHECK_THAT(error_of(seg, {"data.image_size=1e300"}), Contains("data.image_size"));
  CHECK_THAT(error_of(seg, {"data.image_size=[16, 16385]"}), Contains("data.image_size"));
}

TEST_CASE("a data.root that is not UTF-8 gives a resolved config JSON can write",
          "[config][strict]") {
  const std::string root = "/data/caf\xE9/\xFF\xFE-set";  // Latin-1 bytes, not UTF-8
  auto c = parse_experiment_config(kBase, "e.yaml", {"data.root=" + root});
  REQUIRE(c.data.root == root);  // the path itself is kept for reading the files
  c.name = "n\xC3";              // a truncated sequence
  const auto j = dpsgd::config::run_config_json(c, 1.0);
  std::string text;
  REQUIRE_NOTHROW(text = j.dump());
  CHECK(j["data"]["root"] == "/data/caf\\xE9/\\xFF\\xFE-set");
  CHECK(j["name"] == "n\\xC3");
  // Valid UTF-8 passes unchanged.
  c.data.root = "/data/caf\xC3\xA9";
  CHECK(dpsgd::config::run_config_json(c, 1.0)["data"]["root"] == c.data.root);
}
