#include "dpsgd/privacy/dp_gradient.hpp"

#include <cmath>
#include <optional>
#include <stdexcept>
#include <tuple>

#include "dpsgd/privacy/per_example/engine_choice.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::privacy {

DpGradient::DpGradient(PrivateModel model, std::shared_ptr<const models::Objective> objective,
                       std::shared_ptr<Clipper> clipper, GaussianNoise noise,
                       std::unique_ptr<accounting::Accountant> accountant,
                       const DpGradientOptions& options)
    : model_(std::move(model)),
      objective_(std::move(objective)),
      clipper_(std::move(clipper)),
      noise_(std::move(noise)),
      accountant_(std::move(accountant)),
      options_(options),
      sample_rate_(0.0),
      assignment_(options.secure_rng ? util::RandomSource::secure()
                                     : util::RandomSource::seeded(options.seed)) {
  if (options.noise_multiplier < 0.0) throw std::invalid_argument("noise multiplier < 0");
  if (options.expected_batch_size <= 0) throw std::invalid_argument("expected batch size <= 0");
  if (options.dataset_size < options.expected_batch_size) {
    throw std::invalid_argument("expected batch size larger than the data set (q > 1)");
  }
  if (!accountant_) throw std::invalid_argument("a private step needs an accountant");
  if (options.secure_rng && !noise_.is_secure()) {
    throw std::invalid_argument("secure_rng needs a secure noise source");
  }
  // The clipper splits sigma between the gradient and any statistic it releases
  // (adaptive clipping); the accountant is told sigma, so the split must leave
  // the gradient at least that much noise, and finite.
  const double sigma_g = clipper_->gradient_noise_multiplier(options.noise_multiplier);
  if (!std::isfinite(sigma_g) || sigma_g < options.noise_multiplier) {
    throw std::invalid_argument(util::cat("the clipper's gradient noise multiplier ", sigma_g,
                                          " does not cover sigma ", options.noise_multiplier));
  }
  if (options.views < 1) throw std::invalid_argument("augmentation multiplicity < 1");
  if (options.views > 1 && options.microbatches > 0) {
    // A microbatch is clipped as a whole; its members' views would need a second grouping.
    throw std::invalid_argument("augmentation multiplicity cannot be combined with microbatches");
  }
  sample_rate_ = data::poisson_sample_rate(options.expected_batch_size, options.dataset_size);
  engine_name_ = choose_engine(options.engine, clipper_->needs(), options.microbatches);
  engine_ = engine_registry()
                .get(engine_name_)
                .make(EngineContext{&model_, objective_.get(), clipper_.get(), options.views,
                                    options.precision});
}

void DpGradient::set_reduction(std::shared_ptr<SumReduction> reduction) {
  if (step_ > 0) throw std::logic_error("set_reduction after the first step");
  if (reduction && options_.microbatches > 0) {
    throw std::invalid_argument(
        "microbatches cannot be split across processes: each microbatch is clipped as a whole, "
        "and its members would sit on several processes");
  }
  const auto needs = clipper_->needs();
  if (reduction && options_.secure_rng && (needs.per_example_count || needs.coordinate_masks)) {
    throw std::invalid_argument(util::cat(
        "clipping '", clipper_->name(),
        "' with secure_rng draws its own OS randomness in every process, so the processes would "
        "disagree; use one process, or seeded randomness"));
  }
  reduction_ = std::move(reduction);
}

void DpGradient::check_sampler(const data::BatchSampler& sampler) {
  poisson_checked_ = false;
  const auto rate = sampler.poisson_rate();
  if (!rate) {
    throw std::logic_error(
        "a private run needs Poisson sampling: the accountant's subsampled-Gaussian analysis "
        "does not hold for shuffled or fixed-size batches");
  }
  if (*rate != sample_rate_) {
    throw std::logic_error(util::cat("the sampler draws at q = ", *rate,
                                     " but the private step accounts for q = ", sample_rate_));
  }
  if (step_ > 0) {
    throw std::logic_error("the sampler must be checked before the first step is accounted");
  }
  poisson_checked_ = true;
}

accounting::EpsilonReport DpGradient::epsilon(double delta) const {
  if (!poisson_checked_) {
    throw std::logic_error(
        "no epsilon: the batches of this private step were not drawn by a checked Poisson "
        "sampler (DpGradient::check_sampler)");
  }
  return accountant_->epsilon(delta);
}

