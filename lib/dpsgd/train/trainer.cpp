#include "dpsgd/train/trainer.hpp"

#include <cmath>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>

#include "dpsgd/data/sampling/poisson_sampler.hpp"
#include "dpsgd/data/sampling/shuffle_sampler.hpp"
#include "dpsgd/train/nonprivate_gradient.hpp"
#include "dpsgd/train/progress.hpp"
#include "dpsgd/util/seeds.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::train {
namespace {

using nlohmann::json;

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

class PhaseTotals {
 public:
  void add(const char* name, double seconds) { totals_[name] = totals_.value(name, 0.0) + seconds; }
  [[nodiscard]] const json& totals() const { return totals_; }

 private:
  json totals_ = json::object();
};

// Each example independently flipped left-right with probability 1/2, its mask
// with it. A per-example transformation: an example's contribution still depends
// on that example alone, so clipping bounds the sensitivity as before.
std::pair<torch::Tensor, torch::Tensor> flip(const torch::Tensor& x, const torch::Tensor& y,
                                             at::Generator& rng) {
  const auto coin = torch::rand({x.size(0)}, rng, torch::kFloat32).lt(0.5).to(x.device());
  auto shape = std::vector<std::int64_t>(x.dim(), 1);
  shape[0] = x.size(0);
  const auto fx = torch::where(coin.view(shape), x.flip(-1), x);
  if (y.dim() < 2) return {fx, y};  // class labels do not move
  auto yshape = std::vector<std::int64_t>(y.dim(), 1);
  yshape[0] = y.size(0);
  return {fx, torch::where(coin.view(yshape), y.flip(-1), y)};
}

}  // namespace

std::int64_t steps_per_epoch(std::int64_t dataset_size, std::int64_t batch_size) {
  return std::max<std::int64_t>(1, dataset_size / batch_size);
}

json evaluate(models::Model& model, const models::Objective& objective,
              const data::TensorDataset& data, std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  auto accumulator = objective.make_accumulator();
  const std::int64_t n = data.size();
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const std::int64_t m = std::min(batch_size, n - start);
    accumulator->add(model.forward(data.inputs.narrow(0, start, m)),
                     data.targets.narrow(0, start, m));
  }
  model.train();
  json out = {{"examples", n}};
  for (const auto& [name, value] : accumulator->scalars()) out[name] = number_or_null(value);
  for (const auto& [name, values] : accumulator->vectors()) {
    json list = json::array();
    for (double v : values) list.push_back(number_or_null(v));
    out[name] = list;
  }
  return out;
}

