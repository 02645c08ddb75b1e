#pragma once
// The epoch loop of one run: sample a batch, privatise its gradient (or take the
// plain gradient for baselines), step the optimizer, record the privacy spent,
// log the row; evaluate on the validation set after every epoch (on the test set
// when there is no validation split) and on the test set at the end.
//
// Privacy invariants: private runs draw every batch with the Poisson sampler at
// rate q = batch_size / N, and the private step refuses any other sampler before
// the first step (DpGradient::check_sampler); the private step itself tells the
// accountant about every step it took (empty batches included) with the sigma
// and q it used; the epsilon logged for a step is the epsilon after that step. Augmentation
// (data.augment.hflip) is applied to the drawn batch, each example on its own from a separate
// seeded stream: a per-example transformation leaves the add/remove-one sensitivity bound
// unchanged. Data-parallel runs (RunControl::communicator) run the same steps
// on several processes, with the same result up to summation order.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/train/lr_schedule.hpp"
#include "dpsgd/train/metrics_log.hpp"
#include "dpsgd/train/run_status.hpp"
#include "dpsgd/train/step_count.hpp"
#include "dpsgd/train/train_options.hpp"
#include "dpsgd/util/state_map.hpp"

namespace dpsgd::distributed {
class Communicator;
}  // namespace dpsgd::distributed

namespace dpsgd::train {

struct TrainParts {
  models::ModelPtr model;
  std::shared_ptr<models::Objective> objective;
  data::TensorDataset train;
  data::TensorDataset val;  ///< may be empty (size 0): then test is evaluated every epoch
  data::TensorDataset test;
  /// The private step, which also keeps the accountant; null: non-private run.
  std::unique_ptr<privacy::DpGradient> dp;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<LrSchedule> lr_schedule;  ///< null: the optimizer's lr throughout
  double base_lr = 0.0;                     ///< the configured lr the schedule scales
};

/// What the caller decides about a run beyond its options: where its state goes,
/// where it resumes from, and the privacy budget's step limit.
struct RunControl {
  /// Called with the whole resumable state at every checkpoint (after metrics.json
  /// was flushed, so that file always holds at least the rows the state counts).
  /// Null: no checkpoints.
  std::function<void(const util::StateMap&)> save_checkpoint;
  /// A state saved by save_checkpoint for the same configuration: the run goes
  /// on from there and ends exactly as the uninterrupted run would (CPU).
  const util::StateMap* resume_from = nullptr;
  /// privacy.max_epsilon: the number of steps the budget allows; the run stops
  /// before step limit + 1 with status budget_exhausted.
  std::optional<std::int64_t> step_limit;
  /// A data-parallel run's processes (null or one process: the whole batch is
  /// here). Every process runs this loop with the same options and parts; the
  /// leader's sampler draws each batch over the whole data set and every
  /// process trains on its share of it (distributed/shared_batch_sampler.hpp),
  /// sums go across processes (the private step's through its SumReduction),
  /// and every process takes every step, an empty share included. Only the
  /// leader evaluates, logs rows and checkpoints; the others pass a log that
  /// writes nowhere and no save_checkpoint.
  distributed::Communicator* communicator = nullptr;
};

struct TrainResult {
  RunStatus status = RunStatus::kCompleted;
  int stop_signal = 0;        ///< interrupted: the signal
  nlohmann::json final_test;  ///< {"loss": ..., "<score>": ...}
  /// train.ema: the same for the averaged weights (empty object without EMA).
  nlohmann::json final_test_ema;
  /// train.ema: the averaged weights by state-dict name (empty without EMA), for model_ema.pt.
  std::map<std::string, torch::Tensor> ema_model;
  double epsilon = 0.0;
  std::int64_t steps = 0;
  double total_time_s = 0.0;
  nlohmann::json phase_times_s;  ///< sampling, step, accounting, evaluation, io
};

TrainResult run_training(TrainParts& parts, const TrainOptions& options, MetricsLog& log,
                         const std::string& run_id, const torch::Device& device,
                         const RunControl& control = {});

/// Loss, score and the objective's other metrics on `data`, batched, without
/// gradients; NaN metrics are written as null.
nlohmann::json evaluate(models::Model& model, const models::Objective& objective,
                        const data::TensorDataset& data, std::int64_t batch_size);

}  // namespace dpsgd::train