double DpGradient::noise_std() const {
  // Microbatches: adding one example moves one microbatch's clipped mean by up
  // to 2C (see microbatch_engine.cpp), so Delta doubles.
  const double doubling = options_.microbatches > 0 ? 2.0 : 1.0;
  return clipper_->gradient_noise_multiplier(options_.noise_multiplier) * doubling *
         clipper_->sensitivity();
}

void DpGradient::accumulate_microbatches(const torch::Tensor& x, const torch::Tensor& y,
                                         std::vector<torch::Tensor>& sums, util::PhaseClock* clock,
                                         std::vector<ChunkStats>& out) {
  const std::int64_t m = options_.microbatches;
  const auto assignment = assignment_.randint(m, x.size(0));
  const auto order =
      std::get<1>(assignment.sort(std::optional<bool>(true), /*dim=*/0, /*descending=*/false))
          .to(x.device());
  const auto counts = torch::bincount(assignment, /*weights=*/{}, m);
  const auto* c = counts.data_ptr<std::int64_t>();
  std::int64_t start = 0;
  for (std::int64_t k = 0; k < m; ++k) {
    if (c[k] == 0) continue;
    const auto members = order.narrow(0, start, c[k]);
    start += c[k];
    out.push_back(
        engine_->accumulate(x.index_select(0, members), y.index_select(0, members), sums, clock));
  }
}

std::vector<ChunkStats> DpGradient::accumulate(const torch::Tensor& x, const torch::Tensor& y,
                                               std::vector<torch::Tensor>& sums,
                                               util::PhaseClock* clock) {
  std::vector<ChunkStats> parts;
  if (options_.microbatches > 0) {
    accumulate_microbatches(x, y, sums, clock, parts);
    return parts;
  }
  const std::int64_t chunk = options_.physical_batch_size > 0
                                 ? options_.physical_batch_size
                                 : std::max<std::int64_t>(1, x.size(0));
  for (std::int64_t start = 0; start < x.size(0); start += chunk) {
    const std::int64_t n = std::min(chunk, x.size(0) - start);
    auto xc = x.narrow(0, start, n);
    auto yc = y.narrow(0, start, n);
    // The views are made per chunk, so memory follows the physical batch.
    if (options_.views > 1) std::tie(xc, yc) = view_maker_(xc, yc, start);
    parts.push_back(engine_->accumulate(xc, yc, sums, clock));
  }
  return parts;
}

// (loss, score, norm, clipped, nonfinite) sums of one chunk (one microbatch,
// with microbatches), in float64 on the device. An example whose norm is not
// finite was excluded (finite_examples.hpp): counted apart, its norm and
// factor 0 left out of the norm sum and the clipped count.
torch::Tensor DpGradient::chunk_totals(const ChunkStats& part) const {
  const auto norms = part.norms.to(torch::kFloat64);
  const auto finite = torch::isfinite(norms);
  const auto excluded = options_.microbatches > 0 ? (~finite).any().to(torch::kFloat64)
                                                  : (~finite).sum().to(torch::kFloat64);
  return torch::stack({part.losses.sum().to(torch::kFloat64), part.scores.sum().to(torch::kFloat64),
                       torch::where(finite, norms, torch::zeros_like(norms)).sum(),
                       ((part.factors < 1.0).any(1) & finite).sum().to(torch::kFloat64), excluded});
}