TrainResult run_training(TrainParts& parts, const TrainOptions& options, MetricsLog& log,
                         const std::string& run_id, const torch::Device& device) {
  const bool is_private = parts.dp != nullptr;
  const std::int64_t n = parts.train.size();
  const double q = static_cast<double>(options.batch_size) / static_cast<double>(n);
  const std::int64_t per_epoch = steps_per_epoch(n, options.batch_size);
  const std::int64_t total_steps = per_epoch * options.epochs;

  std::unique_ptr<data::PoissonSampler> poisson;
  std::unique_ptr<data::ShuffleSampler> shuffle;
  if (options.poisson_sampling) {
    poisson = std::make_unique<data::PoissonSampler>(
        n, q, util::stream_seed(options.seed, util::SeedStream::kBatchSampling));
  } else {
    shuffle = std::make_unique<data::ShuffleSampler>(
        n, options.batch_size, util::stream_seed(options.seed, util::SeedStream::kBatchSampling));
  }
  const std::string score_name = parts.objective->score_name();
  // Augmentation has its own stream, so switching it on does not change the
  // batches the Poisson sampler draws.
  auto augment_rng = at::make_generator<at::CPUGeneratorImpl>(
      util::stream_seed(options.seed, util::SeedStream::kAugmentation));
  const bool has_val = parts.val.size() > 0;

  Progress progress(run_id, options.log_every_s);
  PhaseTotals phases;
  util::Stopwatch run_clock;
  double epsilon = 0.0;
  std::int64_t step = 0;
  // Throttling of expensive epsilon queries (see below).
  double last_query_s = 0.0;
  double since_query_s = 0.0;
  const double accounting_budget_s = 1e-3;  // queries faster than this run every step
  parts.model->train();

  for (std::int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    for (std::int64_t s = 0; s < per_epoch; ++s) {
      util::Stopwatch step_clock;
      util::Stopwatch phase;
      const auto idx = (poisson ? poisson->next() : shuffle->next()).to(device);
      auto x = parts.train.inputs.index_select(0, idx);
      auto y = parts.train.targets.index_select(0, idx);
      if (options.augment_hflip && x.size(0) > 0) std::tie(x, y) = flip(x, y, augment_rng);
      const std::int64_t drawn = x.size(0);
      phases.add("sampling", phase.seconds());

      phase.reset();
      if (parts.lr_schedule) {
        const double lr =
            parts.base_lr * parts.lr_schedule->multiplier({step, per_epoch, total_steps});
        for (auto& group : parts.optimizer->param_groups()) group.options().set_lr(lr);
      }
      double loss_sum = 0.0;
      double score_sum = 0.0;
      json extra = json::object();
      if (is_private) {
        const auto st = parts.dp->compute(x, y);
        loss_sum = st.loss_sum;
        score_sum = st.score_sum;
        extra["clipped_fraction"] =
            drawn > 0 ? json(static_cast<double>(st.clipped) / static_cast<double>(drawn))
                      : json(nullptr);
        extra["mean_grad_norm"] =
            drawn > 0 ? json(st.norm_sum / static_cast<double>(drawn)) : json(nullptr);
        extra["noise_std"] = st.noise_std;
        for (const auto& [name, value] : st.clipper_values) extra[name] = value;
      } else {
        parts.optimizer->zero_grad();
        const auto sums = nonprivate_gradient(*parts.model, *parts.objective, x, y,
                                              options.physical_batch_size, nullptr);
        loss_sum = sums.loss_sum;
        score_sum = sums.score_sum;
      }
      parts.optimizer->step();
      phases.add("step", phase.seconds());
      ++step;

      phase.reset();
      bool epsilon_fresh = false;
      if (is_private) {
        parts.accountant->step(options.noise_multiplier, q, 1);
        // Cheap accountants (RDP: microseconds) answer every step. An expensive
        // one (PRV: ~0.5 s per query) is asked at most once per 20 steps' time
        // and at every epoch end; rows in between get epsilon null rather than
        // a stale, smaller value the training has already exceeded.
        const bool epoch_end = s + 1 == per_epoch;
        if (epoch_end || last_query_s < accounting_budget_s ||
            last_query_s * 20.0 <= since_query_s) {
          util::Stopwatch query;
          epsilon = accounting::reported_epsilon(parts.accountant->epsilon(options.delta));
          last_query_s = query.seconds();
          since_query_s = 0.0;
          epsilon_fresh = true;
        }
      }
      phases.add("accounting", phase.seconds());

      since_query_s += step_clock.seconds();
      const double wall = run_clock.seconds();
      const double mean_loss = drawn > 0 ? loss_sum / static_cast<double>(drawn) : NAN;
      json row = {
          {"step", step},
          {"epoch", epoch},
          {"loss", number_or_null(mean_loss)},
          {score_name, drawn > 0 ? json(score_sum / static_cast<double>(drawn)) : json(nullptr)},
          {"epsilon", !is_private     ? json(0.0)
                      : epsilon_fresh ? number_or_null(epsilon)
                                      : json(nullptr)},
          {"delta", is_private ? json(options.delta) : json(0.0)},
          {"wall_time", wall},
          {"step_time", step_clock.seconds()},
          {"batch_size", drawn},
          {"lr", parts.optimizer->param_groups().front().options().get_lr()}};
      row.update(extra);
      phase.reset();
      log.add_iteration(std::move(row));
      log.maybe_flush();
      phases.add("io", phase.seconds());
      progress.update({step, total_steps, epoch, mean_loss, epsilon, is_private,
                       static_cast<double>(step) / std::max(1e-9, wall)});
    }
    const bool last = epoch == options.epochs;
    // With a validation split: val every epoch, test once at the end (model
    // choices never see test). Without one: test every epoch, as before.
    std::vector<std::pair<const data::TensorDataset*, const char*>> splits;
    splits.emplace_back(has_val ? &parts.val : &parts.test, has_val ? "val" : "test");
    if (has_val && last) splits.emplace_back(&parts.test, "test");
    for (const auto& [split, split_name] : splits) {
      util::Stopwatch phase;
      auto eval = evaluate(*parts.model, *parts.objective, *split, options.eval_batch_size);
      phases.add("evaluation", phase.seconds());
      eval["epoch"] = epoch;
      eval["step"] = step;
      eval["wall_time"] = run_clock.seconds();
      eval["epsilon"] = is_private ? number_or_null(epsilon) : json(0.0);
      eval["split"] = split_name;
      log.add_evaluation(eval);
    }
    util::Stopwatch phase;
    log.maybe_flush(/*force=*/true);
    phases.add("io", phase.seconds());
  }
  progress.finish();

  TrainResult result;
  result.final_test = json::object();
  for (const auto& row : log.document()["evaluations"]) {
    if (row.value("split", "") == "test") result.final_test = row;
  }
  result.epsilon = epsilon;
  result.steps = step;
  result.total_time_s = run_clock.seconds();
  result.phase_times_s = phases.totals();
  return result;
}

}  // namespace dpsgd::train
