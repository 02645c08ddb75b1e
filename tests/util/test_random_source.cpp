// util/random_source.hpp: a seeded source is reproducible and restorable
// bit-for-bit from its state; a secure source draws from the OS CSPRNG, never
// touches a torch generator, never repeats, and refuses a seeded state.
#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/util/random_source.hpp"

using dpsgd::util::RandomSource;

namespace {

torch::Tensor draws(RandomSource& s) {
  return torch::cat({s.uniform(50), s.normal({20}, torch::kFloat64),
                     s.randint(7, 30).to(torch::kFloat64), s.randperm(40).to(torch::kFloat64)});
}

}  // namespace

TEST_CASE("random source: seeded draws are reproducible, and copies continue independently",
          "[random_source]") {
  auto a = RandomSource::seeded(11);
  auto b = RandomSource::seeded(11);
  auto c = RandomSource::seeded(12);
  const auto da = draws(a);
  REQUIRE(torch::equal(da, draws(b)));
  REQUIRE_FALSE(torch::equal(da, draws(c)));
  auto copy = a;  // clones the generator
  REQUIRE(torch::equal(draws(copy), draws(a)));
  REQUIRE_FALSE(a.is_secure());
}

TEST_CASE("random source: a restored seeded state continues bit-for-bit",
          "[random_source][state]") {
  auto a = RandomSource::seeded(5);
  (void)draws(a);
  const auto saved = a.state();
  REQUIRE(saved.values.at("kind") == "seeded");
  const auto expected = draws(a);
  auto fresh = RandomSource::seeded(999);
  fresh.load_state(saved);
  REQUIRE(torch::equal(draws(fresh), expected));
  auto secure = RandomSource::secure();
  REQUIRE_THROWS_WITH(secure.load_state(saved), Catch::Contains("secure_rng"));
  REQUIRE_THROWS_WITH(fresh.load_state(secure.state()), Catch::Contains("secure_rng"));
}

TEST_CASE("random source: secure draws are in range, never repeat, and touch no torch generator",
          "[random_source][secure]") {
  auto& global = at::detail::getDefaultCPUGenerator();
  const auto before = global.get_state();
  auto s = RandomSource::secure();
  REQUIRE(s.is_secure());
  const auto u = s.uniform(100000);
  REQUIRE(u.min().item<double>() >= 0.0);
  REQUIRE(u.max().item<double>() < 1.0);
  REQUIRE(u.mean().item<double>() == Approx(0.5).margin(0.005));  // ~5 standard errors
  const auto k = s.randint(3, 30000);
  REQUIRE(k.min().item<std::int64_t>() == 0);
  REQUIRE(k.max().item<std::int64_t>() == 2);
  const auto counts = torch::bincount(k);
  for (int v = 0; v < 3; ++v) REQUIRE(counts[v].item<double>() == Approx(10000).margin(400));
  const auto p = s.randperm(1000);
  REQUIRE(torch::equal(std::get<0>(p.sort()), torch::arange(1000, torch::kInt64)));
  REQUIRE_FALSE(torch::equal(p, s.randperm(1000)));
  REQUIRE_FALSE(torch::equal(u, s.uniform(100000)));
  REQUIRE(s.state().tensors.empty());
  REQUIRE(s.state().values.at("kind") == "secure");
  s.load_state(s.state());  // a no-op
  REQUIRE(torch::equal(global.get_state(), before));
}
