// The registry template: unknown names list the valid ones, duplicates are refused.
#include <catch2/catch.hpp>

#include "dpsgd/util/registry.hpp"

TEST_CASE("registry: unknown names list the valid ones, duplicates are refused", "[util]") {
  dpsgd::util::Registry<int> r("widget");
  r.add("alpha", "first", 1);
  r.add("beta", "second", 2);
  REQUIRE(r.get("beta") == 2);
  REQUIRE_THROWS_WITH(r.get("gamma"),
                      Catch::Contains("unknown widget 'gamma'") && Catch::Contains("alpha, beta"));
  REQUIRE_THROWS_AS(r.add("alpha", "again", 3), std::logic_error);
}
