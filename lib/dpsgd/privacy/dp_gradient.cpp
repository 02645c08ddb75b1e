#include "dpsgd/privacy/dp_gradient.hpp"

#include <optional>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

namespace dpsgd::privacy {

DpGradient::DpGradient(PrivateModel model, std::shared_ptr<const models::Objective> objective,
                       std::shared_ptr<Clipper> clipper, const EngineFactory& make_engine,
                       GaussianNoise noise, const DpGradientOptions& options)
    : model_(std::move(model)),
      objective_(std::move(objective)),
      clipper_(std::move(clipper)),
      noise_(std::move(noise)),
      options_(options),
      assignment_generator_(at::detail::createCPUGenerator(options.seed)) {
  if (options.noise_multiplier < 0.0) throw std::invalid_argument("noise multiplier < 0");
  if (options.expected_batch_size <= 0) throw std::invalid_argument("expected batch size <= 0");
  if (options.microbatches < 0) throw std::invalid_argument("microbatches < 0");
  if (options.microbatches > 0 && clipper_->name() == "adaptive") {
    // The adaptive count is defined per example; per microbatch it would need
    // its own sensitivity analysis.
    throw std::invalid_argument("adaptive clipping cannot be combined with microbatches");
  }
  engine_ =
      make_engine(EngineContext{&model_, objective_.get(), clipper_.get(), options_.microbatches});
}

double DpGradient::noise_std() const {
  const double doubling = options_.microbatches > 0 ? 2.0 : 1.0;
  return clipper_->gradient_noise_multiplier(options_.noise_multiplier) * doubling *
         clipper_->sensitivity();
}

void DpGradient::accumulate_microbatches(const torch::Tensor& x, const torch::Tensor& y,
                                         std::vector<torch::Tensor>& sums, PhaseClock* clock,
                                         std::vector<ChunkStats>& out) {
  const std::int64_t m = options_.microbatches;
  const auto assignment =
      torch::randint(0, m, {x.size(0)}, assignment_generator_, torch::TensorOptions(torch::kLong));
  const auto order = std::get<1>(assignment.sort(std::optional<bool>(true), /*dim=*/0, /*descending=*/false)).to(x.device());
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

DpStepStats DpGradient::compute(const torch::Tensor& x, const torch::Tensor& y, PhaseClock* clock) {
  clipper_->begin_step(step_);
  std::vector<torch::Tensor> sums;
  sums.reserve(model_.params.size());
  for (const auto& p : model_.params) sums.push_back(torch::zeros_like(p));

  DpStepStats stats;
  stats.batch_size = x.size(0);
  stats.clipper_values = clipper_->log_values();
  std::vector<ChunkStats> parts;
  if (options_.microbatches > 0) {
    accumulate_microbatches(x, y, sums, clock, parts);
  } else {
    const std::int64_t chunk = options_.physical_batch_size > 0
                                   ? options_.physical_batch_size
                                   : std::max<std::int64_t>(1, x.size(0));
    for (std::int64_t start = 0; start < x.size(0); start += chunk) {
      const std::int64_t n = std::min(chunk, x.size(0) - start);
      parts.push_back(
          engine_->accumulate(x.narrow(0, start, n), y.narrow(0, start, n), sums, clock));
    }
  }
  // Statistics stay on the device until one host transfer at the end of the step.
  torch::Tensor norms = torch::zeros({0}, x.options().dtype(torch::kFloat64));
  {
    torch::NoGradGuard no_grad;
    const auto stat_options = x.options().dtype(torch::kFloat64);
    torch::Tensor totals = torch::zeros({4}, stat_options);  // loss, score, norm, clipped
    std::vector<torch::Tensor> all_norms;
    for (const auto& cs : parts) {
      if (!cs.losses.defined()) continue;
      totals +=
          torch::stack({cs.losses.sum().to(torch::kFloat64), cs.scores.sum().to(torch::kFloat64),
                        cs.norms.sum().to(torch::kFloat64),
                        (cs.factors < 1.0).any(1).sum().to(torch::kFloat64)});
      all_norms.push_back(cs.norms.to(torch::kFloat64));
    }
    if (!all_norms.empty()) norms = torch::cat(all_norms);
    const auto host = totals.cpu();
    const auto* t = host.data_ptr<double>();
    stats.loss_sum = t[0];
    stats.score_sum = t[1];
    stats.norm_sum = t[2];
    stats.clipped = static_cast<std::int64_t>(t[3]);
  }

  {
    PhaseScope scope(clock, "noise");
    torch::NoGradGuard no_grad;
    stats.noise_std = noise_std();
    noise_.add_to(sums, stats.noise_std);
    if (const auto* masks = clipper_->coordinate_masks()) {
      for (std::size_t k = 0; k < sums.size(); ++k) sums[k].mul_((*masks)[k]);
    }
    const double divisor = options_.microbatches > 0
                               ? static_cast<double>(options_.microbatches)
                               : static_cast<double>(options_.expected_batch_size);
    for (std::size_t k = 0; k < sums.size(); ++k) {
      sums[k].mul_(1.0 / divisor);
      model_.params[k].mutable_grad() = sums[k];
    }
  }
  clipper_->end_step(norms, static_cast<double>(options_.expected_batch_size),
                     options_.noise_multiplier, noise_);
  ++step_;
  return stats;
}

}  // namespace dpsgd::privacy
