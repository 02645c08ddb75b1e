#include "dpsgd/heads/dp_least_squares.hpp"

#include <cstddef>
#include <stdexcept>
#include <vector>

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

// The class-weighted solve: for every class k, the noisy class Gram A~_k
// (mechanism 2: each class's Gram with its own independent noise, PSD-projected)
// and theta_k = (A~_k + alpha G~ + lambda I)^{-1} b~_k. One class at a time, so
// memory stays O(D^2) however many classes there are. Returns K x D'.
torch::Tensor class_weighted_solve(const torch::Tensor& clipped, const torch::Tensor& labels,
                                   const torch::Tensor& regularised, const torch::Tensor& sums,
                                   double std, privacy::GaussianNoise& noise) {
  const auto num_classes = sums.size(1);
  std::vector<torch::Tensor> rows;
  rows.reserve(static_cast<std::size_t>(num_classes));
  for (std::int64_t k = 0; k < num_classes; ++k) {
    // A class without examples still gets its noise: the draws must not depend on
    // which classes are present.
    const auto class_gram = project_psd(noisy_gram(clipped.index({labels == k}), std, noise));
    rows.push_back(torch::linalg_solve(class_gram + regularised, sums.select(1, k)));
  }
  return torch::stack(rows);
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
  const auto sums =
      noisy_class_sums(clipped, in.labels, num_classes, options.sums_noise_multiplier * c, noise);
  const auto regularised =
      gram * options.class_weight_alpha.value_or(1.0) + options.ridge * eye_like(gram);
  const auto weight =  // K x D'
      options.class_weight_alpha
          ? class_weighted_solve(clipped, in.labels, regularised, sums,
                                 options.gram_noise_multiplier * c * c, noise)
          : torch::linalg_solve(regularised, sums).t();
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
