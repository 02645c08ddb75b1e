#include "dpsgd/heads/dp_least_squares.hpp"

#include <stdexcept>

#include "dpsgd/heads/bias_column.hpp"
#include "dpsgd/heads/head_inputs.hpp"
#include "dpsgd/heads/noisy_statistics.hpp"

namespace dpsgd::heads {
namespace {

void validate(const DpLsOptions& o) {
  if (!(o.clip_norm > 0.0) || !(o.ridge >= 0.0) || !(o.gram_noise_multiplier >= 0.0) ||
      !(o.sums_noise_multiplier >= 0.0)) {
    throw std::invalid_argument("DP-LS: clip_norm must be > 0; ridge and noise multipliers >= 0");
  }
  if (o.class_weight_alpha && !(*o.class_weight_alpha >= 0.0)) {
    throw std::invalid_argument("DP-LS: class_weight_alpha must be >= 0");
  }
}

torch::Tensor eye_like(const torch::Tensor& square) {
  return torch::eye(square.size(0), square.options());
}

// A~_k for every class (mechanism 2), stacked K x D x D: the Gram of each class's
// clipped rows with its own independent noise, then PSD-projected.
torch::Tensor noisy_class_grams(const torch::Tensor& clipped, const torch::Tensor& labels,
                                std::int64_t num_classes, double std,
                                privacy::GaussianNoise& noise) {
  std::vector<torch::Tensor> grams;
  grams.reserve(static_cast<std::size_t>(num_classes));
  for (std::int64_t k = 0; k < num_classes; ++k) {
    // A class without examples still gets its noise: the draw must not depend on
    // whether the class is present.
    const auto rows = clipped.index({labels == k});
    grams.push_back(project_psd(noisy_gram(rows, std, noise)));
  }
  return torch::stack(grams);
}

}  // namespace

LinearHead fit_dp_ls(const torch::Tensor& features, const torch::Tensor& labels,
                     std::int64_t num_classes, const DpLsOptions& options,
                     privacy::GaussianNoise& noise) {
  validate(options);
  const auto in = prepare_head_inputs(features, labels, num_classes, options.fit_bias);
  const auto clipped = clip_rows(in.features, options.clip_norm);
  const double c = options.clip_norm;

  const auto gram = project_psd(noisy_gram(clipped, options.gram_noise_multiplier * c * c, noise));
  torch::Tensor class_grams;
  if (options.class_weight_alpha) {
    class_grams = noisy_class_grams(clipped, in.labels, num_classes,
                                    options.gram_noise_multiplier * c * c, noise);
  }
  const auto sums =
      noisy_class_sums(clipped, in.labels, num_classes, options.sums_noise_multiplier * c, noise);

  const auto regularised =
      gram * options.class_weight_alpha.value_or(1.0) + options.ridge * eye_like(gram);
  torch::Tensor weight;  // K x D'
  if (options.class_weight_alpha) {
    // K systems (A~_k + alpha G~ + lambda I) theta_k = b~_k, solved as one batch.
    const auto lhs = class_grams + regularised.unsqueeze(0);
    weight = torch::linalg_solve(lhs, sums.t().unsqueeze(-1)).squeeze(-1);
  } else {
    weight = torch::linalg_solve(regularised, sums).t();
  }
  return split_bias(weight, options.fit_bias, in.output_options);
}

std::vector<accounting::MechanismSegment> dp_ls_mechanisms(const DpLsOptions& options) {
  std::vector<accounting::MechanismSegment> out;
  out.push_back({options.gram_noise_multiplier, 1.0, 1});
  if (options.class_weight_alpha) {
    out.push_back({options.gram_noise_multiplier, 1.0, 1});
  }
  out.push_back({options.sums_noise_multiplier, 1.0, 1});
  return out;
}

}  // namespace dpsgd::heads
