#include "dpsgd/privacy/dp_gradient.hpp"

#include <stdexcept>

namespace dpsgd::privacy {

DpGradient::DpGradient(PrivateModel model, std::shared_ptr<const models::Objective> objective,
                       std::shared_ptr<const Clipper> clipper, const EngineFactory& make_engine,
                       GaussianNoise noise, const DpGradientOptions& options)
    : model_(std::move(model)),
      objective_(std::move(objective)),
      clipper_(std::move(clipper)),
      noise_(std::move(noise)),
      options_(options) {
  engine_ = make_engine(EngineContext{&model_, objective_.get(), clipper_.get()});
  if (options.noise_multiplier < 0.0) throw std::invalid_argument("noise multiplier < 0");
  if (options.expected_batch_size <= 0) throw std::invalid_argument("expected batch size <= 0");
}

double DpGradient::noise_std() const { return options_.noise_multiplier * clipper_->sensitivity(); }

DpStepStats DpGradient::compute(const torch::Tensor& x, const torch::Tensor& y, PhaseClock* clock) {
  std::vector<torch::Tensor> sums;
  sums.reserve(model_.params.size());
  for (const auto& p : model_.params) sums.push_back(torch::zeros_like(p));

  DpStepStats stats;
  stats.batch_size = x.size(0);
  const std::int64_t chunk = options_.physical_batch_size > 0
                                 ? options_.physical_batch_size
                                 : std::max<std::int64_t>(1, x.size(0));
  // Statistics stay on the device until one host transfer at the end of the step.
  const auto stat_options = x.options().dtype(torch::kFloat64);
  torch::Tensor totals = torch::zeros({4}, stat_options);  // loss, score, norm, clipped
  for (std::int64_t start = 0; start < x.size(0); start += chunk) {
    const std::int64_t n = std::min(chunk, x.size(0) - start);
    const auto cs = engine_->accumulate(x.narrow(0, start, n), y.narrow(0, start, n), sums, clock);
    torch::NoGradGuard no_grad;
    totals += torch::stack({cs.losses.sum().to(torch::kFloat64),
                            cs.scores.sum().to(torch::kFloat64), cs.norms.sum().to(torch::kFloat64),
                            (cs.factors < 1.0).any(1).sum().to(torch::kFloat64)});
  }
  const auto host = totals.cpu();
  const auto* t = host.data_ptr<double>();
  stats.loss_sum = t[0];
  stats.score_sum = t[1];
  stats.norm_sum = t[2];
  stats.clipped = static_cast<std::int64_t>(t[3]);

  {
    PhaseScope scope(clock, "noise");
    torch::NoGradGuard no_grad;
    noise_.add_to(sums, noise_std());
    const double scale = 1.0 / static_cast<double>(options_.expected_batch_size);
    for (std::size_t k = 0; k < sums.size(); ++k) {
      sums[k].mul_(scale);
      model_.params[k].mutable_grad() = sums[k];
    }
  }
  return stats;
}

}  // namespace dpsgd::privacy
