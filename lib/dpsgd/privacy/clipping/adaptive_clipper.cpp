#include "dpsgd/privacy/clipping/adaptive_clipper.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/seeds.hpp"

namespace dpsgd::privacy {

AdaptiveClipper::AdaptiveClipper(const AdaptiveClippingOptions& options, double expected_batch_size,
                                 double sigma, GaussianNoise count_noise)
    : options_(options),
      threshold_(options.initial_threshold),
      count_noise_std_(options.count_noise_std > 0.0 ? options.count_noise_std
                                                     : expected_batch_size / 20.0),
      last_fraction_(std::numeric_limits<double>::quiet_NaN()),
      count_noise_(std::move(count_noise)) {
  if (!(threshold_ > 0.0) || !std::isfinite(threshold_)) {
    throw std::invalid_argument("adaptive clipping: the initial max_grad_norm must be > 0");
  }
  if (!(options.target_quantile > 0.0 && options.target_quantile < 1.0)) {
    throw std::invalid_argument("adaptive clipping: target_quantile must be in (0, 1)");
  }
  if (!(options.learning_rate > 0.0) || !std::isfinite(options.learning_rate)) {
    throw std::invalid_argument("adaptive clipping: quantile_lr must be > 0");
  }
  if (sigma > 0.0 && !(2.0 * count_noise_std_ > sigma)) {
    throw std::invalid_argument(
        util::cat("adaptive clipping: the count noise std (", count_noise_std_,
                  ") must exceed sigma / 2 (", sigma / 2.0,
                  ") so that the gradient's share of the noise budget stays finite; raise "
                  "count_noise_std or lower the noise multiplier"));
  }
}

double AdaptiveClipper::gradient_noise_multiplier(double sigma) const {
  if (sigma <= 0.0) return 0.0;
  const double rest = 1.0 / (sigma * sigma) - 1.0 / std::pow(2.0 * count_noise_std_, 2);
  const double sigma_g = 1.0 / std::sqrt(rest);
  // sigma_g >= sigma exactly; rounding can put it one ulp below when sigma_b is
  // huge, so never return less than sigma (NaN, an impossible split, stays NaN).
  return std::isnan(sigma_g) ? sigma_g : std::max(sigma, sigma_g);
}

torch::Tensor AdaptiveClipper::factors(const torch::Tensor& sq_norms) const {
  const auto norms = sq_norms.sum(1, /*keepdim=*/true).sqrt();
  return (threshold_ / norms).clamp_max(1.0).expand_as(sq_norms);
}

void AdaptiveClipper::end_step(const torch::Tensor& norms, double expected_batch_size,
                               double sigma) {
  torch::NoGradGuard no_grad;
  const double half = 0.5;
  double centred = 0.0;
  if (norms.numel() > 0) {
    centred = (norms <= threshold_).to(torch::kFloat64).sub(half).sum().item<double>();
  }
  // With sigma = 0 the run claims no privacy, and the count is exact like the gradient.
  const double count_std = sigma > 0.0 ? count_noise_std_ : 0.0;
  const double z = count_noise_.sample({1}, 1.0, torch::kFloat64).item<double>();
  last_fraction_ = (centred + count_std * z) / expected_batch_size + half;
  threshold_ *= std::exp(-options_.learning_rate * (last_fraction_ - options_.target_quantile));
}

util::StateMap AdaptiveClipper::state() const {
  util::StateMap out;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  out.tensors["threshold"] = torch::full({}, threshold_, f64);
  out.tensors["last_fraction"] = torch::full({}, last_fraction_, f64);
  out.put("count_noise", count_noise_.state());
  return out;
}

void AdaptiveClipper::load_state(const util::StateMap& state) {
  threshold_ = state.tensor("threshold").to(torch::kFloat64).item<double>();
  last_fraction_ = state.tensor("last_fraction").to(torch::kFloat64).item<double>();
  count_noise_.load_state(state.child("count_noise"));
}

std::vector<std::pair<std::string, double>> AdaptiveClipper::log_values() const {
  return {{"max_grad_norm", threshold_}};
}

ClippingMode adaptive_clipping_mode() {
  return {{"max_grad_norm", "target_quantile", "quantile_lr", "count_noise_std"},
          [](util::OptionReader& reader) {
            ClippingSpec spec;
            AdaptiveClippingOptions o;
            o.initial_threshold = read_max_grad_norm(reader);
            reader.read_double(
                "target_quantile", o.target_quantile, [](double v) { return v > 0 && v < 1; },
                "a number in (0, 1)");
            reader.read_double(
                "quantile_lr", o.learning_rate, [](double v) { return v > 0; }, "a number > 0");
            reader.read_double(
                "count_noise_std", o.count_noise_std, [](double v) { return v > 0; },
                "a number > 0 (examples; default expected batch / 20)");
            spec.max_grad_norm = o.initial_threshold;
            spec.needs = {/*coordinate_masks=*/false, /*per_example_count=*/true};
            spec.echo = {{"max_grad_norm", o.initial_threshold},
                         {"target_quantile", o.target_quantile},
                         {"quantile_lr", o.learning_rate}};
            if (o.count_noise_std > 0) spec.echo["count_noise_std"] = o.count_noise_std;
            spec.make = [o](const PrivateModel&,
                            const ClippingRunFacts& run) -> std::shared_ptr<Clipper> {
              // The count noise is CPU (one scalar per step) and has a stream of its own.
              auto count_noise = GaussianNoise(util::stream_source(
                  run.run_seed, util::SeedStream::kAdaptiveCountNoise, run.secure_rng));
              return std::make_shared<AdaptiveClipper>(
                  o, run.expected_batch_size, run.noise_multiplier, std::move(count_noise));
            };
            return spec;
          }};
}

}  // namespace dpsgd::privacy
