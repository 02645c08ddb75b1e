#include "dpsgd/train/trainer.hpp"

#include <cmath>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>

#include "dpsgd/data/sampling/batch_sampler.hpp"
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

namespace {

// One run's epoch loop: the state that lives across steps, and one small method
// per part of a step.
class EpochLoop {
 public:
  EpochLoop(TrainParts& parts, const TrainOptions& options, MetricsLog& log,
            const std::string& run_id, const torch::Device& device)
      : parts_(parts),
        options_(options),
        log_(log),
        device_(device),
        per_epoch_(steps_per_epoch(parts.train.size(), options.batch_size)),
        total_steps_(per_epoch_ * options.epochs),
        sampler_(
            data::make_sampler(options.sampling, parts.train.size(), options.batch_size,
                               util::stream_seed(options.seed, util::SeedStream::kBatchSampling))),
        // Augmentation has its own stream, so switching it on does not change the
        // batches the Poisson sampler draws.
        augment_rng_(at::make_generator<at::CPUGeneratorImpl>(
            util::stream_seed(options.seed, util::SeedStream::kAugmentation))),
        score_name_(parts.objective->score_name()),
        progress_(run_id, options.log_every_s) {
    if (parts_.dp) parts_.dp->check_sampler(*sampler_);
  }

  TrainResult run() {
    parts_.model->train();
    for (std::int64_t epoch = 1; epoch <= options_.epochs; ++epoch) {
      for (std::int64_t s = 0; s < per_epoch_; ++s) train_step(epoch, s + 1 == per_epoch_);
      evaluate_epoch(epoch);
    }
    progress_.finish();
    return result();
  }

 private:
  struct StepOutcome {
    std::int64_t drawn = 0;
    double loss_sum = 0.0;
    double score_sum = 0.0;
    json extra = json::object();  ///< private runs: clipping and noise columns
  };

  std::pair<torch::Tensor, torch::Tensor> draw_batch() {
    util::Stopwatch phase;
    const auto idx = sampler_->next().to(device_);
    auto x = parts_.train.inputs.index_select(0, idx);
    auto y = parts_.train.targets.index_select(0, idx);
    if (options_.augment_hflip && x.size(0) > 0) std::tie(x, y) = flip(x, y, augment_rng_);
    phases_.add("sampling", phase.seconds());
    return {x, y};
  }

  void set_lr() {
    if (!parts_.lr_schedule) return;
    const double lr =
        parts_.base_lr * parts_.lr_schedule->multiplier({step_, per_epoch_, total_steps_});
    for (auto& group : parts_.optimizer->param_groups()) group.options().set_lr(lr);
  }

  StepOutcome gradient_step(const torch::Tensor& x, const torch::Tensor& y) {
    StepOutcome out;
    out.drawn = x.size(0);
    if (parts_.dp) {
      const auto st = parts_.dp->compute(x, y);
      out.loss_sum = st.loss_sum;
      out.score_sum = st.score_sum;
      const auto per_example = [&](double v) {
        return out.drawn > 0 ? json(v / static_cast<double>(out.drawn)) : json(nullptr);
      };
      out.extra["clipped_fraction"] = per_example(static_cast<double>(st.clipped));
      out.extra["mean_grad_norm"] = per_example(st.norm_sum);
      out.extra["noise_std"] = st.noise_std;
      for (const auto& [name, value] : st.clipper_values) out.extra[name] = value;
    } else {
      parts_.optimizer->zero_grad();
      const auto sums = nonprivate_gradient(*parts_.model, *parts_.objective, x, y,
                                            options_.physical_batch_size, nullptr);
      out.loss_sum = sums.loss_sum;
      out.score_sum = sums.score_sum;
    }
    parts_.optimizer->step();
    return out;
  }

  // Cheap accountants (RDP: microseconds) answer every step. An expensive one
  // (PRV: ~0.5 s per query) is asked at most once per 20 steps' time and at every
  // epoch end; rows in between get epsilon null rather than a stale, smaller
  // value the training has already exceeded. Returns whether epsilon_ is fresh.
  bool query_epsilon(bool epoch_end) {
    if (!parts_.dp) return false;
    // Queries faster than this run every step. RDP takes microseconds, but on a busy
    // machine one query can exceed 1 ms, which left rows without an epsilon.
    constexpr double kAccountingBudgetS = 0.05;
    if (!(epoch_end || last_query_s_ < kAccountingBudgetS ||
          last_query_s_ * 20.0 <= since_query_s_)) {
      return false;
    }
    util::Stopwatch query;
    epsilon_ = accounting::reported_epsilon(parts_.dp->epsilon(options_.delta));
    last_query_s_ = query.seconds();
    since_query_s_ = 0.0;
    return true;
  }