// Sums the per-example statistics into `stats` with one host transfer, and
// returns every example's whole-model norm before clipping (on the device).
torch::Tensor DpGradient::gather_stats(const std::vector<ChunkStats>& parts, const torch::Tensor& x,
                                       DpStepStats& stats) const {
  torch::NoGradGuard no_grad;
  const auto stat_options = x.options().dtype(torch::kFloat64);
  torch::Tensor norms = torch::zeros({0}, stat_options);
  torch::Tensor totals = torch::zeros({5}, stat_options);  // see chunk_totals
  std::vector<torch::Tensor> all_norms;
  for (const auto& cs : parts) {
    if (!cs.losses.defined()) continue;
    totals += chunk_totals(cs);
    all_norms.push_back(cs.norms.to(torch::kFloat64));
  }
  if (!all_norms.empty()) norms = torch::cat(all_norms);
  if (reduction_) {
    // The whole batch's totals, and its size, which no single participant knows.
    std::vector<torch::Tensor> whole = {
        torch::cat({totals, torch::full({1}, static_cast<double>(x.size(0)), stat_options)})};
    reduction_->sum(whole);
    stats.batch_size = static_cast<std::int64_t>(whole.front()[5].item<double>());
    totals = whole.front().narrow(0, 0, 5);
  }
  const auto host = totals.cpu();
  const auto* t = host.data_ptr<double>();
  stats.loss_sum = t[0];
  stats.score_sum = t[1];
  stats.norm_sum = t[2];
  stats.clipped = static_cast<std::int64_t>(t[3]);
  stats.nonfinite = static_cast<std::int64_t>(t[4]);
  return norms;
}

void DpGradient::add_noise_and_store(std::vector<torch::Tensor>& sums, DpStepStats& stats,
                                     util::PhaseClock* clock) {
  util::PhaseScope scope(clock, "noise");
  torch::NoGradGuard no_grad;
  stats.noise_std = noise_std();
  // Exactly once per step: by the one participant that adds noise, before the
  // participants' sums are added up (sum_reduction.hpp).
  if (!reduction_ || reduction_->adds_noise()) noise_.add_to(sums, stats.noise_std);
  if (reduction_) reduction_->sum(sums);
  if (const auto* masks = clipper_->coordinate_masks()) {
    for (std::size_t k = 0; k < sums.size(); ++k) sums[k].mul_((*masks)[k]);
  }
  // Divide by the public expected batch size q N (by m with microbatches), never
  // by the drawn size, which would leak it.
  const double divisor = options_.microbatches > 0
                             ? static_cast<double>(options_.microbatches)
                             : static_cast<double>(options_.expected_batch_size);
  for (std::size_t k = 0; k < sums.size(); ++k) {
    sums[k].mul_(1.0 / divisor);
    model_.params[k].mutable_grad() = sums[k];
  }
}

void DpGradient::set_injected(std::shared_ptr<InjectedExamples> injected) {
  if (step_ > 0) throw std::logic_error("set_injected after the first step");
  if (injected && options_.microbatches > 0) {
    throw std::invalid_argument("injected examples (audit canaries) need microbatches off");
  }
  if (injected && clipper_->needs().per_example_count) {
    throw std::invalid_argument(
        "injected examples (audit canaries) are not supported with "
        "clipping mode '" +
        clipper_->name() + "', which counts examples");
  }
  injected_ = std::move(injected);
}

DpStepStats DpGradient::compute(const torch::Tensor& x, const torch::Tensor& y,
                                util::PhaseClock* clock) {
  if (options_.views > 1 && !view_maker_) {
    throw std::logic_error("augmentation multiplicity > 1 needs a view maker (set_view_maker)");
  }
  clipper_->begin_step(step_);
  std::vector<torch::Tensor> sums;
  sums.reserve(model_.params.size());
  for (const auto& p : model_.params) sums.push_back(torch::zeros_like(p));
  DpStepStats stats;
  stats.batch_size = x.size(0);
  stats.clipper_values = clipper_->log_values();
  const auto parts = accumulate(x, y, sums, clock);
  auto norms = gather_stats(parts, x, stats);
  if (injected_ && (!reduction_ || reduction_->adds_noise())) {
    // The canaries count themselves (GradientCanaries::injections); the step's
    // statistics stay those of the real examples, so logged means are theirs.
    torch::NoGradGuard no_grad;
    (void)injected_->add_to(sums, step_, sample_rate_, clipper_->sensitivity());
  }
  add_noise_and_store(sums, stats, clock);
  // A clipper that counts per example (adaptive) needs every participant's norms.
  if (reduction_ && clipper_->needs().per_example_count) norms = reduction_->concatenate(norms);
  clipper_->end_step(norms, static_cast<double>(options_.expected_batch_size),
                     options_.noise_multiplier);
  // The step is released: record it with exactly the sigma and q it was made with.
  accountant_->step(options_.noise_multiplier, sample_rate_, 1);
  ++step_;
  return stats;
}

}  // namespace dpsgd::privacy
