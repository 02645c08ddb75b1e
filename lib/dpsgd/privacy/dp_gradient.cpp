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

double DpGradient::noise_std() const {
  return options_.noise_multiplier * clipper_->sensitivity();
}

DpStepStats DpGradient::compute(const torch::Tensor& x, const torch::Tensor& y,
                                PhaseClock* clock) {
  std::vector<torch::Tensor> sums;
  sums.reserve(model_.params.size());
  for (const auto& p : model_.params) sums.push_back(torch::zeros_like(p));

  DpStepStats stats;
  stats.batch_size = x.size(0);
  const std::int64_t chunk =
      options_.physical_batch_size > 0 ? options_.physical_batch_size : std::max<std::int64_t>(1, x.size(0));
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64));
  torch::Tensor score_sum = loss_sum.clone();
  torch::Tensor norm_sum = loss_sum.clone();
  torch::Tensor clipped = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64));
  for (std::int64_t start = 0; start < x.size(0); start += chunk) {
    const std::int64_t n = std::min(chunk, x.size(0) - start);
    const auto cs = engine_->accumulate(x.narrow(0, start, n), y.narrow(0, start, n), sums, clock);
    torch::NoGradGuard no_grad;
    loss_sum = loss_sum + cs.losses.sum().to(torch::kCPU, torch::kFloat64);
    score_sum = score_sum + cs.scores.sum().to(torch::kCPU, torch::kFloat64);
    norm_sum = norm_sum + cs.norms.sum().to(torch::kCPU, torch::kFloat64);
    clipped = clipped + (cs.factors < 1.0).any(1).sum().to(torch::kCPU);
  }
  stats.loss_sum = loss_sum.item<double>();
  stats.score_sum = score_sum.item<double>();
  stats.norm_sum = norm_sum.item<double>();
  stats.clipped = clipped.item<std::int64_t>();

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
