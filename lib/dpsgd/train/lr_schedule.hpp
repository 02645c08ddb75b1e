#pragma once
// Learning-rate schedules, keyed by YAML `train.optimizer.schedule.name`. A
// schedule only rescales the optimizer's learning rate from the step count, a
// public quantity, so it never touches privacy. Every schedule can start with a
// linear warm-up: lr(t) = lr * (t + 1) / W for the first W steps.
#include <cstdint>
#include <functional>
#include <memory>

#include "dpsgd/util/registry.hpp"

namespace dpsgd::train {

struct LrScheduleOptions {
  double warmup_epochs = 0.0;    ///< linear warm-up length (may be fractional)
  double step_epochs = 10.0;     ///< step: decay every this many epochs
  double gamma = 0.1;            ///< step: decay factor
  double min_lr_fraction = 0.0;  ///< cosine: final lr as a fraction of lr
};

/// Where training stands, in steps.
struct ScheduleClock {
  std::int64_t step = 0;  ///< the step about to be taken, from 0
  std::int64_t steps_per_epoch = 1;
  std::int64_t total_steps = 1;
};

class LrSchedule {
 public:
  explicit LrSchedule(const LrScheduleOptions& options) : options_(options) {}
  virtual ~LrSchedule() = default;
  /// Multiplier of the configured learning rate at this step (warm-up included).
  [[nodiscard]] double multiplier(const ScheduleClock& clock) const;

 protected:
  /// The schedule's own shape, without warm-up.
  [[nodiscard]] virtual double shape(const ScheduleClock& clock) const = 0;
  LrScheduleOptions options_;
};

using LrScheduleFactory = std::function<std::unique_ptr<LrSchedule>(const LrScheduleOptions&)>;
using LrScheduleRegistry = util::Registry<LrScheduleFactory>;

/// constant, step, cosine.
void register_builtin_lr_schedules(LrScheduleRegistry& registry);
const LrScheduleRegistry& lr_schedule_registry();

}  // namespace dpsgd::train
