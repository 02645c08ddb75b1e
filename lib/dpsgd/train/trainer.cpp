#include "dpsgd/train/trainer.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>

#include "dpsgd/data/augment/example_views.hpp"
#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/distributed/process_sum.hpp"
#include "dpsgd/distributed/shared_batch_sampler.hpp"
#include "dpsgd/train/model_state.hpp"
#include "dpsgd/train/nonprivate_gradient.hpp"
#include "dpsgd/train/progress.hpp"
#include "dpsgd/train/replicas.hpp"
#include "dpsgd/train/weight_average.hpp"
#include "dpsgd/util/seeds.hpp"
#include "dpsgd/util/stop_signal.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::train {
namespace {

using nlohmann::json;

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

class PhaseTotals {
 public:
  void add(const char* name, double seconds) { totals_[name] = totals_.value(name, 0.0) + seconds; }
  [[nodiscard]] const json& totals() const { return totals_; }
  void restore(const json& totals) { totals_ = totals; }

 private:
  json totals_ = json::object();
};

// Each example independently flipped left-right with probability 1/2, its mask
// with it. A per-example transformation: an example's contribution still depends
// on that example alone, so clipping bounds the sensitivity as before.
// In a data-parallel step every process draws the coins of the whole batch
// and uses its share's (`share_begin`, `batch_size`: where the share starts in
// the whole batch, and the whole batch's size), so each example gets the coin it
// would get in one process, and the streams of the processes stay in step.
std::pair<torch::Tensor, torch::Tensor> flip(const torch::Tensor& x, const torch::Tensor& y,
                                             at::Generator& rng, std::int64_t share_begin,
                                             std::int64_t batch_size) {
  const auto coin = torch::rand({batch_size}, rng, torch::kFloat32)
                        .narrow(0, share_begin, x.size(0))
                        .lt(0.5)
                        .to(x.device());
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
// per part of a step. Its position is (epoch_, done_in_epoch_): the epoch of the
// next step and the steps already taken in it; a checkpoint stores it with every
// piece of state a step reads, so a resumed run replays nothing and skips nothing.
class EpochLoop {
 public:
  EpochLoop(TrainParts& parts, const TrainOptions& options, MetricsLog& log,
            const std::string& run_id, const torch::Device& device, const RunControl& control)
      : parts_(parts),
        options_(options),
        log_(log),
        control_(control),
        device_(device),
        per_epoch_(steps_per_epoch(parts.train.size(), options.batch_size)),
        total_steps_(per_epoch_ * options.epochs),
        sampler_(make_batch_sampler(options, parts.train.size(), control.communicator)),
        // Augmentation has its own stream, so switching it on does not change the
        // batches the Poisson sampler draws.
        augment_rng_(at::make_generator<at::CPUGeneratorImpl>(
            util::stream_seed(options.seed, util::SeedStream::kAugmentation))),
        score_name_(parts.objective->score_name()),
        progress_(run_id, options.log_every_s) {
    if (parts_.dp) {
      parts_.dp->check_sampler(*sampler_);
      if (distributed()) {
        parts_.dp->set_reduction(std::make_shared<distributed::ProcessSum>(comm()));
      }
    }
    if (control_.resume_from != nullptr) load_state(*control_.resume_from);
    // Every process starts from the leader's model (also after a resume: the
    // processes read one checkpoint, and this makes any difference impossible).
    if (distributed()) broadcast_model(comm(), *parts_.model);
    // After the broadcast, so every process averages from the same weights.
    if (options.ema_decay > 0.0) {
      average_ =
          std::make_unique<WeightAverage>(*parts.model, options.ema_decay, options.ema_warmup);
      if (control_.resume_from != nullptr) average_->load_state(control_.resume_from->child("ema"));
    }
    // Last: nothing after it can throw, so the destructor that unbinds it runs.
    if (parts_.dp && options.augment_multiplicity > 1) {
      parts_.dp->set_view_maker([this](const torch::Tensor& x, const torch::Tensor& y,
                                       std::int64_t first) {
        const std::int64_t k = options_.augment_multiplicity;
        return data::apply_views(x, y, step_views_.slice(first * k, x.size(0) * k), view_options());
      });
    }
  }

  ~EpochLoop() {
    // The maker reads this loop's generator: it must not outlive the loop.
    if (parts_.dp && options_.augment_multiplicity > 1) parts_.dp->set_view_maker({});
  }
  EpochLoop(const EpochLoop&) = delete;
  EpochLoop& operator=(const EpochLoop&) = delete;
  EpochLoop(EpochLoop&&) = delete;
  EpochLoop& operator=(EpochLoop&&) = delete;

  TrainResult run() {
    parts_.model->train();
    // The initial state: a run that diverges at once still keeps a good checkpoint.
    if (control_.resume_from == nullptr) checkpoint();
    for (; epoch_ <= options_.epochs; ++epoch_, done_in_epoch_ = 0) {
      while (done_in_epoch_ < per_epoch_) {
        if (const auto stop = stop_before_step()) return finish(*stop);
        train_step(epoch_, done_in_epoch_ + 1 == per_epoch_);
        ++done_in_epoch_;
        if (diverged()) return finish(RunStatus::kDiverged);
        // Before the epoch-end evaluation: a budget stop evaluates once, as final.
        if (budget_spent()) return finish(RunStatus::kBudgetExhausted);
        if (since_checkpoint_.seconds() >= options_.checkpoint_every_s) checkpoint();
      }
      evaluate_epoch(epoch_);
      if (epoch_ < options_.epochs) {
        ++epoch_;  // the checkpoint's position: the start of the next epoch
        done_in_epoch_ = 0;
        checkpoint();
        --epoch_;
      }
    }
    return finish(RunStatus::kCompleted);
  }

 private:
  struct StepOutcome {
    std::int64_t drawn = 0;
    double loss_sum = 0.0;
    double score_sum = 0.0;
    json extra = json::object();  ///< private runs: clipping and noise columns
  };

  [[nodiscard]] bool distributed() const {
    return control_.communicator != nullptr && control_.communicator->world_size() > 1;
  }
  [[nodiscard]] distributed::Communicator& comm() const { return *control_.communicator; }
  [[nodiscard]] bool leader() const { return !distributed() || comm().is_leader(); }

  static std::unique_ptr<data::BatchSampler> make_batch_sampler(const TrainOptions& options,
                                                                std::int64_t train_size,
                                                                distributed::Communicator* comm) {
    auto sampler = data::make_sampler(
        options.sampling, train_size, options.batch_size,
        util::stream_source(options.seed, util::SeedStream::kBatchSampling, options.secure_rng));
    if (comm == nullptr || comm->world_size() == 1) return sampler;
    return std::make_unique<distributed::SharedBatchSampler>(std::move(sampler), *comm);
  }

  // A stop asked for by a signal (to any process), or the privacy budget, before the next step.
  std::optional<RunStatus> stop_before_step() {
    const int signal =
        distributed() ? agreed_stop_signal(comm(), util::stop_requested()) : util::stop_requested();
    if (signal != 0) {
      util::request_stop(signal);  // a peer's signal stops this process the same way
      return RunStatus::kInterrupted;
    }
    if (budget_spent()) return RunStatus::kBudgetExhausted;
    return std::nullopt;
  }

  bool budget_spent() const { return control_.step_limit && step_ >= *control_.step_limit; }

  bool diverged() const {
    return options_.divergence_steps > 0 && nonfinite_streak_ >= options_.divergence_steps;
  }

  TrainResult finish(RunStatus status) {
    // A slow accountant is not asked every step: the final epsilon must be fresh.
    if (parts_.dp && epsilon_step_ != step_) query_epsilon(/*epoch_end=*/true);
    if (status == RunStatus::kInterrupted) checkpoint();
    if (status == RunStatus::kBudgetExhausted) final_evaluation();
    log_.maybe_flush(/*force=*/true);
    if (leader()) progress_.finish();
    auto r = result();
    r.status = status;
    if (status == RunStatus::kInterrupted) r.stop_signal = util::stop_requested();
    return r;
  }

  // The model stopped early for the budget is final: evaluate it as at an epoch end.
  void final_evaluation() {
    const bool has_val = parts_.val.size() > 0;
    if (has_val) add_evaluations(parts_.val, "val");
    add_evaluations(parts_.test, "test");
  }

  // The raw weights' evaluation, and with train.ema the average's as split
  // "<split>_ema" (selection and the final result may use either; both are logged).
  void add_evaluations(const data::TensorDataset& split, const std::string& split_name) {
    add_evaluation(split, split_name);
    if (!average_) return;
    WeightAverage::Swap swap(*average_);
    add_evaluation(split, split_name + "_ema");
  }

  std::pair<torch::Tensor, torch::Tensor> draw_batch() {
    util::Stopwatch phase;
    const auto idx = sampler_->next().to(device_);
    auto x = parts_.train.inputs.index_select(0, idx);
    auto y = parts_.train.targets.index_select(0, idx);
    const auto* shared = dynamic_cast<const distributed::SharedBatchSampler*>(sampler_.get());
    const auto begin = shared != nullptr ? shared->last_share_begin() : 0;
    const auto whole = shared != nullptr ? shared->last_batch_size() : x.size(0);
    if (views_active()) {
      draw_step_views(begin, whole, x.size(0));
      if (options_.augment_multiplicity == 1) std::tie(x, y) = apply_step_views(x, y);
    } else if (options_.augment_hflip) {
      if (whole > 0) std::tie(x, y) = flip(x, y, augment_rng_, begin, whole);
    }
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
      out.drawn = st.batch_size;  // the whole batch's, all processes' shares together
      out.loss_sum = st.loss_sum;
      out.score_sum = st.score_sum;
      const auto per_example = [&](double v) {
        return out.drawn > 0 ? json(v / static_cast<double>(out.drawn)) : json(nullptr);
      };
      out.extra["clipped_fraction"] = per_example(static_cast<double>(st.clipped));
      out.extra["nonfinite_examples"] = st.nonfinite;
      out.extra["mean_grad_norm"] = per_example(st.norm_sum);
      out.extra["noise_std"] = st.noise_std;
      for (const auto& [name, value] : st.clipper_values) out.extra[name] = value;
    } else {
      parts_.optimizer->zero_grad();
      auto whole = nonprivate_views_gradient(x, y);
      if (distributed()) sum_nonprivate_gradient(comm(), *parts_.model, whole, out.drawn);
      out.loss_sum = whole.loss_sum;
      out.score_sum = whole.score_sum;
    }
    parts_.optimizer->step();
    if (average_) average_->update();
    return out;
  }

  // Crops or K > 1: the views are drawn per step (draw_step_views); with only
  // flips and K = 1, the per-example flip() above (the earlier runs' stream).
  [[nodiscard]] bool views_active() const {
    return options_.augment_multiplicity > 1 || options_.augment_crop_padding > 0;
  }

  // The transformations of the whole batch's views (every process draws them
  // all, as flip() does, and keeps its share's), so a view's crop and flip
  // depend on its place in the batch, not on the chunks or the processes.
  void draw_step_views(std::int64_t share_begin, std::int64_t whole, std::int64_t share) {
    const std::int64_t k = options_.augment_multiplicity;
    if (whole == 0) {
      step_views_ = data::draw_view_transforms(0, view_options(), augment_rng_);
      return;
    }
    step_views_ = data::draw_view_transforms(whole * k, view_options(), augment_rng_)
                      .slice(share_begin * k, share * k);
  }

  std::pair<torch::Tensor, torch::Tensor> apply_step_views(const torch::Tensor& x,
                                                           const torch::Tensor& y) const {
    if (x.size(0) == 0) return {x, y};
    return data::apply_views(x, y, step_views_, view_options());
  }

  [[nodiscard]] data::ViewOptions view_options() const {
    return {options_.augment_multiplicity, options_.augment_crop_padding, options_.augment_hflip};
  }

  // The plain gradient of the mean loss over all views (K of each example), so
  // a non-private twin trains on what its private run sees; sums per example.
  BatchSums nonprivate_views_gradient(const torch::Tensor& x, const torch::Tensor& y) {
    const std::int64_t k = options_.augment_multiplicity;
    if (k == 1 || x.size(0) == 0) {
      return nonprivate_gradient(*parts_.model, *parts_.objective, x, y,
                                 options_.physical_batch_size, nullptr, options_.precision);
    }
    const auto [xv, yv] = apply_step_views(x, y);
    auto sums = nonprivate_gradient(*parts_.model, *parts_.objective, xv, yv,
                                    options_.physical_batch_size * k, nullptr, options_.precision);
    sums.loss_sum /= static_cast<double>(k);
    sums.score_sum /= static_cast<double>(k);
    return sums;
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
    epsilon_step_ = step_;
    last_query_s_ = query.seconds();
    since_query_s_ = 0.0;
    return true;
  }

  // Columns computed from the private batch without noise (the guarantee does
  // not cover them) are left out when output.unprotected_columns is false.
  json make_row(std::int64_t epoch, const StepOutcome& o, bool epsilon_fresh, double mean_loss,
                double step_time) const {
    const bool is_private = parts_.dp != nullptr;
    json row = {{"step", step_},
                {"epoch", epoch},
                {"epsilon", !is_private     ? json(0.0)
                            : epsilon_fresh ? number_or_null(epsilon_)
                                            : json(nullptr)},
                {"delta", is_private ? json(options_.delta) : json(0.0)},
                {"wall_time", wall_time()},
                {"lr", parts_.optimizer->param_groups().front().options().get_lr()}};
    if (options_.unprotected_columns || !is_private) {
      row["loss"] = number_or_null(mean_loss);
      row[score_name_] =
          o.drawn > 0 ? json(o.score_sum / static_cast<double>(o.drawn)) : json(nullptr);
      row["step_time"] = step_time;
      row["batch_size"] = o.drawn;
      row.update(o.extra);
    } else {
      for (const char* key : {"noise_std"}) {
        if (o.extra.contains(key)) row[key] = o.extra[key];
      }
      for (const auto& [name, value] : parts_.dp->clipper().log_values()) row[name] = value;
    }
    return row;
  }

  void log_row(std::int64_t epoch, const StepOutcome& o, bool epsilon_fresh,
               const util::Stopwatch& step_clock) {
    const double mean_loss = o.drawn > 0 ? o.loss_sum / static_cast<double>(o.drawn) : NAN;
    if (o.drawn > 0) nonfinite_streak_ = std::isfinite(mean_loss) ? 0 : nonfinite_streak_ + 1;
    util::Stopwatch phase;
    log_.add_iteration(make_row(epoch, o, epsilon_fresh, mean_loss, step_clock.seconds()));
    log_.maybe_flush();
    phases_.add("io", phase.seconds());
    if (!leader()) return;
    const bool shown = options_.unprotected_columns || !parts_.dp;
    progress_.update({step_, total_steps_, epoch, shown ? mean_loss : NAN, epsilon_,
                      parts_.dp != nullptr,
                      static_cast<double>(step_) / std::max(1e-9, run_clock_.seconds())});
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

  // Only the leader evaluates: the others' models are the same.
  void add_evaluation(const data::TensorDataset& split, const std::string& split_name) {
    if (!leader()) return;
    util::Stopwatch phase;
    auto eval = evaluate(*parts_.model, *parts_.objective, split, options_.eval_batch_size);
    phases_.add("evaluation", phase.seconds());
    eval["epoch"] = epoch_;
    eval["step"] = step_;
    eval["wall_time"] = wall_time();
    eval["epsilon"] = parts_.dp ? number_or_null(epsilon_) : json(0.0);
    eval["split"] = split_name;
    log_.add_evaluation(eval);
  }

  // With a validation split: val every epoch, test once at the end (model
  // choices never see test). Without one: test every epoch.
  void evaluate_epoch(std::int64_t epoch) {
    const bool has_val = parts_.val.size() > 0;
    add_evaluations(has_val ? parts_.val : parts_.test, has_val ? "val" : "test");
    if (has_val && epoch == options_.epochs) add_evaluations(parts_.test, "test");
    util::Stopwatch phase;
    log_.maybe_flush(/*force=*/true);
    phases_.add("io", phase.seconds());
  }

  double wall_time() const { return wall_offset_ + run_clock_.seconds(); }

  bool weights_finite() const {
    torch::NoGradGuard no_grad;
    for (const auto& p : parts_.model->parameters()) {
      if (!torch::isfinite(p).all().item<bool>()) return false;
    }
    return true;
  }

  // Writes the state at the current position. Skipped while the loss or any
  // weight is not finite (a step with a finite loss can still blow up the
  // weights): the last checkpoint before a divergence is the one worth keeping.
  void checkpoint() {
    if (!control_.save_checkpoint || nonfinite_streak_ > 0 || !weights_finite()) return;
    util::Stopwatch phase;
    log_.maybe_flush(/*force=*/true);
    control_.save_checkpoint(state());
    since_checkpoint_.reset();
    phases_.add("io", phase.seconds());
  }

  util::StateMap state() const;
  void load_state(const util::StateMap& state);

  TrainResult result() {
    TrainResult r;
    r.final_test = json::object();
    r.final_test_ema = json::object();
    for (const auto& row : log_.document()["evaluations"]) {
      if (row.value("split", "") == "test") r.final_test = row;
      if (row.value("split", "") == "test_ema") r.final_test_ema = row;
    }
    if (average_) {
      // On the host: a copy on the device could run out of memory and lose the summary.
      WeightAverage::Swap swap(*average_);
      for (const auto& [name, t] : model_tensors(*parts_.model)) {
        r.ema_model[name] = t.to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true);
      }
    }
    r.epsilon = epsilon_;
    r.steps = step_;
    r.total_time_s = wall_time();
    r.phase_times_s = phases_.totals();
    return r;
  }

  TrainParts& parts_;
  const TrainOptions& options_;
  MetricsLog& log_;
  const RunControl& control_;
  torch::Device device_;
  std::int64_t per_epoch_;
  std::int64_t total_steps_;
  std::unique_ptr<data::BatchSampler> sampler_;
  at::Generator augment_rng_;
  std::unique_ptr<WeightAverage> average_;  ///< train.ema; null: off
  data::ViewTransforms step_views_;         ///< this step's views (this process's share)
  std::string score_name_;
  Progress progress_;
  PhaseTotals phases_;
  util::Stopwatch run_clock_;
  util::Stopwatch since_checkpoint_;
  double wall_offset_ = 0.0;  ///< wall time of the runs before a resume
  double epsilon_ = 0.0;
  std::int64_t epsilon_step_ = 0;  ///< the step epsilon_ was computed after
  std::int64_t step_ = 0;
  std::int64_t epoch_ = 1;
  std::int64_t done_in_epoch_ = 0;
  std::int64_t nonfinite_streak_ = 0;  ///< consecutive steps with a non-finite loss
  double last_query_s_ = 0.0;          ///< how long the last epsilon query took
  double since_query_s_ = 0.0;         ///< step time since the last query
};

util::StateMap EpochLoop::state() const {
  util::StateMap s;
  s.values = {{"step", step_},
              {"epoch", epoch_},
              {"done_in_epoch", done_in_epoch_},
              {"epsilon", epsilon_},
              {"epsilon_step", epsilon_step_},
              {"wall_time", wall_time()},
              {"phase_times_s", phases_.totals()},
              {"metrics_iterations", log_.document()["iterations"].size()},
              {"metrics_evaluations", log_.document()["evaluations"].size()}};
  util::StateMap model;
  model.tensors = model_tensors(*parts_.model);
  s.put("model", model);
  s.put("optimizer", optimizer_state(*parts_.optimizer));
  s.put("sampler", sampler_->state());
  util::StateMap augment;
  augment.tensors["generator"] = augment_rng_.get_state();
  s.put("augmentation", augment);
  s.put("torch", global_generator_state(device_));
  if (parts_.dp) s.put("dp", parts_.dp->state());
  if (average_) s.put("ema", average_->state());
  return s;
}

void EpochLoop::load_state(const util::StateMap& s) {
  step_ = s.value("step").get<std::int64_t>();
  epoch_ = s.value("epoch").get<std::int64_t>();
  done_in_epoch_ = s.value("done_in_epoch").get<std::int64_t>();
  epsilon_ = s.value("epsilon").get<double>();
  epsilon_step_ = s.value("epsilon_step").get<std::int64_t>();
  wall_offset_ = s.value("wall_time").get<double>();
  phases_.restore(s.value("phase_times_s"));
  log_.restore(s.value("metrics_iterations").get<std::size_t>(),
               s.value("metrics_evaluations").get<std::size_t>());
  const auto model = s.child("model");
  load_model_tensors(*parts_.model, model.tensors);
  load_optimizer_state(*parts_.optimizer, s.child("optimizer"));
  sampler_->load_state(s.child("sampler"));
  augment_rng_.set_state(s.child("augmentation").tensor("generator"));
  load_global_generator_state(s.child("torch"), device_);
  if (parts_.dp) parts_.dp->load_state(s.child("dp"));
}

}  // namespace

TrainResult run_training(TrainParts& parts, const TrainOptions& options, MetricsLog& log,
                         const std::string& run_id, const torch::Device& device,
                         const RunControl& control) {
  return EpochLoop(parts, options, log, run_id, device, control).run();
}

}  // namespace dpsgd::train
