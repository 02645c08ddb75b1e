#include "dpsgd/train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace dpsgd::train {
namespace {

class ConstantSchedule final : public LrSchedule {
 public:
  using LrSchedule::LrSchedule;

 protected:
  [[nodiscard]] double shape(const ScheduleClock& /*clock*/) const override { return 1.0; }
};

// lr * gamma^floor(epoch / step_epochs), epochs counted in steps (fractional).
class StepSchedule final : public LrSchedule {
 public:
  using LrSchedule::LrSchedule;

 protected:
  [[nodiscard]] double shape(const ScheduleClock& clock) const override {
    const double epoch =
        static_cast<double>(clock.step) / static_cast<double>(clock.steps_per_epoch);
    return std::pow(options_.gamma, std::floor(epoch / options_.step_epochs + 1e-12));
  }
};

// Cosine annealing (Loshchilov & Hutter 2017) from lr to min_lr_fraction * lr over
// the steps after warm-up.
class CosineSchedule final : public LrSchedule {
 public:
  using LrSchedule::LrSchedule;

 protected:
  [[nodiscard]] double shape(const ScheduleClock& clock) const override {
    const double warmup = options_.warmup_epochs * static_cast<double>(clock.steps_per_epoch);
    const double span = std::max(1.0, static_cast<double>(clock.total_steps) - warmup);
    const double t = std::clamp((static_cast<double>(clock.step) - warmup) / span, 0.0, 1.0);
    const double m = options_.min_lr_fraction;
    return m + (1.0 - m) * 0.5 * (1.0 + std::cos(M_PI * t));
  }
};

template <typename T>
LrScheduleFactory factory_of() {
  return [](const LrScheduleOptions& o) -> std::unique_ptr<LrSchedule> {
    return std::make_unique<T>(o);
  };
}

}  // namespace

double LrSchedule::multiplier(const ScheduleClock& clock) const {
  const double warmup = options_.warmup_epochs * static_cast<double>(clock.steps_per_epoch);
  double factor = 1.0;
  if (warmup > 0.0 && static_cast<double>(clock.step) < warmup) {
    factor = (static_cast<double>(clock.step) + 1.0) / std::ceil(warmup);
  }
  return factor * shape(clock);
}

void register_builtin_lr_schedules(LrScheduleRegistry& registry) {
  registry.add("constant", "the configured lr throughout", factory_of<ConstantSchedule>());
  registry.add("step", "lr * gamma^floor(epoch / step_epochs)", factory_of<StepSchedule>());
  registry.add("cosine", "cosine decay from lr to min_lr_fraction * lr after warm-up",
               factory_of<CosineSchedule>());
}

const LrScheduleRegistry& lr_schedule_registry() {
  static const LrScheduleRegistry registry = [] {
    LrScheduleRegistry r("learning-rate schedule");
    register_builtin_lr_schedules(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::train
