// The feature cache's key changes with anything the features depend on (the
// extractor's fingerprint, every input tensor's bytes and shape) and not with
// anything else; entries round-trip.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/features/feature_cache.hpp"
#include "tests/helpers/run_binary.hpp"

using dpsgd::features::cache_key;
using dpsgd::features::FeatureCache;
using nlohmann::json;

TEST_CASE("feature cache key: extractor settings and data both change it", "[features][cache]") {
  torch::manual_seed(5);
  const auto train = torch::rand({6, 1, 4, 4});
  const auto test = torch::rand({3, 1, 4, 4});
  const json scat = {{"extractor", "scatternet"}, {"J", 2}, {"L", 8}};
  const auto key = cache_key(scat, {train, test});
  CHECK(key.size() == 16);
  CHECK(cache_key(scat, {train.clone(), test.clone()}) == key);  // content, not identity
  json other = scat;
  other["L"] = 6;
  CHECK(cache_key(other, {train, test}) != key);
  auto changed = train.clone();
  changed[5][0][3][3] += 1e-6F;  // one value of one example
  CHECK(cache_key(scat, {changed, test}) != key);
  CHECK(cache_key(scat, {train.narrow(0, 0, 5), test}) != key);  // a smaller train_size
  CHECK(cache_key(scat, {test, train}) != key);                  // splits swapped
  CHECK(cache_key(scat, {train, torch::Tensor()}) != key);       // a split missing
  CHECK(cache_key(scat, {train.to(torch::kFloat64), test}) != key);
}

TEST_CASE("feature cache: entries round-trip and unknown keys miss", "[features][cache]") {
  const auto dir = dpsgd::test::fresh_dir("dpsgd_feature_cache");
  const FeatureCache cache(dir / "nested");
  CHECK_FALSE(cache.load("0123456789abcdef").has_value());
  const auto f = torch::rand({4, 81, 7, 7});
  cache.store("0123456789abcdef", {{"train", f}}, {{"note", "test"}});
  const auto back = cache.load("0123456789abcdef");
  REQUIRE(back.has_value());
  CHECK(torch::equal(back->at("train"), f));
  CHECK(std::filesystem::exists(dir / "nested" / "0123456789abcdef.json"));
}
