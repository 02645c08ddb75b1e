#include "dpsgd/heads/dp_feature_covariance.hpp"

#include <stdexcept>

#include "dpsgd/heads/bias_column.hpp"
#include "dpsgd/heads/head_inputs.hpp"
#include "dpsgd/heads/noisy_statistics.hpp"
#include "dpsgd/heads/one_vs_rest_gradient.hpp"

namespace dpsgd::heads {
namespace {

void validate(const DpFcOptions& o) {
  if (!(o.clip_norm > 0.0) || !(o.gradient_clip_norm > 0.0)) {
    throw std::invalid_argument("DP-FC: clip_norm and gradient_clip_norm must be > 0");
  }
  if (!(o.ridge >= 0.0) || !(o.covariance_noise_multiplier >= 0.0) ||
      !(o.step_noise_multiplier >= 0.0) || o.steps < 0) {
    throw std::invalid_argument("DP-FC: ridge, noise multipliers and steps must be >= 0");
  }
}

}  // namespace

LinearHead fit_dp_fc(const torch::Tensor& features, const torch::Tensor& labels,
                     std::int64_t num_classes, const DpFcOptions& options,
                     privacy::GaussianNoise& noise) {
  validate(options);
  const auto in = prepare_head_inputs(features, labels, num_classes, options.fit_bias);
  const double c2 = options.clip_norm * options.clip_norm;
  const auto covariance = project_psd(noisy_gram(clip_rows(in.features, options.clip_norm),
                                                 options.covariance_noise_multiplier * c2, noise));
  const auto preconditioner =
      covariance + options.ridge * torch::eye(covariance.size(0), covariance.options());

  auto weight = torch::zeros({num_classes, in.features.size(1)}, in.features.options());
  const double step_std = options.step_noise_multiplier * options.gradient_clip_norm;
  for (std::int64_t t = 0; t < options.steps; ++t) {
    auto gradient = one_vs_rest_clipped_gradient_sum(weight, in.features, in.labels,
                                                     options.gradient_clip_norm);
    if (step_std > 0.0) {
      gradient = gradient + noise.sample(gradient.sizes(), step_std, gradient.options());
    }
    // F~ + lambda I is symmetric, so the rows of g (F~ + lambda I)^{-1} are the
    // solutions of (F~ + lambda I) u_k = g_k.
    const auto update = torch::linalg_solve(preconditioner, gradient.t()).t();
    weight = weight - options.lr * update;
  }
  return split_bias(weight, options.fit_bias, in.output_options);
}

std::vector<accounting::MechanismSegment> dp_fc_mechanisms(const DpFcOptions& options) {
  return {{options.covariance_noise_multiplier, 1.0, 1},
          {options.step_noise_multiplier, 1.0, options.steps}};
}

}  // namespace dpsgd::heads
