#include <filesystem>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/util/state_file.hpp"
#include "dpsgd/util/state_map.hpp"
#include "tests/helpers/run_binary.hpp"

using dpsgd::util::StateMap;

TEST_CASE("StateMap nests components under prefixes and gives them back", "[util][state]") {
  StateMap child;
  child.tensors["generator"] = torch::arange(5);
  child.values["period"] = 3;
  StateMap whole;
  whole.values["step"] = 7;
  whole.put("dp/clipper", child);
  REQUIRE(whole.tensors.count("dp/clipper/generator") == 1);
  const auto back = whole.child("dp").child("clipper");
  REQUIRE(torch::equal(back.tensor("generator"), child.tensors["generator"]));
  REQUIRE(back.value("period") == 3);
  REQUIRE(whole.child("sampler").tensors.empty());
  REQUIRE_THROWS_WITH(back.tensor("missing"), Catch::Contains("missing"));
  REQUIRE_THROWS_WITH(back.value("missing"), Catch::Contains("missing"));
}

TEST_CASE("state and tensor files round-trip bitwise", "[util][state]") {
  const auto dir = dpsgd::test::fresh_dir("dpsgd_state_file");
  std::filesystem::create_directories(dir);
  StateMap s;
  s.tensors["w"] = torch::randn({3, 4}, torch::kFloat64);
  s.tensors["bytes"] = torch::randint(0, 255, {17}, torch::kUInt8);
  s.values = {{"step", 12}, {"epsilon", 0.1 + 0.2}, {"name", "x"}};
  dpsgd::util::save_state_file(dir / "checkpoint.pt", s);
  const auto back = dpsgd::util::load_state_file(dir / "checkpoint.pt");
  REQUIRE(back.values == s.values);
  REQUIRE(back.values["epsilon"].get<double>() == 0.1 + 0.2);  // doubles exactly
  REQUIRE(back.tensors.size() == 2);
  REQUIRE(torch::equal(back.tensor("w"), s.tensors["w"]));
  REQUIRE(torch::equal(back.tensor("bytes"), s.tensors["bytes"]));

  dpsgd::util::save_tensor_dict(dir / "model.pt", {{"fc.weight", s.tensors["w"]}});
  const auto model = dpsgd::util::load_tensor_dict(dir / "model.pt");
  REQUIRE(model.size() == 1);
  REQUIRE(torch::equal(model.at("fc.weight"), s.tensors["w"]));
  // A tensor file is no checkpoint; a missing file is an error naming it.
  REQUIRE_THROWS_WITH(dpsgd::util::load_state_file(dir / "model.pt"),
                      Catch::Contains("not a dpsgd checkpoint"));
  REQUIRE_THROWS_WITH(dpsgd::util::load_tensor_dict(dir / "none.pt"), Catch::Contains("none.pt"));
}