  void log_row(std::int64_t epoch, const StepOutcome& o, bool epsilon_fresh,
               const util::Stopwatch& step_clock) {
    const bool is_private = parts_.dp != nullptr;
    const double wall = run_clock_.seconds();
    const double mean_loss = o.drawn > 0 ? o.loss_sum / static_cast<double>(o.drawn) : NAN;
    json row = {{"step", step_},
                {"epoch", epoch},
                {"loss", number_or_null(mean_loss)},
                {score_name_,
                 o.drawn > 0 ? json(o.score_sum / static_cast<double>(o.drawn)) : json(nullptr)},
                {"epsilon", !is_private     ? json(0.0)
                            : epsilon_fresh ? number_or_null(epsilon_)
                                            : json(nullptr)},
                {"delta", is_private ? json(options_.delta) : json(0.0)},
                {"wall_time", wall},
                {"step_time", step_clock.seconds()},
                {"batch_size", o.drawn},
                {"lr", parts_.optimizer->param_groups().front().options().get_lr()}};
    row.update(o.extra);
    util::Stopwatch phase;
    log_.add_iteration(std::move(row));
    log_.maybe_flush();
    phases_.add("io", phase.seconds());
    progress_.update({step_, total_steps_, epoch, mean_loss, epsilon_, is_private,
                      static_cast<double>(step_) / std::max(1e-9, wall)});
  }

  void train_step(std::int64_t epoch, bool epoch_end) {
    util::Stopwatch step_clock;
    const auto [x, y] = draw_batch();
    util::Stopwatch phase;
    set_lr();
    const auto outcome = gradient_step(x, y);
    phases_.add("step", phase.seconds());
    ++step_;
    phase.reset();
    const bool fresh = query_epsilon(epoch_end);
    phases_.add("accounting", phase.seconds());
    since_query_s_ += step_clock.seconds();
    log_row(epoch, outcome, fresh, step_clock);
  }

  // With a validation split: val every epoch, test once at the end (model
  // choices never see test). Without one: test every epoch.
  void evaluate_epoch(std::int64_t epoch) {
    const bool has_val = parts_.val.size() > 0;
    std::vector<std::pair<const data::TensorDataset*, const char*>> splits;
    splits.emplace_back(has_val ? &parts_.val : &parts_.test, has_val ? "val" : "test");
    if (has_val && epoch == options_.epochs) splits.emplace_back(&parts_.test, "test");
    for (const auto& [split, split_name] : splits) {
      util::Stopwatch phase;
      auto eval = evaluate(*parts_.model, *parts_.objective, *split, options_.eval_batch_size);
      phases_.add("evaluation", phase.seconds());
      eval["epoch"] = epoch;
      eval["step"] = step_;
      eval["wall_time"] = run_clock_.seconds();
      eval["epsilon"] = parts_.dp ? number_or_null(epsilon_) : json(0.0);
      eval["split"] = split_name;
      log_.add_evaluation(eval);
    }
    util::Stopwatch phase;
    log_.maybe_flush(/*force=*/true);
    phases_.add("io", phase.seconds());
  }

  TrainResult result() const {
    TrainResult r;
    r.final_test = json::object();
    for (const auto& row : log_.document()["evaluations"]) {
      if (row.value("split", "") == "test") r.final_test = row;
    }
    r.epsilon = epsilon_;
    r.steps = step_;
    r.total_time_s = run_clock_.seconds();
    r.phase_times_s = phases_.totals();
    return r;
  }

  TrainParts& parts_;
  const TrainOptions& options_;
  MetricsLog& log_;
  torch::Device device_;
  std::int64_t per_epoch_;
  std::int64_t total_steps_;
  std::unique_ptr<data::BatchSampler> sampler_;
  at::Generator augment_rng_;
  std::string score_name_;
  Progress progress_;
  PhaseTotals phases_;
  util::Stopwatch run_clock_;
  double epsilon_ = 0.0;
  std::int64_t step_ = 0;
  double last_query_s_ = 0.0;   ///< how long the last epsilon query took
  double since_query_s_ = 0.0;  ///< step time since the last query
};

}  // namespace

TrainResult run_training(TrainParts& parts, const TrainOptions& options, MetricsLog& log,
                         const std::string& run_id, const torch::Device& device) {
  return EpochLoop(parts, options, log, run_id, device).run();
}

}  // namespace dpsgd::train
