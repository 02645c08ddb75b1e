#pragma once
// Adaptive quantile clipping (Andrew, Thakkar, McMahan, Ramaswamy, NeurIPS 2021,
// "Differentially private learning with adaptive clipping", Algorithm 1).
//
// Step t clips flatly at the current threshold C_t (sensitivity C_t, noise
// N(0, (sigma_g C_t)^2) on the gradient) and also releases the noisy fraction of
// unclipped examples
//     b_t = ( sum_{i in batch} (1[||g_i|| <= C_t] - 1/2)  +  N(0, sigma_b^2) ) / (q N) + 1/2,
// then moves the threshold geometrically toward the target quantile gamma:
//     C_{t+1} = C_t * exp(-eta_C * (b_t - gamma)).
// Centring the indicator at 1/2 makes the count's add/remove-one sensitivity
// 1/2, so the count is a Gaussian mechanism with noise multiplier 2 sigma_b. The
// two releases of a step together are one Gaussian mechanism (same sampled
// batch) with multiplier sigma where sigma^-2 = sigma_g^-2 + (2 sigma_b)^-2
// (Andrew et al., Thm 1), so the gradient uses
//     sigma_g = (sigma^-2 - (2 sigma_b)^-2)^(-1/2)
// and the accountant is told sigma, the configured noise multiplier: the epsilon
// reported is the one the whole step earned. This needs 2 sigma_b > sigma.
// C_{t+1} depends on the data only through the noisy b_t, so using it later is
// post-processing. Defaults follow the paper: gamma 0.5, eta_C 0.2, sigma_b = qN/20.
// The count's noise comes from the clipper's own source (stream
// kAdaptiveCountNoise, or the OS CSPRNG), independent of the gradient's noise.
#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/clipping/clipping_mode.hpp"
#include "dpsgd/privacy/gaussian_noise.hpp"

namespace dpsgd::privacy {

struct AdaptiveClippingOptions {
  double initial_threshold = 1.0;  ///< C_0
  double target_quantile = 0.5;    ///< gamma
  double learning_rate = 0.2;      ///< eta_C
  double count_noise_std = 0.0;    ///< sigma_b in examples; 0: expected batch size / 20
};

class AdaptiveClipper final : public Clipper {
 public:
  /// Throws std::invalid_argument on a bad option or when 2 sigma_b <= sigma.
  /// `count_noise` draws the count's N(0, 1) variates.
  AdaptiveClipper(const AdaptiveClippingOptions& options, double expected_batch_size, double sigma,
                  GaussianNoise count_noise);
  [[nodiscard]] torch::Tensor factors(const torch::Tensor& sq_norms) const override;
  [[nodiscard]] double sensitivity() const override { return threshold_; }
  [[nodiscard]] std::string name() const override { return "adaptive"; }
  [[nodiscard]] double gradient_noise_multiplier(double sigma) const override;
  [[nodiscard]] ClippingNeeds needs() const override { return {false, true}; }
  void end_step(const torch::Tensor& norms, double expected_batch_size, double sigma) override;
  /// "threshold" and "last_fraction" as float64 scalar tensors (exact), and the
  /// count noise's source under "count_noise/".
  [[nodiscard]] util::StateMap state() const override;
  void load_state(const util::StateMap& state) override;
  [[nodiscard]] std::vector<std::pair<std::string, double>> log_values() const override;

  [[nodiscard]] double threshold() const { return threshold_; }
  [[nodiscard]] double count_noise_std() const { return count_noise_std_; }
  /// The last noisy unclipped fraction b_t (NaN before the first step).
  [[nodiscard]] double last_unclipped_fraction() const { return last_fraction_; }

 private:
  AdaptiveClippingOptions options_;
  double threshold_;
  double count_noise_std_;
  double last_fraction_;
  GaussianNoise count_noise_;
};

/// YAML mode `adaptive`: keys max_grad_norm (the initial C), target_quantile,
/// quantile_lr, count_noise_std.
ClippingMode adaptive_clipping_mode();

}  // namespace dpsgd::privacy
