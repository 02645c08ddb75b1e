// The step arithmetic: floor(N / B) steps per epoch (at least 1), and a total
// that refuses to overflow instead of wrapping to a negative step count.
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "dpsgd/train/step_count.hpp"

using dpsgd::train::steps_per_epoch;
using dpsgd::train::total_steps;

TEST_CASE("steps_per_epoch is floor(N / B), at least 1", "[train][steps]") {
  CHECK(steps_per_epoch(60000, 256) == 234);
  CHECK(steps_per_epoch(100, 100) == 1);
  CHECK(steps_per_epoch(10, 100) == 1);
  CHECK_THROWS_AS(steps_per_epoch(10, 0), std::invalid_argument);
}

TEST_CASE("total_steps multiplies, and refuses an overflow", "[train][steps]") {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  CHECK(total_steps(60000, 256, 30) == 234 * 30);
  CHECK(total_steps(10, 100, kMax) == kMax);  // one step per epoch: exactly fits
  CHECK_THROWS_AS(total_steps(60000, 256, kMax), std::overflow_error);
  CHECK_THROWS_AS(total_steps(kMax, 1, 2), std::overflow_error);
  CHECK(total_steps(kMax, 1, 1) == kMax);
  CHECK_THROWS_AS(total_steps(100, 10, 0), std::invalid_argument);
}
