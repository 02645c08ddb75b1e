// Learning-rate schedules: the multipliers at known steps.
#include <catch2/catch.hpp>

#include "dpsgd/train/lr_schedule.hpp"

using namespace dpsgd::train;

namespace {

double lr_at(const std::string& name, const LrScheduleOptions& o, std::int64_t step) {
  return lr_schedule_registry().get(name)(o)->multiplier({step, /*per_epoch=*/10, /*total=*/100});
}

}  // namespace

TEST_CASE("lr schedules: constant, step, cosine, warm-up", "[schedule]") {
  LrScheduleOptions o;
  REQUIRE(lr_at("constant", o, 0) == 1.0);
  REQUIRE(lr_at("constant", o, 99) == 1.0);

  o.step_epochs = 3;
  o.gamma = 0.5;
  REQUIRE(lr_at("step", o, 29) == 1.0);
  REQUIRE(lr_at("step", o, 30) == 0.5);
  REQUIRE(lr_at("step", o, 60) == 0.25);

  LrScheduleOptions cos;
  cos.min_lr_fraction = 0.1;
  REQUIRE(lr_at("cosine", cos, 0) == Approx(1.0));
  REQUIRE(lr_at("cosine", cos, 50) == Approx(0.55));
  REQUIRE(lr_at("cosine", cos, 100) == Approx(0.1));

  LrScheduleOptions warm;
  warm.warmup_epochs = 0.5;  // 5 steps
  REQUIRE(lr_at("constant", warm, 0) == Approx(0.2));
  REQUIRE(lr_at("constant", warm, 4) == Approx(1.0));
  REQUIRE(lr_at("constant", warm, 5) == Approx(1.0));
  warm.min_lr_fraction = 0.0;
  // Cosine starts its decay after the warm-up.
  REQUIRE(lr_at("cosine", warm, 5) == Approx(1.0));
  REQUIRE(lr_at("cosine", warm, 100) == Approx(0.0).margin(1e-12));
}
