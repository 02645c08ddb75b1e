// util::JsonOptionReader: options given in code get the same checks as YAML keys,
// and every refusal names the key and the value.
#include <catch2/catch.hpp>

#include "dpsgd/util/json_option_reader.hpp"

using dpsgd::util::JsonOptionReader;

TEST_CASE("json option reader: absent keys keep defaults, bad values are refused", "[util]") {
  JsonOptionReader r(
      {{"c", 0.5}, {"n", 3}, {"b", true}, {"s", "v"}, {"l", {1.0, 2.0}}, {"z", nullptr}},
      "privacy.clipping");
  double c = 1.0;
  std::int64_t n = 1;
  bool b = false;
  std::string s = "s";
  std::vector<double> l;
  const auto positive = [](double v) { return v > 0; };
  r.read_double("c", c, positive, "a number > 0");
  r.read_int("n", n, 1, "an integer >= 1");
  r.read_bool("b", b);
  r.read_string("s", s, "s or v");
  r.read_double_list("l", l, positive, "a list");
  CHECK(c == 0.5);
  CHECK(n == 3);
  CHECK(b);
  CHECK(s == "v");
  CHECK(l == std::vector<double>{1.0, 2.0});
  CHECK_FALSE(r.has("z"));  // null is absent
  double untouched = 7.0;
  r.read_double("absent", untouched, positive, "x");
  CHECK(untouched == 7.0);

  JsonOptionReader bad({{"c", -1.0},
                        {"n", 0},
                        {"b", 1},
                        {"s", 2},
                        {"l", nlohmann::json::array()},
                        {"m", {1.0, -2.0}}},
                       "privacy.clipping");
  CHECK_THROWS_WITH(bad.read_double("c", c, positive, "a number > 0"),
                    Catch::Contains("privacy.clipping.c") && Catch::Contains("-1"));
  CHECK_THROWS_AS(bad.read_int("n", n, 1, "an integer >= 1"), std::invalid_argument);
  CHECK_THROWS_AS(bad.read_bool("b", b), std::invalid_argument);
  CHECK_THROWS_AS(bad.read_string("s", s, "a string"), std::invalid_argument);
  CHECK_THROWS_AS(bad.read_double_list("l", l, positive, "a list"), std::invalid_argument);
  CHECK_THROWS_AS(bad.read_double_list("m", l, positive, "a list"), std::invalid_argument);
  CHECK(l == std::vector<double>{1.0, 2.0});  // a refused list leaves the old value
  CHECK_THROWS_WITH(bad.reject("c", "something else"), Catch::Contains("something else"));
  CHECK_THROWS_AS(JsonOptionReader(nlohmann::json::array(), "p"), std::invalid_argument);
}
